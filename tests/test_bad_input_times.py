"""Times at the edge of what a datetime holds, from every vendor, through RQ, the real client
libraries and the fakes: "9999-12-31T23:00:00-05:00" is a valid time whose UTC form is in year
10000, "0001-01-01T01:00:00+05:00" one whose UTC form is in year 0. Neither may escape the mapping
as an exception (astimezone's OverflowError is no ValueError, so pydantic let it through and the
whole page, then the job, failed with "date value out of range"): the item it belongs to fails
alone with a one-line reason naming the field and the time, and the rest of the page imports.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select

from importers.errors import validation_reason
from importers.model import Comment, WorkItem
from jobs import api
from store.schema import comments, work_items
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab, stamp
from tests.fakes.jira import FakeJira, jira_time
from tests.fakes.server import FakeServer, Response
from tests.fakes.servicenow import FakeServiceNow

SIZE = 30
# two instants no generated time has: what the fakes render for them is rewritten in every answer
ITEM_TIME = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
COMMENT_TIME = datetime(2001, 2, 3, 4, 7, 8, tzinfo=UTC)
PAST_9999 = "9999-12-31T23:00:00-05:00"  # 10000-01-01T04:00Z
BEFORE_1 = "0001-01-01T01:00:00+05:00"  # 0000-12-31T20:00Z


@dataclass
class Tool:
    """A vendor's fake, started, with where its times live and how it writes them."""

    fake: FakeServer
    items: int  # what a clean import stores
    name: str
    project: str
    config: dict[str, str]
    vendor_form: Callable[[str], str]  # an ISO time with offset as this vendor writes its times
    set_item_time: Callable[[int], tuple[str, list[str]]]  # index -> (its key, how the fake renders ITEM_TIME)
    # index -> (its item's key, COMMENT_TIME's renderings, the comment's id)
    set_comment_time: Callable[[int], tuple[str, list[str], str]]


def _jira() -> Tool:
    fake = FakeJira(size=SIZE).start()
    user, token = fake.credentials
    issues = fake.issues["ACME"]

    def item(index):
        issues[index]["created"] = ITEM_TIME
        return issues[index]["key"], [jira_time(ITEM_TIME)]

    def comment(index):
        issue = next(i for i in issues[index:] if i["comments"])
        issue["comments"][0]["created"] = COMMENT_TIME
        return issue["key"], [jira_time(COMMENT_TIME)], str(issue["comments"][0]["id"])

    # JIRA's own form: milliseconds, an offset without a colon
    return Tool(fake, fake.ground_truth("ACME")["items"], "jira", "ACME",
                {"base_url": fake.url, "user_email": user, "api_token": token},
                lambda iso: iso[:19] + ".000" + iso[19:].replace(":", ""), item, comment)


def _github() -> Tool:
    fake = GitHubFake(sizes={"acme/web": SIZE}).start()
    issues = [i for i in fake.issues["acme/web"] if "pull_request" not in i]

    def item(index):
        issues[index]["created_at"] = ITEM_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"acme/web#{issues[index]['number']}", [issues[index]["created_at"]]

    def comment(index):
        numbers = {int(c["issue_url"].rsplit("/", 1)[1]) for c in fake.comments["acme/web"]}
        issue = next(i for i in issues[index:] if i["number"] in numbers)
        first = next(c for c in fake.comments["acme/web"] if c["issue_url"].endswith(f"/issues/{issue['number']}"))
        first["created_at"] = COMMENT_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"acme/web#{issue['number']}", [first["created_at"]], str(first["id"])

    return Tool(fake, len(fake.ground_truth("acme/web")["items"]), "github", "acme/web",
                {"token": fake.token, "api_url": fake.url}, lambda iso: iso, item, comment)


def _gitlab(api_kind: str) -> Tool:
    fake = FakeGitLab(projects={"acme/web": SIZE}).start()
    issues = fake.issues["acme/web"]

    def renderings(when: datetime) -> list[str]:  # REST (milliseconds), then GraphQL's Time (none)
        return [stamp(when), stamp(when)[:19] + "Z"]

    def item(index):
        issues[index]["created_at"] = stamp(ITEM_TIME)
        return f"acme/web#{issues[index]['iid']}", renderings(ITEM_TIME)

    def comment(index):
        issue = next(i for i in issues[index:]
                     if any(not n.get("system") for n in fake.notes[("acme/web", i["iid"])]))
        note = next(n for n in fake.notes[("acme/web", issue["iid"])] if not n.get("system"))
        note["created_at"] = stamp(COMMENT_TIME)
        return f"acme/web#{issue['iid']}", renderings(COMMENT_TIME), str(note["id"])

    return Tool(fake, fake.ground_truth("acme/web")["items"], "gitlab", "acme/web",
                {"token": fake.token, "url": fake.url, "api": api_kind},
                lambda iso: iso[:19] + ".000" + iso[19:], item, comment)


