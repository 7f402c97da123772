"""What a one-off import costs besides the import (issue 17): `cli.py run`, then a burst worker.

A user without a standing worker waits for both processes from start to exit, so neither may load
what the import does not use, and a burst worker must exit as soon as its queue is empty.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from rq.serializers import JSONSerializer

from jobs.queue import GC_THRESHOLD, ImportWorker, connection, import_queue
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import CLOUD_AUTH, FakeJira
from tests.fakes.servicenow import FakeServiceNow

REPO = "acme/web"

ROOT = Path(__file__).resolve().parent.parent
NOT_FOR_AN_IMPORT = ("pandas", "numpy", "psycopg")  # the console's tables; PostgreSQL's driver
NOT_ON_SQLITE = ("sqlalchemy.orm", "sqlalchemy.dialects.postgresql")
VENDOR_LIBRARIES = ("jira", "gitlab", "pysnow", "github")  # each connector's client library


def _imported(*args: str) -> set[str]:
    """Top-level packages `cli.py ARGS` imported, from Python's own import log (-X importtime)."""
    return {name.split(".")[0] for name in _modules(*args)}


def _modules(*args: str) -> set[str]:
    """Every module `cli.py ARGS` imported, by its full dotted name."""
    return _run_logged(*args)[0]


def _run_logged(*args: str, code: int = 0) -> tuple[set[str], str]:
    """(the modules `cli.py ARGS` imported, by full dotted name, what it printed on stdout); it exits with `code`."""
    done = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, env=os.environ.copy(), cwd=ROOT, timeout=120)
    assert done.returncode == code, done.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:")}, done.stdout


def test_run_and_a_burst_worker_on_sqlite_load_neither_pandas_nor_the_postgresql_driver():
    # regression: jobs.api imported pandas (for the console's tables) and store.writer psycopg at start, ~1 s of
    # CPU in each process of a one-off import
    started = _modules("run", "demo", "--project", "ACME", "--size", "small")
    worked = _modules("worker", "--burst")
    assert "jobs.launch" in started and "jobs.sweep" in worked  # the log is read: both commands ran their code
    for modules in (started, worked):
        packages = {name.split(".")[0] for name in modules}
        assert packages.isdisjoint(NOT_FOR_AN_IMPORT), packages & set(NOT_FOR_AN_IMPORT)
        # SQLAlchemy's ORM (jobs/sweep.py used it for one alias) and its PostgreSQL package, which loads
        # every PostgreSQL driver's dialect (store/writer.py imported it for SQLite stores too): ~75 ms a worker
        assert modules.isdisjoint(NOT_ON_SQLITE), modules & set(NOT_ON_SQLITE)
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


def test_run_and_status_load_no_vendor_library_and_a_burst_worker_only_its_jobs(monkeypatch):
    # issue 17: `cli.py run gitlab` and `run jira` imported python-gitlab and the jira library (with their
    # dependencies) at module level to check settings, and `run servicenow` pysnow; a user's first import paid it
    # in `run` and again in the burst worker, which now loads only the libraries of the parts queued
    with FakeGitLab(projects={"acme/web-app": 12}) as gitlab, FakeJira(size=12) as jira, \
            FakeServiceNow(sizes={"incident": 12}) as snow:
        monkeypatch.setenv("SERVICENOW_INSTANCE", snow.url)
        monkeypatch.setenv("SERVICENOW_USERNAME", snow.username)
        monkeypatch.setenv("SERVICENOW_PASSWORD", snow.password)
        monkeypatch.setenv("GITLAB_TOKEN", gitlab.token)
        monkeypatch.setenv("GITLAB_URL", gitlab.url)
        monkeypatch.setenv("JIRA_BASE_URL", jira.url)
        monkeypatch.setenv("JIRA_USER_EMAIL", CLOUD_AUTH[0])
        monkeypatch.setenv("JIRA_API_TOKEN", CLOUD_AUTH[1])
        jobs = {}
        for source, project in (("demo", "ACME"), ("gitlab", "acme/web-app"), ("jira", "ACME"),
                                ("servicenow", "incident")):
            started, printed = _run_logged("run", source, "--project", project, "--full")
            assert "importers" in started, source  # the log is read: the connector was looked up
            assert started.isdisjoint(VENDOR_LIBRARIES), (source, started & set(VENDOR_LIBRARIES))
            jobs[source] = printed.strip()
        worked = _imported("worker", "--burst")
        for source, job_id in jobs.items():
            # the demo's invalid items leave its import partial: `status` exits 1 for it (README, exit codes)
            shown, printed = _run_logged("status", job_id, "--json", code=1 if source == "demo" else 0)
            assert json.loads(printed)["created"] >= 10, source  # the horse imported every source's items
            assert "jobs" in shown and shown.isdisjoint(VENDOR_LIBRARIES), shown & set(VENDOR_LIBRARIES)
    assert {"gitlab", "jira", "pysnow"} <= worked and "github" not in worked
    assert import_queue().count == 0


