"""Repeated imports on a schedule: listed with their next run, each run incremental, stopped by who booked them or
an admin from the CLI, the HTTP API or the Jobs page."""
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select, update

from importers.errors import ConfigError, NotFoundError
from jobs import api, queue, tasks
from jobs.access import Actor, PermissionDenied
from store.schema import credentials, schedules
from tests.helpers import asgi_post


def test_schedule_is_listed_with_its_next_run_and_booked_in_rq(cli):
    result = cli("schedule", "demo", "--project", "OPS", "--every", "6")
    assert result.returncode == 0, result.stderr
    schedule_id = result.stdout.strip()

    [listed] = api.schedules_list()
    next_run = datetime.fromisoformat(listed["next_run_at"])
    assert listed["id"] == schedule_id and listed["every_hours"] == 6
    assert abs(next_run - (datetime.now(UTC) + timedelta(hours=6))) < timedelta(minutes=1)
    booked = ScheduledJobRegistry(queue=queue.import_queue()).get_job_ids()
    assert [j for j in booked if j.startswith(f"sched-{schedule_id}-")]
    assert f"schedule {schedule_id}: demo OPS every 6 h" in cli("jobs").stdout


def test_a_scheduled_run_imports_only_what_changed_and_books_the_next(run_worker, monkeypatch):
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")
    schedule_id = api.schedule("demo", ["OPS"], 2)

    first_job = tasks.run_schedule(schedule_id)  # what the worker runs when the scheduled time comes
    run_worker()
    monkeypatch.setenv("DEMO_REVISION", "4")
    second_job = tasks.run_schedule(schedule_id)
    run_worker()

    first, second = api.status(first_job), api.status(second_job)
    assert first["status"] == "succeeded" and first["created"] == 50
    assert second["created"] == 0 and second["updated"] == 7  # every 7th of 50 demo items changed
    assert second["requested_by"] == f"schedule:{schedule_id}"
    [listed] = api.schedules_list()
    assert listed["last_job_id"] == second_job
    assert datetime.fromisoformat(listed["next_run_at"]) > datetime.now(UTC) + timedelta(hours=1, minutes=59)


def test_a_schedule_whose_booking_was_lost_is_booked_again_once(run_worker, redis_client):
    # Redis restarted without its data, or the booking sat on the queue `imports` of a release before queues
    # were named by the store: the workers' maintenance books the next run again, once, at its time
    schedule_id = api.schedule("demo", ["OPS"], 6)
    redis_client.flushdb()
    assert not ScheduledJobRegistry(queue=queue.import_queue()).get_job_ids()

    run_worker()
    redis_client.delete(f"{queue.queue_name()}:rebooking-schedules")  # the next round may book again
    run_worker()  # a second round (another worker) finds the booking: no second one

    booked = ScheduledJobRegistry(queue=queue.import_queue())
    [job_id] = booked.get_job_ids()
    assert job_id.startswith(f"sched-{schedule_id}-")
    [listed] = api.schedules_list()
    when = booked.get_scheduled_time(job_id)
    assert abs(when - datetime.fromisoformat(listed["next_run_at"])) < timedelta(seconds=5)
    assert api.jobs() == []  # nothing ran early


def _booked(schedule_id: str) -> list[str]:
    return [j for j in ScheduledJobRegistry(queue=queue.import_queue()).get_job_ids()
            if j.startswith(f"sched-{schedule_id}-")]


def _audit() -> list[dict]:
    return [json.loads(line) for line in Path(os.environ["AUDIT_LOG_PATH"]).read_text().splitlines()]


