"""The README's scripted migration works with a worker whose environment has no vendor settings (regression:
`export JIRA_BASE_URL=... JIRA_USER_EMAIL=... JIRA_API_TOKEN=...; python cli.py run jira --project OPS --wait`
with ./start.sh running failed with "JIRA: Site URL is missing": the worker resolved settings from its own
environment). The job carries what the CLI resolved: its secrets encrypted in the store (until it succeeds),
never plain in Redis."""
from __future__ import annotations

import os
import signal

from sqlalchemy import select

from store.schema import credentials as credentials_table
from store.schema import import_jobs
from tests.fakes.jira import FakeJira

from .helpers import start_worker


def test_a_cli_run_with_exported_settings_imports_on_a_worker_without_them(cli, redis_client, engine):
    fake = FakeJira(cloud=True, size=30).start()
    worker = start_worker(burst=False)  # as ./start.sh runs it: no JIRA_* in its environment
    try:
        assert not any(name.startswith("JIRA_") for name in os.environ)
        user, token = fake.credentials
        exported = {"JIRA_BASE_URL": fake.url, "JIRA_USER_EMAIL": user, "JIRA_API_TOKEN": token}
        done = cli("run", "jira", "--project", "ACME", "--wait", env=exported, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "30/30 created 30" in done.stderr and "[Succeeded]" in done.stderr, done.stderr
        in_redis = b"".join(redis_client.dump(key) or b"" for key in redis_client.scan_iter())
        assert token.encode() not in in_redis
        with engine.connect() as conn:
            carried = conn.execute(select(import_jobs.c.credential_id)).scalar()
            stored = conn.execute(select(credentials_table.c.id)).scalars().all()
        assert carried and stored == []  # it carried an encrypted copy, deleted once the job succeeded
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        fake.stop()
