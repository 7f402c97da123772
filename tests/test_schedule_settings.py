"""A scheduled run reads the source as the run it was made from: the settings `run` would take from the environment
and the saved credentials, not only those typed on the command line.

Regression: `export JIRA_BASE_URL=... JIRA_USER_EMAIL=... JIRA_API_TOKEN=...; python cli.py schedule jira --project
ACME --every 24` booked runs that a worker without those variables failed ("JIRA: Site URL and API token are
missing"), and `DEMO_SIZE=300 cli.py schedule demo --project OPS` read 50 items where `run` in the same shell read
300. Booked from the Jobs page (`schedule_job`), a run that carried exported secrets lost them likewise."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from jobs import api, tasks
from store.schema import schedules
from tests.fakes.jira import FakeJira


@pytest.fixture
def jira():
    fake = FakeJira(cloud=True, size=30).start()
    yield fake
    fake.stop()


def _exported(fake) -> dict[str, str]:
    user, token = fake.credentials
    return {"JIRA_BASE_URL": fake.url, "JIRA_USER_EMAIL": user, "JIRA_API_TOKEN": token}


def test_a_schedule_keeps_the_demo_size_its_shell_exported(cli, run_worker, monkeypatch):
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")
    booked = cli("schedule", "demo", "--project", "OPS", "--every", "24", env={"DEMO_SIZE": "300"})
    assert booked.returncode == 0, booked.stderr

    ran = tasks.run_schedule(booked.stdout.strip())  # the worker's environment has no DEMO_SIZE
    run_worker()
    doc = api.status(ran)
    assert (doc["status"], doc["created"]) == ("succeeded", 300)


def test_a_schedule_booked_with_exported_settings_runs_on_a_worker_without_them(cli, run_worker, engine, jira,
                                                                               redis_client):
    exported = _exported(jira)
    booked = cli("schedule", "jira", "--project", "ACME", "--every", "24", env=exported)
    assert booked.returncode == 0, booked.stderr
    assert not any(name.startswith("JIRA_") for name in os.environ)

    ran = tasks.run_schedule(booked.stdout.strip())
    run_worker()
    doc = api.status(ran)
    assert (doc["status"], doc["created"]) == ("succeeded", 30), doc.get("error")
    with engine.connect() as conn:  # the URL in the schedule's options, the token only in its encrypted copy
        options, credential_id = conn.execute(select(schedules.c.options, schedules.c.credential_id)).one()
    assert options["config"]["base_url"] == jira.url and credential_id
    kept = b"".join(redis_client.dump(key) or b"" for key in redis_client.scan_iter())
    assert exported["JIRA_API_TOKEN"].encode() not in kept and exported["JIRA_API_TOKEN"] not in str(options)


def test_a_schedule_without_a_key_leaves_the_secrets_to_the_workers_environment(cli, engine, jira, monkeypatch):
    # as `run` without CREDENTIAL_ENCRYPTION_KEY: the secrets are nowhere stored, the URL is kept
    monkeypatch.delenv("CREDENTIAL_ENCRYPTION_KEY")
    booked = cli("schedule", "jira", "--project", "ACME", "--every", "24", env=_exported(jira))
    assert booked.returncode == 0, booked.stderr
    with engine.connect() as conn:
        options, credential_id = conn.execute(select(schedules.c.options, schedules.c.credential_id)).one()
    assert options["config"]["base_url"] == jira.url and credential_id is None


def test_a_schedule_of_a_run_that_carried_exported_secrets_keeps_them(cli, run_worker, jira):
    # the Jobs page's "schedule a re-run" of a CLI run whose copy of the secrets is still kept (it can be retried)
    started = cli("run", "jira", "--project", "ACME", env=_exported(jira))
    assert started.returncode == 0, started.stderr
    job_id = started.stdout.strip()
    api.cancel(job_id)

    ran = tasks.run_schedule(api.schedule_job(job_id, 24))
    run_worker()
    doc = api.status(ran)
    assert (doc["status"], doc["created"]) == ("succeeded", 30), doc.get("error")

