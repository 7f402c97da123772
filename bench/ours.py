"""Ours: a full import through the product's own path, as a user runs it.

A long-running `cli.py worker` (an RQ worker forking its work horse, as `start.sh` and the
compose file run one) is started and ready first; then `cli.py run` records the job and
enqueues its parts on a Redis server of the benchmark's own, and the worker imports the items
and their comments into a fresh store, SQLite or PostgreSQL. Times are the job's own: from
its first part claimed to its end (`seconds`), and from the moment the job was started to its
end (`user_seconds`, what a user waits); memory is the worker tree's peak summed Pss (bench/procs.py).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.fakes import PROJECTS, source_config
from bench.procs import PeakRss

ROOT = Path(__file__).resolve().parent.parent
VENDOR_ENV = {  # our setting name -> the environment variable a user sets
    "jira": {"base_url": "JIRA_BASE_URL", "user_email": "JIRA_USER_EMAIL", "api_token": "JIRA_API_TOKEN"},
    "github": {"token": "GITHUB_TOKEN", "api_url": "GITHUB_API_URL"},
    "gitlab": {"token": "GITLAB_TOKEN", "url": "GITLAB_URL"},
    "servicenow": {"instance": "SERVICENOW_INSTANCE", "username": "SERVICENOW_USERNAME",
                   "password": "SERVICENOW_PASSWORD"},
}


def vendor_env(vendor: str, url: str) -> dict[str, str]:
    return {VENDOR_ENV[vendor][k]: v for k, v in source_config(vendor, url).items()}


def postgres_base_url() -> str:
    """TEST_POSTGRES_URL, else the server scripts/ensure_postgres.sh starts (as the tests do)."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        url = subprocess.run([str(ROOT / "scripts" / "ensure_postgres.sh")], capture_output=True, text=True,
                             check=True).stdout.strip()
        os.environ["TEST_POSTGRES_URL"] = url
    return url


@contextmanager
def fresh_store(kind: str, workdir: Path) -> Iterator[str]:
    """DATABASE_URL of an empty store: a new SQLite file, or a new PostgreSQL schema dropped after."""
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    base = postgres_base_url()
    raw = base.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A redis-server of the benchmark's own (the same helper the test sessions use)."""
    from tests.conftest import RedisServer

    server = RedisServer(workdir / "redis").start()
    try:
        yield server.url
    finally:
        server.stop()


def base_env(redis_url: str, store_url: str, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JIRA_", "GITHUB_", "GITLAB_", "SERVICENOW_", "IMPORT_"))}
    # Modules compiled as a user's have them (a checkout's first run writes them, pip and the image compile them;
    # so does pip for the tap): without, every process of ours paid ~0.25 s of compiling, the tap nothing.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update({"REDIS_URL": redis_url, "DATABASE_URL": store_url, "ALLOW_LOOPBACK_URLS": "1",
                "AUDIT_LOG_PATH": str(workdir / "audit.jsonl")})
    return env


def _cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    if done.returncode not in (0, 1, 3):  # a job's outcome: succeeded, ended without success, not ended yet
        raise RuntimeError(f"cli.py {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def start_job(vendor: str, projects: list[str], env: dict[str, str], full: bool = True) -> str:
    """`cli.py run`: a full read, or (full=False) the default catch-up run after the last success."""
    args = ["run", vendor] + (["--full"] if full else []) + [a for p in projects for a in ("--project", p)]
    return _cli(*args, env=env).strip().splitlines()[-1]


def run_workers(env: dict[str, str], count: int = 1) -> tuple[float, float]:
    """Start `count` burst workers, wait for all; (wall seconds, summed peak RSS of their trees in MB)."""
    started = time.perf_counter()
    samplers = [PeakRss(subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "worker", "--burst"], cwd=ROOT,
                                         env=env, stdout=subprocess.DEVNULL))
                for _ in range(count)]
    for sampler in samplers:
        sampler.wait()
    return time.perf_counter() - started, sum(s.mb for s in samplers)


def job_status(job_id: str, env: dict[str, str]) -> dict:
    return json.loads(_cli("status", job_id, "--json", env=env))


