"""Live progress at `import:job:{job_id}` in Redis: one JSON document, 24 h TTL.

The store holds the truth (counters committed with each batch); Redis holds a snapshot of it
so that status reads are one GET. When Redis lost the key (TTL, restart) the snapshot is
rebuilt from the store. A Redis outage never stops an import: writes are best effort.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

import redis
from sqlalchemy import Engine

from importers import source_label
from importers.errors import in_words
from importers.numbers import env_number
from importers.words import counted, listed
from store import jobs as job_store
from store.jobs import COUNTERS, SWEEP_COUNTERS, VISIBILITY_COUNTERS, JobStatus, now, utc

log = logging.getLogger(__name__)
TTL_SECONDS = 86_400
KEY_PREFIX = "import:job:"


def imported(doc: dict) -> str:
    """"GitHub / acme/web, acme/api": what an import (a progress document) or a schedule reads, as every surface
    names it."""
    return f"{source_label(doc['source'])} / {', '.join(doc['projects'])}"


STATE_LABELS = {  # a job's state -> its name on every surface (console, CLI); --json and the API keep the state
    "queued": "Queued", "running": "Running", "succeeded": "Succeeded", "partial": "Finished with failures",
    "failed": "Failed", "cancelled": "Cancelled",
    "undone": "Undone",  # not a job status: a finished job whose items were removed
}


def job_state(doc: dict) -> str:
    """The state a person sees: the job's status, or "undone" once its items were removed."""
    return "undone" if doc.get("undone_at") else doc["status"]


def job_state_label(doc_or_status: dict | str) -> str:
    """"Finished with failures" for a partial job, "Undone" for an undone one, and so on: the console's words, the
    CLI's too (`cli.py jobs` said "partial")."""
    state = job_state(doc_or_status) if isinstance(doc_or_status, dict) else doc_or_status
    return STATE_LABELS.get(state, state.replace("_", " ").capitalize())


def kept_word(doc: dict) -> str:
    """What the `skipped` counter of a job (a progress document) means, in words: "unchanged" where existing items
    are updated (a catch-up read them and found nothing to change), "skipped" where `--duplicates skip` kept
    changes out. The review found "1 skipped (already in the workspace)" after a catch-up that applied an edit."""
    return "unchanged" if doc.get("duplicates") == "update" else "skipped"


def key_for(job_id: str) -> str:
    return f"{KEY_PREFIX}{job_id}"


def stale_after() -> float:
    """Seconds without a heartbeat after which a running part's worker counts as lost."""
    return env_number("IMPORT_HEARTBEAT_TIMEOUT", 60.0)


def _iso(value: datetime | None) -> str | None:
    value = utc(value)
    return value.isoformat() if value else None


