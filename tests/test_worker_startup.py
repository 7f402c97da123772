"""What a one-off import costs besides the import (issue 17): `cli.py run`, then a burst worker.

A user without a standing worker waits for both processes from start to exit, so neither may load
what the import does not use, and a burst worker must exit as soon as its queue is empty.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rq.serializers import JSONSerializer

from jobs.queue import ImportWorker, connection, import_queue
from tests.fakes.github import GitHubFake

REPO = "acme/web"

ROOT = Path(__file__).resolve().parent.parent
NOT_FOR_AN_IMPORT = ("pandas", "numpy", "psycopg")  # the console's tables; PostgreSQL's driver


def _imported(*args: str) -> set[str]:
    """Top-level packages `cli.py ARGS` imported, from Python's own import log (-X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, env=os.environ.copy(), cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines()
            if line.startswith("import time:")}


def test_run_and_a_burst_worker_on_sqlite_load_neither_pandas_nor_the_postgresql_driver():
    # regression: jobs.api imported pandas (for the console's tables) and store.writer psycopg at start, ~1 s of
    # CPU in each process of a one-off import
    started = _imported("run", "demo", "--project", "ACME", "--size", "small")
    worked = _imported("worker", "--burst")
    assert "jobs" in started and "rq" in worked  # the log is read: both commands ran their code
    assert started.isdisjoint(NOT_FOR_AN_IMPORT), started & set(NOT_FOR_AN_IMPORT)
    assert worked.isdisjoint(NOT_FOR_AN_IMPORT), worked & set(NOT_FOR_AN_IMPORT)
    assert import_queue().count == 0  # the burst worker took the part


def test_run_leaves_the_vendor_library_to_the_worker_which_loads_it_before_it_forks(monkeypatch):
    # `cli.py run github` imported PyGithub to check two settings, a quarter of its start-up; the worker needs
    # it, and imports it once before forking, so the work horse reads on its first request
    with GitHubFake(sizes={REPO: 30}, pr_every=0) as fake:
        monkeypatch.setenv("GITHUB_TOKEN", fake.token)
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        started = _imported("run", "github", "--full", "--project", REPO)
        worked = _imported("worker", "--burst")
        assert fake.requests["issues"] >= 1  # the horse read the repository
    assert "jobs" in started and "github" not in started
    assert "github" in worked
    assert import_queue().count == 0


def test_a_workers_command_listener_has_ended_when_it_unsubscribes():
    # regression: RQ 3.0 sent UNSUBSCRIBE before telling its listener thread to stop; woken by the reply, the
    # thread went back to a 60 s read, and every burst worker waited out a 1 s join before it could exit
    worker = ImportWorker([import_queue()], connection=connection(), serializer=JSONSerializer)
    worker.subscribe()
    listener = worker.pubsub_thread
    assert listener is not None and listener.is_alive()
    worker.unsubscribe()
    assert not listener.is_alive()