def elapsed(doc: dict, since: str = "started_at") -> float:
    from datetime import datetime

    return (datetime.fromisoformat(doc["finished_at"]) - datetime.fromisoformat(doc[since])).total_seconds()


@contextmanager
def standing_worker(env: dict[str, str]) -> Iterator[PeakRss]:
    """A long-running worker, registered and idle before the caller starts a job; stopped after."""
    from redis import Redis
    from rq import Worker

    sampler = PeakRss(subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "worker"], cwd=ROOT, env=env,
                                       stdout=subprocess.DEVNULL))
    connection = Redis.from_url(env["REDIS_URL"])
    try:
        deadline = time.monotonic() + 60
        while not any(f"-{sampler.process.pid}-" in w.name for w in Worker.all(connection=connection)):
            if sampler.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark's worker did not start")
            time.sleep(0.05)
        yield sampler
    finally:
        sampler.process.terminate()
        sampler.wait(timeout=60)
        connection.close()


def wait_finished(job_id: str, redis_url: str, timeout: float = 3600) -> None:
    """Poll the job's progress key (what the console reads) until the job has ended."""
    from redis import Redis

    from jobs.progress import key_for
    from store.jobs import JobStatus

    connection = Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            raw = connection.get(key_for(job_id))
            if raw and JobStatus(json.loads(raw)["status"]).finished:
                return
            time.sleep(0.1)
    finally:
        connection.close()
    raise RuntimeError(f"job {job_id} did not end within {timeout:.0f} s")


def import_once(vendor: str, url: str, store: str, redis_url: str, workdir: Path,
                extra_env: dict[str, str] | None = None) -> dict:
    """One full import of the vendor's benchmark project into a fresh `store` ("sqlite"/"postgresql");
    `extra_env` adds settings (GITLAB_API=rest for the REST reader)."""
    with fresh_store(store, workdir) as store_url:
        env = {**base_env(redis_url, store_url, workdir), **vendor_env(vendor, url), **(extra_env or {})}
        with standing_worker(env) as worker:
            job_id = start_job(vendor, [PROJECTS[vendor]], env)
            wait_finished(job_id, redis_url)
        doc = job_status(job_id, env)
        comments = _comments_stored(store_url)
    if doc["status"] not in ("succeeded", "partial"):
        raise RuntimeError(f"{vendor} import into {store} ended {doc['status']}: {doc['error']}")
    return {"items": doc["created"], "failed": doc["failed"], "comments": comments, "seconds": elapsed(doc),
            "user_seconds": elapsed(doc, since="created_at"), "rss_mb": worker.mb}


def process_once(vendor: str, url: str, store: str, redis_url: str, workdir: Path, one: bool = False) -> dict:
    """One full import as whole processes, as the peer tap is timed, interpreter start-up and imports included:
    from starting `cli.py run` to the exit of the burst `cli.py worker` started after it, or (one=True) of a
    single `cli.py run --in-process`, which works the queue itself."""
    with fresh_store(store, workdir) as store_url:
        env = {**base_env(redis_url, store_url, workdir), **vendor_env(vendor, url)}
        started = time.perf_counter()
        if one:
            args = ["run", vendor, "--full", "--project", PROJECTS[vendor], "--in-process"]
            sampler = PeakRss(subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=env,
                                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
            sampler.wait()
            job_id, rss_mb = sampler.process.stdout.read().split()[0], sampler.mb  # type: ignore[union-attr]
        else:
            job_id = start_job(vendor, [PROJECTS[vendor]], env)
            _, rss_mb = run_workers(env)
        seconds = time.perf_counter() - started
        doc = job_status(job_id, env)
        comments = _comments_stored(store_url)
    if doc["status"] not in ("succeeded", "partial"):
        raise RuntimeError(f"{vendor} import into {store} ended {doc['status']}: {doc['error']}")
    return {"items": doc["created"], "failed": doc["failed"], "comments": comments, "seconds": seconds,
            "rss_mb": rss_mb}


def _comments_stored(store_url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from store.db import database_url
    from store.schema import comments

    engine = create_engine(database_url(store_url))
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(comments)).scalar()
    finally:
        engine.dispose()


def workdir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="acgs2-bench-")