def snapshot(engine: Engine, job_id: str) -> dict | None:
    """The progress document, computed from the store."""
    with engine.connect() as conn:
        job = job_store.get_job(conn, job_id)
        if job is None:
            return None
        parts = job_store.get_parts(conn, job_id)
        unread_by_part = job_store.gap_counts(conn, job_id)
        attempts = job_store.attempts(conn, job_id)
    counts = {c: sum(getattr(p, c) or 0 for p in parts) for c in COUNTERS}
    found = {c: sum(getattr(p, c) or 0 for p in parts) for c in SWEEP_COUNTERS}
    status = JobStatus(job.status)
    cutoff = now() - timedelta(seconds=stale_after())
    lost = [p.project for p in parts if p.status == JobStatus.RUNNING.value
            and (utc(p.heartbeat_at) or cutoff) < cutoff]
    started = min((utc(p.started_at) for p in parts if p.started_at), default=None)
    last_beat = max((utc(p.heartbeat_at) for p in parts if p.heartbeat_at), default=None)
    finished = utc(job.finished_at)
    elapsed = _working_seconds(started, finished, attempts)
    # A part's total is known once its source estimated it (or it has read everything); a source that
    # cannot count (GitHub without search) leaves it unknown: no percentage, no time left, not 99.9%.
    total_known = status.finished or all(p.total or p.done_reading for p in parts)
    started_reading = any(p.status != JobStatus.QUEUED.value or p.processed for p in parts)
    total = max(counts["total"], counts["processed"])
    rate = counts["processed"] / elapsed if elapsed > 0 else 0.0
    remaining = max(total - counts["processed"], 0)
    waiting = [p for p in parts if p.waiting_until and utc(p.waiting_until) > now()]
    percentage: float | None
    if status.finished:
        percentage = 100.0 if status in (JobStatus.SUCCEEDED, JobStatus.PARTIAL) else (
            round(100.0 * counts["processed"] / total, 1) if total else 0.0)
    elif not total_known and started_reading:
        percentage = None
    else:
        percentage = round(min(100.0 * counts["processed"] / total, 99.9), 1) if total else 0.0
    # at least a second while work remains: rounded, a last fraction of a second read "0s" left of a running job
    eta = max(1.0, round(remaining / rate, 1)) if rate > 0 and remaining > 0 and total_known and not status.finished \
        else None
    error = _reason(job.error, job.projects)
    if lost and not status.finished:
        error = f"worker lost (no heartbeat since {max(utc(p.heartbeat_at) or cutoff for p in parts):%H:%M:%S} UTC); " \
                f"it resumes when a worker is running, or use retry"
    options = job.options or {}
    return {
        "job_id": job.id,
        "source": job.source,
        "projects": list(job.projects),
        # an undone job reads undone wherever it is shown (its run's outcome stays in `attempts`)
        "status": JobStatus.UNDONE.value if job.undone_at else status.value,
        **counts,
        "total": total if total_known else None,
        "total_known": total_known,
        "percentage": percentage,
        "phase": _phase(parts) if not status.finished else None,
        "items_per_second": round(rate, 1),
        "eta_seconds": eta,
        "started_at": _iso(started),
        "updated_at": _iso(last_beat or job.created_at),
        "finished_at": _iso(finished),
        "created_at": _iso(job.created_at),
        "error": error,
        # the settings (by environment variable) the server's environment supplied: a reason naming one names
        # the variable on every surface (`shown_in`)
        "settings_from_env": list(options.get("from_env") or []),
        "worker_lost": bool(lost) and not status.finished,
        "waiting_until": _iso(min(utc(p.waiting_until) for p in waiting)) if waiting else None,
        "wait_reason": waiting[0].wait_reason if waiting else None,
        # non-public items and comments read (a dry run counts them too), see importers.model.Visibility
        **{c: sum(getattr(p, c) or 0 for p in parts) for c in VISIBILITY_COUNTERS},
        # stored items and comments a changed mapping re-filed before this job read anything (jobs/remap.py)
        "remapped": sum(int((p.census or {}).get("remapped") or 0) for p in parts),
        # stream -> items whose comments / attachments / people could not be read (the items are kept)
        "unread": dict(sum((Counter(u) for u in unread_by_part.values()), Counter())),
        # what the read said about itself, e.g. the source's own count differing from the rows returned
        "notes": [f"{p.project}: {n}" if len(parts) > 1 else n for p in parts for n in (p.notes or [])],
        **found,
        "deletions_summary": deletions_summary(found["deleted_items"], found["deleted_comments"]),
        "wait_kind": (waiting[0].wait_kind or "retry") if waiting else None,
        "duplicates": options.get("duplicates", "skip"),
        "deletions": options.get("deletions", "mark"),
        "dry_run": bool(options.get("dry_run")),
        "since": options.get("since"),
        "cancel_requested": bool(job.cancel_requested),
        "undone_at": _iso(job.undone_at),
        "requested_by": job.requested_by,
        "parts": [
            {"project": p.project, "status": p.status, **{c: getattr(p, c) or 0 for c in COUNTERS + SWEEP_COUNTERS},
             # comments read and written (the part's census, jobs/census.py)
             "comments": int((p.census or {}).get("comments") or 0),
             "comments_written": int((p.census or {}).get("comments_written") or 0),
             # the comments the source says the items read have (None where it gives no count: ServiceNow)
             "comments_at_source": (p.census or {}).get("comments_at_source"),
             # items whose comments could not be read (a retry of failed items reads them again)
             "comments_unread": unread_by_part.get(p.project, {}).get("comments", 0),
             "error": _reason(p.error)}
            for p in parts
        ],
        "attempts": _attempts(job, attempts, status, counts),
    }


LEGACY_CANCEL = "cancelled on request"  # the reason older releases stored for a cancel the user asked for


def _reason(text: str | None, projects: Iterable[str] = ()) -> str | None:
    """A stored reason as the document gives it: without the "cancelled on request" older releases stored for a
    cancel (a cancel is no error: the status says it, so the CLI read "error: cancelled on request" and the attempts
    table "Cancelled: cancelled on request"); a job's "ACME: cancelled on request" for its project ACME goes too, the
    others stay. Only those exact pieces: a vendor's error text that ends the same way ("JIRA refused ... (HTTP 400):
    query: cancelled on request") is a failure's reason, not a cancel, and left a failed job without one."""
    if not text:
        return None
    legacy = {LEGACY_CANCEL, *(f"{project}: {LEGACY_CANCEL}" for project in projects)}
    kept = [piece for piece in text.split("; ") if piece not in legacy]
    return "; ".join(kept) or None


