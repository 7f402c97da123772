"""A comment that cannot be mapped is never lost in silence (GitHub and ServiceNow skipped it with a log line:
the job said "succeeded", and ServiceNow, whose read promises each ticket's whole journal, then took the stored
entry for deleted). Now it is a comments gap of its item: the job ends partial with one line naming the item
and what to fix, every item and every other comment is imported, no stored comment of that item is marked
deleted, and a retry reads the item's comments again. (JIRA and GitLab fail the comment's item instead:
tests/test_bad_input_times.py.)"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from jobs import api
from store.schema import comments, work_items
from tests.fakes.github import GitHubFake
from tests.fakes.server import FakeServer
from tests.fakes.servicenow import FakeServiceNow

SIZE = 30
MANGLED = "the day after tomorrow"


@dataclass
class Case:
    fake: FakeServer
    name: str
    project: str
    config: dict[str, str]
    items: int
    comment_ids: set[str]  # every comment at the source
    key: str  # the item whose comment is mangled
    comment: dict  # that comment, as the fake holds it (it has a sibling on the same item)
    comment_id: str
    sibling: str  # the id of another comment of that item
    field: str  # the comment's time field
    read_comments: Callable[[list[tuple[str, str, str]]], bool]  # did these requests read the item's comments


def _github() -> Case:
    fake = GitHubFake(sizes={"acme/web": SIZE}).start()
    issues = {i["number"] for i in fake.issues["acme/web"] if "pull_request" not in i}
    by_issue: dict[int, list[dict]] = defaultdict(list)
    for comment in fake.comments["acme/web"]:
        by_issue[int(comment["issue_url"].rsplit("/", 1)[1])].append(comment)
    number, (bad, sibling, *_) = next((n, cs) for n, cs in sorted(by_issue.items()) if n in issues and len(cs) >= 2)
    truth = fake.ground_truth("acme/web")
    return Case(fake, "github", "acme/web", {"token": fake.token, "api_url": fake.url}, len(truth["items"]),
                set(truth["comments"]), f"acme/web#{number}", bad, str(bad["id"]), str(sibling["id"]), "created_at",
                lambda log: any(f"/issues/{number}/comments" in path for _, path, _ in log))


def _servicenow() -> Case:
    fake = FakeServiceNow(sizes={"incident": SIZE}).start()
    journal = fake.comments_of("incident")
    by_ticket: dict[str, list[dict]] = defaultdict(list)
    for entry in journal:
        by_ticket[entry["element_id"]].append(entry)
    ticket = next(r for r in fake.visible("incident") if len(by_ticket[r["sys_id"]]) >= 2)
    bad, sibling, *_ = by_ticket[ticket["sys_id"]]
    return Case(fake, "servicenow", "incident",
                {"instance": fake.url, "username": fake.username, "password": fake.password},
                fake.ground_truth("incident")["items"], {j["sys_id"] for j in journal}, ticket["number"], bad,
                bad["sys_id"], sibling["sys_id"], "sys_created_on",
                lambda log: any("sys_journal_field" in path and ticket["sys_id"] in path for _, path, _ in log))


@pytest.fixture(params=["github", "servicenow"])
def case(request) -> Iterator[Case]:
    built = {"github": _github, "servicenow": _servicenow}[request.param]()
    yield built
    built.fake.stop()


def _stored(engine) -> tuple[int, set[str]]:
    """Items, and the ids of the comments not marked deleted."""
    with engine.connect() as conn:
        items = len(conn.execute(select(work_items.c.id)).all())
        alive = set(conn.execute(select(comments.c.external_id).where(comments.c.deleted_at.is_(None))).scalars())
    return items, alive


def _reported(doc: dict, case: Case) -> None:
    """Partial, nothing failed, one comments gap; its one line names the item and the comment's field or value."""
    assert (doc["status"], doc["failed"], doc["unread"]) == ("partial", 0, {"comments": 1}), doc
    error = doc["error"]
    assert case.key in error and case.comment_id in error and (case.field in error or MANGLED in error), error
    assert "\n" not in error and "Traceback" not in error, error


def test_an_unmappable_comment_keeps_its_item_and_siblings_and_a_retry_reads_it_again(case, run_import,
                                                                                      run_worker, engine):
    first = run_import(case.name, [case.project], config=case.config, batch_size=10)
    assert first["status"] == "succeeded", first
    assert _stored(engine) == (case.items, case.comment_ids)

    good = case.comment[case.field]
    case.comment[case.field] = MANGLED
    doc = run_import(case.name, [case.project], config=case.config, batch_size=10, incremental=False)
    _reported(doc, case)
    # every item and comment is kept: the mangled one as the first run stored it, its sibling as read now
    assert _stored(engine) == (case.items, case.comment_ids)

    before = len(case.fake.log)
    api.retry(doc["job_id"])
    run_worker()
    again = api.status(doc["job_id"])
    assert case.read_comments(case.fake.log[before:])  # the retry read that item's comments again
    _reported(again, case)  # still mangled at the source: still said, still nothing marked deleted
    assert _stored(engine) == (case.items, case.comment_ids)

    case.comment[case.field] = good  # fixed at the source: the retry brings it and the job is whole
    api.retry(doc["job_id"])
    run_worker()
    fixed = api.status(doc["job_id"])
    assert (fixed["status"], fixed["unread"]) == ("succeeded", {}), fixed
    assert _stored(engine) == (case.items, case.comment_ids)


def test_a_first_import_with_an_unmappable_comment_imports_the_rest_and_says_which_item(case, run_import, engine):
    case.comment[case.field] = MANGLED
    doc = run_import(case.name, [case.project], config=case.config, batch_size=10)
    _reported(doc, case)
    assert doc["created"] == case.items, doc
    assert _stored(engine) == (case.items, case.comment_ids - {case.comment_id})


def test_a_github_catch_up_reports_an_edited_comment_it_cannot_map_on_an_issue_it_did_not_reread(
        run_import, run_worker, engine):
    """A catch-up run reads the comments edited since, joined by key to issues it did not re-read (their id is
    not known to the read): the gap names the issue and resumes the comment listing at that page."""
    case = _github()
    try:
        first = run_import(case.name, [case.project], config=case.config, batch_size=10)
        assert first["status"] == "succeeded", first
        good = case.comment[case.field]
        case.comment[case.field] = MANGLED
        case.comment["updated_at"] = "2099-01-01T00:00:00Z"  # edited: the since-listing brings it, not its issue
        doc = run_import(case.name, [case.project], config=case.config, batch_size=10)
        _reported(doc, case)
        assert _stored(engine) == (case.items, case.comment_ids)

        case.comment[case.field] = good
        before = len(case.fake.log)
        api.retry(doc["job_id"])
        run_worker()
        fixed = api.status(doc["job_id"])
        assert any("/issues/comments" in path for _, path, _ in case.fake.log[before:])  # the listing, read again
        assert (fixed["status"], fixed["unread"]) == ("succeeded", {}), fixed
        assert _stored(engine) == (case.items, case.comment_ids)
    finally:
        case.fake.stop()
