"""GitHub's deletion sweep over GraphQL (issue 12): one walk lists every issue id with its comment ids.

Against the fake GitHub's GraphQL endpoint (tests/fakes/github_graphql.py, over the same rows as its REST
API) through PyGithub's requester over real HTTP; catch-up runs go through the jobs API on a real worker.
Cost asserted from the fake's request counts: ceil(issues / 100) walk requests plus one per further 100
comments of a long thread, and no REST comment page beyond the catch-up read's one since-page.
"""
from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from importers.errors import NetworkError
from importers.github import GitHubSource
from store.schema import comments, work_items
from tests.fakes.github import GitHubFake, _parse_ts
from tests.fakes.github_graphql import GitHubGraphQL
from tests.fakes.server import Response

REPO = "acme/web"


@pytest.fixture
def fake():
    server = GitHubFake(sizes={REPO: 260}).start()  # 208 issues and 52 pull requests: 3 walk pages
    yield server
    server.stop()


def _config(fake, **extra) -> dict[str, str]:
    return {"token": fake.token, "api_url": fake.url, **extra}


def _issues(fake) -> list[dict]:
    return [i for i in fake.issues[REPO] if "pull_request" not in i]


def _long_thread(fake, count: int = 130) -> dict:
    """Give one issue `count` more comments: a thread longer than the walk's nested page of 100."""
    issue = _issues(fake)[20]
    with fake._data:
        start = max(c["id"] for rows in fake.comments.values() for c in rows) + 1
        created = _parse_ts(issue["created_at"]) + timedelta(days=1)
        for k in range(count):
            fake.comments[REPO].append(fake._comment(random.Random(k), REPO, issue["number"], start + k,
                                                     created + timedelta(minutes=k)))
    fake.recount(REPO)
    return issue


def _thread(fake, issue: dict) -> list[dict]:
    return sorted((c for c in fake.comments[REPO] if c["issue_url"] == issue["url"]),
                  key=lambda c: (c["created_at"], c["id"]))


def _deleted(engine, table) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(table.c.external_id).where(
            (table.c.source == "github") & table.c.deleted_at.is_not(None))).scalars())


def test_a_catch_up_with_no_change_costs_a_walk_request_per_100_issues_and_per_long_thread_page(
        fake, run_import):
    thread = _long_thread(fake)
    first = run_import("github", [REPO], config=_config(fake))
    assert first["status"] == "succeeded", first["error"]
    fake.requests.clear()
    fake.graphql.log.clear()

    later = run_import("github", [REPO], config=_config(fake))

    assert later["status"] == "succeeded", later["error"]
    assert later["deleted_items"] == 0 and later["deleted_comments"] == 0, later
    assert fake.requests["graphql"] == math.ceil(len(_issues(fake)) / 100) + 1 == 4
    assert fake.requests["comments"] == 1  # the catch-up read's since-page; the check reads none
    assert fake.requests["issue_comments"] == 0
    assert [v["id"] for top, v in fake.graphql.log if top == "node"] == [thread["node_id"]]
    assert not later.get("notes"), later.get("notes")


def test_a_comment_deleted_in_the_second_page_of_a_130_comment_thread_is_found(fake, run_import, engine):
    thread = _long_thread(fake)
    first = run_import("github", [REPO], config=_config(fake))
    assert first["status"] == "succeeded", first["error"]
    comments_before = _thread(fake, thread)
    assert len(comments_before) > 130
    victim = comments_before[115]  # past the walk's nested first 100
    fake.delete_comment(REPO, victim["id"])  # the issue's updated_at stays

    later = run_import("github", [REPO], config=_config(fake))

    assert later["status"] == "succeeded", later["error"]
    assert later["deleted_comments"] == 1 and later["deleted_items"] == 0, later
    assert _deleted(engine, comments) == {str(victim["id"])}


def test_a_graphql_error_in_the_middle_of_the_walk_fails_the_sweep_and_deletes_nothing(fake, run_import, engine):
    first = run_import("github", [REPO], config=_config(fake))
    assert first["status"] == "succeeded", first["error"]
    doomed = _issues(fake)[150]  # on the walk's second page
    fake.delete_issue(REPO, doomed["number"])
    fake.delete_comment(REPO, fake.comments[REPO][0]["id"])
    # the walk's second page (the first with a cursor) answers with an error, as GitHub does: HTTP 200
    fake.answer_next(r'"after": "', Response(200, {"data": None, "errors": [
        {"type": "FORBIDDEN", "path": ["repository", "issues"], "message": "Resource not accessible by integration"}]}),
        in_body=True)

    later = run_import("github", [REPO], config=_config(fake))

    assert later["status"] == "failed", later
    assert "Resource not accessible by integration" in later["error"]
    assert later["deleted_items"] == 0 and later["deleted_comments"] == 0, later
    assert _deleted(engine, work_items) == set() and _deleted(engine, comments) == set()
    assert fake.requests["graphql"] == 2  # stopped at the error: never a partial listing


