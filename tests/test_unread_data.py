"""One stream's failure keeps the other's data (issue 13, kind 3), for JIRA: comments that cannot be
fetched keep their issue, the job ends partial saying what is missing, and retry reads only that.
(ServiceNow's journal and people lookups: tests/test_servicenow_edges.py; GitHub and GitLab: their own
tests.)"""
from __future__ import annotations

from urllib.parse import unquote_plus

from jobs import api
from store import queries
from tests.fakes.jira import FakeJira


def test_jira_comments_that_cannot_be_fetched_keep_the_issue_and_retry_fetches_only_them(
        run_import, run_worker, engine, monkeypatch):
    monkeypatch.setenv("IMPORT_RETRY_ATTEMPTS", "2")
    with FakeJira(cloud=True, size=12) as fake:
        heavy = fake.issues["ACME"][3]  # 25 comments: 20 embedded in the search hit, 5 fetched
        assert len(heavy["comments"]) == 25
        user, secret = fake.credentials
        config = {"base_url": fake.url, "user_email": user, "api_token": secret}
        truth = fake.ground_truth("ACME")
        fake.fail_next(f"/issue/{heavy['key']}/comment", 500, times=2)  # the request and its one retry
        doc = run_import("jira", ["ACME"], config=config)
        assert (doc["status"], doc["created"], doc["unread"]) == ("partial", truth["items"], {"comments": 1})
        assert doc["error"].startswith("comments of 1 issue could not be read (JIRA kept failing")
        stored = queries.items(engine, limit=100)
        assert len(stored) == truth["items"]
        detail = queries.item_detail(engine, next(r["id"] for r in stored if r["key"] == heavy["key"]))
        assert len(detail["comments"]) == 20  # what the search embedded is kept

        before = len(fake.log)
        api.retry(doc["job_id"])
        run_worker()
        again = api.status(doc["job_id"])
        assert (again["status"], again["unread"], again["created"]) == ("succeeded", {}, truth["items"])
        assert queries.stats(engine)["comments"] == truth["comments"]
        searches = [unquote_plus(p) for _, p, _ in fake.log[before:] if "/search/jql" in p]
        assert searches and all(f"id in ({heavy['id']})" in q for q in searches)  # only the issue named
