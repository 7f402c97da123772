"""Soft deletes: items and comments that no longer exist at their source.

A catch-up run that finds an item or comment gone does not drop its row: it marks it with
`deleted_at` (when the run found it gone) and `deleted_by_job`, so nothing imported silently
vanishes, a mistaken sweep can be seen, and an item that reappears is simply revived by the
writer. Every read for people hides marked rows by default (`visible`); `purge` erases them for
good (a pasted password must be erasable). This module is the only place that sets or clears
the two columns' meaning; store/writer.py clears them when a row is written again.
"""
from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import ColumnElement, Connection, Table, and_, delete, func, select, true, update

from .jobs import now
from .schema import comments, work_items

_CHUNK = 500  # keeps IN (...) lists well under every driver's parameter limit


class Deletions(StrEnum):
    """What a run does with items and comments it finds gone from the source (`--deletions`)."""

    MARK = "mark"  # soft-delete them: hidden from reads, kept until purged (the default)
    PURGE = "purge"  # soft-delete, then erase them at the end of the run
    IGNORE = "ignore"  # do not look: no id listing, no authoritative comment lists


def visible(table: Table, deleted: bool | None = False) -> ColumnElement[bool]:
    """The rows a read shows: live ones (`deleted=False`, the default everywhere), only soft-deleted
    ones (`True`), or both (`None`). `table` is `work_items` or `comments`."""
    if deleted is None:
        return true()
    return table.c.deleted_at.is_not(None) if deleted else table.c.deleted_at.is_(None)


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def mark_items(conn: Connection, source: str, external_ids: Iterable[str], job_id: str) -> tuple[int, int]:
    """Soft-delete these live items of `source` and their live comments, in the caller's
    transaction; returns (items marked, comments marked). Ids already marked are left as they
    were (the first run that found them gone keeps the credit)."""
    items = comments_marked = 0
    when = now()
    for chunk in _chunks(sorted(set(external_ids))):
        ids = select(work_items.c.id).where(and_(work_items.c.source == source, work_items.c.external_id.in_(chunk),
                                                 work_items.c.deleted_at.is_(None)))
        comments_marked += conn.execute(update(comments).where(and_(
            comments.c.item_id.in_(ids), comments.c.deleted_at.is_(None)))
            .values(deleted_at=when, deleted_by_job=job_id)).rowcount
        items += conn.execute(update(work_items).where(and_(
            work_items.c.source == source, work_items.c.external_id.in_(chunk), work_items.c.deleted_at.is_(None)))
            .values(deleted_at=when, deleted_by_job=job_id)).rowcount
    return items, comments_marked


def count_live(conn: Connection, source: str, external_ids: Iterable[str]) -> tuple[int, int]:
    """(items, comments) `mark_items` would mark for these ids, marking nothing: what a dry run says an import would
    find gone."""
    items = comments_live = 0
    for chunk in _chunks(sorted(set(external_ids))):
        live = and_(work_items.c.source == source, work_items.c.external_id.in_(chunk),
                    work_items.c.deleted_at.is_(None))
        items += conn.execute(select(func.count()).select_from(work_items).where(live)).scalar_one()
        comments_live += conn.execute(select(func.count()).select_from(comments).where(and_(
            comments.c.item_id.in_(select(work_items.c.id).where(live)), comments.c.deleted_at.is_(None)))).scalar_one()
    return items, comments_live


def mark_comments(conn: Connection, source: str, external_ids: Iterable[str], job_id: str) -> int:
    """Soft-delete these live comments of `source`; returns how many were marked."""
    marked = 0
    when = now()
    for chunk in _chunks(sorted(set(external_ids))):
        marked += conn.execute(update(comments).where(and_(
            comments.c.source == source, comments.c.external_id.in_(chunk), comments.c.deleted_at.is_(None)))
            .values(deleted_at=when, deleted_by_job=job_id)).rowcount
    return marked


def drop_missing_comments(conn: Connection, item_ids: list[int], present: set[str], source: str,
                          job_id: str) -> int:
    """Soft-delete the live comments of these stored items (row ids) whose external id is not in
    `present`: for items whose whole comment list was just read (`Page.comments_complete`)."""
    gone: list[str] = []
    for chunk in _chunks([str(i) for i in item_ids]):
        rows = conn.execute(select(comments.c.external_id).where(and_(
            comments.c.item_id.in_([int(i) for i in chunk]), comments.c.deleted_at.is_(None))))
        gone.extend(eid for eid in rows.scalars() if eid not in present)
    return mark_comments(conn, source, gone, job_id) if gone else 0


def purge(conn: Connection, *, source: str | None = None, project: str | None = None,
          job_id: str | None = None) -> tuple[int, int]:
    """Erase soft-deleted rows for good, in the caller's transaction: the comments marked deleted
    and every comment of an item marked deleted, then those items. Narrowed to a source, a
    project and/or the job that marked them; returns (items erased, comments erased)."""
    item_where: list[ColumnElement[bool]] = [work_items.c.deleted_at.is_not(None)]
    if source:
        item_where.append(work_items.c.source == source)
    if project:
        item_where.append(work_items.c.project == project)
    if job_id:
        item_where.append(work_items.c.deleted_by_job == job_id)
    gone_items = select(work_items.c.id).where(and_(*item_where))
    comment_where: list[ColumnElement[bool]] = [comments.c.deleted_at.is_not(None)]
    if source:
        comment_where.append(comments.c.source == source)
    if job_id:
        comment_where.append(comments.c.deleted_by_job == job_id)
    if project:
        in_project = select(work_items.c.id).where(work_items.c.project == project)
        comment_where.append(comments.c.item_id.in_(in_project))
    erased_comments = conn.execute(delete(comments).where(and_(*comment_where))).rowcount
    erased_comments += conn.execute(delete(comments).where(comments.c.item_id.in_(gone_items))).rowcount
    erased_items = conn.execute(delete(work_items).where(and_(*item_where))).rowcount
    return erased_items, erased_comments
