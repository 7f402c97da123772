"""Fixtures over real services: a flushed Redis database, a fresh SQLite file or PostgreSQL
schema per test, in-process RQ workers (SimpleWorker, burst) and a CLI runner.

Every test gets an isolated environment: vendor credentials from the developer's shell never
leak in, loopback URLs are allowed (the fake vendor servers listen on 127.0.0.1) and retries
back off in milliseconds.
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis as redis_lib
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_KEY = Fernet.generate_key().decode()
VENDOR_ENV_PREFIXES = ("JIRA_", "SERVICENOW_", "GITHUB_", "GITLAB_", "DEMO_", "IMPORT_", "DATABASE_URL", "REDIS_URL",
                       "CREDENTIAL_ENCRYPTION_KEY", "AUDIT_LOG_PATH", "CONSOLE_", "SUPPORT_EMAIL")


def _redis_db() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return 1 + int(worker[2:]) if worker.startswith("gw") else 15


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """A clean environment for every test; Redis and the store are chosen by other fixtures."""
    for name in list(os.environ):
        if name.startswith(VENDOR_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALLOW_LOOPBACK_URLS", "1")
    monkeypatch.setenv("IMPORT_RETRY_BASE_SECONDS", "0.01")
    monkeypatch.setenv("IMPORT_HEARTBEAT_INTERVAL", "0.5")
    monkeypatch.setenv("CREDENTIAL_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.setenv("AUDIT_LOG_PATH", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'workspace.db'}")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:6379/{_redis_db()}")
    monkeypatch.setenv("CONSOLE_OPEN_DEMO", "1")
    yield
    from store.db import dispose_all

    dispose_all()


@pytest.fixture(autouse=True)
def redis_client(isolated_env):
    """The test's own Redis database, flushed before and after."""
    client = redis_lib.Redis.from_url(os.environ["REDIS_URL"])
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def postgres_url(monkeypatch):
    """DATABASE_URL pointing at a fresh PostgreSQL schema, dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    from store.db import dispose_all

    dispose_all()
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_backend(request):
    """Run a test on SQLite and again on PostgreSQL."""
    if request.param == "postgresql":
        request.getfixturevalue("postgres_url")
    return request.param


@pytest.fixture
def engine():
    from store.db import engine_for

    return engine_for()


@pytest.fixture
def run_worker():
    """Run queued import jobs in this process until the queue is empty (RQ SimpleWorker, burst)."""
    from jobs.queue import run_worker as _run

    def run() -> None:
        _run(burst=True, in_process=True)

    return run


@pytest.fixture
def run_import(run_worker):
    """Start an import through the jobs API, run it on an in-process worker, return its final status.

    Usage: `doc = run_import("github", ["octo/repo"], config={"token": ..., "api_url": fake.url},
    duplicates="skip")`; extra keyword arguments go to `jobs.api.start_import`.
    The returned dict is the progress document (`status`, `created`, `failed`, ...).
    """
    from jobs import api

    def run(source: str, projects: list[str] | None = None, **options) -> dict:
        job_id = api.start_import(source, projects, **options)
        run_worker()
        return api.status(job_id)

    return run


@pytest.fixture
def cli():
    """Run `python cli.py ...` as a user would, in a subprocess with the test's environment."""

    def run(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, timeout=timeout, cwd=ROOT)

    return run
