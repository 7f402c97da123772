"""A catch-up run that ended partial with unread data must not move the next catch-up past it (issue 12).

Regression: `last_high_water` took a partial part's high-water mark (the newest item it read) as the next
catch-up's `since`, also when the part left data unread (a `StreamGap`: a repository comment listing that
broke off, an issue's comments that could not be fetched). Changes in the unread window older than that
mark were then never read by any later catch-up: the next run started after them. Now a part with open
gaps counts as its own since-read point (store/jobs.py `last_high_water`), so the next catch-up reads
that window again; a retry that fills the gaps gives the part its mark back.

Real parts: the fakes over HTTP through the real client libraries, imports run by the jobs API on a real
worker (RQ over Redis) into the test's store.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from jobs import api
from store import jobs as job_store
from store import queries
from store.schema import comments, work_items
from tests.fakes.github import GitHubFake
from tests.fakes.jira import FakeJira

REPO = "acme/web"


def _body(engine, external_id: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(comments.c.body).where(comments.c.external_id == external_id)).scalar()


def test_github_comments_a_partial_catch_up_left_unread_are_read_by_the_next_catch_up(
        run_import, engine, monkeypatch):
    monkeypatch.setenv("IMPORT_RETRY_ATTEMPTS", "2")
    fake = GitHubFake(sizes={REPO: 30}).start()
    try:
        config = {"token": fake.token, "api_url": fake.url}
        first = run_import("github", [REPO], config=config)
        assert first["status"] == "succeeded", first["error"]
        since, [touched] = fake.touch(REPO, 1)  # an issue edited a day after everything else
        numbers = {i["number"] for i in fake.issues[REPO] if "pull_request" not in i}
        comment = next(c for c in fake.comments[REPO] if int(c["issue_url"].rsplit("/", 1)[1]) in numbers
                       and not touched.endswith(f"#{c['issue_url'].rsplit('/', 1)[1]}"))
        with fake._data:  # edited an hour before that issue: older than the catch-up's newest item
            comment.update(body="Edited in the window the listing never reached",
                           updated_at=(since - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        fake.fail_next(r"/issues/comments\?", 500, times=1000)  # the comment listing keeps failing

        broken = run_import("github", [REPO], config=config)
        assert (broken["status"], broken["unread"]) == ("partial", {"comments": 1}), broken
        assert _body(engine, str(comment["id"])) != comment["body"]
        with fake._lock:
            fake._faults.clear()

        later = run_import("github", [REPO], config=config)  # a new catch-up, not a retry of the partial one

        assert later["status"] == "succeeded", later["error"]
        # the job says why it starts before the partial run's newest item
        assert any(n.startswith("starts at ") and f"job {broken['job_id']} left part of the comments listing unread"
                   in n for n in later["notes"]), later["notes"]
        assert _body(engine, str(comment["id"])) == "Edited in the window the listing never reached"
    finally:
        fake.stop()


def test_jira_comments_of_an_issue_a_partial_catch_up_could_not_fetch_are_read_by_the_next_catch_up(
        run_import, engine, monkeypatch):
    monkeypatch.setenv("IMPORT_RETRY_ATTEMPTS", "2")
    with FakeJira(cloud=True, size=12) as fake:
        user, secret = fake.credentials
        config = {"base_url": fake.url, "user_email": user, "api_token": secret}
        first = run_import("jira", ["ACME"], config=config)
        assert first["status"] == "succeeded", first["error"]
        heavy = fake.issues["ACME"][3]  # 25 comments: 20 come with the search hit, the rest are fetched
        newest = max(i["updated"] for i in fake.issues["ACME"])
        added = fake.add_comment(heavy["key"], [("p", [("t", "A comment the catch-up could not fetch")])])
        heavy["updated"] = datetime.now(UTC) - timedelta(minutes=10)  # JQL's minutes apart from the next edit
        assert heavy["updated"] > newest
        fake.edit(fake.issues["ACME"][7]["key"], summary="Edited after the commented issue")
        fake.fail_next(f"/issue/{heavy['key']}/comment", 500, times=2)  # the request and its one retry

        broken = run_import("jira", ["ACME"], config=config)
        assert (broken["status"], broken["unread"]) == ("partial", {"comments": 1}), broken
        assert _body(engine, added) is None
        with fake._lock:
            fake._faults.clear()

        later = run_import("jira", ["ACME"], config=config)

        assert later["status"] == "succeeded", later["error"]
        assert "A comment the catch-up could not fetch" in (_body(engine, added) or "")
        with engine.connect() as conn:
            assert conn.execute(select(work_items.c.key).where(work_items.c.external_id == heavy["id"])).scalar()


def test_a_retry_that_reads_the_gaps_gives_the_partial_run_its_own_mark_back(store_backend, run_import, run_worker,
                                                                             engine, monkeypatch):
    monkeypatch.setenv("IMPORT_RETRY_ATTEMPTS", "2")
    fake = GitHubFake(sizes={REPO: 30}).start()
    try:
        config = {"token": fake.token, "api_url": fake.url}
        first = run_import("github", [REPO], config=config)
        assert first["status"] == "succeeded", first["error"]
        mark = job_store.last_high_water(engine, "github", REPO)
        since, _ = fake.touch(REPO, 2)
        numbers = {i["number"] for i in fake.issues[REPO] if "pull_request" not in i}
        comment = next(c for c in fake.comments[REPO] if int(c["issue_url"].rsplit("/", 1)[1]) in numbers)
        with fake._data:
            comment.update(body="Edited before the listing broke", updated_at=since.strftime("%Y-%m-%dT%H:%M:%SZ"))
        fake.fail_next(r"/issues/comments\?", 500, times=1000)
        broken = run_import("github", [REPO], config=config)
        assert broken["status"] == "partial", broken
        assert job_store.last_high_water(engine, "github", REPO) == mark  # its own since: the first run's mark
        with fake._lock:
            fake._faults.clear()

        api.retry(broken["job_id"])
        run_worker()

        assert api.status(broken["job_id"])["status"] == "succeeded"
        assert queries.stats(engine)["comments"] == len(fake.ground_truth(REPO)["comments"])
        assert _body(engine, str(comment["id"])) == "Edited before the listing broke"  # the fill, joined by key
        assert job_store.last_high_water(engine, "github", REPO) > since  # the newest issue it read
    finally:
        fake.stop()
