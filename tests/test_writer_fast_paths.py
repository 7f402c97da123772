"""The writer's shortcuts write what the long way wrote (issue 17): the same text for every
datetime in SQLite, and the same comments kept and dropped when a batch creates its items."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, select
from sqlalchemy.dialects import sqlite

from importers.model import Comment, Page, Status, WorkItem
from store import soft_delete
from store.schema import comments, work_items
from store.writer import sqlite_bind_processor, write_batch

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("moment", [
    WHEN, datetime(2026, 1, 5, 9, 0, 0, 1, tzinfo=UTC), datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC), datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59),
    datetime(2026, 6, 1, 12, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
])
def test_sqlite_datetime_text_is_sqlalchemys(moment):
    dialect = sqlite.dialect()
    column_type = DateTime(timezone=True)
    theirs = column_type.dialect_impl(dialect).bind_processor(dialect)
    assert theirs is not None
    assert sqlite_bind_processor(column_type, dialect)(moment) == theirs(moment)


def item(n: int) -> WorkItem:
    return WorkItem(source="t", external_id=str(n), key=f"T-{n}", project="T", title=f"item {n}",
                    status=Status.TODO, created_at=WHEN, updated_at=WHEN + timedelta(microseconds=n))


def note(cid: str, item_id: str) -> Comment:
    return Comment(source="t", external_id=cid, item_external_id=item_id, body=cid, created_at=WHEN)


def write(engine, *pages: Page, job: str = "j1"):
    with engine.begin() as conn:
        return write_batch(conn, list(pages), source="t", job_id=job)


def test_inserted_times_compare_equal_to_bound_ones(store_backend, engine):
    """Rows inserted by the writer's own statement are found by SQLAlchemy's comparisons."""
    write(engine, Page(items=[item(1), item(2)]))
    with engine.connect() as conn:
        found = conn.execute(select(work_items.c.external_id).where(
            work_items.c.updated_at == WHEN + timedelta(microseconds=2))).scalars().all()
        later = conn.execute(select(work_items.c.external_id).where(
            work_items.c.updated_at > WHEN + timedelta(microseconds=1))).scalars().all()
    assert found == ["2"] and later == ["2"]


def live(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(comments.c.external_id)
                                .where(soft_delete.visible(comments, False))).scalars())


def test_a_batch_that_creates_items_keeps_their_comments_and_drops_the_stored_ones_gone(store_backend, engine):
    write(engine, Page(items=[item(1)], comments=[note("a", "1"), note("b", "1")], comments_complete=True))
    assert live(engine) == {"a", "b"}
    # item 1 is stored (b is gone at the source); item 2 is new, created by this batch with its comments
    result = write(engine, Page(items=[item(1), item(2)], comments=[note("a", "1"), note("c", "2"), note("d", "2")],
                                comments_complete=True), job="j2")
    assert result.created == 1 and result.deleted_comments == 1
    assert live(engine) == {"a", "c", "d"}
