"""A scheduled re-run of someone else's import does not take their secrets: the copy a job keeps of what its
starter typed (for its own retry, pruned with it) is carried into a schedule only for them or an admin.

Regression: `schedule_job` carried the job's encrypted copy into the new schedule whoever booked it. A company
sign-in user who was not an admin picked alice's JIRA import on the Jobs page ("Schedule a re-run") and booked runs
with alice's typed API token, every N hours for as long as the schedule lived (past the job copy's pruning), a
schedule only its booker or an admin could stop: alice could not."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from jobs import api, tasks
from store.schema import schedules
from tests.fakes.jira import FakeJira


@pytest.fixture
def jira():
    fake = FakeJira(cloud=True, size=5).start()
    yield fake
    fake.stop()


def _alices_job(jira) -> str:
    user, token = jira.credentials
    job_id = api.start_import("jira", ["ACME"], config={"base_url": jira.url, "user_email": user, "api_token": token},
                              requested_by="alice", actor="alice")
    api.cancel(job_id)
    return job_id


def test_another_user_cannot_book_runs_with_the_secrets_someone_typed(jira, engine, monkeypatch):
    monkeypatch.setenv("CONSOLE_ADMINS", "root")
    job_id = _alices_job(jira)

    with pytest.raises(api.PermissionDenied, match="ran with credentials alice entered: only they or an admin"):
        api.schedule_job(job_id, 24, actor="mallory")
    with engine.connect() as conn:
        assert conn.execute(select(schedules.c.id)).first() is None


def test_the_starter_and_an_admin_still_book_it_with_them(jira, run_worker, engine, monkeypatch):
    monkeypatch.setenv("CONSOLE_ADMINS", "root")
    job_id = _alices_job(jira)
    for who in ("alice", "root"):
        ran = tasks.run_schedule(api.schedule_job(job_id, 24, actor=who))
        run_worker()
        assert api.status(ran)["status"] == "succeeded", api.status(ran).get("error")
    with engine.connect() as conn:
        assert [r.created_by for r in conn.execute(select(schedules.c.created_by))] == ["alice", "root"]


def test_another_user_books_it_with_the_saved_credentials_when_there_are_some(jira, engine, monkeypatch):
    monkeypatch.setenv("CONSOLE_ADMINS", "root")
    job_id = _alices_job(jira)
    user, token = jira.credentials
    api.save_credentials("jira", {"base_url": jira.url, "user_email": user, "api_token": token}, actor="root")

    api.schedule_job(job_id, 24, actor="mallory")
    with engine.connect() as conn:  # the team's saved token, read afresh each run: no copy of alice's
        assert conn.execute(select(schedules.c.credential_id)).scalar_one() is None
