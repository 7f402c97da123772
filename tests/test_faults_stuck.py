"""A job whose worker died is detected ("worker lost") and resumed: no job stays "running" forever."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from jobs import api
from store.db import engine_for
from store.jobs import now, utc
from store.schema import import_parts

from .helpers import kill_hard, paced, start_worker, wait_for

SIZE = 6_000
TIMEOUT = 3.0


@pytest.fixture
def killed_job(monkeypatch):
    """An import whose only worker was SIGKILLed mid-run; yields (job_id, seconds since the kill)."""
    monkeypatch.setenv("IMPORT_HEARTBEAT_TIMEOUT", str(TIMEOUT))
    job_id = api.start_import("demo", ["ACME"], config={"size": str(SIZE)}, batch_size=200)
    worker = start_worker(paced())  # 60 pages: at least 3 s, so the kill lands mid-import
    wait_for(lambda: api.status(job_id)["processed"] >= 1000, timeout=60, interval=0.01)
    kill_hard(worker)
    return job_id, _last_heartbeat(job_id)


def _last_heartbeat(job_id: str) -> datetime:
    with engine_for().connect() as conn:
        beat = conn.execute(select(import_parts.c.heartbeat_at).where(import_parts.c.job_id == job_id)).scalar_one()
    return utc(beat)


def test_worker_lost_shows_once_the_heartbeat_is_older_than_the_timeout(killed_job, cli):
    job_id, last_beat = killed_job
    doc = api.status(job_id)
    if now() < last_beat + timedelta(seconds=TIMEOUT):  # read while the heartbeat was fresh (unless very slow)
        assert not doc["worker_lost"] and doc["error"] is None

    time.sleep(max(0.0, (last_beat + timedelta(seconds=TIMEOUT) - now()).total_seconds()) + 0.1)
    doc = api.status(job_id)  # one read, the moment the heartbeat is older than the timeout
    assert doc["worker_lost"] and doc["status"] == "running" and doc["error"].startswith("worker lost"), doc

    shown = cli("status", job_id)
    assert shown.returncode == 3 and "worker lost" in shown.stdout and "retry" in shown.stdout  # not ended yet
    listed = json.loads(cli("jobs", "--json").stdout)["jobs"]
    assert listed[0]["job_id"] == job_id and listed[0]["worker_lost"] is True


def test_an_idle_long_running_worker_resumes_the_lost_job_by_itself(killed_job, monkeypatch):
    """Regression: an idle RQ worker blocked ~7 minutes on the queue before its maintenance looked again."""
    job_id, _ = killed_job
    monkeypatch.setenv("IMPORT_MAINTENANCE_INTERVAL", "1")
    idle = start_worker(burst=False)  # started while the dead worker's heartbeat was still fresh
    try:
        doc = wait_for(lambda: (d := api.status(job_id))["status"] != "running" and d, timeout=TIMEOUT + 40,
                       interval=0.2)
    finally:
        kill_hard(idle)
    assert doc["status"] == "partial" and doc["processed"] == SIZE and doc["created"] == SIZE - 3, doc


def test_retry_of_a_lost_job_resumes_it_from_its_checkpoint(killed_job, cli, run_worker):
    job_id, _ = killed_job
    wait_for(lambda: api.status(job_id)["worker_lost"], timeout=TIMEOUT + 5)
    before = api.status(job_id)["processed"]

    retried = cli("retry", job_id)
    assert retried.returncode == 0, retried.stderr
    assert api.status(job_id)["status"] == "queued" and api.status(job_id)["processed"] == before
    run_worker()
    doc = api.status(job_id)
    assert (doc["status"], doc["processed"], doc["created"], doc["failed"]) == ("partial", SIZE, SIZE - 3, 3)


def test_a_running_job_cannot_be_retried_twice_while_its_worker_lives(run_worker, cli):
    job_id = api.start_import("demo", ["ACME"], config={"size": "1000"}, batch_size=50)
    worker = start_worker(paced(0.5, DEMO_PAGE_SIZE="50"))  # 20 pages: at least 10 s, longer than the CLI's start
    try:
        wait_for(lambda: api.status(job_id)["processed"] >= 50, timeout=60, interval=0.01)
        refused = cli("retry", job_id)
    finally:
        worker.wait(timeout=120)
    assert refused.returncode == 2 and "still running" in refused.stderr and "Traceback" not in refused.stderr
    assert api.status(job_id)["processed"] == 1000
