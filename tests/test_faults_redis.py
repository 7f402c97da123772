"""Redis restarted mid-import (it keeps nothing: --save ""): nothing is lost, and status never hangs.

The test owns its redis-server, on its own port. The store holds the truth (cursor, counters,
parts), so the worker re-enqueues the parts whose RQ jobs vanished and status reads fall back
to the store while Redis is away.
"""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from importers.demo import DemoSource
from jobs import api
from store.schema import comments, work_items

from .conftest import RedisServer
from .helpers import kill_hard, paced, start_worker, wait_for

PROJECTS = ("ACME", "OPS", "MOBILE")
SIZE = 4_000


@pytest.fixture
def own_redis(tmp_path, monkeypatch):
    server = RedisServer(tmp_path / "own-redis").start()
    monkeypatch.setenv("REDIS_URL", server.url)
    yield server
    server.stop()


def _timed(fn):
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


def test_redis_restart_mid_import_loses_nothing(own_redis, engine, cli, monkeypatch):
    monkeypatch.setenv("IMPORT_MAINTENANCE_INTERVAL", "1")
    monkeypatch.setenv("IMPORT_HEARTBEAT_TIMEOUT", "3")
    job_id = api.start_import("demo", list(PROJECTS), config={"size": str(SIZE)}, batch_size=200)
    worker = start_worker(paced(0.1), burst=False)  # 120 pages: at least 12 s
    try:
        wait_for(lambda: api.status(job_id)["processed"] >= 800, timeout=60, interval=0.01)
        own_redis.stop()  # the queue, the started registry and the progress keys are gone

        doc, seconds = _timed(lambda: api.status(job_id))  # falls back to the store
        assert seconds < 2 and doc["status"] in ("running", "queued") and doc["processed"] >= 800
        shown, seconds = _timed(lambda: cli("status", job_id, "--json"))
        assert shown.returncode == 3 and seconds < 30, shown.stderr  # a hang, not a slow start (3: running)
        assert json.loads(shown.stdout)["job_id"] == job_id
        listed = cli("jobs")
        assert listed.returncode == 0 and job_id in listed.stdout
        refused = cli("run", "demo")  # a new import needs the queue: say so, in one line
        assert refused.returncode == 2 and "cannot reach Redis" in refused.stderr
        assert "Traceback" not in refused.stderr + shown.stderr + listed.stderr

        time.sleep(1.0)
        own_redis.start()  # same port, empty
        doc = wait_for(lambda: (d := api.status(job_id))["status"] not in ("running", "queued") and d,
                       timeout=90, interval=0.2)
    finally:
        kill_hard(worker)

    truths = {p: DemoSource({"size": str(SIZE)}).ground_truth(p) for p in PROJECTS}
    items = sum(t["items"] for t in truths.values())
    assert doc["status"] == "partial" and doc["processed"] == SIZE * len(PROJECTS), doc
    assert (doc["created"], doc["failed"]) == (items, 3 * len(PROJECTS))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(work_items)).scalar() == items
        assert conn.execute(select(func.count()).select_from(comments)).scalar() == \
            sum(t["comments"] for t in truths.values())