def test_without_graphql_the_sweep_falls_back_to_rest_and_says_so(fake, run_import, engine):
    first = run_import("github", [REPO], config=_config(fake))
    assert first["status"] == "succeeded", first["error"]
    victim = fake.comments[REPO][3]
    fake.delete_comment(REPO, victim["id"])
    fake.graphql_available = False  # this server answers 404 for /graphql
    fake.requests.clear()

    later = run_import("github", [REPO], config=_config(fake))

    assert later["status"] == "succeeded", later["error"]
    assert later["deleted_comments"] == 1, later
    assert _deleted(engine, comments) == {str(victim["id"])}
    assert fake.requests["graphql"] == 1  # asked once, then REST
    assert fake.requests["comments"] == 1 + math.ceil(len(fake.comments[REPO]) / 100)
    [note] = later["notes"]
    assert "no GraphQL API (HTTP 404" in note and "REST comment listing" in note


def test_without_graphql_and_without_stored_comments_the_fallback_is_still_said_on_the_job(fake, run_import):
    """Regression: the fallback note rode on the comment re-check's page only, so a repository with no
    stored comments to re-check fell back to the REST issue listing without the job saying so."""
    with fake._data:
        fake.comments[REPO] = []
        fake.recount(REPO)
    first = run_import("github", [REPO], config=_config(fake))
    assert first["status"] == "succeeded", first["error"]
    fake.graphql_available = False
    fake.requests.clear()

    later = run_import("github", [REPO], config=_config(fake))

    assert later["status"] == "succeeded", later["error"]
    assert (fake.requests["graphql"], fake.requests["comments"]) == (1, 1)  # the read's since= listing only
    [note] = later["notes"]
    assert "no GraphQL API (HTTP 404" in note and "REST issue listing" in note and "comment" not in note


def test_rate_limits_on_the_walk_are_waited_out_by_the_one_retry_policy(fake):
    """GitHub's GraphQL primary limit (HTTP 200, RATE_LIMITED, remaining 0, reset epoch) and a secondary
    limit (403, Retry-After): both waited for, then the walk goes on to a complete listing."""
    waits: list[str] = []
    fake.answer_next("^/graphql", GitHubGraphQL.rate_limited_answer(reset_in=0.2))
    fake.answer_next("^/graphql", fake.secondary_limit_response(retry_after=1))
    source = GitHubSource(_config(fake), on_wait=lambda until, reason: waits.append(str(reason)))
    try:
        ids = [i for page in source.item_ids(REPO) for i in page]
    finally:
        source.close()
    assert set(ids) == fake.ground_truth(REPO)["ids"]
    assert fake.requests["graphql"] == 3 + 2
    assert len([w for w in waits if "rate limit" in w]) == 2, waits


def test_pull_requests_are_walked_through_their_own_connection_when_imported(fake):
    source = GitHubSource(_config(fake, include_pull_requests="true"))
    try:
        ids = [i for page in source.item_ids(REPO) for i in page]
    finally:
        source.close()
    everything = {str(i["id"]) for i in fake.issues[REPO]}
    pulls = len(everything) - len(_issues(fake))
    assert sorted(ids) == sorted(everything)
    assert fake.requests["graphql"] == math.ceil(len(_issues(fake)) / 100) + math.ceil(pulls / 100)


def test_github_enterprise_servers_are_asked_at_api_graphql_beside_api_v3(fake):
    """GHES serves REST under https://HOST/api/v3 and GraphQL at https://HOST/api/graphql (PyGithub's
    requester derives the one from the other; github.com: https://api.github.com/graphql)."""
    source = GitHubSource(_config(fake, api_url=f"{fake.url}/api/v3"))
    try:
        ids = [i for page in source.item_ids(REPO) for i in page]
    finally:
        source.close()
    assert set(ids) == fake.ground_truth(REPO)["ids"]
    assert {path for _, path, _ in fake.log} == {"/api/graphql"}


