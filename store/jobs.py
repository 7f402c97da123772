"""Durable import-job history: jobs, their per-project parts, failures.

A job is split into one part per project so that several workers can share it; the job's
counters are the sum of its parts'. Each part carries the source cursor after its last
committed batch and a lease, so a batch only commits for the worker that owns the part.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, overload

from sqlalchemy import Connection, Engine, and_, delete, func, select, union, update

from importers.model import ItemFailure, StreamGap

from .schema import import_attempts, import_failures, import_gaps, import_jobs, import_parts, work_items

COUNTERS = ("total", "processed", "created", "updated", "skipped", "failed")
VISIBILITY_COUNTERS = ("internal_items", "internal_comments")  # non-public items and comments read
# what a catch-up run found besides the items it read: soft deletes, and changes kept out by `skip`
SWEEP_COUNTERS = ("deleted_items", "deleted_comments", "frozen")


class JobStatus(StrEnum):
    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"  # a worker is reading and writing batches
    SUCCEEDED = "succeeded"  # every item imported (or skipped as a duplicate)
    PARTIAL = "partial"  # finished, but some items failed: see the failure report
    FAILED = "failed"  # stopped by an error; retry resumes from the last committed batch
    CANCELLED = "cancelled"  # stopped on request after the current batch
    UNDONE = "undone"  # finished, then undone: the items it created were removed (the progress document's only)

    @property
    def finished(self) -> bool:
        return self not in (JobStatus.QUEUED, JobStatus.RUNNING)


def now() -> datetime:
    return datetime.now(UTC)


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


def create_job(engine: Engine, *, source: str, projects: list[str], options: dict[str, Any],
               credential_id: str | None, requested_by: str, schedule_id: str | None = None,
               totals: dict[str, int | None] | None = None) -> str:
    job_id = new_job_id()
    with engine.begin() as conn:
        conn.execute(import_jobs.insert().values(
            id=job_id, source=source, projects=projects, options=options, credential_id=credential_id,
            requested_by=requested_by, status=JobStatus.QUEUED.value, created_at=now(), schedule_id=schedule_id,
            cancel_requested=False, retry_failures=False,
        ))
        conn.execute(import_parts.insert(), [
            {"job_id": job_id, "project": p, "status": JobStatus.QUEUED.value, "done_reading": False,
             **{c: 0 for c in COUNTERS}, "total": (totals or {}).get(p) or 0}
            for p in projects
        ])
        begin_attempt(conn, job_id, requested_by)
    return job_id


def begin_attempt(conn: Connection, job_id: str, requested_by: str) -> int:
    """Record the start of a run of the job (the first, or a retry); returns its number."""
    number = (conn.execute(select(func.max(import_attempts.c.number))
                           .where(import_attempts.c.job_id == job_id)).scalar() or 0) + 1
    conn.execute(import_attempts.insert().values(
        job_id=job_id, number=number, requested_by=requested_by, started_at=now(), status=JobStatus.QUEUED.value,
        **{c: 0 for c in COUNTERS}))
    return number


def attempts(conn: Connection, job_id: str) -> list:
    """The job's runs, first to last (an empty list for jobs recorded before attempts were kept)."""
    return list(conn.execute(select(import_attempts).where(import_attempts.c.job_id == job_id)
                             .order_by(import_attempts.c.number)))


def get_job(conn: Connection, job_id: str):
    return conn.execute(select(import_jobs).where(import_jobs.c.id == job_id)).first()


def get_parts(conn: Connection, job_id: str) -> list:
    return list(conn.execute(select(import_parts).where(import_parts.c.job_id == job_id).order_by(import_parts.c.id)))


def get_part(conn: Connection, job_id: str, project: str):
    return conn.execute(select(import_parts).where(
        and_(import_parts.c.job_id == job_id, import_parts.c.project == project))).first()


def list_jobs(engine: Engine, limit: int = 50) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(import_jobs).order_by(import_jobs.c.created_at.desc()).limit(limit)))


