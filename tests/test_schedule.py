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