def shown_in(doc: dict, where: str) -> dict:
    """The progress document `doc` as `where` (importers.errors CLI, API or CONSOLE) shows it: its stored reasons (the
    job's, each part's, each attempt's) name a source's settings in that surface's words, by the one table a live
    error uses (`SourceError.shown_in`, `SETTING_WORDS`): the worker's "check JIRA_USER_EMAIL and JIRA_API_TOKEN"
    reads 'check config.user_email and config.api_token' in the HTTP API, the form's fields in the console.

    A reason is stored as the worker wrote it, in the variables' names (the CLI's words), and rendered here, when it
    is shown: the document in Redis serves every surface. A setting the server's environment supplied
    (`settings_from_env`) keeps its variable's name everywhere: that is where it is fixed (by the admin, who reads
    the variable), and a user pointed at a form field or `config.` key they never filled would change nothing."""
    keep = doc.get("settings_from_env") or ()

    def said(reason: str | None) -> str | None:
        return in_words(reason, where, keep) if reason else reason

    return {**doc, "error": said(doc.get("error")),
            "parts": [{**p, "error": said(p.get("error"))} for p in doc.get("parts") or []],
            "attempts": [{**a, "error": said(a.get("error"))} for a in doc.get("attempts") or []]}


def gone_counts(items: int, comments: int) -> str:
    """"4 items and 11 comments": what a run found gone ("" for nothing)."""
    return listed([counted(n, noun) for n, noun in ((items, "items"), (comments, "comments")) if n])


def deletions_summary(items: int, comments: int) -> str | None:
    """"4 items and 11 comments no longer at the source", or None when a run found nothing gone."""
    return f"{gone_counts(items, comments)} no longer at the source" if items or comments else None


PHASES = ("writing", "comments", "items", "estimating", "retrying")  # the busiest first: what a job "does now"


def _phase(parts: list) -> str | None:
    """What a running job is doing now, from its running parts' phases (see jobs/runner.py)."""
    phases = {p.phase for p in parts if p.status == JobStatus.RUNNING.value and p.phase}
    return next((phase for phase in PHASES if phase in phases), None)


def _working_seconds(started: datetime | None, finished: datetime | None, rows: list) -> float:
    """Seconds the job's runs took, from its first part's start: each run from its start to its end (a run
    not ended yet, to now), not the time between runs. A retry an hour after the first run counted that hour,
    so a job read at 266 items/s showed 3.2 items/s once its 3 failed items were retried."""
    if started is None:
        return 0.0
    end = finished or now()
    if len(rows) < 2:
        return (end - started).total_seconds()
    seconds = 0.0
    for i, row in enumerate(rows):
        begin = max(utc(row.started_at), started) if i == 0 else utc(row.started_at)
        stop = utc(row.finished_at) or (utc(rows[i + 1].started_at) if i + 1 < len(rows) else end)
        seconds += max((stop - begin).total_seconds(), 0.0)
    return seconds


def _attempts(job, rows: list, status: JobStatus, counts: dict[str, int]) -> list[dict]:
    """Each run of the job with its outcome; the running one carries the job's live status."""
    if not rows:  # a job recorded before attempts were kept: its one known run
        return [{"number": 1, "requested_by": job.requested_by, "started_at": _iso(job.created_at),
                 "finished_at": _iso(job.finished_at), "status": status.value,
                 "error": _reason(job.error, job.projects), **{c: counts[c] for c in COUNTERS}}]
    found = []
    for row in rows:
        latest = row.number == rows[-1].number
        found.append({"number": row.number, "requested_by": row.requested_by, "started_at": _iso(row.started_at),
                      "finished_at": _iso(row.finished_at),
                      "status": status.value if latest and not row.finished_at else row.status,
                      "error": _reason(row.error, job.projects),
                      **{c: (counts[c] if latest and not row.finished_at else getattr(row, c) or 0)
                         for c in COUNTERS}})
    return found


class ProgressStore:
    """Reads and writes progress snapshots in Redis, falling back to the store."""

    def __init__(self, connection: redis.Redis, engine: Engine):
        self.redis = connection
        self.engine = engine

    def publish(self, job_id: str) -> dict | None:
        """Recompute the snapshot from the store and put it in Redis (best effort)."""
        doc = snapshot(self.engine, job_id)
        if doc is not None:
            try:
                self.redis.set(key_for(job_id), json.dumps(doc), ex=TTL_SECONDS)
            except redis.RedisError as exc:
                log.warning("progress for job %s not published to Redis: %s", job_id, exc)
        return doc

    def read(self, job_id: str) -> dict | None:
        """One GET in the common case; a running job whose worker went quiet is re-checked in the store."""
        try:
            raw = self.redis.get(key_for(job_id))
        except redis.RedisError:
            raw = None
            return snapshot(self.engine, job_id)
        if raw is None:
            return self.publish(job_id)
        doc = json.loads(raw)
        if doc["status"] in (JobStatus.RUNNING.value, JobStatus.QUEUED.value):
            updated = datetime.fromisoformat(doc["updated_at"]) if doc.get("updated_at") else None
            if updated is None or (now() - updated).total_seconds() > stale_after():
                return self.publish(job_id)
        return doc