def test_a_stopped_schedule_runs_no_more_and_its_booking_leaves_rq(cli):
    # an admin migrating over weeks books re-runs, then at cut-over must stop them: there was no way to
    schedule_id = cli("schedule", "demo", "--project", "OPS", "--every", "6").stdout.strip()
    assert _booked(schedule_id)

    stopped = cli("unschedule", schedule_id)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.startswith(f"schedule {schedule_id} stopped: demo OPS runs no more")
    assert api.schedules_list() == [] and not _booked(schedule_id)
    assert "schedule " not in cli("jobs").stdout
    assert tasks.run_schedule(schedule_id) is None  # a run the scheduler had already queued starts nothing
    assert api.jobs() == []
    assert [(e["action"], e["schedule_id"]) for e in _audit() if e["action"] in ("schedule", "unschedule")] == [
        ("schedule", schedule_id), ("unschedule", schedule_id)]

    again, unknown = cli("unschedule", schedule_id), cli("unschedule", "nosuchid")
    assert (again.returncode, again.stdout) == (2, "")
    assert again.stderr == f"error: the scheduled re-run {schedule_id} is already stopped\n"
    assert unknown.returncode == 2
    assert unknown.stderr == "error: there is no scheduled re-run 'nosuchid': list them with `python cli.py jobs`\n"
    a_job = cli("unschedule", "0123456789abcdef")
    assert a_job.stderr == "error: '0123456789abcdef' is an import job's id, not a schedule's: cancel stops a job\n"


def test_stopping_a_schedule_deletes_the_secrets_it_was_booked_with(engine):
    schedule_id = api.schedule("github", ["acme/web"], 6, config={"token": "ghp_booked_secret"})
    with engine.connect() as conn:
        [credential_id] = conn.execute(select(schedules.c.credential_id)).scalars()
        assert conn.execute(select(credentials.c.id).where(credentials.c.id == credential_id)).first()

    api.stop_schedule(schedule_id)

    with engine.connect() as conn:
        assert conn.execute(select(credentials.c.id).where(credentials.c.id == credential_id)).first() is None
        assert conn.execute(select(schedules.c.enabled, schedules.c.credential_id)).one() == (False, None)


def test_only_who_booked_a_schedule_or_an_admin_may_stop_it(engine, monkeypatch):
    schedule_id = api.schedule("demo", ["OPS"], 6, actor="alice@acme.com")
    with pytest.raises(PermissionDenied) as refused:
        api.stop_schedule(schedule_id, actor=Actor("bob@acme.com"))
    assert str(refused.value) == (f"only alice@acme.com or an admin may stop the scheduled re-run {schedule_id}; "
                                  f"you are signed in as bob@acme.com (admins are listed in CONSOLE_ADMINS, API "
                                  f"tokens as api:NAME)")
    assert [s["id"] for s in api.schedules_list()] == [schedule_id] and _booked(schedule_id)  # still going
    [refusal] = [e for e in _audit() if e["action"] == "refused"]
    assert (refusal["actor"], refusal["attempted"], refusal["schedule_id"]) == ("bob@acme.com", "stop schedule",
                                                                                schedule_id)
    assert api.stop_schedule(schedule_id, actor="alice@acme.com")["stopped"] is True

    older = api.schedule("demo", ["OPS"], 6, actor="alice@acme.com")
    with engine.begin() as conn:  # booked by a release before schedules recorded who booked them
        conn.execute(update(schedules).where(schedules.c.id == older).values(created_by=None))
    with pytest.raises(PermissionDenied, match="only the user who booked it or an admin may stop"):
        api.stop_schedule(older, actor="alice@acme.com")
    monkeypatch.setenv("CONSOLE_ADMINS", "carol@acme.com")
    assert api.stop_schedule(older, actor="carol@acme.com")["id"] == older


