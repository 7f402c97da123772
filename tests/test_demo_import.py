"""A demo import end to end: RQ job, Redis progress document, exact store contents."""
import json

from sqlalchemy import func, select

from importers.demo import DemoSource
from store.schema import comments, people, work_items

PROGRESS_FIELDS = {"job_id", "source", "projects", "status", "total", "processed", "created", "updated", "skipped",
                   "failed", "percentage", "items_per_second", "eta_seconds", "started_at", "updated_at",
                   "finished_at", "error"}


def _count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_demo_import_of_5000_items_lands_exactly(store_backend, run_import, redis_client, engine, monkeypatch):
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")
    truth = DemoSource({"size": "5000"}).ground_truth("ACME")

    doc = run_import("demo", ["ACME"], config={"size": "5000"})

    assert doc["status"] == "succeeded", doc
    assert (doc["total"], doc["processed"], doc["created"], doc["failed"]) == (5000, 5000, 5000, 0)
    assert doc["percentage"] == 100.0 and doc["finished_at"]
    raw = redis_client.get(f"import:job:{doc['job_id']}")
    stored = json.loads(raw)
    assert set(stored) >= PROGRESS_FIELDS
    assert stored["status"] == "succeeded" and stored["processed"] == 5000
    assert 0 < redis_client.ttl(f"import:job:{doc['job_id']}") <= 86_400
    assert _count(engine, work_items) == truth["items"] == 5000
    assert _count(engine, comments) == truth["comments"]
    assert _count(engine, people) == truth["people"]


def test_several_projects_split_into_parts_whose_counts_add_up(run_import, engine):
    doc = run_import("demo", ["ACME", "OPS", "MOBILE"], config={"size": "120"})

    assert [p["project"] for p in doc["parts"]] == ["ACME", "OPS", "MOBILE"]
    assert all(p["processed"] == 120 for p in doc["parts"])
    assert doc["processed"] == 360 == doc["created"] + doc["failed"]
    assert _count(engine, work_items) == doc["created"]


def test_people_are_matched_across_projects_by_email(run_import, engine):
    run_import("demo", ["ACME"], config={"size": "200"})
    before = _count(engine, people)
    run_import("demo", ["OPS"], config={"size": "200"})

    assert _count(engine, people) == before  # same demo people, same emails: nobody twice


def test_a_paced_demo_lists_its_ids_for_the_sweep_at_once():
    """The deletion sweep after a paced read listed the ids by reading the whole project again, as slowly (a second
    one-click demo sat at '99.9%, 50 / 50' for half its run): the demo lists them as a vendor's id-only route does.
    At 1 item a second, a re-read of 12,000 items would take over three hours."""
    import time

    source = DemoSource({"size": "12000", "pace": "1"})
    started = time.monotonic()
    pages = list(source.item_ids("OPS"))
    assert time.monotonic() - started < 60
    assert [len(p) for p in pages] == [5000, 5000, 2000]
    assert pages[0][0] == "ops-1" and pages[-1][-1] == "ops-12000"
    assert {i for p in pages for i in p} == {f"ops-{n}" for n in range(1, 12001)}


def test_a_slow_source_commits_a_batch_at_least_every_two_seconds(redis_client):
    """A batch was written once it held 500 items: a source as slow as 20 items a second (a paced demo through the
    HTTP API, a JIRA server taking seconds a page) showed 0 / 100 until the end. Batches are now written at least
    every BATCH_SECONDS while pages come, so the progress view moves."""
    from jobs import api
    from tests.helpers import progress_while_running

    job_id = api.start_import("demo", ["ACME"], config={"size": "100", "pace": "20"})  # 5 s, the default batch (500)
    seen = progress_while_running(job_id)
    assert any(0 < n < 100 for n in seen), sorted(set(seen))
    assert api.status(job_id)["processed"] == 100