@pytest.fixture(params=["jira", "github", "gitlab", "gitlab-rest"])
def tool(request):
    built = {"jira": _jira, "github": _github, "gitlab": lambda: _gitlab("graphql"),
             "gitlab-rest": lambda: _gitlab("rest")}[request.param]()
    yield built
    built.fake.stop()


def _rewrite(fake: FakeServer, renderings: list[str], replacement: str) -> None:
    """Every answer says `replacement` where the fake rendered the marked time."""
    original = fake._dispatch

    def dispatch(*args):
        response = original(*args)
        data = response.encode()
        for text in renderings:
            data = data.replace(text.encode(), replacement.encode())
        return Response(response.status, data, response.headers, response.content_type)

    fake._dispatch = dispatch


def _import(tool: Tool, run_worker) -> dict:
    job_id = api.start_import(tool.name, [tool.project], config=tool.config, batch_size=10)
    run_worker()
    return api.status(job_id)


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def _fails_alone(doc: dict, key: str, field: str, value: str, items: int) -> None:
    """The job ends partial: every other item imported, this one counted failed, its reason one line
    naming the field and the time, no traceback anywhere."""
    assert (doc["status"], doc["created"], doc["failed"]) == ("partial", items - 1, 1), doc
    assert not doc.get("error") or ("Traceback" not in doc["error"] and "\n" not in doc["error"]), doc
    [failure] = api.failures(doc["job_id"])
    assert failure["key"] == key, failure
    reason = failure["reason"]
    assert "\n" not in reason and "Traceback" not in reason and "OverflowError" not in reason, reason
    assert field in reason and "out of range" in reason and value in reason, reason


@pytest.mark.parametrize("hostile", [PAST_9999, BEFORE_1])
def test_an_item_created_past_the_edge_of_time_fails_alone_with_a_reason(tool, hostile, run_worker, engine):
    items = tool.items
    key, renderings = tool.set_item_time(3)
    value = tool.vendor_form(hostile)
    _rewrite(tool.fake, renderings, value)
    doc = _import(tool, run_worker)

    _fails_alone(doc, key, "created_at", hostile, items)
    assert _count(engine, work_items) == items - 1


@pytest.mark.parametrize("hostile", [PAST_9999, BEFORE_1])
def test_a_comment_written_past_the_edge_of_time_never_escapes_the_mapping(tool, hostile, run_worker, engine):
    """JIRA and GitLab fail the comment's item with it (a retry re-reads both, nothing is imported
    without its comment); GitHub, whose comments arrive after their issues were written, keeps the
    issue and reports a comments gap naming it (tests/test_unmappable_comments.py). Either way the
    job ends partial with the rest imported, and no traceback."""
    items = tool.items
    key, renderings, comment_id = tool.set_comment_time(5)
    value = tool.vendor_form(hostile)
    _rewrite(tool.fake, renderings, value)
    doc = _import(tool, run_worker)

    with engine.connect() as conn:
        stored = set(conn.execute(select(comments.c.external_id)).scalars())
    assert comment_id not in stored
    if tool.name == "github":
        assert (doc["status"], doc["created"], doc["failed"], doc["unread"]) == ("partial", items, 0,
                                                                                 {"comments": 1}), doc
        assert key in doc["error"] and "created_at" in doc["error"] and "\n" not in doc["error"], doc
        assert stored == tool.fake.ground_truth("acme/web")["comments"] - {comment_id}
    else:
        _fails_alone(doc, key, "created_at", hostile, items)
        assert _count(engine, work_items) == items - 1


def test_servicenow_times_at_the_edge_import_as_they_are(run_worker, engine):
    """ServiceNow's times are UTC already ("YYYY-MM-DD HH:MM:SS"): its extremes are in range and import
    unchanged, tickets and journal entries alike (no offset is ever applied to them)."""
    fake = FakeServiceNow(sizes={"incident": SIZE}).start()
    try:
        rows = fake.visible("incident")
        rows[2]["sys_created_on"] = "0001-01-01 00:00:00"
        rows[3]["closed_at"] = "9999-12-31 23:59:59"
        journal = next(j for j in fake.data["sys_journal_field"] if not j.get("_hidden")
                       and j["element_id"] in {r["sys_id"] for r in rows})
        journal["sys_created_on"] = "9999-12-31 23:59:59"
        job_id = api.start_import("servicenow", ["incident"], batch_size=10,
                                  config={"instance": fake.url, "username": fake.username, "password": fake.password})
        run_worker()
        doc = api.status(job_id)
    finally:
        fake.stop()
    assert (doc["status"], doc["failed"]) == ("succeeded", 0), doc
    with engine.connect() as conn:
        created = conn.execute(select(work_items.c.created_at).where(work_items.c.key == rows[2]["number"])).scalar()
        closed = conn.execute(select(work_items.c.closed_at).where(work_items.c.key == rows[3]["number"])).scalar()
        noted = conn.execute(select(comments.c.created_at).where(comments.c.external_id == journal["sys_id"])).scalar()
    assert (created.replace(tzinfo=None), closed.replace(tzinfo=None), noted.replace(tzinfo=None)) == (
        datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59), datetime(9999, 12, 31, 23, 59, 59))