def test_the_http_api_stops_a_schedule_for_its_booker_or_an_admin(engine, monkeypatch):
    from store import api_tokens

    token = api_tokens.create(engine, "ci-bot", created_by="alice")
    schedule_id = api.schedule("demo", ["OPS"], 6, actor="cli")
    path = f"/import/schedules/{schedule_id}/stop"

    status, answer = asgi_post(path, {}, token)
    assert status == 403 and "only cli or an admin may stop" in answer["error"]
    monkeypatch.setenv("CONSOLE_ADMINS", "api:ci-bot")
    status, answer = asgi_post(path, {}, token)
    assert (status, answer) == (200, {"id": schedule_id, "source": "demo", "projects": ["OPS"], "every_hours": 6,
                                      "stopped": True, "cancelled": []})
    status, answer = asgi_post(path, {}, token)
    assert status == 409 and answer["error"] == f"the scheduled re-run {schedule_id} is already stopped"
    status, answer = asgi_post("/import/schedules/nosuchid/stop", {}, token)
    assert status == 404 and "there is no scheduled re-run 'nosuchid'" in answer["error"]
    assert api.schedules_list() == []


def test_stopping_a_schedule_cancels_its_queued_run_and_a_run_starting_meanwhile_cancels_itself(engine, cli):
    # review: a run whose booking fired as the stop ran still started after "stopped" was said
    schedule_id = api.schedule("demo", ["OPS"], 6, actor="alice@acme.com")
    queued = tasks.run_schedule(schedule_id)  # its booking fired; no worker has taken it yet
    stopped = cli("unschedule", schedule_id)
    assert stopped.stdout.startswith(f"schedule {schedule_id} stopped: demo OPS runs no more; its queued run "
                                     f"{queued} was cancelled"), stopped.stderr
    assert api.status(queued)["status"] == "cancelled"

    racing = api.schedule("demo", ["OPS"], 6, actor="alice@acme.com")
    with engine.begin() as conn:  # a stop that commits while the run is being recorded (a real, concurrent writer)
        conn.exec_driver_sql(f"CREATE TRIGGER stop_meanwhile AFTER INSERT ON import_jobs WHEN NEW.schedule_id = "
                             f"'{racing}' BEGIN UPDATE schedules SET enabled = 0 WHERE id = '{racing}'; END")
    started = tasks.run_schedule(racing)
    assert api.status(started)["status"] == "cancelled"
    assert tasks.run_schedule(racing) is None  # and nothing more
    assert [j["status"] for j in api.jobs()] == ["cancelled", "cancelled"]


def test_whoever_booked_a_schedule_may_cancel_retry_or_undo_its_runs(engine, run_worker, monkeypatch):
    # review: runs were "schedule:ID"'s, so the booker got "only schedule:ID or an admin may cancel"
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")
    schedule_id = api.schedule("demo", ["OPS"], 6, actor="alice@acme.com")
    job_id = tasks.run_schedule(schedule_id)
    with pytest.raises(PermissionDenied) as refused:
        api.cancel(job_id, actor=Actor("bob@acme.com"))
    assert str(refused.value) == (f"only alice@acme.com or an admin may cancel import {job_id}; you are signed in "
                                  f"as bob@acme.com (admins are listed in CONSOLE_ADMINS, API tokens as api:NAME)")
    with pytest.raises(PermissionDenied):
        api.cancel(job_id, actor=Actor(f"schedule:{schedule_id}"))  # a user so named is not the booker
    assert api.cancel(job_id, actor=Actor("Alice@acme.com"))["status"] == "cancelled"


