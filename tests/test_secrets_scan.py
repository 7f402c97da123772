"""No secret anywhere: import flows of every connector run with recognisable tokens (typed in, so
they go through the encrypted vault; saved; and from the environment for the CLI), then every
place a secret could leak to is scanned: all Redis keys and values (RQ job payloads decompressed),
every table of the store and its raw database files, the audit log, logs captured at DEBUG, the
worker subprocess's stderr and the CLI's output. Zero occurrences.
"""
from __future__ import annotations

import base64
import contextlib
import logging
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from jobs import api
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.fakes.servicenow import FakeServiceNow

from .conftest import ROOT, TEST_KEY

MARK = "SECRET-TOKEN-7f3a"
JIRA_TOKEN, GITHUB_TOKEN = f"{MARK}-jira-91c2e5", f"{MARK}-github-55d0aa"
GITLAB_TOKEN, SNOW_PASSWORD = f"{MARK}-gitlab-a1b3c4", f"{MARK}-snow-77e4f0"
WRONG = f"{MARK}-wrong-000000"


class SecretJira(FakeJira):
    @property
    def credentials(self) -> tuple[str, str]:
        return "alice@example.com", JIRA_TOKEN


def _needles() -> list[bytes]:
    """Each secret as typed, and as it travels in a Basic auth header."""
    plain = [JIRA_TOKEN, GITHUB_TOKEN, GITLAB_TOKEN, SNOW_PASSWORD, WRONG, TEST_KEY]
    basic = [f"alice@example.com:{JIRA_TOKEN}", f"svc.import:{SNOW_PASSWORD}"]
    return [s.encode() for s in plain] + [base64.b64encode(s.encode()) for s in basic] + [MARK.encode()]


def _hits(where: str, data: bytes | str, found: list[str]) -> None:
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    variants = [raw]
    with contextlib.suppress(zlib.error):
        variants.append(zlib.decompress(raw))  # RQ stores job data as a zlib-compressed pickle
    for blob in variants:
        for needle in _needles():
            if needle in blob:
                found.append(f"{where}: {needle[:24]!r}")


def _scan_redis(client, found: list[str]) -> int:
    keys = list(client.scan_iter(count=1000))
    for key in keys:
        kind = client.type(key).decode()
        if kind == "string":
            values = [client.get(key)]
        elif kind == "hash":
            values = [b for pair in client.hgetall(key).items() for b in pair]
        elif kind == "list":
            values = client.lrange(key, 0, -1)
        elif kind == "set":
            values = list(client.smembers(key))
        elif kind == "zset":
            values = client.zrange(key, 0, -1)
        elif kind == "stream":
            values = [b for _, fields in client.xrange(key) for pair in fields.items() for b in pair]
        else:
            values = [client.dump(key) or b""]
        for value in [key, *values]:
            _hits(f"redis {key!r}", value or b"", found)
    return len(keys)


def _scan_store(engine, db_file: Path, found: list[str]) -> int:
    meta = MetaData()
    meta.reflect(engine)
    rows = 0
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                rows += 1
                _hits(f"table {table.name}", repr(tuple(row)), found)
    for path in db_file.parent.glob(db_file.name + "*"):  # the database, its WAL and shared memory
        _hits(f"file {path.name}", path.read_bytes(), found)
    return rows


@pytest.fixture
def fakes():
    servers = {
        "jira": SecretJira(size=40).start(),
        "github": GitHubFake(sizes={"acme/web": 40}, token=GITHUB_TOKEN).start(),
        "gitlab": FakeGitLab(projects={"acme/web": 40}, token=GITLAB_TOKEN).start(),
        "servicenow": FakeServiceNow(sizes={"incident": 40}, password=SNOW_PASSWORD).start(),
    }
    yield servers
    for server in servers.values():
        server.stop()


def _typed(name: str, fake) -> tuple[str, dict[str, str]]:
    """(project, config as a user types it in the credential form)."""
    return {
        "jira": ("ACME", {"base_url": fake.url, "user_email": "alice@example.com", "api_token": JIRA_TOKEN}),
        "github": ("acme/web", {"api_url": fake.url, "token": GITHUB_TOKEN}),
        "gitlab": ("acme/web", {"url": fake.url, "token": GITLAB_TOKEN}),
        "servicenow": ("incident", {"instance": fake.url, "username": "svc.import", "password": SNOW_PASSWORD}),
    }[name]