def claim_part(engine: Engine, job_id: str, project: str, lease: str, stale_after: float) -> bool:
    """Take ownership of a part unless a live worker holds it or it has ended."""
    cutoff = now() - timedelta(seconds=stale_after)
    with engine.begin() as conn:
        result = conn.execute(update(import_parts).where(and_(
            import_parts.c.job_id == job_id, import_parts.c.project == project,
            (import_parts.c.status == JobStatus.QUEUED.value)
            | ((import_parts.c.status == JobStatus.RUNNING.value)
               & ((import_parts.c.heartbeat_at.is_(None)) | (import_parts.c.heartbeat_at < cutoff))),
        )).values(lease=lease, status=JobStatus.RUNNING.value, heartbeat_at=now(), error=None,
                  started_at=func.coalesce(import_parts.c.started_at, now())))
        if result.rowcount != 1:
            return False
        conn.execute(update(import_jobs).where(and_(
            import_jobs.c.id == job_id, import_jobs.c.status == JobStatus.QUEUED.value,
        )).values(status=JobStatus.RUNNING.value, started_at=func.coalesce(import_jobs.c.started_at, now())))
        return True


def owns(conn: Connection, job_id: str, project: str, lease: str) -> bool:
    """Lock the part row (PostgreSQL) and confirm the lease, so two workers never commit the same batch."""
    stmt = select(import_parts.c.lease).where(and_(import_parts.c.job_id == job_id, import_parts.c.project == project))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).scalar() == lease


def record_batch(conn: Connection, job_id: str, project: str, *, cursor, done_reading: bool, high_water,
                 counts: dict[str, int], failures: list[ItemFailure], fixed_ids: list[str],
                 gaps: Sequence[StreamGap] = (), filled: Sequence[str] = (), notes: Sequence[str] = ()) -> None:
    """Advance a part inside the batch's own transaction: cursor, counters, failure report, unread data.

    `gaps` are recorded (a gap already recorded gets the newer reason); `filled` are item external
    ids whose gaps this batch read again (and "" for a project-wide listing read to its end): their
    gaps are deleted, unless `gaps` names them again. `notes` are added to the part's notes once."""
    values: dict[str, Any] = {c: getattr(import_parts.c, c) + n for c, n in counts.items() if n}
    values.update(cursor=cursor, done_reading=done_reading, heartbeat_at=now())
    if high_water is not None:
        values["high_water"] = func.coalesce(func.max(import_parts.c.high_water, high_water), high_water) \
            if conn.dialect.name == "sqlite" \
            else func.greatest(func.coalesce(import_parts.c.high_water, high_water), high_water)
    if notes:
        known_notes = conn.execute(select(import_parts.c.notes).where(and_(
            import_parts.c.job_id == job_id, import_parts.c.project == project))).scalar() or []
        fresh_notes = [n for n in dict.fromkeys(notes) if n not in known_notes]
        if fresh_notes:
            values["notes"] = [*known_notes, *fresh_notes]
    conn.execute(update(import_parts).where(and_(
        import_parts.c.job_id == job_id, import_parts.c.project == project)).values(**values))
    _record_gaps(conn, job_id, project, list(gaps), list(filled))
    if fixed_ids:
        conn.execute(delete(import_failures).where(and_(
            import_failures.c.job_id == job_id, import_failures.c.external_id.in_(fixed_ids))))
    if failures:
        known = set(conn.execute(select(import_failures.c.external_id).where(and_(
            import_failures.c.job_id == job_id,
            import_failures.c.external_id.in_([f.external_id for f in failures])))).scalars())
        fresh = {f.external_id: f for f in failures if f.external_id not in known}
        if fresh:
            conn.execute(import_failures.insert(), [
                {"job_id": job_id, "project": project, "external_id": f.external_id, "key": f.key,
                 "reason": f.reason[:2000], "created_at": now()} for f in fresh.values()
            ])
        for f in failures:
            if f.external_id in known:
                conn.execute(update(import_failures).where(and_(
                    import_failures.c.job_id == job_id, import_failures.c.external_id == f.external_id,
                )).values(reason=f.reason[:2000]))


def _record_gaps(conn: Connection, job_id: str, project: str, gaps: list[StreamGap], filled: list[str]) -> None:
    of_part = and_(import_gaps.c.job_id == job_id, import_gaps.c.project == project)
    still = {g.item_external_id for g in gaps}
    done = [eid for eid in dict.fromkeys(filled) if eid not in still]
    for start in range(0, len(done), 500):
        chunk = done[start:start + 500]
        conn.execute(delete(import_gaps).where(and_(of_part, import_gaps.c.item_external_id.in_(chunk))))
    if not gaps:
        return
    unique = {(g.stream, g.item_external_id): g for g in gaps}
    known = {(r.stream, r.item_external_id): r.id for r in conn.execute(
        select(import_gaps.c.id, import_gaps.c.stream, import_gaps.c.item_external_id).where(and_(
            of_part, import_gaps.c.item_external_id.in_(sorted(still)))))}
    fresh = [{"job_id": job_id, "project": project, "stream": g.stream, "item_external_id": g.item_external_id,
              "key": g.key, "reason": g.reason[:2000], "resume": g.resume, "created_at": now()}
             for k, g in unique.items() if k not in known]
    if fresh:
        conn.execute(import_gaps.insert(), fresh)
    for k, gap_id in known.items():
        g = unique[k]
        conn.execute(update(import_gaps).where(import_gaps.c.id == gap_id).values(
            reason=g.reason[:2000], resume=g.resume))