@pytest.mark.parametrize("lacking", [("Issue", "PullRequest", "IssueComment"), ("IssueComment",), ("Issue",)])
def test_an_older_server_without_full_database_ids_is_walked_with_database_ids(fake, lacking):
    fake.graphql.without_full_ids(*lacking)  # GHES before `fullDatabaseId` on these types
    source = GitHubSource(_config(fake))
    try:
        ids = [i for page in source.item_ids(REPO) for i in page]
        present = [e for p in source.recheck_comments(REPO, [str(c["id"]) for c in fake.comments[REPO]]) or []
                   for e in p.comments_present]
    finally:
        source.close()
    pulls = {i["url"] for i in fake.issues[REPO] if "pull_request" in i}
    assert set(ids) == fake.ground_truth(REPO)["ids"]
    assert set(present) == {str(c["id"]) for c in fake.comments[REPO] if c["issue_url"] not in pulls}
    refusals = 2 if lacking == ("Issue", "PullRequest", "IssueComment") else 1  # one a type: Issue, IssueComment
    assert fake.requests["graphql"] == refusals + 3


def test_the_fake_answers_like_githubs_graphql_api(fake):
    """Auth, GitHub's paging limits and not-found answers, as the fake's docstring cites them."""
    url = f"{fake.url}/graphql"
    query = "query($n: Int!) { repository(owner: \"acme\", name: \"web\") { issues(first: $n) { nodes { id } } } }"
    assert requests.post(url, json={"query": query, "variables": {"n": 1}}, timeout=10).status_code == 401
    auth = {"Authorization": f"bearer {fake.token}"}
    too_many = requests.post(url, json={"query": query, "variables": {"n": 101}}, headers=auth, timeout=10).json()
    assert too_many == {"errors": [{"type": "EXCESSIVE_PAGINATION", "message": "Requesting 101 records on the "
                                    "`issues` connection exceeds the `first` limit of 100 records."}]}
    pair = "issues(first: 100) { nodes { comments(first: 100) { nodes { id } } } }"
    deep = "{ repository(owner: \"acme\", name: \"web\") { %s } }"
    fits = requests.post(url, json={"query": deep % pair}, headers=auth, timeout=10).json()
    assert "errors" not in fits and len(fits["data"]["repository"]["issues"]["nodes"]) == 100
    aliased = " ".join(f"a{k}: {pair}" for k in range(50))  # 50 x 10,100 nodes
    refused = requests.post(url, json={"query": deep % aliased}, headers=auth, timeout=10).json()
    assert [e["type"] for e in refused["errors"]] == ["MAX_NODE_LIMIT_EXCEEDED"] and "data" not in refused
    missing = requests.post(url, json={"query": "{ repository(owner: \"acme\", name: \"nope\") { id } }"},
                            headers=auth, timeout=10).json()
    assert missing["data"] == {"repository": None} and missing["errors"][0]["type"] == "NOT_FOUND"
    unpaged = requests.post(url, json={"query": "{ repository(owner: \"acme\", name: \"web\") { issues { "
                                                "totalCount } } }"}, headers=auth, timeout=10).json()
    assert unpaged["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"


def test_a_timeout_on_githubs_side_is_asked_again_and_a_looping_cursor_stops_the_walk(fake):
    """GitHub's HTTP 200 "Something went wrong while executing your query" is retried; a server that keeps
    announcing the same next page is stopped by the page guard, with an error, never a partial listing."""
    fake.answer_next("^/graphql", Response(200, {"data": None, "errors": [{"message": "Something went wrong while "
                                                 "executing your query. This may be the result of a timeout, or it "
                                                 "could be a GitHub bug."}]}))
    source = GitHubSource(_config(fake))
    try:
        ids = [i for page in source.item_ids(REPO) for i in page]
        assert set(ids) == fake.ground_truth(REPO)["ids"] and fake.requests["graphql"] == 1 + 3
        node = {"id": "I_1", "fullDatabaseId": "1", "comments": {"pageInfo": {"hasNextPage": False,
                                                                              "endCursor": None}, "nodes": []}}
        looping = {"data": {"repository": {"issues": {"pageInfo": {"hasNextPage": True, "endCursor": "same"},
                                                      "nodes": [node]}}}}
        fake.answer_next("^/graphql", Response(200, looping), times=5)
        source.close()
        with pytest.raises(NetworkError, match="page cursor"):
            list(source.item_ids(REPO))
    finally:
        source.close()