def test_run_without_an_encryption_key_leaves_cryptography_and_the_models_unbuilt(monkeypatch):
    # issue 17: store/credentials.py imported cryptography's Fernet at module level (~50 ms of every command),
    # needed only with CREDENTIAL_ENCRYPTION_KEY set; and importing importers.model built every model's validator
    # and serializer, which `run` never uses (defer_build: a worker builds them before it forks, see below)
    monkeypatch.delenv("CREDENTIAL_ENCRYPTION_KEY", raising=False)
    code = ("import sys, cli; code = cli.main(['run', 'demo', '--project', 'ACME', '--size', 'small']); "
            "from importers.model import MODELS; built = [m.__name__ for m in MODELS if m.__pydantic_complete__]; "
            "print(code, 'cryptography.fernet' in sys.modules, built)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(),
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "0 False []"


def test_a_worker_builds_the_models_before_it_forks_work_horses():
    # the models' validators and serializers are built at first use (importers/model.py): a worker builds them in
    # its warm-up, so its work horses inherit them instead of each building them on its clock
    code = ("from jobs.queue import _warm_up; _warm_up(burst=True); from importers.model import MODELS; "
            "print(all(m.__pydantic_complete__ for m in MODELS), len(MODELS))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(),
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "9"]


def test_a_cli_process_collects_as_a_worker_does_from_its_start():
    # issue 17: `cli.py` loaded its ~600 modules at CPython's default threshold (700 allocations), the cyclic GC
    # walking the growing heap again and again; it now sets the worker's threshold first, as a number of its own
    # (importing jobs.queue for it would load RQ first): this holds the two equal
    done = subprocess.run([sys.executable, "-c", "import gc, cli; cli.main(['sources']); print(gc.get_threshold()[0])"],
                          capture_output=True, text=True, env=os.environ.copy(), cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) == GC_THRESHOLD


def test_a_workers_command_listener_has_ended_when_it_unsubscribes():
    # regression: RQ 3.0 sent UNSUBSCRIBE before telling its listener thread to stop; woken by the reply, the
    # thread went back to a 60 s read, and every burst worker waited out a 1 s join before it could exit
    worker = ImportWorker([import_queue()], connection=connection(), serializer=JSONSerializer)
    worker.subscribe()
    listener = worker.pubsub_thread
    assert listener is not None and listener.is_alive()
    worker.unsubscribe()
    assert not listener.is_alive()


def test_a_stop_asked_for_during_maintenance_stops_the_worker():
    # regression: a TERM that arrived while the worker ran its import maintenance raised RQ's StopRequested
    # inside it, which the maintenance guard logged as "import maintenance failed" and swallowed: the worker
    # ran on (seen for minutes, retrying a Redis that had gone), until a second signal killed it cold
    import signal

    from rq.exceptions import StopRequested

    worker = ImportWorker([import_queue()], connection=connection(), serializer=JSONSerializer)
    worker.maintenance = lambda: worker.request_stop(signal.SIGTERM, None)  # as RQ's TERM handler does
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with pytest.raises(StopRequested):
            worker.run_maintenance_tasks()
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    assert worker._shutdown_requested_date is not None


def _copied_alone(database: Path, copy: Path) -> sqlite3.Connection:
    """The SQLite file as a user's `cp workspace.db backup.db` copies it: without its -wal and -shm."""
    shutil.copyfile(database, copy)
    return sqlite3.connect(copy)


def test_the_database_file_holds_the_job_and_its_items_once_run_and_the_burst_worker_have_exited(cli, tmp_path):
    # regression: the CLI freezes its heap at exit (a GC pass over every loaded object cost ~0.1 s), so the SQLite
    # connections in the store's pool were never finalized and the last one out never checkpointed the WAL:
    # after `cli.py run` into a new store the .db file was one empty page, every table and row in workspace.db-wal
    database = Path(os.environ["DATABASE_URL"].removeprefix("sqlite:///"))
    done = cli("run", "demo", "--project", "ACME", "--size", "small")
    assert done.returncode == 0, done.stderr
    job_id = done.stdout.strip()
    with closing(_copied_alone(database, tmp_path / "after-run.db")) as copy:
        assert copy.execute("SELECT count(*) FROM import_jobs WHERE id = ?", (job_id,)).fetchone() == (1,)
    done = cli("worker", "--burst")
    assert done.returncode == 0, done.stderr
    with closing(_copied_alone(database, tmp_path / "after-worker.db")) as copy:
        assert copy.execute("SELECT count(*) FROM work_items").fetchone()[0] >= 10
    assert not Path(f"{database}-wal").exists()  # the last connection out checkpointed and removed it
