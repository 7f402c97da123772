"""GitHub catch-up runs (issue 12): transferred issues followed, deleted comments found.

Against the fake GitHub (tests/fakes/github.py, which transfers and deletes as GitHub documents it)
over real HTTP through PyGithub, imports run by the jobs API on a real worker into the test's store.
"""
from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from importers.errors import NetworkError
from importers.github import GitHubSource
from store.schema import comments, work_items
from tests.fakes.github import GitHubFake

WEB, API = "acme/web", "acme/api"


@pytest.fixture
def fake():
    server = GitHubFake(sizes={WEB: 30, API: 12}).start()
    yield server
    server.stop()


def _config(fake) -> dict[str, str]:
    return {"token": fake.token, "api_url": fake.url}


def _with_comments(fake, repo: str, skip: int = 0) -> dict:
    """An issue (not a pull request) of `repo` that has comments."""
    numbers = {int(c["issue_url"].rsplit("/", 1)[1]) for c in fake.comments[repo]}
    return [i for i in fake.issues[repo] if "pull_request" not in i and i["number"] in numbers][skip]


def _comment_ids(fake, repo: str, issue: dict) -> set[str]:
    return {str(c["id"]) for c in fake.comments[repo] if c["issue_url"] == issue["url"]}


def _rows(engine, table, ids) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).where(and_source(table, ids)))]


def and_source(table, ids):
    return table.c.external_id.in_(sorted(ids)) & (table.c.source == "github")


def test_a_transferred_issue_is_followed_to_its_new_repository(fake, run_import, engine):
    """Only the old repository is imported: the stored issue takes its new id, key and repository,
    its comments stay the same rows, nothing is counted deleted; a deleted issue (410) still is."""
    first = run_import("github", [WEB], config=_config(fake))
    assert first["status"] == "succeeded", first["error"]
    moved = _with_comments(fake, WEB)
    old_id, kept = str(moved["id"]), _comment_ids(fake, WEB, moved)
    doomed = _with_comments(fake, WEB, skip=1)
    fake.delete_issue(WEB, doomed["number"])
    new = fake.transfer(WEB, moved["number"], API)
    fake.requests.clear()

    later = run_import("github", [WEB], config=_config(fake))

    assert later["status"] == "succeeded", later["error"]
    assert later["deleted_items"] == 1, later  # the deleted one, not the transferred one
    assert _rows(engine, work_items, [old_id]) == []
    [item] = _rows(engine, work_items, [str(new["id"])])
    assert (item["key"], item["project"], item["deleted_at"]) == (f"{API}#{new['number']}", API, None)
    stored = _rows(engine, comments, kept)
    assert {c["external_id"] for c in stored} == kept and {c["item_id"] for c in stored} == {item["id"]}
    assert all(c["deleted_at"] is None for c in stored)
    [gone] = _rows(engine, work_items, [str(doomed["id"])])
    assert gone["deleted_at"] is not None
    assert fake.requests["issue"] == 3  # the old URL (301), the new one, the deleted one (410)


@pytest.mark.parametrize("direction", [(WEB, API), (API, WEB)])
def test_an_issue_transferred_between_two_imported_repositories_stays_one_item(fake, run_import, engine,
                                                                               direction):
    """Both repositories imported in one job: whichever part meets the issue first, the workspace
    holds it once, under its new key, with each comment once."""
    origin, target = direction
    first = run_import("github", [WEB, API], config=_config(fake))
    assert first["status"] == "succeeded", first["error"]
    moved = _with_comments(fake, origin)
    old_id, kept = str(moved["id"]), _comment_ids(fake, origin, moved)
    new = fake.transfer(origin, moved["number"], target)

    later = run_import("github", [WEB, API], config=_config(fake))

    assert later["status"] == "succeeded", later["error"]
    assert later["deleted_items"] == 0 and later["deleted_comments"] == 0, later
    assert _rows(engine, work_items, [old_id]) == []
    [item] = _rows(engine, work_items, [str(new["id"])])
    assert (item["key"], item["project"], item["deleted_at"]) == (f"{target}#{new['number']}", target, None)
    stored = _rows(engine, comments, kept)
    assert len(stored) == len(kept) and {c["item_id"] for c in stored} == {item["id"]}
    with engine.connect() as conn:
        stored_ids = conn.execute(select(work_items.c.external_id).where(work_items.c.source == "github")).scalars()
        assert sorted(stored_ids) == sorted(fake.ground_truth(WEB)["ids"] | fake.ground_truth(API)["ids"])


