"""Property tests for what the vendor (or the user) may send that the connector tests do not cover:
JIRA's markup converters, the rate-limit header reader, the URL guard, `--since`, the demo source's
cursors, and the store writer on SQLite and PostgreSQL. Whatever comes in either maps, becomes a
per-item failure or a one-line ConfigError: never a crash that would fail a whole job.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.demo import DemoSource, parse_size
from importers.errors import ConfigError
from importers.jira.adf import adf_to_markdown
from importers.jira.mapping import MAPPING_ERRORS
from importers.jira.wiki import wiki_to_markdown
from importers.model import Comment, Page, WorkItem
from importers.ratelimit import wait_until
from importers.urls import check_url
from jobs.api import parse_since
from tests.strategies import json_values

JSON = json_values(text=30, keys=10, width=4, leaves=25, allow_nan=True)
ADF_NODE = st.recursive(
    st.fixed_dictionaries({"type": st.sampled_from(["text", "hardBreak", "mention", "emoji", "inlineCard"]),
                           "text": st.text(max_size=20) | JSON},
                          optional={"marks": st.lists(st.fixed_dictionaries(
                              {"type": st.sampled_from(["strong", "em", "code", "link", "strike", "nope"])},
                              optional={"attrs": JSON}), max_size=3) | JSON, "attrs": JSON}),
    lambda inner: st.fixed_dictionaries(
        {"type": st.sampled_from(["doc", "paragraph", "heading", "bulletList", "orderedList", "listItem",
                                  "codeBlock", "blockquote", "table", "tableRow", "tableCell", "panel", "rule",
                                  "mediaSingle", "unknownNode"]),
         "content": st.lists(inner, max_size=4) | JSON},
        optional={"attrs": JSON}),
    max_leaves=20,
)
HEADER_NAMES = st.sampled_from(["Retry-After", "retry-after", "X-RateLimit-Reset", "RateLimit-Reset",
                                "X-RateLimit-Remaining", "RateLimit-Remaining", "Other"])
HEADER_VALUES = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["Wed, 21 Oct 2015 07:28:00 GMT", "0", "-1", "inf", "nan", "1e400", "9" * 40]),
)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _converts_or_fails_the_item(convert, value) -> None:
    """Text comes out, or an error the JIRA mapper turns into that issue's failure (MAPPING_ERRORS):
    anything else (RecursionError, a hang, ...) would take the whole page down."""
    try:
        assert isinstance(convert(value), str)
    except MAPPING_ERRORS:
        assert not isinstance(value, str)  # text itself always converts


@FAST
@given(text=st.text(max_size=400) | JSON)
def test_wiki_markup_of_anything_converts_to_text(text):
    _converts_or_fails_the_item(wiki_to_markdown, text)


@FAST
@given(text=st.lists(st.sampled_from(["h1. ", "*", "_", "{code}", "{noformat}", "[", "|", "||", "]", "\n", "#",
                                      "{quote}", "bq. ", "{color:red}", "-", "+", "^", "~", "??", "!", "x", " "]),
                     max_size=60).map("".join))
def test_wiki_markup_fragments_convert_to_text(text):
    assert isinstance(wiki_to_markdown(text), str)


@FAST
@given(doc=ADF_NODE | JSON)
def test_adf_of_anything_converts_to_text(doc):
    _converts_or_fails_the_item(adf_to_markdown, doc)


@FAST
@given(headers=st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=4), limited=st.booleans())
def test_rate_limit_headers_of_any_value_give_a_time_or_none(headers, limited):
    now = datetime(2025, 6, 1, tzinfo=UTC)
    when = wait_until(headers, now=now, limited=limited)
    assert when is None or (isinstance(when, datetime) and when.tzinfo is not None)


@given(seconds=st.integers(min_value=0, max_value=86_400))
def test_retry_after_seconds_are_honoured_exactly(seconds):
    now = datetime(2025, 6, 1, tzinfo=UTC)
    assert wait_until({"Retry-After": str(seconds)}, now=now) == now + timedelta(seconds=seconds)


@FAST
@given(url=st.text(max_size=60) | st.builds(lambda s, h: f"{s}://{h}", st.sampled_from(["http", "https", "ftp", ""]),
                                             st.text(max_size=30)))
def test_url_guard_answers_any_text_with_a_url_or_a_config_error(url):
    try:
        checked = check_url(url, "JIRA_BASE_URL")
    except ConfigError as exc:
        assert "JIRA_BASE_URL" in str(exc) and "\n" not in str(exc)
    else:
        assert checked.startswith(("http://", "https://"))


@FAST
@given(value=st.text(max_size=40) | st.datetimes().map(lambda d: d.isoformat()))
def test_since_of_any_text_is_a_time_or_a_config_error(value):
    try:
        when = parse_since(value)
    except ConfigError as exc:
        assert "--since" in str(exc) and "\n" not in str(exc)
    else:
        assert when is None or when.tzinfo is not None


@FAST
@given(value=st.text(max_size=20) | st.integers().map(str))
def test_demo_size_of_any_text_is_a_size_or_a_config_error(value):
    try:
        assert 0 <= parse_size(value) <= 5_000_000
    except ConfigError as exc:
        assert "demo size" in str(exc)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(min_value=0, max_value=250), stop_after=st.integers(min_value=0, max_value=5))
def test_demo_resumed_from_any_page_cursor_yields_exactly_the_rest(size, stop_after):
    source = DemoSource({"size": str(size)})
    source.page_size = 37
    pages = list(source.read("OPS"))
    everything = [i.external_id for p in pages for i in p.items]
    if stop_after >= len(pages):
        return
    done = [i.external_id for p in pages[:stop_after + 1] for i in p.items]
    rest = [i.external_id for p in source.read("OPS", pages[stop_after].cursor) for i in p.items]
    assert done + rest == everything and len(set(everything)) == len(everything)


# -- the store writer: any text a vendor sends is stored as sent, or replaced where no database can hold it
HOSTILE_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), min_size=1, max_size=80)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def writer_engine(request, tmp_path_factory):
    """One store per backend for the whole module: hypothesis runs many examples against it."""
    import uuid

    import psycopg
    from sqlalchemy import create_engine

    from store.db import migrate
    from tests.conftest import PG_URL

    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('writer') / 'w.db'}")
        migrate(engine)
        yield engine
        engine.dispose()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    engine = create_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    migrate(engine)
    yield engine
    engine.dispose()
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=HOSTILE_TEXT, body=HOSTILE_TEXT | st.sampled_from(["a\x00b", "\ud800 lone", "\udfff", "\x00"]),
       label=HOSTILE_TEXT)
def test_writer_stores_any_text_a_vendor_sends(writer_engine, title, body, label):
    from sqlalchemy import delete, select

    from store.schema import comments, work_items
    from store.writer import write_batch

    when = datetime(2025, 1, 1, tzinfo=UTC)
    try:
        item = WorkItem(source="prop", external_id="1", key="P-1", project="P", title=title, description=body,
                        status="todo", labels=[label], created_at=when, updated_at=when)
    except ValueError:
        assert not title.replace("\x00", "").strip()  # a blank title is the item's own failure
        return
    comment = Comment(source="prop", external_id="c1", item_external_id="1", body=body, created_at=when)
    with writer_engine.begin() as conn:
        conn.execute(delete(comments))
        conn.execute(delete(work_items))
        result = write_batch(conn, [Page(items=[item], comments=[comment])], source="prop", job_id="j")
    assert (result.created, result.comments_written) == (1, 1)
    with writer_engine.connect() as conn:
        stored = conn.execute(select(work_items.c.title, work_items.c.description, work_items.c.labels)).one()
        assert tuple(stored) == (item.title, item.description, item.labels)
        assert conn.execute(select(comments.c.body)).scalar() == comment.body
    for text in (item.title, item.description, comment.body):  # what no store can hold was replaced
        assert "\x00" not in text
        text.encode("utf-8")  # raises on a lone surrogate


def test_writer_round_trips_every_field_on_both_stores(writer_engine):
    """What the workspace reads back is what the source sent: JSON fields, time zones, empty values."""
    from sqlalchemy import delete

    from importers.model import Attachment, Link, Person
    from store import queries
    from store.schema import comments, people, work_items
    from store.writer import write_batch

    created = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    alice = Person(source="rt", external_id="u1", display_name="Alice 🚀", email="Alice@Example.com")
    full = WorkItem(source="rt", external_id="1", key="RT-1", project="RT", title='Tab\tquote " back\\slash',
                    description="line\nnext\r\n|pipe|", status="done", priority="high", labels=["ui", "日本語", ""],
                    assignee=alice, reporter=alice, created_at=created, updated_at=created,
                    closed_at=created + timedelta(days=1), url="https://x.example/RT-1", parent_key="RT-0",
                    links=[Link(kind="blocks", target_key="OLD-2", target_id="2")],  # RT-2 since a move
                    attachments=[Attachment(file_name="a b.png", size=12, url=None)])
    bare = WorkItem(source="rt", external_id="2", key="RT-2", project="RT", title="bare", status="todo",
                    created_at=created, updated_at=created)
    note = Comment(source="rt", external_id="c1", item_external_id="1", author=alice, body="\\N is not NULL",
                   created_at=created)
    with writer_engine.begin() as conn:
        for table in (comments, work_items, people):
            conn.execute(delete(table))
        write_batch(conn, [Page(items=[full, bare], comments=[note])], source="rt", job_id="j")
    rows = {r["key"]: r for r in queries.items(writer_engine, source="rt")}
    detail = queries.item_detail(writer_engine, rows["RT-1"]["id"])
    assert (detail["title"], detail["description"], detail["labels"]) == (full.title, full.description, full.labels)
    assert detail["links"] == [{"kind": "blocks", "target_key": "RT-2", "target_id": "2"}]  # the current key
    assert detail["attachments"] == [{"file_name": "a b.png", "size": 12, "url": None}]
    assert utc_of(detail["created_at"]) == full.created_at and utc_of(detail["closed_at"]) == full.closed_at
    assert (detail["parent_key"], detail["url"], detail["priority"]) == ("RT-0", full.url, "high")  # as read
    assert (rows["RT-1"]["assignee"], rows["RT-2"]["assignee"]) == ("Alice 🚀", None)
    assert [c["body"] for c in detail["comments"]] == ["\\N is not NULL"]
    bare_detail = queries.item_detail(writer_engine, rows["RT-2"]["id"])
    bare = (bare_detail["labels"], bare_detail["links"], bare_detail["closed_at"], bare_detail["description"])
    assert bare == ([], [], None, "")


def utc_of(value) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
