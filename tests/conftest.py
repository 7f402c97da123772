"""Fixtures over real services: a Redis server of the session's own, flushed per test, a fresh SQLite file or PostgreSQL
schema per test, burst RQ workers run from the test process and a CLI runner.

Every test gets an isolated environment: vendor credentials from the developer's shell never
leak in, loopback URLs are allowed (the fake vendor servers listen on 127.0.0.1) and retries
back off in milliseconds.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server owned by the test session (or by one test), on its own port."""

    def __init__(self, directory: Path, port: int | None = None):
        self.port = port or free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis_lib.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis_lib.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        client.close()
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """Each test session (each xdist worker) gets its own Redis, so parallel runs never collide."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path, redis_server):
    """A clean environment for every test; Redis and the store are chosen by other fixtures."""
    for name in list(os.environ):
        if name.startswith(VENDOR_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACGS2_NO_DOTENV", "1")
    monkeypatch.setenv("ALLOW_LOOPBACK_URLS", "1")
    monkeypatch.setenv("IMPORT_RETRY_BASE_SECONDS", "0.01")
    monkeypatch.setenv("IMPORT_HEARTBEAT_INTERVAL", "0.5")
    monkeypatch.setenv("CREDENTIAL_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.setenv("AUDIT_LOG_PATH", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'workspace.db'}")
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("CONSOLE_OPEN_DEMO", "1")
    # The shipped demo is clean (0); the suite's demo keeps 3 deliberately invalid items a project, which
    # many tests count on. Tests of the default demo, as a user meets it, delete this.
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "3")
    yield
    from store.db import dispose_all

    dispose_all()


@pytest.fixture(autouse=True)
def redis_client(isolated_env):
    """The session's Redis, flushed before and after each test."""
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
    """Work the queue from this process until it is empty (a burst worker; RQ forks a work horse per job)."""
    from jobs.queue import run_worker as _run
    from jobs.tasks import maintain

    def run() -> None:
        _run(maintain, burst=True)

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