def _env(name: str, fake) -> dict[str, str]:
    return {
        "jira": {"JIRA_BASE_URL": fake.url, "JIRA_USER_EMAIL": "alice@example.com", "JIRA_API_TOKEN": JIRA_TOKEN},
        "github": {"GITHUB_API_URL": fake.url, "GITHUB_TOKEN": GITHUB_TOKEN},
        "gitlab": {"GITLAB_URL": fake.url, "GITLAB_TOKEN": GITLAB_TOKEN},
        "servicenow": {"SERVICENOW_INSTANCE": fake.url, "SERVICENOW_USERNAME": "svc.import",
                       "SERVICENOW_PASSWORD": SNOW_PASSWORD},
    }[name]


def test_no_secret_in_redis_store_audit_logs_or_cli_output(fakes, run_worker, engine, redis_client, cli, caplog,
                                                           tmp_path, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG)
    outputs: list[str] = []
    jobs: list[str] = []

    for name, fake in fakes.items():  # typed in: through the vault, run by an in-process worker
        project, config = _typed(name, fake)
        assert api.check(name, config)
        api.preview(name, project, config=config, limit=5)
        jobs.append(api.start_import(name, [project], config=config))
        secret_key = next(k for k in config if "token" in k or "password" in k)
        with pytest.raises(api.SourceError) as refused:
            api.check(name, {**config, secret_key: WRONG})
        outputs.append(str(refused.value))
        jobs.append(api.start_import(name, [project], config={**config, secret_key: WRONG}, incremental=False))
    run_worker()

    api.save_credentials("gitlab", _typed("gitlab", fakes["gitlab"])[1])  # saved, then used by a later import
    jobs.append(api.start_import("gitlab", ["acme/web"], incremental=False))
    stderr = tmp_path / "worker.stderr"
    with stderr.open("wb") as sink:  # a worker process at DEBUG, as an operator might run it
        worker = subprocess.run([sys.executable, str(ROOT / "cli.py"), "worker", "--burst"], cwd=ROOT,
                                env={**os.environ}, stderr=sink, stdout=subprocess.PIPE, timeout=120)
    assert worker.returncode == 0
    outputs.append(worker.stdout.decode())

    for name, fake in fakes.items():  # from the environment, through the CLI
        env = _env(name, fake)
        project = _typed(name, fake)[0]
        for args in (("check", name), ("projects", name), ("preview", name, "--project", project, "--json"),
                     ("run", name, "--project", project, "--full")):
            result = cli(*args, env=env)
            assert result.returncode == 0, (args, result.stderr)
            outputs += [result.stdout, result.stderr]
    outputs += [cli("status", job_id).stdout for job_id in jobs]  # `jobs --json` below has every document
    outputs += [cli("jobs", "--json").stdout, cli("items", "--json", "--limit", "500").stdout]

    docs = {job_id: api.status(job_id) for job_id in jobs}
    assert sum(d["status"] in ("succeeded", "partial") for d in docs.values()) == 5  # 4 typed + 1 saved
    assert sum(d["status"] == "failed" and "rejected the credentials" in d["error"] for d in docs.values()) == 4

    found: list[str] = []
    keys = _scan_redis(redis_client, found)
    rows = _scan_store(engine, Path(os.environ["DATABASE_URL"].split("///", 1)[1]), found)
    _hits("audit log", Path(os.environ["AUDIT_LOG_PATH"]).read_bytes(), found)
    records = [f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records]
    _hits("captured logs", "\n".join(records), found)
    _hits("worker stderr", stderr.read_bytes(), found)
    _hits("cli output", "\n".join(outputs), found)

    assert keys > 5 and rows > 200 and len(records) > 10 and stderr.stat().st_size > 0  # the scan saw real data
    assert found == [], found


def test_the_scan_finds_a_planted_secret(engine, redis_client, tmp_path):
    """The scanner itself: a secret in a compressed Redis value or in a table row is reported."""
    from store.audit import record

    redis_client.hset("rq:job:planted", "data", zlib.compress(b"args=('" + GITHUB_TOKEN.encode() + b"',)"))
    record(engine, "start", actor="test", note=base64.b64encode(f"svc.import:{SNOW_PASSWORD}".encode()).decode())
    found: list[str] = []
    _scan_redis(redis_client, found)
    _scan_store(engine, Path(os.environ["DATABASE_URL"].split("///", 1)[1]), found)
    assert any(f.startswith("redis b'rq:job:planted'") for f in found), found
    assert any(f.startswith("table audit_events") for f in found), found
