"""The workspace store unavailable mid-import: SQLite write-locked by another process, PostgreSQL
connections killed under the worker. Batches are retried (or the job fails with a clear reason
and resumes on retry) and the store ends with exactly the source's items, nothing twice.
"""
from __future__ import annotations

import sqlite3
import time
import uuid

import psycopg
from sqlalchemy import func, select

from importers.demo import DemoSource
from jobs import api
from store.schema import comments, work_items

from .conftest import PG_URL
from .helpers import paced, start_worker, wait_for

SIZE = 8_000


def _assert_exact(engine, doc: dict) -> None:
    truth = DemoSource({"size": str(SIZE)}).ground_truth("ACME")
    assert doc["status"] == "partial" and doc["processed"] == SIZE, doc  # partial: the demo's 3 invalid items
    assert doc["processed"] == doc["created"] + doc["updated"] + doc["skipped"] + doc["failed"]
    assert (doc["created"], doc["failed"]) == (truth["items"], 3)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(work_items)).scalar() == truth["items"]
        assert conn.execute(select(func.count()).select_from(comments)).scalar() == truth["comments"]


def test_sqlite_locked_by_another_writer_for_seconds_the_import_waits_and_completes(engine, tmp_path):
    job_id = api.start_import("demo", ["ACME"], config={"size": str(SIZE)}, batch_size=200)
    worker = start_worker(paced())  # 80 pages: at least 4 s
    wait_for(lambda: api.status(job_id)["processed"] >= 1000, timeout=60, interval=0.01)

    holder = sqlite3.connect(tmp_path / "workspace.db", timeout=30, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # what a backup tool or a second app writing the file looks like
    try:
        time.sleep(0.5)  # a batch may finish committing just before the lock
        during = api.status(job_id)["processed"]
        time.sleep(3)
        assert api.status(job_id)["processed"] == during < SIZE  # nothing got through the lock
        assert worker.poll() is None  # the worker waits, it does not give up
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert worker.wait(timeout=120) == 0
    _assert_exact(engine, api.status(job_id))


def _terminate(application_name: str) -> int:
    raw = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as conn:
        return len(conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                                (application_name,)).fetchall())


def test_postgres_connections_killed_mid_import_lose_nothing(postgres_url, engine, run_worker, monkeypatch):
    name = f"acgs2-worker-{uuid.uuid4().hex[:8]}"  # marks the worker's connections, and only them
    job_id = api.start_import("demo", ["ACME"], config={"size": str(SIZE)}, batch_size=200)
    worker = start_worker(paced(0.1, DATABASE_URL=f"{postgres_url}&application_name={name}"))  # at least 8 s
    killed = 0
    for point in (1500, 3500, 5500):
        wait_for(lambda point=point: api.status(job_id)["processed"] >= point or worker.poll() is not None, timeout=60,
                 interval=0.01)
        until = time.monotonic() + 0.5  # for half a second, every connection the worker opens dies at once
        while time.monotonic() < until:
            killed += _terminate(name)
    assert worker.wait(timeout=120) == 0
    assert killed >= 3  # the worker held connections at every kill point

    doc = api.status(job_id)
    if doc["status"] == "failed":  # allowed: a clear reason, then retry resumes without loss
        assert "workspace store" in doc["error"], doc["error"]
        api.retry(job_id)
        run_worker()
        doc = api.status(job_id)
    _assert_exact(engine, doc)
