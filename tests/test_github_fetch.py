"""GitHub's targeted re-read (`GitHubSource.fetch`, issue 12): a retry of failed issues and the deletion
sweep's read of an issue new to the store read those issues by number, never the whole repository.

Against the fake GitHub (tests/fakes/github.py) over real HTTP through PyGithub; imports run by the jobs
API on a real worker (RQ over Redis) into the test's store. The fake's request log shows what was read.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from importers.github import GitHubSource
from jobs import api
from store.schema import comments, work_items
from tests.fakes.github import GitHubFake

WEB = "acme/web"
LISTING = re.compile(r"^/repos/[^/]+/[^/]+/issues(/comments)?\?")  # a repository-wide listing


@pytest.fixture
def fake():
    server = GitHubFake(sizes={WEB: 30}).start()
    yield server
    server.stop()


def _config(fake) -> dict[str, str]:
    return {"token": fake.token, "api_url": fake.url}


def _oldest_with_comments(fake, n: int) -> list[dict]:
    """`n` issues (not pull requests) with comments, updated before the repository's newest issue, so a
    catch-up's since-read does not see them."""
    numbers = {int(c["issue_url"].rsplit("/", 1)[1]) for c in fake.comments[WEB]}
    issues = sorted((i for i in fake.issues[WEB] if "pull_request" not in i and i["number"] in numbers),
                    key=lambda i: i["updated_at"])
    return issues[:n]


def _break(fake, issue: dict) -> str:
    """Make `issue` unmappable (a failure on import); returns its created_at to mend it with."""
    good = issue["created_at"]
    fake.corrupt(WEB, issue["number"], created_at="yesterday")
    return good


def _mend(fake, issue: dict, created_at: str) -> None:
    """The source fixes the field without moving `updated_at` (so no since-read sees the issue)."""
    fake.corrupt(WEB, issue["number"], created_at=created_at)
    fake.corrupted.discard((WEB, issue["number"]))


def _comment_ids(fake, issue: dict) -> set[str]:
    return {str(c["id"]) for c in fake.comments[WEB] if c["issue_url"] == issue["url"]}


def _stored_comments(engine, issue: dict) -> set[str]:
    with engine.connect() as conn:
        item_id = conn.execute(select(work_items.c.id).where(
            work_items.c.external_id == str(issue["id"]), work_items.c.deleted_at.is_(None))).scalar_one()
        return set(conn.execute(select(comments.c.external_id).where(comments.c.item_id == item_id)).scalars())


def _issue_requests(paths: list[str], issue: dict) -> list[str]:
    return [p for p in paths if re.search(rf"/issues/{issue['number']}(/comments)?(\?|$)", p)]


def test_a_retry_of_two_failed_issues_reads_only_them_by_number_with_their_comments(fake, run_import,
                                                                                   run_worker, engine):
    broken = _oldest_with_comments(fake, 2)
    good = [_break(fake, issue) for issue in broken]
    first = run_import("github", [WEB], config=_config(fake))
    assert (first["status"], first["failed"]) == ("partial", 2), first
    for issue, created_at in zip(broken, good, strict=True):
        _mend(fake, issue, created_at)
    before = len(fake.log)

    api.retry(first["job_id"])
    run_worker()

    again = api.status(first["job_id"])
    assert (again["status"], again["failed"]) == ("succeeded", 0), again
    paths = [p for _, p, _ in fake.log[before:]]
    assert not [p for p in paths if LISTING.search(p)], paths  # no listing page: the two issues only
    for issue in broken:
        assert len(_issue_requests(paths, issue)) == 2  # the issue and its one page of comments
        assert _stored_comments(engine, issue) == _comment_ids(fake, issue) != set()
    assert len(paths) == 5 and paths[0] == f"/repos/{WEB}", paths  # the repository, then the issues


def test_the_sweep_reads_an_issue_new_to_the_store_by_the_number_its_walk_brought(fake, run_import, engine):
    """An issue that failed in an earlier job and was mended at the source without an update: the
    catch-up's walk lists it, the store lacks it, so the sweep fetches it by the walk's number."""
    [issue] = _oldest_with_comments(fake, 1)
    good = _break(fake, issue)
    first = run_import("github", [WEB], config=_config(fake))
    assert (first["status"], first["failed"]) == ("partial", 1), first
    _mend(fake, issue, good)
    before = len(fake.log)

    later = run_import("github", [WEB], config=_config(fake))

    assert later["status"] == "succeeded", later["error"]
    paths = [p for _, p, _ in fake.log[before:]]
    assert all("since=" in p for p in paths if LISTING.search(p)), paths  # only the catch-up's own read
    assert len(_issue_requests(paths, issue)) == 2
    assert _stored_comments(engine, issue) == _comment_ids(fake, issue) != set()


def test_fetch_reads_by_number_where_a_key_gives_it_and_scans_only_for_ids_without_one(fake):
    source = GitHubSource(_config(fake))
    [known, unknown] = _oldest_with_comments(fake, 2)
    try:
        before = len(fake.log)
        pages = list(source.fetch(WEB, [str(known["id"])], {str(known["id"]): f"{WEB}#{known['number']}"}))
        assert [i.external_id for p in pages for i in p.items] == [str(known["id"])]
        assert all(p.comments_complete for p in pages)
        assert {c.external_id for p in pages for c in p.comments} == _comment_ids(fake, known)
        assert len(fake.log) - before == 2

        before = len(fake.log)
        pages = list(source.fetch(WEB, [str(unknown["id"])], {str(unknown["id"]): "other/repo#1"}))
        assert [i.external_id for p in pages for i in p.items] == [str(unknown["id"])]
        assert any(LISTING.search(p) for _, p, _ in fake.log[before:])  # the filtered full read
    finally:
        source.close()


def test_an_issue_whose_comment_list_breaks_off_is_kept_with_a_gap_for_its_comments(fake):
    [issue] = _oldest_with_comments(fake, 1)
    fake.fail_next(rf"/issues/{issue['number']}/comments", 500, times=50)
    source = GitHubSource(_config(fake))
    try:
        [page] = list(source.fetch(WEB, [str(issue["id"])], {str(issue["id"]): f"{WEB}#{issue['number']}"}))
    finally:
        source.close()
    assert [i.external_id for i in page.items] == [str(issue["id"])] and not page.comments_complete
    assert [(g.stream, g.item_external_id) for g in page.gaps] == [("comments", str(issue["id"]))]
