"""`run --wait` as a user sees it when nothing takes the job: one hint that no worker serves this store.

Regression: with no worker of its store running (none started, or only another install's worker on the
same Redis) `run --wait` showed `[queued]` forever without a word.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading

from rq import Worker
from rq.serializers import JSONSerializer

import cli
from jobs import api, queue

from .helpers import ROOT, kill_hard, start_worker, wait_for

HINT = "no worker is running for this store"


def _stderr_until(process: subprocess.Popen, text: str) -> list[str]:
    """Lines of the process's stderr up to the first that holds `text` (all of them if it ends first)."""
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if text in line:
            break
    return lines


def test_run_wait_says_once_that_no_worker_serves_this_store_while_another_stores_worker_runs(
        monkeypatch, tmp_path, redis_client):
    # the user's case: the console's worker (another store) is up on the same Redis, our job waits for ours
    other = start_worker({"DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}"}, burst=False)
    waiting = None
    try:
        wait_for(lambda: len(Worker.all(connection=redis_client)) == 1, timeout=120)
        waiting = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "run", "demo", "--size", "small", "--wait"],
                                   cwd=ROOT, env={**os.environ, "IMPORT_NO_WORKER_HINT_SECONDS": "0"},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watchdog = threading.Timer(300, waiting.kill)  # a missing hint fails the test instead of hanging it
        watchdog.start()
        lines = _stderr_until(waiting, HINT)
        watchdog.cancel()
        assert any(HINT in line and "worker`" in line for line in lines), lines
        assert waiting.poll() is None  # it keeps waiting
        assert lines[-2].rstrip().endswith("[Queued]")  # the progress line before it
    finally:
        if waiting is not None:
            waiting.kill()
            waiting.wait(timeout=30)
        kill_hard(other)


def test_no_hint_while_a_worker_of_this_store_is_registered(monkeypatch):
    job_id = api.start_import("demo", ["ACME"], config={"size": "30"})
    doc = api.status(job_id)
    assert doc["status"] == "queued"
    monkeypatch.setenv("IMPORT_NO_WORKER_HINT_SECONDS", "0")
    worker = Worker([queue.import_queue()], connection=queue.connection(), serializer=JSONSerializer)
    worker.register_birth()  # registered on the store's queue, as a standing worker between two jobs
    try:
        assert not cli._NoWorkerHint().applies(doc)
    finally:
        worker.register_death()
    assert cli._NoWorkerHint().applies(doc)  # the same moment without it: the hint
