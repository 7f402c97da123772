"""The deletion sweep's GraphQL id walks against malformed or endless answers (attacker review, 2026-11).

The walks decide what is soft-deleted: whatever a complete walk does not list. A GitLab answer with
`notes: null` once made a catch-up soft-delete all 393 stored notes and report success; a GitHub answer
without `pageInfo` soft-deleted 223 of 490 comments. Here the fakes (tests/fakes/github_graphql.py,
tests/fakes/gitlab_graphql.py) answer as documented and a wrapper spoils their answers the way a broken
proxy or a hostile server would; the imports run through the jobs API on a real worker with the real
client libraries (PyGithub's requester, python-gitlab's session). What a user sees is asserted: the run
fails with one line naming the vendor and the problem, and nothing is soft-deleted.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest
from sqlalchemy import select

from importers.errors import NetworkError
from importers.github import _number_in
from importers.gitlab.graphql import number
from importers.pageguard import PageGuard
from store.schema import comments, work_items
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.server import Response, dumps
from tests.test_github_graphql import REPO, _config, _long_thread
from tests.test_gitlab import PROJECT, TOKEN, make_source

Spoil = Callable[[dict], None]  # changes one decoded id-walk answer in place


def _spoil(fake, is_walk: Callable[[str], bool], spoil: Spoil, from_the_start: bool = False) -> None:
    """Wrap the fake's GraphQL answers: those to a query `is_walk` picks are decoded and spoiled
    (`from_the_start`: each answered as the first page, whatever cursor it was asked with)."""
    answer = fake.graphql.answer

    def hostile(request):
        asked = request.json() or {}
        if not is_walk(" ".join(str(asked.get("query", "")).split())):
            return answer(request)
        if from_the_start:
            asked = {**asked, "variables": {**(asked.get("variables") or {}), "after": None}}
            request = dataclasses.replace(request, body=json.dumps(asked).encode())
        response = answer(request)
        if response.status != 200:
            return response
        body = json.loads(response.body if isinstance(response.body, bytes) else dumps(response.body))
        spoil(body)
        return Response(200, body, response.headers)
    fake.graphql.answer = hostile


def _deleted(engine) -> tuple[int, int, int]:
    """(stored comments, soft-deleted comments, soft-deleted items)."""
    with engine.connect() as conn:
        notes = conn.execute(select(comments.c.deleted_at)).all()
        items = conn.execute(select(work_items.c.deleted_at)).all()
    return len(notes), sum(r.deleted_at is not None for r in notes), sum(r.deleted_at is not None for r in items)


def _assert_failed_deleting_nothing(doc: dict, engine, vendor: str, problem: str) -> None:
    stored, gone, items_gone = _deleted(engine)
    assert stored > 0
    assert (gone, items_gone) == (0, 0), f"soft-deleted {gone} comments and {items_gone} items: {doc.get('error')}"
    error = str(doc.get("error") or "")
    assert doc["status"] != "succeeded", doc
    assert vendor in error and problem in error, error
    assert "\n" not in error.strip() and "Traceback" not in error, error


# --- GitLab: IssueQuery.ids / _note_ids ---------------------------------------------------------------------

def _gl_issues(body: dict) -> dict:
    return body["data"]["project"]["issues"]


def _each_notes(change: Callable[[dict], None]) -> Spoil:
    return lambda body: [change(node) for node in _gl_issues(body)["nodes"]]


WITHOUT_LIST = "without its list"
WITHOUT_STATUS = "without saying whether more follows"
NOT_AN_OBJECT = "something other than an object"
GITLAB_SPOILS: dict[str, tuple[Spoil, str]] = {
    "notes null": (_each_notes(lambda node: node.update(notes=None)), WITHOUT_LIST),
    "notes missing": (_each_notes(lambda node: node.pop("notes")), WITHOUT_LIST),
    "notes.nodes null": (_each_notes(lambda node: node["notes"].update(nodes=None)), WITHOUT_LIST),
    "notes without pageInfo": (_each_notes(lambda node: node["notes"].pop("pageInfo")), WITHOUT_STATUS),
    "a note node null": (_each_notes(lambda node: node["notes"]["nodes"].append(None)), NOT_AN_OBJECT),
    "an issue node a string": (lambda body: _gl_issues(body)["nodes"].append("junk"), NOT_AN_OBJECT),
    "issues without pageInfo": (lambda body: _gl_issues(body).pop("pageInfo"), WITHOUT_STATUS),
    "issues pageInfo null": (lambda body: _gl_issues(body).update(pageInfo=None), WITHOUT_STATUS),
    "hasNextPage a string": (lambda body: _gl_issues(body)["pageInfo"].update(hasNextPage="false"), WITHOUT_STATUS),
    "more without a cursor": (lambda body: _gl_issues(body)["pageInfo"].update(hasNextPage=True, endCursor=None),
                              "without a cursor"),
    "a note id in Arabic-Indic digits": (
        _each_notes(lambda node: node["notes"]["nodes"].append({"id": "gid://gitlab/Note/١٢٣"})),
        "not a GitLab global id"),
}


def _gitlab_walk(query: str) -> bool:
    return "nodes { id iid notes" in query


@pytest.mark.parametrize("how", list(GITLAB_SPOILS))
def test_gitlab_catch_up_with_a_malformed_id_walk_fails_and_deletes_nothing(run_import, engine, how):
    fake = FakeGitLab().start()
    try:
        config = {"token": TOKEN, "url": fake.url, "api": "graphql"}
        first = run_import("gitlab", [PROJECT], config=config, deletions="mark")
        assert first["status"] == "succeeded", first["error"]
        spoil, problem = GITLAB_SPOILS[how]
        _spoil(fake, _gitlab_walk, spoil)
        later = run_import("gitlab", [PROJECT], config=config, deletions="mark")
        _assert_failed_deleting_nothing(later, engine, "GitLab", problem)
    finally:
        fake.stop()


def _replay(cursor_of: Callable[[dict], dict]) -> Spoil:
    """Every answer (the first page again, see `_spoil`) names a fresh next page: a server in circles."""
    served = [0]

    def spoil(body: dict) -> None:
        served[0] += 1
        cursor_of(body).update(hasNextPage=True, endCursor=f"fresh-{served[0]}")
    return spoil


def test_gitlab_walk_replaying_the_same_issues_under_fresh_cursors_stops(run_import, engine):
    fake = FakeGitLab().start()
    try:
        config = {"token": TOKEN, "url": fake.url, "api": "graphql"}
        assert run_import("gitlab", [PROJECT], config=config, deletions="mark")["status"] == "succeeded"
        _spoil(fake, _gitlab_walk, _replay(lambda body: _gl_issues(body)["pageInfo"]), from_the_start=True)
        later = run_import("gitlab", [PROJECT], config=config, deletions="mark")
        _assert_failed_deleting_nothing(later, engine, "GitLab", "only rows it had sent before")
    finally:
        fake.stop()


def test_gitlab_import_reader_refuses_a_notes_page_that_would_pass_for_whole():
    """The import reader marks a page's threads complete (`comments_complete`): an issue with
    `notes: null` there would have its stored notes soft-deleted too, so the read fails instead."""
    fake = FakeGitLab().start()
    source = make_source(fake.url, api="graphql")
    try:
        _spoil(fake, lambda query: "userNotesCount" in query, _each_notes(lambda node: node.update(notes=None)))
        with pytest.raises(NetworkError, match=f"GitLab .*{WITHOUT_LIST}"):
            list(source.read(PROJECT))
    finally:
        source.close()
        fake.stop()


# --- GitHub: IdWalk ---------------------------------------------------------------------------------------

def _gh_connections(body: dict) -> list[dict]:
    repository = (body.get("data") or {}).get("repository")
    return list(repository.values()) if isinstance(repository, dict) else []


def _each_thread(change: Callable[[dict], None]) -> Spoil:
    return lambda body: [change(node["comments"]) for conn in _gh_connections(body) for node in conn["nodes"]]


GITHUB_SPOILS: dict[str, tuple[Spoil, str]] = {
    "no pageInfo anywhere": (lambda body: [(conn.pop("pageInfo"), [n["comments"].pop("pageInfo")
                                                                   for n in conn["nodes"]])
                                           for conn in _gh_connections(body)], WITHOUT_STATUS),
    "issues pageInfo null": (lambda body: [c.update(pageInfo=None) for c in _gh_connections(body)], WITHOUT_STATUS),
    "comments without pageInfo": (_each_thread(lambda thread: thread.pop("pageInfo")), WITHOUT_STATUS),
    "comments null": (lambda body: [n.update(comments=None) for c in _gh_connections(body) for n in c["nodes"]],
                      WITHOUT_LIST),
    "hasNextPage a number": (lambda body: [c["pageInfo"].update(hasNextPage=0) for c in _gh_connections(body)],
                             WITHOUT_STATUS),
    "an issue node null": (lambda body: [c["nodes"].append(None) for c in _gh_connections(body)], NOT_AN_OBJECT),
    "a comment id in Arabic-Indic digits": (
        _each_thread(lambda thread: thread["nodes"].append({"fullDatabaseId": "١٢٣"})), "not a positive number"),
    "a comment id of 30 digits": (
        _each_thread(lambda thread: thread["nodes"].append({"fullDatabaseId": "9" * 30})), "not a positive number"),
}


def _github_walk(query: str) -> bool:
    return "orderBy" in query or "node(id:" in query


@pytest.mark.parametrize("how", list(GITHUB_SPOILS))
def test_github_catch_up_with_a_malformed_id_walk_fails_and_deletes_nothing(run_import, engine, how):
    fake = GitHubFake(sizes={REPO: 260}).start()
    try:
        _long_thread(fake)  # one thread longer than the nested page: a missing pageInfo would cut it
        first = run_import("github", [REPO], config=_config(fake), deletions="mark")
        assert first["status"] == "succeeded", first["error"]
        spoil, problem = GITHUB_SPOILS[how]
        _spoil(fake, _github_walk, spoil)
        later = run_import("github", [REPO], config=_config(fake), deletions="mark")
        _assert_failed_deleting_nothing(later, engine, "GitHub", problem)
    finally:
        fake.stop()


def test_github_walk_replaying_the_same_issues_under_fresh_cursors_stops(run_import, engine):
    fake = GitHubFake(sizes={REPO: 260}).start()
    try:
        assert run_import("github", [REPO], config=_config(fake), deletions="mark")["status"] == "succeeded"
        _spoil(fake, lambda query: "orderBy" in query, _replay(lambda body: _gh_connections(body)[0]["pageInfo"]),
               from_the_start=True)
        later = run_import("github", [REPO], config=_config(fake), deletions="mark")
        _assert_failed_deleting_nothing(later, engine, "GitHub", "only rows it had sent before")
    finally:
        fake.stop()


# --- ids and the guard, without HTTP ------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["gid://gitlab/Note/١٢٣", "gid://gitlab/Note/²", "gid://gitlab/Note/" + "9" * 5000,
                                  "gid://gitlab/Note/0", "anything/Project/7", "gid://gitlab/Note/-1", 7, None])
def test_a_gitlab_global_id_that_is_not_one_is_a_network_error_naming_gitlab(text):
    with pytest.raises(NetworkError, match="GitLab"):
        number(text)


def test_a_gitlab_global_id_keeps_its_number():
    assert number("gid://gitlab/Note/" + "9" * 20) == 10 ** 20 - 1


@pytest.mark.parametrize("key", ["acme/web#١٢", "acme/web#²", "acme/web#" + "9" * 5000, "acme/web#0",
                                 "acme/web#1/../x"])
def test_an_issue_key_without_an_ascii_number_is_no_number(key):
    assert _number_in("acme/web", key) is None


def test_issue_keys_keep_their_numbers():
    assert _number_in("acme/web", "ACME/Web#7") == 7


def test_the_guard_stops_pages_of_nothing_new_and_forgets_old_cursors():
    guard = PageGuard("GitHub", "the issues of 'acme/web'")
    for page in range(5):
        guard.page(0, f"c{page}")
    with pytest.raises(NetworkError, match="GitHub kept sending empty pages"):
        guard.page(0, "c5")
    guard = PageGuard("GitHub", "x")
    guard.page(1, "same")
    with pytest.raises(NetworkError, match="sent before"):
        guard.page(1, "same")
