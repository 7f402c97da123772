"""Runs one part of an import (one project): read pages, write batches, sweep, checkpoint, report.

Knows neither RQ nor Streamlit. A reader fetches and maps the next pages from the source while
the current batch is written, so network latency, mapping and database time overlap: on Linux in a
process of its own (jobs/reader.py), so that mapping and writing use two cores; elsewhere in a thread.
Each batch is committed in one transaction with the source cursor and the counters, under the part's lease:
a crash loses at most the batch in flight, and a resumed run continues after the last commit.
Once the read is done, the deletion sweep (sweep.py) finds what no longer exists at the source.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, and_, or_, select
from sqlalchemy.exc import DBAPIError, OperationalError

from importers.base import Source
from importers.errors import SourceError
from importers.limits import ItemLimits
from importers.model import Page, StreamGap
from importers.numbers import env_number, env_whole
from importers.retry import RetryPolicy, Transient
from importers.words import counted
from store import census as census_store
from store import jobs as job_store
from store import mappings as mapping_store
from store import planner_stats, soft_delete
from store.jobs import JobStatus, now
from store.schema import import_jobs, work_items
from store.soft_delete import Deletions
from store.writer import UPDATE, BatchResult, upsert_project, write_batch

from . import census, reader
from .mapping import Mapping
from .remap import remap
from .sweep import DeletionSweep, SweepHooks, SweepResult

log = logging.getLogger(__name__)
_DONE = object()
COMMENTS_PER_ITEM = 4  # a batch of N items may also carry up to 4 N comments
PAGES_PER_BATCH = 100  # pages that bring no items (pull requests only, empty) still reach a checkpoint
BATCH_SECONDS = 2.0  # a batch is written at least this often while pages come (the progress view refreshes as often)
# pages read ahead of the writer: 3, or more up to 4 batches' worth and 8 M characters of text (see ReadAhead)
READ_AHEAD_PAGES, READ_AHEAD_BATCHES, READ_AHEAD_TEXT = 3, 4, 8_000_000
READER_RESTARTS = 2  # a run resumes by itself at most this often after its reader process was killed
T = TypeVar("T")


class ReadAhead:
    """Pages read ahead of the writer: at least `pages` of them, and more while those hold fewer than
    `weight` items (a comment weighs 1/COMMENTS_PER_ITEM, as in a batch; a page at least 1) and fewer than
    `text` characters of titles, descriptions and comment bodies. `put` and `get` block up to `timeout`
    seconds and raise queue.Full / queue.Empty, as a queue.Queue's do.

    Three pages alone kept the reader of a source with small pages (GitHub's 100 issues or comments)
    waiting on the writer: the writer takes a batch of five such pages and, while it wrote them, the
    reader sent three more and blocked, so the two processes took turns instead of running side by
    side (10,000 GitHub issues: 7% longer as a whole process). Large pages stay at three, as before:
    ServiceNow's 1,000 tickets by weight, pages of long bodies (bots' 64 KB comments, a hostile server's
    answers up to IMPORT_MAX_RESPONSE_MB) by their text, so memory stays bounded."""

    def __init__(self, pages: int, weight: int, text: int):
        self.pages, self.weight_limit, self.text_limit = pages, weight, text
        self._held: deque[tuple[object, int, int]] = deque()  # (thing, its weight, its text) as put
        self._weight = self._text = 0
        self._changed = threading.Condition()

    def _room(self) -> bool:
        return len(self._held) < self.pages or (self._weight < self.weight_limit and self._text < self.text_limit)

    def put(self, thing: object, timeout: float) -> None:
        weight, text = _load(thing)  # outside the lock: the writer's `get` need not wait for the count
        with self._changed:
            if not self._changed.wait_for(self._room, timeout):
                raise queue.Full
            self._held.append((thing, weight, text))
            self._weight += weight
            self._text += text
            self._changed.notify_all()

    def get(self, timeout: float) -> object:
        with self._changed:
            if not self._changed.wait_for(lambda: self._held, timeout):
                raise queue.Empty
            thing, weight, text = self._held.popleft()
            self._weight -= weight
            self._text -= text
            self._changed.notify_all()
            return thing


def _load(thing: object) -> tuple[int, int]:
    """(weight, characters of text) of what the reader hands over."""
    if not isinstance(thing, Page):
        return 1, 0  # the end of the read, an error
    text = sum(len(i.title) + len(i.description) for i in thing.items) + sum(len(c.body) for c in thing.comments)
    return max(1, thing.size + len(thing.comments) // COMMENTS_PER_ITEM), text


@dataclass(frozen=True)
class PartRun:
    """What one worker run of one part needs to know."""

    job_id: str
    project: str
    lease: str
    source_name: str
    policy: str = UPDATE  # the duplicates policy: update applies what changed, skip freezes a first import
    deletions: str = Deletions.MARK
    dry_run: bool = False
    since: datetime | None = None
    batch_size: int = 500
    mapping: dict[str, Any] | None = None  # the rules of the project's mapping (jobs/mapping.py), if it has one


class LeaseLost(Exception):
    """Another worker took the part over (this one was presumed dead): stop without writing."""


class Stopped(Exception):
    """Cancelled on request."""


class Incomplete(Exception):
    """The part read every item it could, but some of their comments, attachments or people not."""


READ, RETRY, FILL, CARRY, SWEEP = "read", "retry", "fill", "carry", "sweep"  # how a batch is committed: see _commit


def unread_reason(gaps: list[StreamGap], noun: str) -> str:
    """One line for a part that ended with unread data, e.g. "comments of 3 tickets could not be
    read (ServiceNow answered HTTP 500); the items are kept, retry reads only what is missing"."""
    what = []
    for stream in dict.fromkeys(g.stream for g in gaps):
        items = sum(1 for g in gaps if g.stream == stream and g.item_external_id)
        if items:
            what.append(f"{stream} of {counted(items, noun)}")
        if any(g.stream == stream and not g.item_external_id for g in gaps):
            what.append(f"part of the {stream} listing")
    return (f"{', '.join(what)} could not be read ({gaps[0].reason}); "
            "the items are kept, retry reads only what is missing")