def test_a_transfer_redirected_to_another_host_is_refused_not_taken_for_a_deletion(fake):
    """The one outbound policy holds for redirects too: a 301 off the configured origin is refused
    with an error (the sweep then fails the part), never followed and never read as "gone"."""
    moved = _with_comments(fake, WEB)
    fake.transfer(WEB, moved["number"], API)
    fake.fail_next(rf"/repos/{WEB}/issues/{moved['number']}$", 301, times=1,
                   headers={"Location": "http://198.51.100.7/repositories/1/issues/1"})
    source = GitHubSource(_config(fake))
    try:
        with pytest.raises(NetworkError, match="198.51.100.7"):
            list(source.follow_moves(WEB, [str(moved["id"])], {str(moved["id"]): f"{WEB}#{moved['number']}"}))
    finally:
        source.close()


def test_a_comment_deleted_on_an_unchanged_issue_is_soft_deleted_by_the_catch_up_run(fake, run_import, engine):
    """GitHub leaves the issue's updated_at alone when a comment is deleted: the catch-up run finds
    it in the GraphQL walk that lists the issue ids with their comment ids (one request for these
    30 numbers), reading no more of the REST comment listing than its one since-page."""
    first = run_import("github", [WEB], config=_config(fake))
    assert first["status"] == "succeeded", first["error"]
    issue = _with_comments(fake, WEB)
    deleted = next(c for c in fake.comments[WEB] if c["issue_url"] == issue["url"])
    fake.delete_comment(WEB, deleted["id"])  # the issue's updated_at stays
    others = _comment_ids(fake, WEB, issue)
    listed = len(fake.comments[WEB])
    fake.requests.clear()

    later = run_import("github", [WEB], config=_config(fake))

    assert later["status"] == "succeeded", later["error"]
    assert later["deleted_comments"] == 1 and later["deleted_items"] == 0, later
    [row] = _rows(engine, comments, [str(deleted["id"])])
    assert row["deleted_at"] is not None
    assert all(r["deleted_at"] is None for r in _rows(engine, comments, others))
    assert listed > 0 and fake.requests["comments"] == 1  # the since-listing of comments (one page), no more
    assert fake.requests["graphql"] == 1


def test_recheck_comments_answers_from_the_graphql_walk_by_id(fake):
    """The comment check costs no request of its own: the ids came with the id listing's walk (ids only:
    edits arrive through the catch-up read's `since=` comment listing, see test_github.py)."""
    issue = _with_comments(fake, WEB)
    rows = [c for c in fake.comments[WEB] if c["issue_url"] == issue["url"]]
    pulls = {i["url"] for i in fake.issues[WEB] if "pull_request" in i}
    asked = [str(c["id"]) for c in fake.comments[WEB] if c["issue_url"] not in pulls]  # what the store holds
    fake.delete_comment(WEB, rows[0]["id"])
    source = GitHubSource(_config(fake))
    try:
        ids = [i for page in source.item_ids(WEB) for i in page]
        walked = fake.requests["graphql"]
        pages = list(source.recheck_comments(WEB, asked) or [])
        again = list(source.recheck_comments(WEB, asked[:5]) or [])
    finally:
        source.close()
    assert set(ids) == fake.ground_truth(WEB)["ids"] and walked == 1
    present = {eid for p in pages for eid in p.comments_present}
    assert present == set(asked) - {str(rows[0]["id"])}
    assert not [c for p in pages + again for c in p.comments] and not [n for p in pages for n in p.notes]
    assert {eid for p in again for eid in p.comments_present} == set(asked[:5]) & present
    assert dict(fake.requests) == {"graphql": 1}  # no REST comment page, no second walk


def test_recheck_comments_without_graphql_reads_the_rest_listing_with_its_edits(fake):
    """The REST fallback: the repository comment listing read once, comments returned whole (edits too),
    and the job told why."""
    fake.graphql_available = False
    issue = _with_comments(fake, WEB)
    rows = [c for c in fake.comments[WEB] if c["issue_url"] == issue["url"]]
    asked = [str(c["id"]) for c in fake.comments[WEB]]
    fake.delete_comment(WEB, rows[0]["id"])
    with fake._data:
        fake.comments[WEB][0].update(body="edited")
    source = GitHubSource(_config(fake))
    try:
        pages = list(source.recheck_comments(WEB, asked) or [])
        again = list(source.recheck_comments(WEB, asked[:5]) or [])  # the same run: read once
        [note] = source.sweep_notes(WEB)
    finally:
        source.close()
    found = {c.external_id: c for p in pages for c in p.comments}
    assert set(found) == set(asked) - {str(rows[0]["id"])}
    assert found[str(fake.comments[WEB][0]["id"])].body == "edited"
    assert all(c.item_key.startswith(f"{WEB}#") for c in found.values())
    assert len([c for p in again for c in p.comments]) == len(set(asked[:5]) & set(found))
    assert fake.requests["comments"] == math.ceil(len(asked) / 100) and fake.requests["graphql"] == 1
    assert "no GraphQL API" in note and "REST comment listing" in note