def gaps(engine: Engine, job_id: str, project: str | None = None) -> list[StreamGap]:
    """What a job (or one of its parts) could not read and still keeps items of, oldest first."""
    stmt = select(import_gaps).where(import_gaps.c.job_id == job_id).order_by(import_gaps.c.id)
    if project is not None:
        stmt = stmt.where(import_gaps.c.project == project)
    with engine.connect() as conn:
        return [StreamGap(stream=r.stream, item_external_id=r.item_external_id, key=r.key, reason=r.reason,
                          resume=r.resume) for r in conn.execute(stmt)]


def gap_counts(conn: Connection, job_id: str) -> dict[str, dict[str, int]]:
    """project -> stream -> how many items (or project-wide listings) of the job's part have unread data of it."""
    rows = conn.execute(select(import_gaps.c.project, import_gaps.c.stream, func.count())
                        .where(import_gaps.c.job_id == job_id).group_by(import_gaps.c.project, import_gaps.c.stream))
    found: dict[str, dict[str, int]] = {}
    for project, stream, count in rows:
        found.setdefault(project, {})[stream] = count
    return found


def failures(engine: Engine, job_id: str, project: str | None = None, limit: int | None = None) -> list:
    stmt = select(import_failures).where(import_failures.c.job_id == job_id).order_by(import_failures.c.id)
    if project is not None:
        stmt = stmt.where(import_failures.c.project == project)
    if limit:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        return list(conn.execute(stmt))


def set_part(engine: Engine, job_id: str, project: str, owned_by: str | None = None, **values) -> None:
    """Update a part; with `owned_by`, only while that lease still holds it."""
    conditions = [import_parts.c.job_id == job_id, import_parts.c.project == project]
    if owned_by is not None:
        conditions.append(import_parts.c.lease == owned_by)
    with engine.begin() as conn:
        conn.execute(update(import_parts).where(and_(*conditions)).values(**values))


def heartbeat(engine: Engine, job_id: str, project: str, lease: str, phase: str | None = None) -> None:
    """The worker is alive (and, with `phase`, what it does now: see jobs/progress.PHASES)."""
    set_part(engine, job_id, project, lease, heartbeat_at=now(), **({"phase": phase} if phase else {}))


def request_cancel(engine: Engine, job_id: str) -> None:
    """Ask a job to stop: its running parts stop after their current batch (they read `cancel_requested`), its
    queued parts are cancelled at once. The caller then calls `finish_job_if_done`."""
    with engine.begin() as conn:
        conn.execute(update(import_jobs).where(import_jobs.c.id == job_id).values(cancel_requested=True))
        conn.execute(update(import_parts).where(and_(import_parts.c.job_id == job_id,
                                                     import_parts.c.status == JobStatus.QUEUED.value))
                     .values(status=JobStatus.CANCELLED.value, finished_at=now()))


def finish_job_if_done(engine: Engine, job_id: str) -> JobStatus | None:
    """Once every part has ended, give the job its final status (worst part wins)."""
    with engine.begin() as conn:
        parts = get_parts(conn, job_id)
        statuses = {JobStatus(p.status) for p in parts}
        if not parts or not all(s.finished for s in statuses):
            return None
        for final in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.PARTIAL):
            if final in statuses:
                break
        else:
            final = JobStatus.SUCCEEDED
        if final == JobStatus.SUCCEEDED and any(p.failed for p in parts):
            final = JobStatus.PARTIAL
        errors = "; ".join(f"{p.project}: {p.error}" if len(parts) > 1 else p.error for p in parts if p.error)
        finished = now()
        conn.execute(update(import_jobs).where(import_jobs.c.id == job_id).values(
            status=final.value, finished_at=finished, error=errors or None, retry_failures=False))
        latest = select(func.max(import_attempts.c.number)).where(import_attempts.c.job_id == job_id).scalar_subquery()
        conn.execute(update(import_attempts).where(and_(
            import_attempts.c.job_id == job_id, import_attempts.c.number == latest)).values(
            status=final.value, finished_at=finished, error=errors or None,
            **{c: sum(getattr(p, c) or 0 for p in parts) for c in COUNTERS}))
        return final


