"""Workers killed with SIGKILL at seeded random points of a 20,000-item import.

Each kill point is its own import: a worker process is killed (with its work horse) at a
random moment, in one of three phases, and a new worker must finish the job with exactly the
source's items, comments and people, nothing twice, and counters that add up. Three points
run by default; SOAK=1 runs twelve (every phase on both stores, several times).
"""
from __future__ import annotations

import os
import random
import time
from functools import lru_cache

import pytest
from sqlalchemy import func, select

from importers.demo import DemoSource
from jobs import api
from store.schema import comments, import_failures, people, work_items

from .helpers import kill_hard, paced, start_worker, wait_for

SIZE = 20_000
BATCH = 500
HEARTBEAT_TIMEOUT = 1.5
PHASES = ("between-batches", "mid-batch", "during-retry-run")
KILL_POINTS = 12 if os.environ.get("SOAK") else 3


@lru_cache(maxsize=1)
def truth() -> dict[str, int]:
    return DemoSource({"size": str(SIZE)}).ground_truth("ACME")


def _kill_when(worker, job_id: str, processed_at_least: int, delay: float = 0.0) -> dict:
    """Kill the worker once the job has committed `processed_at_least` items (plus `delay` seconds)."""
    wait_for(lambda: api.status(job_id)["processed"] >= processed_at_least or worker.poll() is not None,
             timeout=60, interval=0.005)
    if delay:
        time.sleep(delay)
    assert worker.poll() is None, "the worker ended before the kill point"
    kill_hard(worker)
    return api.status(job_id)


def _assert_lost_then_resumable(job_id: str, killed: dict) -> None:
    assert killed["status"] == "running" and killed["processed"] < SIZE, killed
    lost = wait_for(lambda: (doc := api.status(job_id))["worker_lost"] and doc, timeout=HEARTBEAT_TIMEOUT + 5)
    assert lost["status"] == "running" and "worker lost" in lost["error"]
    assert lost["processed"] >= killed["processed"]  # committed batches survive the kill


@pytest.mark.parametrize("point", range(KILL_POINTS))
def test_killed_worker_loses_nothing_and_duplicates_nothing(point, request, run_worker, monkeypatch):
    rng = random.Random(f"kill-point-{point}")
    phase = PHASES[point % len(PHASES)]
    if point % 2:  # alternate the stores: SQLite's and PostgreSQL's transactions both have to hold
        request.getfixturevalue("postgres_url")
    monkeypatch.setenv("IMPORT_HEARTBEAT_TIMEOUT", str(HEARTBEAT_TIMEOUT))
    from store.db import engine_for

    engine = engine_for()
    job_id = api.start_import("demo", ["ACME"], config={"size": str(SIZE)}, batch_size=BATCH)
    kill_at = rng.randint(SIZE // 20, SIZE * 3 // 4)

    # 200 pages at 0.05 s: at least 10 s, so every kill point (at most 85% in) lands while the import runs
    worker = start_worker(paced())
    # mid-batch: a random instant inside the next batch (a batch of 500 takes at least 0.25 s to read)
    killed = _kill_when(worker, job_id, kill_at, rng.uniform(0.01, 0.12) if phase == "mid-batch" else 0.0)
    _assert_lost_then_resumable(job_id, killed)

    if phase == "during-retry-run":  # the user presses retry; that run is killed too
        api.retry(job_id)
        worker = start_worker(paced())
        second = rng.randint(killed["processed"] + BATCH, SIZE * 17 // 20)
        killed = _kill_when(worker, job_id, second)
        _assert_lost_then_resumable(job_id, killed)

    run_worker()  # a new worker finds the stale part and resumes it from its checkpoint
    doc = api.status(job_id)

    expected = truth()
    assert doc["status"] == "partial" and not doc["worker_lost"], doc  # partial: the demo's 3 invalid items
    assert doc["processed"] == SIZE
    assert doc["processed"] == doc["created"] + doc["updated"] + doc["skipped"] + doc["failed"]
    assert (doc["created"], doc["failed"], doc["updated"], doc["skipped"]) == (expected["items"], 3, 0, 0), doc
    with engine.connect() as conn:
        count = lambda table: conn.execute(select(func.count()).select_from(table)).scalar()  # noqa: E731
        distinct = lambda col: conn.execute(select(func.count(func.distinct(col)))).scalar()  # noqa: E731
        assert count(work_items) == distinct(work_items.c.external_id) == expected["items"]
        assert count(comments) == distinct(comments.c.external_id) == expected["comments"]
        assert count(people) == expected["people"]
        assert count(import_failures) == expected["invalid"]
