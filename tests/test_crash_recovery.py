"""A worker killed with SIGKILL mid-import: the next worker resumes, nothing lost, nothing twice."""
from sqlalchemy import func, select

from importers.demo import DemoSource
from jobs import api
from store.schema import comments, people, work_items

from .helpers import kill_hard, paced, start_worker, wait_for


def test_killed_worker_is_resumed_with_exact_results(store_backend, run_worker, engine, monkeypatch):
    monkeypatch.setenv("IMPORT_HEARTBEAT_TIMEOUT", "1.5")
    truth = DemoSource({"size": "8000"}).ground_truth("ACME")
    job_id = api.start_import("demo", ["ACME"], config={"size": "8000"}, batch_size=250)
    worker = start_worker(paced())  # 80 pages: at least 4 s, so the kill lands mid-import
    wait_for(lambda: api.status(job_id)["processed"] >= 2000)
    kill_hard(worker)
    killed_at = api.status(job_id)
    assert killed_at["status"] == "running" and killed_at["processed"] < 8000

    wait_for(lambda: api.status(job_id)["worker_lost"], timeout=10)
    assert "worker lost" in api.status(job_id)["error"]
    run_worker()  # a new worker finds the stale part and resumes it from its checkpoint
    doc = api.status(job_id)

    assert doc["status"] == "partial" and doc["processed"] == 8000
    assert doc["processed"] == doc["created"] + doc["updated"] + doc["skipped"] + doc["failed"]
    assert doc["created"] == truth["items"] and doc["failed"] == truth["invalid"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(work_items)).scalar() == truth["items"]
        assert conn.execute(select(func.count()).select_from(comments)).scalar() == truth["comments"]
        assert conn.execute(select(func.count()).select_from(people)).scalar() == truth["people"]