@dataclass(frozen=True)
class CatchUp:
    """Where the next catch-up of a project starts, and why (`catch_up_point`)."""

    since: datetime | None  # the since-read point (None: a whole read)
    job_id: str | None = None  # the last finished import of the project, whose mark this is (or is held by)
    mark: datetime | None = None  # that import's own high-water mark (the newest item it read)
    held_by: tuple[str, ...] = ()  # streams whose listing it left unread: `since` is held back to its window's start
    items: tuple[StreamGap, ...] = ()  # items whose data it left unread: the catch-up re-reads them (`carried_gaps`)
    passed: tuple[str, ...] = ()  # newer imports whose marks it passes over, each with why ("job 3f2… (undone)")

    def note(self, noun: str) -> str | None:
        """One line for the job when the catch-up starts earlier than the last import's mark or re-reads
        items that import left unread, e.g. "re-reads the comments of 1 issue (ACME-4) that job 3f2… left
        unread"."""
        said = []
        if self.passed:
            start = f"starts at {self.since:%Y-%m-%d %H:%M:%S} UTC" if self.since else "reads everything"
            more = f" and {len(self.passed) - 3:,} more" if len(self.passed) > 3 else ""
            said.append(f"{start}, passing over the mark of {', '.join(self.passed[:3])}{more}")
        if self.held_by:
            listing = " and ".join(f"part of the {s} listing" for s in self.held_by)
            start = f"starts at {self.since:%Y-%m-%d %H:%M:%S} UTC" if self.since else "reads everything"
            mark = f", not at its newest item ({self.mark:%Y-%m-%d %H:%M:%S} UTC)" if self.mark else ""
            said.append(f"{start}{mark}: job {self.job_id} left {listing} unread (retry that job to read only it)")
        for stream in dict.fromkeys(g.stream for g in self.items):
            named = [g.key or g.item_external_id for g in self.items if g.stream == stream]
            shown = ", ".join(named[:5]) + (f" and {len(named) - 5:,} more" if len(named) > 5 else "")
            what = noun[:-1] if len(named) == 1 and noun.endswith("s") else noun
            said.append(f"re-reads the {stream} of {len(named):,} {what} ({shown}) that job {self.job_id} left "
                        f"unread (a retry of that job reads only them too)")
        return "; ".join(said) or None


