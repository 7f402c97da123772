"""A cancel the user asked for reads as a cancel, once, on every surface: no reason beside it.

Review: `cli.py status` printed "error: cancelled on request" under a bar that said [cancelled], and the Progress
page's attempts table "Cancelled: cancelled on request"."""
from sqlalchemy import update

from jobs import api
from store.db import engine_for
from store.schema import import_attempts, import_jobs, import_parts
from tests.test_connection_errors import status_answer
from tests.test_ui_pages import page


def cancelled_twice() -> str:
    """A job cancelled while queued, retried and cancelled again: two attempts, each a cancel the user asked for."""
    job_id = api.start_import("demo", ["ACME"], config={"size": "10"})
    api.cancel(job_id)
    api.retry(job_id)
    api.cancel(job_id)
    return job_id


def test_a_cancel_is_no_error_on_any_surface(cli, engine):
    job_id = cancelled_twice()
    doc = api.status(job_id)
    assert doc["status"] == "cancelled" and doc["error"] is None
    assert [a["error"] for a in doc["attempts"]] == [None, None] and doc["parts"][0]["error"] is None
    assert status_answer(engine, job_id)["error"] is None  # the HTTP API
    shown = cli("status", job_id)
    assert "[Cancelled]" in shown.stdout and "error" not in shown.stdout + shown.stderr, shown.stdout
    at = page("pages/progress.py", job=job_id)
    frame = next(df.value for df in at.dataframe if "outcome" in df.value.columns)
    assert list(frame["outcome"]) == ["Cancelled", "Cancelled"]


def test_a_cancel_an_older_release_stored_as_a_reason_reads_the_same():
    job_id = cancelled_twice()
    with engine_for().begin() as conn:  # as an older release left it
        for table in (import_jobs, import_attempts):
            key = table.c.id if table is import_jobs else table.c.job_id
            conn.execute(update(table).where(key == job_id).values(error="cancelled on request"))
        conn.execute(update(import_parts).where(import_parts.c.job_id == job_id).values(error="cancelled on request"))
    doc = api._publish(job_id)
    assert doc["error"] is None and {a["error"] for a in doc["attempts"]} == {None}
    assert doc["parts"][0]["error"] is None


def test_a_vendors_error_that_ends_like_an_old_cancel_is_still_the_jobs_reason(run_import):
    # an attacker's review: _reason dropped any piece ending ": cancelled on request", so a JIRA whose 400 said
    # "...: cancelled on request" left a failed job without a reason on every surface (page, API, CLI)
    from tests.fakes.jira import FakeJira

    with FakeJira(size=10) as fake:
        user, token = fake.credentials
        fake.fail_next("search", 400, times=20, body={"errorMessages": ["query: cancelled on request"]})
        doc = run_import("jira", ["ACME"], config={"base_url": fake.url, "user_email": user, "api_token": token})
    assert doc["status"] == "failed"
    said = "(HTTP 400): query: cancelled on request"
    assert doc["error"] and doc["error"].endswith(said), doc["error"]
    assert doc["parts"][0]["error"].endswith(said) and doc["attempts"][-1]["error"].endswith(said), doc


def test_an_older_releases_cancel_of_one_project_goes_and_the_other_projects_reason_stays():
    job_id = api.start_import("demo", ["ACME", "OPS"], config={"size": "10"})
    api.cancel(job_id)
    with engine_for().begin() as conn:  # as an older release left a job whose OPS failed and ACME was cancelled
        conn.execute(update(import_jobs).where(import_jobs.c.id == job_id).values(
            error="ACME: cancelled on request; OPS: Demo refused: cancelled on request"))
    doc = api._publish(job_id)
    assert doc["error"] == "OPS: Demo refused: cancelled on request", doc["error"]