class PartRunner:
    def __init__(self, engine: Engine, source: Source, run: PartRun, publish: Callable[[], object],
                 cancel_requested: Callable[[], bool]):
        self.engine = engine
        self.source = source
        self.run_info = run
        self.publish = publish
        self.cancel_requested = cancel_requested
        self.store_retry = RetryPolicy("the workspace store")
        self._stop = threading.Event()
        self._cancel_check_at = time.monotonic() + cancel_poll()  # when _waiting next asks the store
        self._cursor: dict[str, Any] | None = None  # the read position after the last committed batch
        self._known_failed: set[str] = set()  # failed items a retry has not fixed yet
        self._before_since = 0  # what the read's pages left out as changed before its `since` (Page.before_since)
        self.phase = "estimating"  # what the part does now, for the progress view (jobs/progress.PHASES)
        self.mapping = Mapping.from_rules(run.mapping) if run.mapping else None
        self._foreign_jobs: dict[str, bool] = {}  # job id -> whether it read another server (`_foreign`)
        source.set_wait_listener(self._on_wait)

    def _foreign(self, job_id: str | None) -> bool:
        """Whether the import `job_id` read another server than this one does (store/writer.py keeps such an import's
        rows of other projects from an id both servers give). A row of no known job is nobody's to keep."""
        if job_id is None or job_id == self.run_info.job_id:
            return False
        if job_id not in self._foreign_jobs:
            with self.engine.connect() as conn:
                options = conn.execute(select(import_jobs.c.options).where(import_jobs.c.id == job_id)).scalar()
            origin = type(self.source).origin
            self._foreign_jobs[job_id] = options is not None and \
                origin((options or {}).get("config") or {}) != origin(self.source.config)
        return self._foreign_jobs[job_id]

    # -- callbacks -----------------------------------------------------------------------
    def _on_wait(self, until: datetime | None, reason: str) -> None:
        r = self.run_info
        kind = ("rate_limit" if getattr(reason, "rate_limited", False) else "retry") if until else None
        job_store.set_part(self.engine, r.job_id, r.project, r.lease, waiting_until=until,
                           wait_reason=reason or None, wait_kind=kind, heartbeat_at=now())
        if self._stop.is_set():  # the part has ended: its final snapshot is the runner's to publish
            return
        self.publish()

    def _heartbeat_loop(self, interval: float) -> None:
        r = self.run_info
        while not self._stop.wait(interval):
            try:
                job_store.heartbeat(self.engine, r.job_id, r.project, r.lease, phase=self.phase)
                self.publish()
            except Exception as exc:  # the store may be briefly down; the batch commit will say so
                reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]  # not the whole SQL
                log.warning("heartbeat for job %s failed: %s: %s", r.job_id, type(exc).__name__, reason)

    # -- reading -------------------------------------------------------------------------
    def _prefetch(self, pages: Iterator[Page]) -> Iterator[Page]:
        """Yield `pages` while they are read ahead, so fetching overlaps writing: in a process of
        its own where fork is safe (jobs/reader.py: mapping then uses the second core), else in a thread."""
        buffer = ReadAhead(READ_AHEAD_PAGES, READ_AHEAD_BATCHES * self.run_info.batch_size, READ_AHEAD_TEXT)
        stop = self._stop
        ended = threading.Event()  # the consumer has gone: nothing more is handed over
        remote: reader.ReaderProcess | None = None

        def hand(thing: object) -> bool:
            while not (stop.is_set() or ended.is_set()):
                try:
                    buffer.put(thing, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        def read() -> None:
            try:
                for page in remote or pages:
                    if not hand(page):
                        return
                hand(_DONE)
            except BaseException as exc:  # handed to the writer thread, which decides
                hand(exc)

        limits = ItemLimits()
        try:
            remote = reader.start(self.source, pages, self._on_wait, name=f"reader-{self.run_info.job_id}")
            threading.Thread(target=read, name=f"reader-{self.run_info.job_id}", daemon=True).start()
            while True:
                item = self._waiting(buffer)
                if isinstance(item, Page):
                    item = limits.apply(item)
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            ended.set()
            if remote is not None:  # ended, failed, or stopped (cancel, lease lost): the reader ends too
                remote.stop()

    def _waiting(self, results: queue.Queue | ReadAhead) -> Any:
        """The next thing `results` holds. Checks for Cancel every `cancel_poll()` seconds by the clock,
        whatever arrives: while a vendor keeps a read hanging (the hung read is left to its deadline), and
        while pages stream in that never fill a batch (empty pages, pull requests only)."""
        while True:
            left = self._cancel_check_at - time.monotonic()
            if left <= 0:
                self._cancel_check_at = time.monotonic() + cancel_poll()
                if self._in_store(self.cancel_requested):
                    raise Stopped()
                continue
            try:
                return results.get(timeout=left)
            except queue.Empty:
                continue

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` (a source call) in a thread of its own, honouring Cancel while it waits."""
        results: queue.Queue = queue.Queue(maxsize=1)

        def run() -> None:
            try:
                results.put((True, fn(*args)))
            except BaseException as exc:  # handed to the waiting thread, which decides
                results.put((False, exc))

        threading.Thread(target=run, name=f"source-{self.run_info.job_id}", daemon=True).start()
        ok, value = self._waiting(results)
        if not ok:
            raise value
        return value

    def _batches(self, pages: Iterator[Page]) -> Iterator[tuple[list[Page], bool]]:
        """Group pages into batches of about `batch_size` items; the flag marks the last.

        Comments count too, up to COMMENTS_PER_ITEM a batch item: sources that list comments in
        pages of their own (GitHub's repo-wide comments) would otherwise pile every comment of
        a project into one final batch, in memory and without a checkpoint.

        A batch is also handed out once BATCH_SECONDS have passed since its first page: a slow source (a JIRA
        server taking seconds a page, a paced demo) filled a batch of 500 items in minutes, and the progress view,
        which shows what is committed, stood still meanwhile.

        When the read fails, the pages already read are still handed out (not as the last batch)
        before the error: one stream's failure must not discard what another stream delivered."""
        limit = self.run_info.batch_size
        batch: list[Page] = []
        items = comments = 0
        started = 0.0
        try:
            for page in self._prefetch(pages):
                if self.phase != "retrying":
                    self.phase = "comments" if page.comments and not page.items and not page.failures else "items"
                if not batch:
                    started = time.monotonic()
                batch.append(page)
                items += page.size
                comments += len(page.comments)
                if items >= limit or comments >= COMMENTS_PER_ITEM * limit or len(batch) >= PAGES_PER_BATCH \
                        or time.monotonic() - started >= BATCH_SECONDS:
                    yield batch, False
                    batch, items, comments = [], 0, 0
        except Exception:
            if batch:
                yield batch, False
            raise
        yield batch, True

    # -- writing -------------------------------------------------------------------------
    def _commit(self, pages: list[Page], done: bool, mode: str = READ) -> BatchResult:
        """Write one batch and advance the part in the same transaction.

        `mode` READ advances the read position and counts everything; RETRY re-reads failed items
        (counted as fixed, the read position stays); FILL re-reads what gaps name (counts stay, the
        data is written as `update`: it is exactly what this job could not read before); CARRY re-reads the
        items the project's last import left data of unread (like FILL, but it completes no listing); SWEEP writes
        what the deletion sweep re-read (counted like a read, but the read position stays). Only a READ moves the
        high-water mark: a re-read of chosen items vouches for no other item's changes (a retry of one item fixed
        at the source days later moved the mark past every edit made meanwhile, and the next catch-up lost them)."""
        r = self.run_info
        if self.mapping is not None:
            pages = [self.mapping.apply_page(page) for page in pages]
        counted = census.count(pages) if mode not in (FILL, CARRY) else None  # a fill re-reads what was counted
        cursor = next((p.cursor for p in reversed(pages) if p.cursor is not None), None)
        high_water = self._high_water(pages) if mode == READ else None
        policy = UPDATE if mode in (FILL, CARRY) else r.policy

        reading, self.phase = self.phase, "writing"

        def transaction() -> BatchResult:
            with self.engine.begin() as conn:
                if not job_store.owns(conn, r.job_id, r.project, r.lease):
                    raise LeaseLost()
                result = write_batch(conn, pages, source=r.source_name, job_id=r.job_id, policy=policy,
                                     dry_run=r.dry_run, deletions=r.deletions, foreign=self._foreign)
                fixed: list[str] = []
                filled: list[str] = []
                if mode == RETRY:
                    fixed = filled = list(result.succeeded_ids)
                    counts = {"created": result.created, "updated": result.updated,
                              "skipped": result.skipped, "failed": -len(self._known_failed & set(fixed))}
                elif mode in (FILL, CARRY):
                    filled = list(result.succeeded_ids)
                    if mode == FILL and done and not any(not g.item_external_id for g in result.gaps):
                        filled.append("")  # a project-wide listing read to its end
                    counts = {}
                else:
                    counts = {"processed": result.created + result.updated + result.skipped + result.failed,
                              "created": result.created, "updated": result.updated,
                              "skipped": result.skipped, "failed": result.failed,
                              "internal_items": result.internal_items,
                              "internal_comments": result.internal_comments}
                counts.update(frozen=result.frozen, deleted_comments=result.deleted_comments)
                # a retry re-reads items out of order: the read position stays where it was
                job_store.record_batch(
                    conn, r.job_id, r.project, cursor=cursor if mode == READ else self._cursor,
                    done_reading=done if mode == READ else True, high_water=None if r.dry_run else high_water,
                    counts=counts, failures=result.failures, fixed_ids=fixed, gaps=result.gaps, filled=filled,
                    notes=result.notes)
                if counted is not None:
                    census_store.advance(conn, r.job_id, r.project,
                                         {**counted, "comments_written": result.comments_written}, census.merge)
                return result

        result = self._in_store(transaction)  # retried whole, so it changes no state of ours before it commits
        if mode == READ:
            self._before_since += sum(p.before_since for p in pages)
        if not r.dry_run:
            planner_stats.keep_current(self.engine)  # a growing table's lookups stay on their index
        self.phase = reading
        if mode == RETRY:
            self._known_failed -= set(result.succeeded_ids)
        elif mode == READ:
            self._cursor = cursor if cursor is not None else self._cursor
        self._in_store(self.publish)
        if self._in_store(self.cancel_requested):
            raise Stopped()
        return result

    @staticmethod
    def _high_water(pages: list[Page]) -> datetime | None:
        """The newest item time of a batch of the read, no later than the read began where it does not follow
        update order (`Page.read_started_at`): the next catch-up starts there."""
        newest = max((i.updated_at for p in pages for i in p.items), default=None)
        began = min((p.read_started_at.astimezone(UTC) for p in pages if p.read_started_at is not None), default=None)
        return min(newest, began) if newest is not None and began is not None else newest

    def _in_store(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """Call the store, retrying while its connection is dropped or the database is locked.

        A PostgreSQL connection killed mid-statement or a SQLite lock held past busy_timeout is
        transient: without this, a store call between batches would crash a healthy import."""
        def attempt() -> T:
            try:
                return fn(*args, **kwargs)
            except DBAPIError as exc:
                if not (isinstance(exc, OperationalError) or exc.connection_invalidated):
                    raise
                reason = str(getattr(exc, 'orig', exc)).strip()[:200]
                raise Transient(f"workspace store unavailable: {reason}") from None

        return self.store_retry.call(attempt)

    # -- the run -------------------------------------------------------------------------
    def execute(self, retry_failures: bool = False) -> JobStatus:
        """Run the part to its end; returns the part's final status (also stored)."""
        r = self.run_info
        heartbeat = threading.Thread(target=self._heartbeat_loop, args=(_heartbeat_interval(),), daemon=True)
        heartbeat.start()
        try:
            status, error = self._resuming(retry_failures), None
        except LeaseLost:
            log.warning("job %s part %s was taken over by another worker; stopping", r.job_id, r.project)
            self._stop.set()
            return JobStatus.RUNNING
        except Stopped:
            status, error = JobStatus.CANCELLED, None  # asked for: the status says it, no reason to give
        except Incomplete as exc:
            status, error = JobStatus.PARTIAL, str(exc)
        except SourceError as exc:
            status, error = JobStatus.FAILED, str(exc)
        except Exception as exc:  # unexpected: keep the job resumable and say what broke
            log.exception("job %s part %s crashed", r.job_id, r.project)
            # its text may quote a vendor's answer or our request, as a SourceError's may: scrubbed the same way
            status, error = JobStatus.FAILED, self.source.retry.redact(
                f"internal error ({type(exc).__name__}): {str(exc)[:300]}")
        finally:
            self._stop.set()
            # a heartbeat mid-publish would otherwise write its "running" snapshot after the final one,
            # and readers would see a finished part as running until the snapshot went stale
            heartbeat.join()
            self.source.close()
        self._in_store(job_store.set_part, self.engine, r.job_id, r.project, r.lease, status=status.value,
                       error=error, finished_at=now(), waiting_until=None, wait_reason=None, lease=None)
        return status

    def _resuming(self, retry_failures: bool) -> JobStatus:
        """`_execute`, run again from the last committed batch when a signal killed its reader process
        (under memory pressure the OOM killer may pick the reader rather than the horse), as a new worker
        resumes a part whose work horse died; at most READER_RESTARTS times, then the part fails."""
        restarts = 0
        while True:
            try:
                return self._execute(retry_failures)
            except reader.ReaderDied as exc:
                if exc.signal is None or restarts == READER_RESTARTS:
                    raise
                restarts += 1
                r = self.run_info
                log.warning("job %s part %s: its reader process was killed by signal %d; resuming from the last "
                            "committed batch (%d of %d)", r.job_id, r.project, exc.signal, restarts, READER_RESTARTS)
                self._add_note(f"the reader process was killed by signal {exc.signal} during the read; resumed "
                               f"from the last committed batch (automatic resume {restarts} of {READER_RESTARTS})")

    def _execute(self, retry_failures: bool) -> JobStatus:
        r = self.run_info
        part = self._in_store(self._part)
        self._cursor = part.cursor
        sweep = r.deletions != Deletions.IGNORE and self._in_store(self._has_items)  # a dry run counts what is gone
        if not r.dry_run:
            project = self._call(self.source.project, r.project)
            self._in_store(self._upsert_project, project)
            if self.mapping is not None:
                self._in_store(self._remap, self.mapping)
        if not part.done_reading:
            total = part.total or None
            if not total:
                total = self._call(self.source.estimate, r.project, r.since)
                if total is not None:
                    job_store.set_part(self.engine, r.job_id, r.project, r.lease, total=total)
                    self.publish()
            self.phase = "items"
            for pages, last in self._batches(self.source.read(r.project, part.cursor, r.since)):
                self._commit(pages, last)
            if r.since is None:
                self._check_count(total)
            elif total is not None and self._before_since:  # the source counted what changed before `since` too
                self._in_store(job_store.set_part, self.engine, r.job_id, r.project, r.lease,
                               total=max(total - self._before_since, 0))
                self._in_store(self.publish)
        # the last import's unread items, read here so they need not hold the since back; those this part
        # read and left unread itself are its own gaps (a retry fills them, the next catch-up carries them)
        own = {(g.stream, g.item_external_id) for g in job_store.gaps(self.engine, r.job_id, r.project)}
        carried = [] if r.dry_run else [g for g in job_store.carried_gaps(self.engine, r.job_id, r.project)
                                        if (g.stream, g.item_external_id) not in own]
        if carried:
            self.phase = "retrying"
            for pages, last in self._batches(self.source.fill(r.project, carried)):
                if pages:
                    self._commit(pages, last, CARRY)
        if retry_failures:
            failed = job_store.failures(self.engine, r.job_id, r.project)
            self._known_failed = {f.external_id for f in failed}
            if failed:
                self.phase = "retrying"
                keys = {f.external_id: f.key for f in failed if f.key}
                for pages, _ in self._batches(self.source.fetch(r.project, [f.external_id for f in failed], keys)):
                    if pages:
                        self._commit(pages, True, RETRY)
            unread = job_store.gaps(self.engine, r.job_id, r.project)
            if unread:
                self.phase = "retrying"
                for pages, last in self._batches(self.source.fill(r.project, unread)):
                    if pages:
                        self._commit(pages, last, FILL)
        if sweep:
            self._sweep()
        part = self._in_store(self._part)
        unread = job_store.gaps(self.engine, r.job_id, r.project)
        if unread:
            raise Incomplete(unread_reason(unread, self.source.item_noun))
        return JobStatus.PARTIAL if part.failed else JobStatus.SUCCEEDED

    def _check_count(self, total: int | None) -> None:
        """Say on the job when the source's own count differs from the items its read returned."""
        part = self._in_store(self._part)
        if total is None or part.processed == total:
            return
        said = counted(total, self.source.item_noun)
        self._add_note(f"{self.source.label} counted {said} in {self.run_info.project}, its read returned "
                       f"{part.processed:,} (rows hidden from this account, or changed during the read)")

    def _add_note(self, note: str) -> None:
        """Say `note` on the job (the status, the API and the CLI show a part's notes)."""
        r = self.run_info
        part = self._in_store(self._part)
        self._in_store(job_store.set_part, self.engine, r.job_id, r.project, r.lease,
                       notes=[*(part.notes or []), note])
        self._in_store(self.publish)

    def _has_items(self) -> bool:
        """Whether earlier imports stored items of the project: a first import (also when resumed or
        retried) has nothing a sweep could find gone, so it skips the id listing."""
        r = self.run_info
        with self.engine.connect() as conn:
            return conn.execute(select(work_items.c.id).where(and_(
                work_items.c.source == r.source_name, work_items.c.project == r.project,
                or_(work_items.c.created_by_job.is_(None), work_items.c.created_by_job != r.job_id))).limit(1)
            ).first() is not None

    def _sweep(self) -> SweepResult:
        """Find and soft-delete what no longer exists at the source; with `--deletions purge`, erase it. A dry run
        counts the items it would find gone (on the part's deleted counters, as the import would) and marks nothing."""
        r = self.run_info
        planner_stats.keep_current(self.engine)  # a store last written before statistics were kept

        def mark_items(ids: list[str]) -> tuple[int, int]:
            def work(conn: Connection) -> tuple[int, int]:
                if r.dry_run:  # counted, not marked: the count is set, as a retried dry run sweeps again
                    items, comments_ = soft_delete.count_live(conn, r.source_name, ids)
                    part = job_store.get_part(conn, r.job_id, r.project)
                    self._count(conn, deleted_items=items - part.deleted_items,
                                deleted_comments=comments_ - part.deleted_comments)
                    return items, comments_
                items, comments_ = soft_delete.mark_items(conn, r.source_name, ids, r.job_id)
                self._count(conn, deleted_items=items, deleted_comments=comments_)
                return items, comments_
            return self._under_lease(work)

        def mark_comments(ids: list[str]) -> int:
            def work(conn: Connection) -> int:
                marked = soft_delete.mark_comments(conn, r.source_name, ids, r.job_id)
                self._count(conn, deleted_comments=marked)
                return marked
            return self._under_lease(work)

        def failed() -> set[str]:
            return {f.external_id for f in job_store.failures(self.engine, r.job_id, r.project)}

        hooks = SweepHooks(write=lambda pages: self._commit(pages, True, SWEEP), failed=lambda: self._in_store(failed),
                           mark_items=mark_items, mark_comments=mark_comments)
        result = DeletionSweep(self.engine, self.source, r.source_name, r.project, r.job_id, hooks,
                               r.batch_size, r.since, dry_run=r.dry_run).run()
        if r.deletions == Deletions.PURGE and not r.dry_run:
            self._under_lease(lambda conn: soft_delete.purge(conn, source=r.source_name, project=r.project,
                                                             job_id=r.job_id))
        self._in_store(self.publish)
        return result

    def _under_lease(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction that commits only while this worker holds the part."""
        r = self.run_info

        def transaction() -> T:
            with self.engine.begin() as conn:
                if not job_store.owns(conn, r.job_id, r.project, r.lease):
                    raise LeaseLost()
                return work(conn)
        return self._in_store(transaction)

    def _count(self, conn: Connection, **counts: int) -> None:
        r = self.run_info
        job_store.record_batch(conn, r.job_id, r.project, cursor=self._cursor, done_reading=True, high_water=None,
                               counts=counts, failures=[], fixed_ids=[])

    def _part(self):
        with self.engine.connect() as conn:
            return job_store.get_part(conn, self.run_info.job_id, self.run_info.project)

    def _remap(self, mapping: Mapping) -> None:
        """Re-map the project's stored items once when its mapping changed since they were last mapped."""
        fingerprint = mapping.fingerprint()
        with self.engine.connect() as conn:
            if mapping_store.applied(conn, mapping.source, mapping.project) == fingerprint:
                return
        changed = remap(self.engine, mapping)
        r = self.run_info
        with self.engine.begin() as conn:
            mapping_store.mark_applied(conn, mapping.source, mapping.project, mapping.rules(), fingerprint)
            census_store.advance(conn, r.job_id, r.project, {"remapped": changed}, census.merge)
        if changed:
            log.info("job %s: re-mapped %d stored items and comments of %s", self.run_info.job_id, changed,
                     mapping.project)

    def _upsert_project(self, project) -> None:
        with self.engine.begin() as conn:
            upsert_project(conn, project, self.run_info.job_id)


def _heartbeat_interval() -> float:
    return env_number("IMPORT_HEARTBEAT_INTERVAL", 5.0, low=0.2)


def cancel_poll() -> float:
    """Seconds between checks for Cancel while a read is in flight (IMPORT_CANCEL_POLL, 5)."""
    return env_number("IMPORT_CANCEL_POLL", 5.0, low=0.1)


def batch_size() -> int:
    return env_whole("IMPORT_BATCH_SIZE", 500, low=1)