def catch_up_point(engine: Engine, source: str, project: str, duplicates: str = "update") -> CatchUp:
    """Where the next catch-up of a project starts: the newest item timestamp of its last finished
    (succeeded or partial), non-dry-run import, held back only as far as the data it left unread needs.

    - A listing that broke off (a gap without an item: a repository's comment listing) leaves a window
      whose changes no later mark covers: that part counts as its own since-read point, and one that read
      everything from its first item (no since) defers to the import before it, or to a whole read. A
      retry that fills the gap gives the part its own mark back.
    - Data of one item left unread (an issue whose comments could not be fetched) does not hold the mark:
      the catch-up re-reads those items directly (`carried_gaps`, through `Source.fill`), so an item whose
      comments fail for good costs one item's read per run, not a whole read, and its comments arrive
      once the vendor answers. Their gaps are carried on to the catch-up's own part while unreadable.

    An undone import marks nothing, nor does any import started while what it created was stored (its undo removed
    those items, also where a later run had only updated them): the next run reads from the import before it (an
    undo, then a run of the project, brought back 1 item of 500: it read from the undone import's mark). Nor, for a
    run that applies changes (`duplicates` "update"), does an import that kept them out ("skip"): the edits it
    froze are behind its mark, and the run after it would never read them again; the items the newest import left
    unread are carried whatever its policy.

    Failed items do not hold the mark back either (a permanently unmappable item would pin every later
    catch-up): one missing from the store is read by the next run's deletion sweep; a stored one whose
    update failed waits for a retry of that job, or its next change."""
    listing_gap = select(import_gaps.c.id).where(and_(
        import_gaps.c.job_id == import_parts.c.job_id, import_gaps.c.project == import_parts.c.project,
        import_gaps.c.item_external_id == "")).exists()
    stmt = (select(import_parts.c.job_id, import_parts.c.high_water, import_jobs.c.options, import_jobs.c.created_at,
                   listing_gap.label("listing_gap"))
            .join(import_jobs, import_jobs.c.id == import_parts.c.job_id)
            .where(and_(import_jobs.c.source == source, import_parts.c.project == project,
                        import_parts.c.status.in_([JobStatus.SUCCEEDED.value, JobStatus.PARTIAL.value]),
                        import_parts.c.high_water.is_not(None)))
            .order_by(import_jobs.c.created_at.desc()))
    undos = select(import_jobs.c.id, import_jobs.c.created_at, import_jobs.c.undone_at, import_jobs.c.projects).where(
        and_(import_jobs.c.source == source, import_jobs.c.undone_at.is_not(None)))
    last: CatchUp | None = None
    passed: list[str] = []  # why newer imports' marks are passed over, for the job's note
    with engine.connect() as conn:
        undone = [(u.id, utc(u.created_at), utc(u.undone_at)) for u in conn.execute(undos)
                  if project in (u.projects or [])]
        for row in conn.execute(stmt):
            options = row.options or {}
            if options.get("dry_run"):
                continue
            started = utc(row.created_at)
            era = next((job for job, began, ended in undone if began <= started < ended), None)
            if era is not None:
                passed.append(f"job {row.job_id} (undone)" if era == row.job_id else
                              f"job {row.job_id} (run while undone job {era}'s items were stored)")
                continue
            mark = utc(row.high_water)
            if last is None:
                found = gaps(engine, row.job_id, project)
                last = CatchUp(since=mark, job_id=row.job_id, mark=mark,
                               held_by=tuple(dict.fromkeys(g.stream for g in found if not g.item_external_id)),
                               items=tuple(g for g in found if g.item_external_id))
            if duplicates != "skip" and options.get("duplicates") == "skip":
                passed.append(f"job {row.job_id} (it kept changes out: duplicates skip)")
                continue
            if not row.listing_gap:
                return replace(last, since=mark, passed=tuple(passed))
            since = (options.get("since_by_project") or {}).get(project) or options.get("since")
            if since:
                return replace(last, since=min(mark, utc(datetime.fromisoformat(since))), passed=tuple(passed))
    return replace(last, since=None, passed=tuple(passed)) if last is not None else \
        CatchUp(since=None, passed=tuple(passed))


def last_high_water(engine: Engine, source: str, project: str, duplicates: str = "update"):
    """The since-read point of the next catch-up of a project (`catch_up_point`), or None for a whole read."""
    return catch_up_point(engine, source, project, duplicates).since


def carried_gaps(engine: Engine, job_id: str, project: str) -> list[StreamGap]:
    """The items' gaps a catch-up part re-reads besides its since-window: those its job's launch found
    left open by the project's last import (`catch_up_point`), as they are now (a retry of that job
    may have filled some since)."""
    with engine.connect() as conn:
        job = get_job(conn, job_id)
    earlier = ((job.options or {}).get("gaps_from") or {}).get(project) if job is not None else None
    if not earlier:
        return []
    return [g for g in gaps(engine, earlier, project) if g.item_external_id]


def stored_from(engine: Engine, source: str, project: str) -> dict | None:
    """The public settings (its server among them) of the newest import that created or changed stored items of
    `project` of `source` (a failed one that wrote some too: attacker review), or None when none did. Where the
    project's items come from."""
    in_project = and_(work_items.c.source == source, work_items.c.project == project)
    wrote = union(select(work_items.c.created_by_job.label("job")).where(in_project),
                  select(work_items.c.updated_by_job.label("job")).where(in_project,
                                                                         work_items.c.updated_by_job.is_not(None)))
    stmt = (select(import_jobs.c.options).where(import_jobs.c.id.in_(select(wrote.subquery().c.job)))
            .order_by(import_jobs.c.created_at.desc()))
    with engine.connect() as conn:
        return next(((o or {}).get("config") or {} for o in conn.execute(stmt).scalars()
                     if not (o or {}).get("dry_run")), None)


def creators(engine: Engine, source: str, project: str) -> set[str]:
    """Who started the imports that created the stored items of `project` (live or soft-deleted): whose data it is
    (`requested_by`, "schedule:ID" for a scheduled run)."""
    made = select(work_items.c.created_by_job).where(and_(work_items.c.source == source,
                                                          work_items.c.project == project)).distinct()
    with engine.connect() as conn:
        return set(conn.execute(select(import_jobs.c.requested_by).where(import_jobs.c.id.in_(made))).scalars())
