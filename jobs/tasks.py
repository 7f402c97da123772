"""What an RQ worker executes: one part of an import, a scheduled re-run, and recovery.

These functions receive ids only and look the rest up, so RQ job data never holds secrets.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update

from importers import source_class
from importers.errors import SourceError
from store import credentials
from store import jobs as job_store
from store.audit import record
from store.db import engine_for
from store.jobs import JobStatus, now, utc
from store.schema import import_jobs, import_parts, schedules

from . import queue
from .access import SCHEDULED_BY, Actor
from .launch import cancel_job, merge_layers, part_config, progress_store, start_import
from .progress import ProgressStore, stale_after
from .runner import PartRun, PartRunner, batch_size

log = logging.getLogger(__name__)


def resolve_config(job, project: str) -> dict[str, str]:
    """The settings of the job's part `project`: its public settings (with those kept for the project, `part_config`)
    and decrypted secrets, as resolved when it started. A job started without an encryption key (or by an older
    release) also takes the worker's environment, whose secrets go only to the server they were configured with
    (`merge_layers`)."""
    options = job.options or {}
    own = part_config(options, project)
    if job.credential_id:
        try:
            own.update(credentials.get(engine_for(), job.credential_id))
        except credentials.UnreadableError as exc:  # the worker's key, not the job, is what is wrong
            if exc.key_missing:
                raise credentials.UnreadableError(
                    f"this worker has no {credentials.KEY_ENV} to read the job's credentials: restart it with "
                    f"the key from .env (or the same key as the console)", key_missing=True) from None
            raise credentials.UnreadableError(
                f"this worker's {credentials.KEY_ENV} is not the key the job's credentials were saved with: "
                f"restart it with the key from .env (or the same key as the console)", key_missing=False) from None
    env = [source_class(job.source).config_from_env()] if options.get("use_env", True) else []
    return merge_layers(job.source, [*env, own])


def _since(job, project: str) -> datetime | None:
    value = ((job.options or {}).get("since_by_project") or {}).get(project) or (job.options or {}).get("since")
    return utc(datetime.fromisoformat(value)) if value else None


def run_part(job_id: str, project: str) -> str:
    engine = engine_for()
    progress = progress_store()
    lease = uuid.uuid4().hex
    if not job_store.claim_part(engine, job_id, project, lease, stale_after()):
        return "not claimed: the part has ended or a live worker holds it"
    with engine.connect() as conn:
        job = job_store.get_job(conn, job_id)

    def publish() -> None:
        progress.publish(job_id)

    if job.cancel_requested:
        job_store.set_part(engine, job_id, project, lease, status=JobStatus.CANCELLED.value, finished_at=now(),
                           lease=None)
        _finish(job_id, progress)
        return JobStatus.CANCELLED.value
    publish()
    options = job.options or {}
    try:
        source = source_class(job.source)(resolve_config(job, project))
    except SourceError as exc:
        job_store.set_part(engine, job_id, project, lease, status=JobStatus.FAILED.value, error=str(exc),
                           finished_at=now(), lease=None)
        _finish(job_id, progress)
        return JobStatus.FAILED.value

    def cancel_requested() -> bool:
        with engine.connect() as conn:
            return bool(conn.execute(select(import_jobs.c.cancel_requested)
                                     .where(import_jobs.c.id == job_id)).scalar())

    run = PartRun(job_id=job_id, project=project, lease=lease, source_name=job.source,
                  policy=options.get("duplicates", "update"), deletions=options.get("deletions", "mark"),
                  dry_run=bool(options.get("dry_run")),
                  since=_since(job, project), batch_size=int(options.get("batch_size") or batch_size()),
                  mapping=(options.get("mappings") or {}).get(project))
    status = PartRunner(engine, source, run, publish, cancel_requested).execute(bool(job.retry_failures))
    if status != JobStatus.RUNNING:  # RUNNING: another worker took over and will finish the job
        _finish(job_id, progress)
    return status.value


def _finish(job_id: str, progress: ProgressStore) -> None:
    engine = engine_for()
    final = job_store.finish_job_if_done(engine, job_id)
    if final is not None:
        credentials.prune(engine)  # this job's copy once it cannot run again, and any other spent one
    doc = progress.publish(job_id)
    if final is not None and doc is not None:
        record(engine, "end", actor="worker", job_id=job_id, source=doc["source"], projects=doc["projects"],
               outcome=final.value, counts={k: doc[k] for k in job_store.COUNTERS},
               found={k: doc[k] for k in job_store.SWEEP_COUNTERS}, error=doc["error"])


def maintain() -> None:
    """A worker's maintenance, at its start and every round: resume the imports that lost their worker, and
    delete the credential copies no job can read again (`credentials.prune`)."""
    recover_stale_parts()
    credentials.prune(engine_for())


def recover_stale_parts() -> int:
    """Re-enqueue parts whose worker died (no heartbeat) or whose RQ job vanished (Redis restarted), and
    book again the schedules whose next run vanished with it."""
    engine = engine_for()
    _finish_orphaned_jobs(engine)
    _rebook_lost_schedules(engine)
    cutoff = now() - timedelta(seconds=stale_after())
    grace = now() - timedelta(seconds=10)
    live = queue.live_part_ids()
    resumed = 0
    with engine.connect() as conn:
        rows = list(conn.execute(
            select(import_parts.c.id, import_parts.c.job_id, import_parts.c.project, import_parts.c.status,
                   import_parts.c.heartbeat_at, import_jobs.c.created_at, import_jobs.c.source)
            .join(import_jobs, import_jobs.c.id == import_parts.c.job_id)
            .where(import_parts.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))))
    for row in rows:
        if queue.has_live_rq_job(live, row.job_id, row.id) and row.status == JobStatus.QUEUED.value:
            continue
        if row.status == JobStatus.RUNNING.value and (utc(row.heartbeat_at) or cutoff) >= cutoff:
            continue
        if row.status == JobStatus.QUEUED.value and utc(row.created_at) > grace:
            continue
        with engine.begin() as conn:
            conn.execute(update(import_parts).where(and_(import_parts.c.id == row.id,
                                                         import_parts.c.status == row.status))
                         .values(status=JobStatus.QUEUED.value, lease=None,
                                 error="worker lost; resumed from the last committed batch"
                                 if row.status == JobStatus.RUNNING.value else None))
        queue.enqueue_part(row.job_id, row.project, row.id, source=row.source)
        log.warning("resuming import %s / %s (%s)", row.job_id, row.project, row.status)
        resumed += 1
    return resumed


def _rebook_lost_schedules(engine) -> None:
    """Book the next run of every enabled schedule that has none in the queue: Redis restarted without
    its data, or the schedule was booked on the queue `imports` of a release before queues were named by
    the store. The run keeps its time (`next_run_at`), or comes at once when that has passed."""
    with engine.connect() as conn:
        rows = list(conn.execute(select(schedules.c.id, schedules.c.next_run_at).where(schedules.c.enabled)))
    if not rows or not queue.schedule_lock():
        return
    live = queue.live_schedule_ids()
    for row in rows:
        if row.id not in live:
            queue.enqueue_schedule(row.id, max(utc(row.next_run_at) - now(), timedelta(0)))
            log.warning("booked the next run of schedule %s again (its booking was lost)", row.id)


def _finish_orphaned_jobs(engine) -> None:
    """Give their final status to jobs whose parts have all ended but whose worker died (or lost the
    store) before saying so: without this they would show "running" forever."""
    open_states = [JobStatus.QUEUED.value, JobStatus.RUNNING.value]
    open_parts = select(import_parts.c.job_id).where(import_parts.c.status.in_(open_states))
    with engine.connect() as conn:
        orphans = list(conn.execute(select(import_jobs.c.id).where(and_(
            import_jobs.c.status.in_(open_states), import_jobs.c.id.not_in(open_parts)))).scalars())
    for job_id in orphans:
        log.warning("finishing import %s: its parts ended but its worker did not record the outcome", job_id)
        _finish(job_id, progress_store())


def run_schedule(schedule_id: str) -> str | None:
    """Start the scheduled import (incremental from the last success) and book the next run; None when the
    schedule is gone or stopped. A run started while its schedule was being stopped cancels itself (the stop
    promised that no run starts after it; the stop cancels runs it finds queued)."""
    engine = engine_for()
    with engine.connect() as conn:
        sched = conn.execute(select(schedules).where(schedules.c.id == schedule_id)).first()
    if sched is None or not sched.enabled:
        return None
    options = dict(sched.options or {})
    # the next run is booked first: a run that cannot start (credentials revoked) leaves the schedule going
    with engine.begin() as conn:
        booked = conn.execute(update(schedules).where(and_(schedules.c.id == schedule_id, schedules.c.enabled))
                              .values(next_run_at=now() + timedelta(hours=sched.every_hours))).rowcount
    if not booked:
        return None
    queue.enqueue_schedule(schedule_id, timedelta(hours=sched.every_hours))
    # each run acts with its booker's rights, checked at every run: a project another user imported after the
    # booking is theirs (attacker review: a schedule booked on an empty project later purged what an admin imported)
    booker = Actor(sched.created_by or "", admin=bool(options.get("booked_by_admin")))
    job_id = start_import(sched.source, list(sched.projects), duplicates=options.get("duplicates", "update"),
                          deletions=options.get("deletions", "mark"),
                          credential_id=sched.credential_id, config=options.get("config"),
                          requested_by=f"{SCHEDULED_BY}{schedule_id}", schedule_id=schedule_id, actor=booker)
    with engine.begin() as conn:
        conn.execute(update(schedules).where(schedules.c.id == schedule_id).values(last_job_id=job_id))
        going = conn.execute(select(schedules.c.enabled).where(schedules.c.id == schedule_id)).scalar()
    if not going:
        cancel_job(job_id, f"{SCHEDULED_BY}{schedule_id}", sched.source, list(sched.projects),
                   reason="its schedule was stopped as it started")
        progress_store().publish(job_id)
    return job_id
