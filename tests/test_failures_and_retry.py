"""Per-item failures never stop a job; retry re-runs exactly what failed."""
from sqlalchemy import func, select

from jobs import api
from store.schema import work_items


def test_invalid_items_end_the_job_partial_with_a_report(run_import):
    doc = run_import("demo", ["ACME"], config={"size": "300"})

    assert doc["status"] == "partial"
    assert doc["failed"] == 3 and doc["created"] == 297
    report = api.failures(doc["job_id"])
    assert len(report) == 3
    assert all(f["key"].startswith("ACME-") and "title" in f["reason"] for f in report)
    # in a person's words, not the validator's ("title: Value error, title is empty")
    assert {f["reason"] for f in report} == {"title is empty"}
    assert api.failures_csv(doc["job_id"]).splitlines()[0] == "project,key,external_id,reason"


def test_retry_imports_the_failed_items_once_the_cause_is_gone(store_backend, run_import, run_worker, engine,
                                                                monkeypatch):
    doc = run_import("demo", ["ACME"], config={"size": "300"})
    failed_keys = {f["key"] for f in api.failures(doc["job_id"])}

    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")  # the data was fixed at the source
    api.retry(doc["job_id"])
    run_worker()
    after = api.status(doc["job_id"])

    assert after["status"] == "succeeded"
    assert (after["processed"], after["created"], after["failed"]) == (300, 300, 0)
    assert api.failures(doc["job_id"]) == []
    with engine.connect() as conn:
        keys = set(conn.execute(select(work_items.c.key).where(work_items.c.key.in_(failed_keys))).scalars())
        assert keys == failed_keys
        assert conn.execute(select(func.count()).select_from(work_items)).scalar() == 300


def test_retry_while_the_cause_remains_keeps_the_report(run_import, run_worker):
    doc = run_import("demo", ["ACME"], config={"size": "100"})
    api.retry(doc["job_id"])
    run_worker()
    after = api.status(doc["job_id"])

    assert after["status"] == "partial" and after["failed"] == 3 and after["processed"] == 100
    assert len(api.failures(doc["job_id"])) == 3
