"""The writer's shortcuts write what the long way wrote (issue 17): the same text for every
datetime and JSON list in SQLite, the same content hashes, and the same comments kept and dropped
when a batch creates its items."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import JSON, DateTime, select
from sqlalchemy.dialects import sqlite

from importers.model import Attachment, Comment, Link, Page, Person, Priority, Status, Visibility, WorkItem
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


@pytest.mark.parametrize("value", [
    [], ["Hardware"], ["a", "b", ""], ["Zo\u00eb \U0001F525", 'say "hi" \\ back', "tab\tnew\nline\x00\x1f\x7f"],
    [{"kind": "blocks", "target_key": "T-2"}], ["a", 1, None], {"a": [1]}, "text",
])
def test_sqlite_json_text_is_sqlalchemys(value):
    dialect = sqlite.dialect()
    theirs = JSON().dialect_impl(dialect).bind_processor(dialect)
    assert theirs is not None
    assert sqlite_bind_processor(JSON(), dialect)(value) == theirs(value)


MOMENTS = st.one_of(
    st.none(),
    st.datetimes(timezones=st.just(UTC)),  # what the model holds: UTC, fractions or not
    st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.replace(microsecond=0)),
    st.datetimes(),  # naive
    st.datetimes(timezones=st.sampled_from([timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])),
)


@given(st.lists(MOMENTS, max_size=8))
def test_a_datetime_column_is_written_as_sqlalchemy_writes_each_value(moments):
    """A column converted at once (pydantic-core's text, patched) is SQLAlchemy's text value for value,
    whatever mix of zones, fractions and NULLs it holds, as a tuple (what the writer passes) or a list."""
    dialect = sqlite.dialect()
    column_type = DateTime(timezone=True)
    theirs = column_type.dialect_impl(dialect).bind_processor(dialect)
    assert theirs is not None
    expected = [None if moment is None else theirs(moment) for moment in moments]
    processor = sqlite_bind_processor(column_type, dialect)
    assert processor is not None
    assert processor.column(tuple(moments)) == expected
    assert processor.column(moments) == expected


@given(st.lists(st.one_of(st.none(), st.just([]), st.lists(st.text(), max_size=3),
                          st.lists(st.dictionaries(st.text(max_size=5), st.integers()), max_size=2)), max_size=6))
def test_a_json_column_is_written_as_sqlalchemy_writes_each_value(values):
    dialect = sqlite.dialect()
    theirs = JSON().dialect_impl(dialect).bind_processor(dialect)
    assert theirs is not None
    processor = sqlite_bind_processor(JSON(), dialect)
    assert processor is not None
    assert processor.column(tuple(values)) == [None if value is None else theirs(value) for value in values]


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


ADA = Person(source="t", external_id="u1", display_name="Ada Lovelace", email="Ada@Example.com")
FULL = WorkItem(source="t", external_id="9", key="T-9", project="T",
                title="Drucker \u00fcberhitzt \U0001F525 \"quoted\"", description="line 1\nline 2 <b>", type="bug",
                status=Status.IN_PROGRESS, source_status="On Hold", state="Waiting", priority=Priority.HIGH,
                source_priority="2 - High", source_type="Incident", labels=["hardware", "emea"], assignee=ADA,
                reporter=Person(source="t", external_id="u2"),
                created_at=datetime(2024, 10, 12, 10, 28, tzinfo=timezone(timedelta(hours=2))),
                updated_at=datetime(2024, 10, 12, 17, 51, 56, 123456, tzinfo=UTC),
                url="https://example.com/T-9", parent_key="T-1", parent_id="1",
                links=[Link(kind="blocks", target_key="T-2", target_id="2")],
                attachments=[Attachment(file_name="trace.log", size=1024, url="https://example.com/f/1")],
                visibility=Visibility.RESTRICTED, visible_to="itil", notes=["parent T-0 no longer exists"],
                moved_to_id="T2-9", comments_at_source=4)
NOTE = Comment(source="t", external_id="c1", item_external_id="9", author=ADA, body="Bitte pr\u00fcfen \U0001F44D",
               created_at=datetime(2024, 10, 12, 11, 0, tzinfo=UTC), visibility=Visibility.INTERNAL, visible_to="itil")


def test_content_hashes_are_those_stored_by_earlier_releases(store_backend, engine):
    """Stored hashes stay valid across a change of how they are computed: a catch-up after an
    upgrade must find every unchanged item and comment unchanged, and rewrite nothing."""
    first = write(engine, Page(items=[FULL, item(10)], comments=[NOTE]))
    assert (first.created, first.comments_written) == (2, 1)
    with engine.connect() as conn:
        assert dict(conn.execute(select(work_items.c.external_id, work_items.c.content_hash)).all()) == {
            "9": "3592a6f8387ee6c61172f71c98594382", "10": "07f17b1e227f9224dcb1fe7aef2de412"}
        assert dict(conn.execute(select(comments.c.external_id, comments.c.content_hash)).all()) == {
            "c1": "3f706d5d921c4cb2aa139ed16d14886c"}
    again = write(engine, Page(items=[FULL, item(10)], comments=[NOTE]), job="j2")
    assert (again.skipped, again.updated, again.comments_written) == (2, 0, 0)
