"""A source whose listing never ends cannot hold a worker (issue 11 follow-up): a vendor (or an impostor)
that answers every page with nothing new while naming a next page, new each time, fails the part with one
line after a few pages (importers/pageguard.py), on every connector; and Cancel is honoured by the clock
even while pages keep streaming in that never fill a batch (jobs/runner.py).

Each trick answers in the vendor's own paging signal: GitHub's `Link: rel="next"` ("Using pagination in the
REST API", docs.github.com), GitLab's keyset `Link` header and GraphQL `pageInfo { hasNextPage endCursor }`
(docs.gitlab.com "REST API pagination", "GraphQL API: pagination"), JIRA Cloud's `nextPageToken` / `isLast`
("Search for issues using JQL enhanced search"), ServiceNow's `X-Total-Count` (Table API GET).
"""
from __future__ import annotations

import json

import pytest

from importers.pageguard import EMPTY_PAGES_TOLERATED
from jobs import api
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.hostile import bottomless, hostile
from tests.fakes.jira import FakeJira
from tests.fakes.server import Response
from tests.fakes.servicenow import FakeServiceNow

from .helpers import kill_hard, start_worker, wait_for

TOKEN = "endless-test-token-9c1d"


def _github():
    fake = hostile(GitHubFake, sizes={"acme/web": 5}, token=TOKEN).start()
    fake.trick(r"^/repos/acme/web/issues\?", bottomless(lambda n: Response(
        200, [], {"Link": f'<{fake.url}/repositories/1/issues?per_page=100&after=c{n}>; rel="next"'})))
    fake.trick(r"^/repositories/\d+/issues\?", bottomless(lambda n: Response(
        200, [], {"Link": f'<{fake.url}/repositories/1/issues?per_page=100&after=d{n}>; rel="next"'})))
    return fake, "github", "acme/web", {"api_url": fake.url, "token": TOKEN}, "GitHub kept sending empty pages"


def _gitlab(api_name: str):
    def answer(n: int) -> Response:
        if api_name == "rest":
            return Response(200, [], {"Link": f'<{fake.url}/api/v4/projects/1/issues?cursor=c{n}>; rel="next"'})
        return Response(200, {"data": {"project": {"issues": {
            "pageInfo": {"hasNextPage": True, "endCursor": f"c{n}"}, "nodes": []}}}})

    fake = hostile(FakeGitLab, projects={"acme/web": 5}, token=TOKEN).start()
    fake.trick(r"/issues\?" if api_name == "rest" else r"^/api/graphql", bottomless(answer))
    return fake, "gitlab", "acme/web", {"url": fake.url, "token": TOKEN, "api": api_name}, \
        "GitLab kept sending empty pages"


def _jira():
    fake = hostile(FakeJira, cloud=True, size=5).start()
    issue = {"id": "10001", "key": "ACME-1", "fields": {"summary": "the one issue it keeps sending"}}
    fake.trick(r"/search/jql", bottomless(lambda n: Response(
        200, {"issues": [issue], "nextPageToken": f"t{n}", "isLast": False})))
    user, token = fake.credentials
    return fake, "jira", "ACME", {"base_url": fake.url, "user_email": user, "api_token": token}, \
        "JIRA kept sending empty pages"


def _servicenow():
    fake = hostile(FakeServiceNow, sizes={"incident": 5}, password=TOKEN).start()
    fake.trick(r"^/api/now/table/incident\?", bottomless(lambda n: Response(
        200, json.dumps({"result": []}), {"X-Total-Count": "1000000000"})))
    return fake, "servicenow", "incident", {"instance": fake.url, "username": "svc.import", "password": TOKEN}, \
        "ServiceNow kept sending empty pages"


VENDORS = {"github": _github, "gitlab-rest": lambda: _gitlab("rest"), "gitlab-graphql": lambda: _gitlab("graphql"),
           "jira": _jira, "servicenow": _servicenow}


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_a_listing_that_brings_nothing_new_fails_the_part_in_one_line(vendor, run_worker, monkeypatch):
    """Every page empty (or the same issue again) with a fresh next page: the part ends `failed`, saying
    which vendor kept sending empty pages; it did not stay `running` reading for ever."""
    monkeypatch.setenv("ALLOW_LOOPBACK_URLS", "1")
    fake, source, project, config, said = VENDORS[vendor]()
    try:
        job_id = api.start_import(source, [project], config=config)
        run_worker()
        doc = api.status(job_id)
    finally:
        fake.stop()
    assert doc["status"] == "failed", doc
    assert doc["error"].startswith(said) and doc["error"].endswith("; stopping") and "\n" not in doc["error"]
    # JIRA's impostor sends one issue again and again (read once a page until the guard stops it);
    # ServiceNow steps over 100 windows hidden whole before it stops
    assert doc["processed"] <= EMPTY_PAGES_TOLERATED + 1 and len(fake.tricked) <= 200


def test_cancel_is_honoured_while_pages_stream_that_never_fill_a_batch(engine, monkeypatch):
    """Every issue page holds one pull request (not imported) and names a next page, new each time: the
    read goes on (a repository with many pull requests looks like this), no batch ever fills, and the
    page queue is never empty for long. Cancel still ends the part (checked by the clock), with a real
    worker process."""
    monkeypatch.setenv("IMPORT_CANCEL_POLL", "0.5")
    fake = hostile(GitHubFake, sizes={"acme/web": 5}, token=TOKEN).start()
    pull = next(i for i in fake.issues["acme/web"] if "pull_request" in i)
    fake.trick(r"/issues\?", bottomless(lambda n: Response(
        200, [pull], {"Link": f'<{fake.url}/repositories/1/issues?per_page=100&after=p{n}>; rel="next"'})))
    job_id = api.start_import("github", ["acme/web"], config={"api_url": fake.url, "token": TOKEN})
    worker = start_worker({"ALLOW_LOOPBACK_URLS": "1"})
    try:
        wait_for(lambda: len(fake.tricked) > 20 and api.status(job_id)["status"] == "running", timeout=120)
        api.cancel(job_id)
        doc = wait_for(lambda: (d := api.status(job_id))["status"] == "cancelled" and d, timeout=120)
    finally:
        kill_hard(worker)
        fake.stop()
    assert doc["status"] == "cancelled" and doc["processed"] == 0