def test_with_redis_down_a_stop_changes_nothing_and_says_so_in_one_line(cli):
    # review: the schedule was stopped and its secrets deleted, then the user was told it failed, with no audit record
    schedule_id = api.schedule("demo", ["OPS"], 6)
    down = cli("unschedule", schedule_id, env={"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert down.returncode == 2
    assert down.stderr.startswith("error: cannot reach Redis at redis://127.0.0.1:1/0: the connection was refused "
                                  "(nothing answers at that address and port): start redis-server or fix REDIS_URL") \
        and down.stderr.count("\n") == 1  # in words, not the client's class name ("(ConnectionError)")
    assert [s["id"] for s in api.schedules_list()] == [schedule_id] and _booked(schedule_id)
    assert "unschedule" not in [e["action"] for e in _audit()]
    assert cli("unschedule", schedule_id).returncode == 0


@pytest.mark.parametrize("given", ["\x00", "0" * 13, "..%2F", "'; --", "\udcff"])
def test_an_id_of_no_such_form_is_looked_up_nowhere(given, cli, store_backend):
    # review: a NUL was a 500 on PostgreSQL, a byte that is no UTF-8 a traceback in the CLI (cancel too)
    with pytest.raises(NotFoundError):
        api.stop_schedule(given)
    with pytest.raises(NotFoundError):
        api.cancel(given)
    if "\x00" not in given:  # no process takes a NUL in its arguments
        for command in ("unschedule", "cancel", "status"):
            done = subprocess.run([sys.executable, "cli.py", command, os.fsencode(given)], capture_output=True,
                                  cwd=Path(__file__).resolve().parent.parent)
            assert done.returncode == 2 and done.stderr.startswith(b"error: ") and b"Traceback" not in done.stderr


def test_a_burst_worker_starts_the_scheduled_runs_that_are_due(run_worker, monkeypatch):
    # review: only a standing worker ran RQ's scheduler, so schedules of a team running `worker --burst` from cron
    # never ran, while the Jobs page showed their next run as usual
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")
    due, later = api.schedule("demo", ["OPS"], 6), api.schedule("demo", ["ACME"], 6)
    registry = ScheduledJobRegistry(queue=queue.import_queue())
    [booking] = _booked(due)
    registry.schedule(queue.import_queue().fetch_job(booking), datetime.now(UTC) - timedelta(minutes=1))

    run_worker()

    [ran] = api.jobs()
    assert (ran["requested_by"], ran["projects"], ran["status"]) == (f"schedule:{due}", ["OPS"], "succeeded")
    assert _booked(later) and len(_booked(due)) == 1  # the next run of each is booked, none ran early


@pytest.mark.parametrize("source, project, reason", [
    ("demo", "ZED", "Demo has no project 'ZED' to import"),
    ("servicenow", "incidents", "ServiceNow has no table 'incidents' to import"),
    ("github", "web", "GitHub projects are repositories named owner/name, not 'web'"),
])
def test_a_scheduled_run_that_cannot_start_fails_as_a_job_the_jobs_page_shows(engine, run_worker, monkeypatch,
                                                                               source, project, reason):
    # an attacker's review: a schedule booked by an earlier release with a project `schedule` now refuses raised in
    # the RQ job before any job existed, every N hours, and nothing showed why; settings missing at run time alike
    for name in ("SERVICENOW_INSTANCE", "SERVICENOW_USERNAME", "SERVICENOW_PASSWORD", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    booked = api.schedule("demo", ["OPS"], 6)
    with engine.begin() as conn:
        conn.execute(update(schedules).where(schedules.c.id == booked).values(source=source, projects=[project]))
    job_id = tasks.run_schedule(booked)
    run_worker()
    doc = api.status(job_id)
    assert doc["status"] == "failed" and (reason in doc["error"] or "missing" in doc["error"]), doc["error"]
    assert [s["last_job_id"] for s in api.schedules_list()] == [job_id]  # the Jobs page's link to it


def test_a_dry_run_is_not_scheduled_and_the_refusal_says_what_to_do(run_worker):
    # review: "schedule a re-run" of a dry run booked a schedule whose runs were real imports, writing every N hours
    # what the dry run had only counted
    job_id = api.start_import("demo", ["OPS"], dry_run=True)
    run_worker()
    with pytest.raises(ConfigError) as refused:
        api.schedule_job(job_id, 24)
    assert str(refused.value) == (f"import {job_id} was a dry run, which writes nothing: start the import itself, "
                                  f"then schedule re-runs of that one")
    assert api.schedules_list() == [] and not ScheduledJobRegistry(queue=queue.import_queue()).get_job_ids()
