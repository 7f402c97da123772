"""Repeated imports on a schedule: listed with their next run, each run incremental."""
from datetime import UTC, datetime, timedelta

from rq.registry import ScheduledJobRegistry

from jobs import api, queue, tasks


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
