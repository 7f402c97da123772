"""The deletion sweep: after a part has read what changed, find what no longer exists at the source.

A catch-up run reads only what changed since the last one, and a deletion changes nothing a
"since" query can see. So once the read is done, the sweep compares the store with the
source's id listing (`Source.item_ids`, the cheapest complete route each API has):

1. listed ids that are not live in the store (missed by a since-query's precision, revived at the
   source, or failed in an earlier run) are read with `Source.fetch` and written (with their stored
   keys where the store has them, as every `fetch` of the sweep: GitHub reads an issue by number);
2. live stored ids the listing lacks are offered to `Source.follow_moves` with their stored keys:
   what it re-reads was moved (its key and project follow; under a new id, as a GitHub transfer,
   the writer re-keys the one item), the rest is soft-deleted with its comments; stored items
   whose parent or links name a deleted one are re-read (`Source.fetch`), since a source drops
   such a reference without marking the referring item changed;
3. stored comments of items this run did not rewrite are re-checked where the source can
   (`Source.recheck_comments`: JIRA's `POST /comment/list`; GitHub answers from the comment ids its
   GraphQL id walk brought, with no request of its own, or reads the REST comment listing where a server
   has no GraphQL; GitLab's listings):
   gone ones are soft-deleted, edited ones updated. Items re-read with their whole comment list
   were already reconciled by the writer (`Page.comments_complete`). Moved originals (GitLab) still
   holding notes whose new item is stored are re-read first: the writer leaves those notes to the new
   item, where the move copied them (store/writer.py); they are at the source, never counted gone.

Knows neither RQ nor Streamlit: the runner hands it the part's own commit, so everything it writes
goes through the writer under the part's lease, and it is idempotent, so a resumed part simply
sweeps again. It is skipped for a project's first import (nothing stored to compare) and with
`--deletions ignore`; a dry run's sweep only counts the items it would find gone (`DeletionSweep._forecast`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, exists, or_, select

from importers.base import Source
from importers.model import Page
from store.schema import comments, work_items
from store.writer import BatchResult

RECHECK_CHUNK = 1000  # comment ids a `recheck_comments` call gets (JIRA's /comment/list takes 1,000)


@dataclass
class SweepResult:
    fetched: int = 0  # listed items that were not live in the store, read and written now
    moved: int = 0  # items the listing lacked that were found elsewhere and updated
    deleted_items: int = 0
    deleted_comments: int = 0


@dataclass(frozen=True)
class SweepHooks:
    """What the sweep needs from the part that runs it."""

    write: Callable[[list[Page]], BatchResult]  # commit pages like a batch, under the part's lease
    failed: Callable[[], set[str]]  # ids this part already reported as failed: not read again
    mark_items: Callable[[list[str]], tuple[int, int]]  # soft-delete items -> (items, comments) marked
    mark_comments: Callable[[list[str]], int]  # soft-delete comments -> marked


class DeletionSweep:
    def __init__(self, engine: Engine, source: Source, source_name: str, project: str, job_id: str,
                 hooks: SweepHooks, batch_size: int = 500, since: datetime | None = None, dry_run: bool = False):
        self.engine = engine
        self.source = source
        self.source_name = source_name
        self.project = project
        self.job_id = job_id
        self.hooks = hooks
        self.batch_size = batch_size
        self.since = since  # the part's since-read point: comments unchanged since may be re-checked by id only
        self.dry_run = dry_run

    def run(self) -> SweepResult:
        if self.dry_run:
            return self._forecast()
        result = SweepResult()
        present = self._listed()
        live = self._live_item_ids()
        new = sorted(present - live - self.hooks.failed())
        if new:
            result.fetched = self._write(self.source.fetch(self.project, new, self._keys(new)))[0]
        missing = sorted(live - present)
        if missing:
            keys = self._keys(missing)
            written, seen = self._write(self.source.follow_moves(self.project, missing, keys))
            result.moved = written
            gone = [eid for eid in missing if eid not in seen]
            if gone:
                result.deleted_items, result.deleted_comments = self.hooks.mark_items(gone)
                for project, ids in self._referring_to(set(gone)).items():
                    result.fetched += self._write(self.source.fetch(project, ids, self._keys(ids)))[0]
        stale = self._moved_originals_with_notes()
        if stale:
            result.fetched += self._write(self.source.fetch(self.project, stale, self._keys(stale)))[0]
        result.deleted_comments += self._recheck_comments()
        notes = self.source.sweep_notes(self.project)
        if notes:  # said on the job even where no page was written (a fallback with nothing to re-check)
            self.hooks.write([Page(notes=notes)])
        return result

    def _listed(self) -> set[str]:
        present: set[str] = set()
        for ids in self.source.item_ids(self.project):
            present.update(ids)
        return present

    def _forecast(self) -> SweepResult:
        """A dry run's sweep: the stored items the source no longer has, counted (`hooks.mark_items` counts, in a
        dry run) and not marked; those `follow_moves` finds elsewhere are moved, not gone. It reads the id listing
        and the moved items, writes nothing, and leaves the comment re-check to the import (a count of the items
        and comments found gone is what a user deciding on the import needs; review: a dry run of a project cut
        from 50 items to 7 said nothing of the 43 its import then marked deleted)."""
        result = SweepResult()
        missing = sorted(self._live_item_ids() - self._listed())
        if missing:
            seen = {eid for page in self.source.follow_moves(self.project, missing, self._keys(missing))
                    for eid in _found(page)}
            result.moved = sum(1 for eid in missing if eid in seen)
            gone = [eid for eid in missing if eid not in seen]
            if gone:
                result.deleted_items, result.deleted_comments = self.hooks.mark_items(gone)
        return result

    def _write(self, pages: Iterable[Page]) -> tuple[int, set[str]]:
        """Commit `pages` in batches; (items written, ids of items and failures seen)."""
        written, seen = 0, set[str]()
        for batch in _batched(pages, self.batch_size):
            for page in batch:
                page.cursor = None  # a sweep never moves the part's read position
                seen.update(_found(page))
            outcome = self.hooks.write(batch)
            written += outcome.created + outcome.updated
        return written, seen

    def _live_item_ids(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(work_items.c.external_id).where(and_(
                work_items.c.source == self.source_name, work_items.c.project == self.project,
                work_items.c.deleted_at.is_(None)))).scalars())

    def _keys(self, external_ids: list[str]) -> dict[str, str]:
        """external id -> stored key (soft-deleted items' too), for sources that find an item by its key
        (GitHub: a moved one by its old number, a re-read one by its number)."""
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(external_ids), RECHECK_CHUNK):
                rows = conn.execute(select(work_items.c.external_id, work_items.c.key).where(and_(
                    work_items.c.source == self.source_name,
                    work_items.c.external_id.in_(external_ids[start:start + RECHECK_CHUNK]))))
                found.update({row.external_id: row.key for row in rows})
        return found

    def _referring_to(self, gone: set[str]) -> dict[str, list[str]]:
        """project -> live items of this source whose parent or a link names one of `gone`."""
        found: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(work_items.c.external_id, work_items.c.project, work_items.c.parent_id,
                                       work_items.c.links).where(and_(
                work_items.c.source == self.source_name, work_items.c.deleted_at.is_(None))))
            for row in rows:
                targets = {row.parent_id} | {link.get("target_id") for link in row.links or []}
                if targets & gone:
                    found.setdefault(row.project, []).append(row.external_id)
        return found

    def _moved_originals_with_notes(self) -> list[str]:
        """Moved originals of the project that still hold live comments though their new item is stored
        live: parts of two projects written at once (PostgreSQL, READ COMMITTED) may each have missed
        the other's row. Re-read, the writer leaves their notes to the new item (not a deletion)."""
        new = work_items.alias()  # Core's alias: the ORM is not loaded by a worker
        with self.engine.connect() as conn:
            return sorted(conn.execute(select(work_items.c.external_id).where(and_(
                work_items.c.source == self.source_name, work_items.c.project == self.project,
                work_items.c.moved_to_id.is_not(None), work_items.c.deleted_at.is_(None),
                exists().where(and_(new.c.source == self.source_name, new.c.external_id == work_items.c.moved_to_id,
                                    new.c.deleted_at.is_(None))),
                exists().where(and_(comments.c.item_id == work_items.c.id, comments.c.deleted_at.is_(None)))))
            ).scalars())

    def _comments_to_recheck(self) -> list[str]:
        """Live comments of the project's live items that this job did not rewrite."""
        untouched = select(work_items.c.id).where(and_(
            work_items.c.source == self.source_name, work_items.c.project == self.project,
            work_items.c.deleted_at.is_(None),
            or_(work_items.c.updated_by_job.is_(None), work_items.c.updated_by_job != self.job_id)))
        with self.engine.connect() as conn:
            return sorted(conn.execute(select(comments.c.external_id).where(and_(
                comments.c.item_id.in_(untouched), comments.c.deleted_at.is_(None)))).scalars())

    def _recheck_comments(self) -> int:
        stored = self._comments_to_recheck()
        deleted = 0
        for start in range(0, len(stored), RECHECK_CHUNK):
            chunk = stored[start:start + RECHECK_CHUNK]
            pages = self.source.recheck_comments(self.project, chunk, self.since)
            if pages is None:  # the source has no such route: re-read items' lists are all there is
                return deleted
            still: set[str] = set()
            for batch in _batched(pages, self.batch_size):
                for page in batch:
                    page.cursor = None
                    still.update(c.external_id for c in page.comments)
                    still.update(page.comments_present)
                    still.update(f.external_id for f in page.failures)  # exists, but could not be read
                self.hooks.write(batch)
            gone = [eid for eid in chunk if eid not in still]
            if gone:
                deleted += self.hooks.mark_comments(gone)
        return deleted


def _found(page: Page) -> Iterator[str]:
    """The ids a page shows at the source: its items, those it followed under a new id, and its failures."""
    for item in page.items:
        yield item.external_id
        if item.moved_from_id:  # followed under a new id
            yield item.moved_from_id
    yield from (f.external_id for f in page.failures)


def _batched(pages: Iterable[Page], size: int) -> Iterator[list[Page]]:
    batch: list[Page] = []
    count = 0
    for page in pages:
        batch.append(page)
        count += page.size + len(page.comments) // 4
        if count >= size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch
