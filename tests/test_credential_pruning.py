"""Each job's copy of its source credentials lives only as long as the job can still run: a succeeded or undone
job's is deleted when it ends; a failed, cancelled or partial one keeps it for a retry, for IMPORT_RETRY_DAYS.
Before, every copy stayed for ever, one more encrypted token per import (a schedule's every run)."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from importers.errors import ConflictError
from jobs import api
from store import credentials
from store import jobs as job_store
from store.jobs import JobStatus, now
from store.schema import credentials as credentials_table
from store.schema import import_jobs, import_parts
from tests.fakes.github import GitHubFake

REPO = "acme/web"


@pytest.fixture
def github():
    with GitHubFake(sizes={REPO: 3}, pr_every=0) as fake:
        yield fake


def _config(fake: GitHubFake) -> dict[str, str]:
    return {"token": fake.token, "api_url": fake.url}


def _copies(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(credentials_table.c.id)).scalars())


def _copy_of(engine, job_id: str) -> str:
    with engine.connect() as conn:
        return conn.execute(select(import_jobs.c.credential_id).where(import_jobs.c.id == job_id)).scalar()


def _cancelled(fake: GitHubFake, run_worker) -> str:
    """A job cancelled before a worker took it: one a user may retry."""
    job_id = api.start_import("github", [REPO], config=_config(fake))
    api.cancel(job_id)
    run_worker()
    assert api.status(job_id)["status"] == JobStatus.CANCELLED
    return job_id


def test_a_succeeded_jobs_copy_is_deleted_when_it_ends(github, run_worker, engine):
    saved = credentials.put(engine, "github", _config(github), saved=True)
    job_id = api.start_import("github", [REPO], config=_config(github))
    assert _copy_of(engine, job_id) in _copies(engine)
    run_worker()
    assert api.status(job_id)["status"] == JobStatus.SUCCEEDED
    assert _copies(engine) == {saved}  # the saved credentials are the source's, not the job's


def test_a_retryable_job_keeps_its_copy_and_an_undone_one_loses_it(github, run_worker, engine):
    """A cancelled (or failed, or partial) job may be retried, which decrypts the copy again: it stays."""
    job_id = _cancelled(github, run_worker)
    copy = _copy_of(engine, job_id)
    assert copy in _copies(engine)
    api.undo(job_id)  # an undone job cannot be retried
    assert copy not in _copies(engine)


def test_a_retry_within_the_window_runs_and_past_it_says_to_start_a_new_import(github, run_worker, engine):
    kept, expired = _cancelled(github, run_worker), _cancelled(github, run_worker)
    with engine.begin() as conn:  # `expired` ended eight days ago
        conn.execute(update(import_jobs).where(import_jobs.c.id == expired)
                     .values(finished_at=now() - timedelta(days=8)))

    api.retry(kept)
    run_worker()  # the retry reads its copy; `expired`'s is pruned when that job ends
    assert api.status(kept)["status"] == JobStatus.SUCCEEDED
    assert _copies(engine) == set()
    with pytest.raises(ConflictError) as refused:
        api.retry(expired)
    assert str(refused.value) == (
        f"job {expired} can no longer be retried: its credentials were deleted 7 days after it ended "
        f"(IMPORT_RETRY_DAYS); start a new import instead (it skips or updates what this one stored)")


def test_a_worker_prunes_the_copies_an_older_release_kept(store_backend, github, run_worker, engine):
    """An upgraded store: every job's copy is still there, and one copy no job points at (a start that failed
    after saving it). The first maintenance round of a worker keeps only what can still be read."""
    def job(status: JobStatus, **values) -> str:
        copy = credentials.put(engine, "github", {"token": github.token})
        job_id = job_store.create_job(engine, source="github", projects=[REPO], options={}, credential_id=copy,
                                      requested_by="cli")
        with engine.begin() as conn:
            conn.execute(update(import_jobs).where(import_jobs.c.id == job_id).values(status=status.value, **values))
            conn.execute(update(import_parts).where(import_parts.c.job_id == job_id).values(status=status.value))
        return copy

    gone = {job(JobStatus.SUCCEEDED, finished_at=now()), job(JobStatus.FAILED, undone_at=now()),
            job(JobStatus.PARTIAL, finished_at=now() - timedelta(days=30))}
    kept = {job(JobStatus.FAILED, finished_at=now()), job(JobStatus.RUNNING)}  # retryable; resumable
    old_orphan, new_orphan = (credentials.put(engine, "github", {"token": github.token}) for _ in range(2))
    with engine.begin() as conn:
        conn.execute(update(credentials_table).where(credentials_table.c.id == old_orphan)
                     .values(created_at=now() - timedelta(days=2)))
    schedule = api.schedule("github", [REPO], 24, config=_config(github))
    with engine.connect() as conn:
        schedules_copy = conn.execute(select(credentials_table.c.id).where(
            credentials_table.c.id.not_in(gone | kept | {old_orphan, new_orphan}))).scalar()
    assert schedules_copy

    run_worker()  # an idle burst worker: its maintenance at start is all that runs
    assert _copies(engine) == kept | {new_orphan, schedules_copy}  # a start may still be writing its job
    api.stop_schedule(schedule)