_OFFSETS = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


# within a day of either end of what a datetime holds (where an offset can push past it), and anywhere
_TIMES = st.one_of(st.datetimes(max_value=datetime(1, 1, 2)), st.datetimes(min_value=datetime(9999, 12, 30)),
                   st.datetimes())


@given(when=_TIMES, zone=_OFFSETS)
@example(when=datetime(9999, 12, 31, 23), zone=timezone(timedelta(hours=-5)))
@example(when=datetime(1, 1, 1, 1), zone=timezone(timedelta(hours=5)))
def test_any_aware_time_either_maps_to_utc_or_is_that_fields_validation_error(when, zone):
    """The model's only answers to a time are its UTC form or a ValidationError naming the field:
    never OverflowError, which pydantic does not wrap and the connectors do not catch."""
    local = when.replace(tzinfo=zone)
    fields = {"source": "demo", "external_id": "1", "key": "D-1", "project": "D", "title": "t", "status": "todo",
              "created_at": local, "updated_at": local, "closed_at": local}
    try:
        utc = local.astimezone(UTC)
    except OverflowError:
        with pytest.raises(ValidationError) as raised:
            WorkItem(**fields)
        reason = validation_reason(raised.value)
        assert [e["loc"] for e in raised.value.errors()] == [("created_at",), ("updated_at",), ("closed_at",)]
        assert f"created_at: time {local.isoformat()} is out of range" in reason
        with pytest.raises(ValidationError, match="created_at"):
            Comment(source="demo", external_id="c", item_external_id="1", created_at=local)
    else:
        item = WorkItem(**fields)
        assert item.created_at == item.updated_at == item.closed_at == utc and item.created_at.tzinfo is UTC
        assert Comment(source="demo", external_id="c", item_external_id="1", created_at=local).created_at == utc


def test_jira_reads_everything_since_the_first_day_of_year_1(run_worker):
    """A `since` at the very start of what a datetime holds: JQL wants it in the user's zone
    (New York here), which has no datetime for it (OverflowError: the job failed as an "internal
    error"); the query starts at 0001/01/01 00:00 instead, and the job reads everything."""
    tool = _jira()
    try:
        job_id = api.start_import("jira", ["ACME"], config=tool.config, since="0001-01-01T00:00:00Z")
        run_worker()
        doc = api.status(job_id)
    finally:
        tool.fake.stop()
    assert (doc["status"], doc["created"], doc["failed"]) == ("succeeded", tool.items, 0), doc


@pytest.mark.parametrize("vendor", ["github", "gitlab"])
def test_a_since_before_year_1_in_utc_is_refused_naming_it(vendor):
    """"0001-01-01T00:00:00+05:00" is a valid ISO time with no UTC form: every connector converts
    `since` to UTC, so it failed the job as an "internal error (OverflowError)"; it is refused
    before the job starts, with the setting and the value named."""
    from importers.errors import ConfigError

    tool = _github() if vendor == "github" else _gitlab("rest")
    try:
        with pytest.raises(ConfigError) as refused:
            api.start_import(vendor, [tool.project], config=tool.config, since=BEFORE_1.replace("01:00", "00:00"))
    finally:
        tool.fake.stop()
    message = str(refused.value)
    assert "since" in message and "0001-01-01T00:00:00+05:00" in message and "before year 1" in message, message
    assert "\n" not in message and "Overflow" not in message


def test_jira_catches_up_after_an_item_updated_on_the_last_day_of_year_9999(run_worker):
    """An issue updated "9999-12-31T23:30:00.000+0000" is in range and imports; it sets the
    high-water mark the next run reads from. For a user in a zone east of UTC (Tokyo here) that
    mark has no local datetime (OverflowError: every later catch-up failed as an "internal error",
    for good); the catch-up now reads from the day before and succeeds."""
    tool = _jira()
    try:
        tool.fake.issues["ACME"][7]["updated"] = ITEM_TIME
        _rewrite(tool.fake, [jira_time(ITEM_TIME)], "9999-12-31T23:30:00.000+0000")
        _rewrite(tool.fake, ['"America/New_York"'], '"Asia/Tokyo"')
        first = api.start_import("jira", ["ACME"], config=tool.config)
        run_worker()
        catch_up = api.start_import("jira", ["ACME"], config=tool.config)
        run_worker()
        docs = api.status(first), api.status(catch_up)
    finally:
        tool.fake.stop()
    assert (docs[0]["status"], docs[0]["created"], docs[0]["failed"]) == ("succeeded", tool.items, 0), docs[0]
    assert (docs[1]["status"], docs[1]["failed"]) == ("succeeded", 0), docs[1]
