"""An item whose comments never load must not turn every later catch-up into a whole read (issue 12).

Regression: after e5d42cf, a part with any open gap held the next catch-up's `since` at its own starting
point, and a whole read with gaps deferred to the import before it or to a whole read. A JIRA issue whose
comments always answer 500 then made every later catch-up read the whole project (hours at 200,000
tickets), without saying why; where a since existed it stayed pinned and the window grew without bound.
Now a gap of one item's data keeps the normal mark and the next catch-up re-reads that item itself
(store/jobs.py `catch_up_point`, `carried_gaps`; jobs/runner.py CARRY), saying so on the job.

Real parts: the JIRA fake over HTTP through the real client, imports run by the jobs API on a real worker
(RQ over Redis) into the test's store. The fake answers as Jira Cloud's REST v3 (see tests/fakes/jira.py).
"""
from __future__ import annotations

from sqlalchemy import select

from store import jobs as job_store
from store.schema import comments, work_items
from tests.fakes.jira import FakeJira


def _stored_comments(engine, item_id: str) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(comments.c.id).join(work_items, work_items.c.id == comments.c.item_id)
                                .where(work_items.c.external_id == item_id)).all())


def test_an_issue_whose_comments_always_fail_costs_one_issue_per_catch_up_not_a_whole_read(
        run_import, engine, monkeypatch):
    monkeypatch.setenv("IMPORT_RETRY_ATTEMPTS", "2")
    with FakeJira(cloud=True, size=12) as fake:
        user, secret = fake.credentials
        config = {"base_url": fake.url, "user_email": user, "api_token": secret}
        heavy = fake.issues["ACME"][3]  # 25 comments: 20 come with the search hit, the rest are fetched
        fake.fail_next(f"/issue/{heavy['key']}/comment", 500, times=10_000)  # broken for good

        first = run_import("jira", ["ACME"], config=config)
        assert (first["status"], first["unread"]) == ("partial", {"comments": 1}), first
        mark = job_store.last_high_water(engine, "jira", "ACME")
        assert mark is not None  # the whole read's own mark: the unread item does not hold it back

        previous = first
        for _ in range(2):  # nothing changes at the source: each catch-up reads its window and the one issue
            logged = len(fake.log)
            doc = run_import("jira", ["ACME"], config=config)
            paths = [path for _, path, _ in fake.log[logged:]]
            assert (doc["status"], doc["unread"]) == ("partial", {"comments": 1}), doc
            assert (doc["created"], doc["updated"]) == (0, 0), doc
            assert f"re-reads the comments of 1 issue ({heavy['key']}) that job {previous['job_id']} left unread" \
                   in " ".join(doc["notes"]), doc["notes"]
            reads = [p for p in paths if "/search/jql" in p and "fields=summary" in p]  # reads of whole issues
            assert any("updated+%3E%3D" in p for p in reads), reads  # the since-window
            assert any(f"id+in+%28{heavy['id']}%29" in p for p in reads), reads  # the issue left unread
            assert all("updated+%3E%3D" in p or "id+in+%28" in p for p in reads), reads  # no whole read
            assert sum(f"/issue/{heavy['key']}/comment" in p for p in paths) == 2, paths  # the request + its retry
            assert job_store.last_high_water(engine, "jira", "ACME") == mark  # neither pinned earlier nor moved
            previous = doc

        with fake._lock:  # the vendor recovers
            fake._faults.clear()
        logged = len(fake.log)
        healed = run_import("jira", ["ACME"], config=config)

        assert healed["status"] == "succeeded", healed
        assert healed["unread"] in ({}, None), healed
        assert _stored_comments(engine, heavy["id"]) == 25
        assert job_store.gaps(engine, healed["job_id"]) == []
        assert job_store.catch_up_point(engine, "jira", "ACME").items == ()  # nothing left to carry
        assert any(f"/issue/{heavy['key']}/comment" in p for _, p, _ in fake.log[logged:])
        logged = len(fake.log)
        after = run_import("jira", ["ACME"], config=config)
        assert after["status"] == "succeeded" and not after["notes"], after
        assert not any(f"/issue/{heavy['key']}/comment" in p for _, p, _ in fake.log[logged:])  # nothing carried
