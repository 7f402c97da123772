"""Writes a batch of normalized items into the workspace in a handful of statements.

A batch is classified against what the store already holds, keyed on (source, external_id):
new items are inserted, existing ones merged when their content changed (policy "update", the
default: a catch-up run applies every change it reads) or kept as first imported (policy
"skip", which freezes a first import and counts what it kept), unchanged ones skipped.
Comments join items already stored, by the item's id or key (importers/model.py, `Comment`).
Every statement is a multi-row insert or an executemany, never one round trip per item. The
caller owns the transaction, so a batch is committed together with the job's cursor and
counters, or not at all.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring_ascii
from types import NoneType
from typing import Any, NamedTuple

from pydantic_core import SchemaSerializer, core_schema
from sqlalchemy import JSON, Connection, Table, and_, bindparam, select, update
from sqlalchemy.dialects import sqlite

from importers.model import Comment, ItemFailure, Page, Person, StreamGap, Visibility, WorkItem

from .schema import comments, labels, people, projects, work_items, workflow_states
from .soft_delete import Deletions, drop_missing_comments

SKIP, UPDATE = "skip", "update"
_CHUNK = 500  # keeps IN (...) lists well under every driver's parameter limit


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failures: list[ItemFailure] = field(default_factory=list)
    comments_written: int = 0
    frozen: int = 0  # changed items and comments kept as first imported (policy SKIP)
    deleted_comments: int = 0  # soft-deleted: no longer in their re-read item's complete list
    moved_comments: int = 0  # copies left on moved originals now that their new items hold them (not deleted)
    succeeded_ids: list[str] = field(default_factory=list)  # external ids now in the store
    internal_items: int = 0  # items and comments of the batch that are not public (dry runs count them too)
    internal_comments: int = 0
    gaps: list[StreamGap] = field(default_factory=list)  # what the batch's pages could not read
    notes: list[str] = field(default_factory=list)  # what the source said about its read

    @property
    def failed(self) -> int:
        return len(self.failures)


def _insert(conn: Connection, table):
    """The store's own INSERT (with ON CONFLICT). SQLAlchemy's PostgreSQL package loads every PostgreSQL
    driver's dialect (asyncpg's among them), so only a PostgreSQL store imports it."""
    if conn.dialect.name != "postgresql":
        return sqlite.insert(table)
    from sqlalchemy.dialects.postgresql import insert

    return insert(table)


def _chunks(values: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _insert_new(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple]) -> int:
    """Insert the rows (values in the order of `columns`) whose (source, external_id) is not stored
    yet (another worker may have won); returns how many this call inserted.

    PostgreSQL gets the rows by COPY into a temporary table and one INSERT ... SELECT ... ON
    CONFLICT DO NOTHING: an executemany sends one INSERT a row, each parsed and planned by the
    server (server-side prepared statements are off, see store/db.py), which halved throughput.

    SQLite gets one executemany of the driver's own statement, each value converted by its column
    type's bind processor (the same conversion SQLAlchemy applies): SQLAlchemy's executemany
    builds a parameter dict per row through its compiler, a fifth of a ServiceNow import's CPU."""
    if conn.dialect.name != "postgresql":
        return _insert_new_sqlite(conn, table, columns, rows)
    from psycopg.types.json import Json  # PostgreSQL only: SQLite stores never load the driver

    names = ", ".join(f'"{c}"' for c in columns)
    json_columns = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
    stage = f"stage_{table.name}"
    driver = conn.connection.driver_connection
    assert driver is not None, "an open connection has a driver connection"
    with driver.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {names} FROM {table.name} WITH NO DATA")
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in rows:
                values = list(row)
                for i in json_columns:
                    values[i] = Json(values[i]) if values[i] is not None else None
                copy.write_row(values)
        cursor.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage} "
                       "ON CONFLICT (source, external_id) DO NOTHING")
        inserted = cursor.rowcount
        cursor.execute(f"DROP TABLE {stage}")
    return inserted


_SQLITE_DATETIME = sqlite.DATETIME()._storage_format  # SQLAlchemy's text for a datetime in SQLite


# A column of datetimes (a tuple) as JSON text, by pydantic-core: ["2024-03-05T04:58:00Z",null,...] for UTC values
_DATETIMES_JSON = SchemaSerializer(core_schema.tuple_schema(
    [core_schema.nullable_schema(core_schema.datetime_schema())], variadic_item_index=0))


class _SqliteDatetime:
    """SQLite DATETIME's bind processor, the same text for a datetime from one C call: SQLAlchemy
    formats "%(year)04d-...%(microsecond)06d" from a dict of seven fields, 0.2 s a 10,000-ticket
    import; `isoformat(" ", "microseconds")` writes those fields in that form, then the offset of an
    aware value, which SQLAlchemy leaves out too.

    `column` converts a column at once: `isoformat` took 2-3 us a value, 13% of the writer's CPU. The
    model's datetimes are UTC (importers/model.py), so pydantic-core writes the whole column as
    JSON, "2024-03-05T04:58:00Z" a value in Rust, and two byte replacements make each value SQLAlchemy's
    text ("2024-03-05 04:58:00.000000"; a value with a fraction has its six digits already) before json
    reads the list back: 5 times less CPU. A column holding anything else (naive or other zones, fractions
    in only some values, other types) is converted a value at a time."""

    def __init__(self, fallback: Callable[[Any], Any]) -> None:
        self.fallback = fallback

    def __call__(self, value: Any) -> Any:
        if type(value) is datetime:
            return value.isoformat(" ", "microseconds")[:26]
        return self.fallback(value)

    def column(self, values: Sequence[Any]) -> list[Any]:
        present = len(values) - values.count(None)
        if {*map(type, values)} - {NoneType} == {datetime}:
            text = _DATETIMES_JSON.to_json(tuple(values)).replace(b"T", b" ")
            if text.count(b'Z"') == present:  # every value UTC
                fractions = text.count(b".")
                if fractions == 0:
                    return json.loads(text.replace(b'Z"', b'.000000"'))
                if fractions == present:
                    return json.loads(text.replace(b'Z"', b'"'))
        return [None if v is None else self(v) for v in values]


class _SqliteJson:
    """JSON's bind processor, the same text for a list of strings (labels; most lists are empty) without
    json.dumps, which builds an encoder for every value: the strings as json.dumps's own encoder writes
    them, joined by its separator. `column` writes an empty list (most links, attachments and labels)
    without a call."""

    def __init__(self, fallback: Callable[[Any], Any]) -> None:
        self.fallback = fallback

    def __call__(self, value: Any) -> Any:
        if type(value) is list and all(type(v) is str for v in value):
            return f"[{', '.join(map(encode_basestring_ascii, value))}]"
        return self.fallback(value)

    def column(self, values: Sequence[Any]) -> list[Any]:
        return ["[]" if type(v) is list and not v else None if v is None else self(v) for v in values]


class _Plain:
    """Any other bind processor, a column at a time (NULL is never converted)."""

    def __init__(self, process: Callable[[Any], Any]) -> None:
        self.process = process

    def __call__(self, value: Any) -> Any:
        return self.process(value)

    def column(self, values: Sequence[Any]) -> list[Any]:
        process = self.process
        return [None if v is None else process(v) for v in values]


def sqlite_bind_processor(column_type: Any, dialect: Any) -> _SqliteDatetime | _SqliteJson | _Plain | None:
    """The bind processor SQLAlchemy applies to a value of this column type, or one that writes
    the same text faster (datetimes, `_SqliteDatetime`; lists of strings, `_SqliteJson`)."""
    impl = column_type.dialect_impl(dialect)
    fn = impl.bind_processor(dialect)
    if fn is None:
        return None
    if isinstance(impl, sqlite.DATETIME) and impl._storage_format == _SQLITE_DATETIME:
        return _SqliteDatetime(fn)
    if isinstance(impl, JSON) and dialect._json_serializer is None:  # json.dumps
        return _SqliteJson(fn)
    return _Plain(fn)


def _insert_new_sqlite(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple]) -> int:
    """Values converted a column at a time (the rows transposed and back, both in C): most columns
    need no conversion, and a row-by-row loop visited every one of them."""
    data: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for i, name in enumerate(columns):
        processor = sqlite_bind_processor(table.c[name].type, conn.dialect)
        if processor is not None:
            data[i] = processor.column(data[i])
    return conn.exec_driver_sql(  # rowcount: summed over the rows by sqlite3
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        "ON CONFLICT (source, external_id) DO NOTHING", list(zip(*data, strict=True))).rowcount


NOT_CONTENT = {"moved_from_id", "comments_at_source"}  # how an item was found or counted, not what it is
NOT_COMMENT_CONTENT = {"item_external_id", "item_key"}  # how a comment names its item: see _comment_hash


def _hash(item: WorkItem) -> str:
    """The item's content as `model_dump_json` writes it, hashed. Its serializer is called directly for
    the bytes: the method wraps that call and decodes the bytes to text, which were encoded back."""
    # looked up at the call, not bound at import: the models are built at first use (importers/model.py)
    return hashlib.blake2b(WorkItem.__pydantic_serializer__.to_json(item, exclude=NOT_CONTENT),
                           digest_size=16).hexdigest()


def _follow_new_ids(conn: Connection, source: str, items: Iterable[WorkItem]) -> None:
    """Re-key stored items that a move gave a new external id (`WorkItem.moved_from_id`), so the
    move stays one item: the stored row takes the new id, or, where the new id was stored already
    (another project's read met it first), hands its comments to that row and goes."""
    moves = {item.moved_from_id: item.external_id for item in items
             if item.moved_from_id and item.moved_from_id != item.external_id}
    if not moves:
        return
    stored = _existing(conn, work_items, source, sorted({*moves, *moves.values()}))
    for old, new in moves.items():
        if old not in stored:
            continue
        if new in stored:
            conn.execute(update(comments).where(comments.c.item_id == stored[old].id).values(item_id=stored[new].id))
            conn.execute(work_items.delete().where(work_items.c.id == stored[old].id))
        else:
            conn.execute(update(work_items).where(work_items.c.id == stored[old].id).values(external_id=new))


def _comment_hash(comment: Comment) -> str:
    """A comment's content, without how the connector named its item (id or key): the same comment
    read through an item's list and through a repo-wide listing must not count as changed."""
    return hashlib.blake2b(Comment.__pydantic_serializer__.to_json(comment, exclude=NOT_COMMENT_CONTENT),
                           digest_size=16).hexdigest()


def upsert_project(conn: Connection, project, job_id: str) -> None:
    stmt = _insert(conn, projects).values(
        source=project.source, key=project.key, name=project.name, url=project.url,
        description=project.description, created_by_job=job_id,
    )
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["source", "key"],
        set_={"name": stmt.excluded.name, "url": stmt.excluded.url, "description": stmt.excluded.description},
    ))


def upsert_people(conn: Connection, persons: Iterable[Person | None]) -> dict[str, int]:
    """Insert unknown people, add new per-source ids to known ones; return match_key -> id."""
    return _upsert_people(conn, persons)[0]


def _upsert_people(conn: Connection, persons: Iterable[Person | None]) -> tuple[dict[str, int], dict[int, int]]:
    """`upsert_people`, and each Person object's row id by the object's `id()`: connectors share one
    Person per person, so the writer finds an item's or comment's person row without building
    its match key again (a property building a string, 3% of the writer's CPU)."""
    unique: dict[str, Person] = {}
    keys: dict[int, str] = {}  # connectors share one Person object per person: its match key once
    for person in persons:
        if person is None:
            continue
        key = keys.get(id(person))
        if key is None:
            key = keys[id(person)] = person.match_key
        current = unique.get(key)
        if current is None or (current is not person and current.workspace_key):
            unique[key] = person  # the person's own record beats one merged into it
    if not unique:
        return {}, {}
    ids: dict[str, int] = {}
    known: dict[str, dict] = {}
    for chunk in _chunks(list(unique)):
        for row in conn.execute(select(people.c.id, people.c.match_key, people.c.source_ids)
                                .where(people.c.match_key.in_(chunk))):
            ids[row.match_key] = row.id
            known[row.match_key] = dict(row.source_ids or {})
    new_rows = [
        {"match_key": key, "display_name": p.display_name, "email": p.email, "username": p.username,
         "source_ids": {p.source: p.external_id}}
        for key, p in unique.items() if key not in ids
    ]
    if new_rows:
        conn.execute(_insert(conn, people).on_conflict_do_nothing(index_elements=["match_key"]), new_rows)
        for chunk in _chunks([r["match_key"] for r in new_rows]):
            for new in conn.execute(select(people.c.id, people.c.match_key).where(people.c.match_key.in_(chunk))):
                ids[new.match_key] = new.id
    merged = []
    for key, source_ids in known.items():
        person = unique[key]
        if person.workspace_key is None and source_ids.get(person.source) != person.external_id:
            merged.append({"_id": ids[key], "source_ids": {**source_ids, person.source: person.external_id}})
    if merged:
        conn.execute(update(people).where(people.c.id == bindparam("_id")), merged)
    return ids, {person: ids[key] for person, key in keys.items()}


ITEM_COLUMNS = ("source", "external_id", "key", "project", "title", "description", "type", "status",
                "source_status", "state", "priority", "source_priority", "source_type", "labels", "assignee_id",
                "reporter_id", "assignee_source_id", "reporter_source_id", "created_at", "updated_at", "closed_at",
                "url", "parent_key", "parent_id", "moved_to_id", "links", "attachments", "content_hash",
                "visibility", "visible_to", "notes")


def _item_values(item: WorkItem, person_rows: dict[int, int], digest: str) -> tuple:
    """The values of an item's row, in the order of ITEM_COLUMNS (a tuple: the driver takes one, and a
    dict a row was built, copied and read back column by column). Enum values are read as `_value_`:
    `.value` is a descriptor call, three a row. People's rows by the Person object (`_upsert_people`;
    None, no person, is no key of it)."""
    assignee, reporter = item.assignee, item.reporter
    return (
        item.source, item.external_id, item.key, item.project, item.title, item.description, item.type,
        item.status._value_, item.source_status, item.state_name, item.priority._value_, item.source_priority,
        item.source_type, item.labels, person_rows.get(id(assignee)), person_rows.get(id(reporter)),
        assignee.external_id if assignee else None, reporter.external_id if reporter else None,
        item.created_at, item.updated_at, item.closed_at, item.url, item.parent_key, item.parent_id, item.moved_to_id,
        [link.model_dump() for link in item.links], [a.model_dump() for a in item.attachments], digest,
        item.visibility._value_, item.visible_to or None, item.notes or None,
    )


class Stored(NamedTuple):
    """What the writer needs to know about a row already in the store (a tuple: built for every
    row a batch looks up)."""

    id: int
    content_hash: str
    deleted: bool  # soft-deleted: a row read again is back at the source and is revived
    made_by: str | None  # the job that created it (`_claimed_elsewhere`)
    kept_in: Any  # where it is kept: an item's project, a comment's item row


def _of_source(conn: Connection, query: str, source: str, values: list[str]) -> list[Any]:
    """The rows of `query` (its `?` the source, its `(...)` an IN list) for `values`, 500 at a time.

    The driver's own statement, placeholders in the driver's style: SQLAlchemy's IN list coerced
    each of its 500 values and re-rendered the statement at every execution, and its rows were
    read by name; a quarter of the writer's CPU in a ServiceNow import. Rows are fetched all at
    once: iterating a result fetches them one by one."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    rows: list[Any] = []
    for chunk in _chunks(values):
        rows += conn.exec_driver_sql(
            query.replace("?", mark).replace("(...)", f"({', '.join([mark] * len(chunk))})"),
            (source, *chunk)).fetchall()
    return rows


def _existing(conn: Connection, table, source: str, external_ids: list[str]) -> dict[str, Stored]:
    """The stored rows of these external ids, by external id."""
    place = "project" if table is work_items else "item_id"
    rows = _of_source(conn, f"SELECT external_id, id, content_hash, deleted_at, created_by_job, {place} "
                            f"FROM {table.name} WHERE source = ? AND external_id IN (...)", source, external_ids)
    return {external_id: Stored(id_, digest, deleted_at is not None, made_by, kept_in)
            for external_id, id_, digest, deleted_at, made_by, kept_in in rows}


def _claimed_elsewhere(existing: dict[str, Stored], projects: dict[str, str], foreign: Foreign) -> dict[str, str]:
    """external id -> stored project, of the stored items (`existing`; `projects`: the project each is read in) kept
    in another project by an import of another server (`foreign` of the job that created the row). Items are keyed
    by the source's id alone, so a server answering with ids another server's items have would otherwise rewrite
    those, project and all (attacker review: an import of "OPS" from a server of one's own rewrote ACME-1..3). A
    move within one server (a JIRA issue to another project) stays one item."""
    return {eid: row.kept_in for eid, row in existing.items() if row.kept_in != projects[eid] and foreign(row.made_by)}


def _changed(stored: Stored, digest: str, policy: str) -> bool | None:
    """True: write it; False: unchanged; None: changed, but the policy keeps the first import."""
    if stored.deleted:
        return True  # back at the source: revived whatever the policy, since freezing concerns content
    if stored.content_hash == digest:
        return False
    return True if policy == UPDATE else None


Foreign = Callable[[str | None], bool]  # whether a job (by id) read another server than this import does


def write_batch(conn: Connection, pages: list[Page], *, source: str, job_id: str, policy: str = UPDATE,
                dry_run: bool = False, deletions: str = Deletions.MARK, foreign: Foreign | None = None) -> BatchResult:
    """Classify and (unless `dry_run`) write one batch; returns what happened to each item.

    `policy` UPDATE applies every change read; SKIP keeps stored items and comments as first
    imported (changed ones are counted in `frozen`). Items of pages marked `comments_complete`
    lose the stored comments their list no longer has (soft-deleted) unless `deletions` is
    IGNORE. Rows soft-deleted earlier are revived when read again. `foreign` (given by a run that knows
    its server) keeps out what `_claimed_elsewhere` finds: a stored row of another project that another
    server's import created, which an id this server shares would overwrite (each fails, said why)."""
    result = BatchResult()
    items: dict[str, WorkItem] = {}
    batch_comments: list[Comment] = []
    complete: set[str] = set()  # items whose whole comment list is in this batch
    for page in pages:
        result.failures.extend(page.failures)
        result.gaps.extend(page.gaps)
        result.notes.extend(n for n in page.notes if n not in result.notes)
        for item in page.items:
            items[item.external_id] = item  # a later copy of the same item wins
        batch_comments.extend(page.comments)
        if page.comments_complete:
            complete.update(i.external_id for i in page.items)
    complete -= {g.item_external_id for page in pages for g in page.gaps if g.stream == "comments"}
    result.internal_items = sum(1 for item in items.values() if item.visibility != Visibility.PUBLIC)
    result.internal_comments = sum(1 for c in batch_comments if c.visibility != Visibility.PUBLIC)

    if not dry_run:
        _follow_new_ids(conn, source, items.values())
    existing = _existing(conn, work_items, source, list(items))
    if foreign is not None and existing:
        claimed = _claimed_elsewhere(existing, {eid: items[eid].project for eid in existing}, foreign)
        for eid, project in claimed.items():
            item = items.pop(eid)
            del existing[eid]
            result.failures.append(ItemFailure(external_id=eid, key=item.key, reason=(
                f"the workspace holds this item's id in project {project}, imported from another server: not "
                f"overwritten (two servers give the same id)")))
        batch_comments = [c for c in batch_comments if c.item_external_id not in claimed]
        complete -= set(claimed)
    digests = {eid: _hash(item) for eid, item in items.items()}
    verdicts = {eid: _changed(existing[eid], digests[eid], policy) for eid in items if eid in existing}
    to_insert = [eid for eid in items if eid not in existing]
    to_update = [eid for eid, verdict in verdicts.items() if verdict]
    result.created = len(to_insert)
    result.updated = len(to_update)
    result.skipped = len(items) - result.created - result.updated
    result.frozen = sum(1 for verdict in verdicts.values() if verdict is None)
    result.succeeded_ids = list(items)
    if dry_run:
        return result

    written = to_insert + to_update
    all_inserted = True  # every new item's row is this batch's (no other worker stored one meanwhile)
    _, person_rows = _upsert_people(conn, [p for eid in written for p in (items[eid].assignee, items[eid].reporter)]
                                + [c.author for c in batch_comments])
    if to_insert:
        rows = [(*_item_values(items[eid], person_rows, digests[eid]), job_id, job_id) for eid in to_insert]
        all_inserted = _insert_new(conn, work_items, (*ITEM_COLUMNS, "created_by_job", "updated_by_job"),
                                   rows) == len(rows)
    if to_update:
        conn.execute(update(work_items).where(work_items.c.id == bindparam("_id")), [
            dict(zip(ITEM_COLUMNS, _item_values(items[eid], person_rows, digests[eid]), strict=True),
                 _id=existing[eid].id, updated_by_job=job_id, deleted_at=None, deleted_by_job=None)
            for eid in to_update])
    upsert_states(conn, source, {(items[eid].project, items[eid].state_name): items[eid].status._value_
                                 for eid in written})
    label_rows = {(source, items[eid].project, name) for eid in written for name in items[eid].labels}
    if label_rows:
        conn.execute(_insert(conn, labels).on_conflict_do_nothing(index_elements=["source", "project", "name"]),
                     [{"source": s, "project": p, "name": n} for s, p, n in sorted(label_rows)])
    moved_away = _originals_with_stored_copies(conn, source, items, written)
    if moved_away:  # their notes are on their new items: stored once, there (not a deletion)
        batch_comments = [c for c in batch_comments if c.item_external_id not in moved_away]
        complete -= set(moved_away)
        result.moved_comments = conn.execute(comments.delete().where(
            comments.c.item_id.in_(list(moved_away.values())))).rowcount
    if batch_comments:
        written_comments, frozen = _write_comments(conn, batch_comments, source, job_id, policy, person_rows,
                                                   foreign)
        result.comments_written, result.frozen = written_comments, result.frozen + frozen
    if all_inserted:  # an item this batch created has no stored comments but the batch's own
        complete -= set(to_insert)
    if complete and deletions != Deletions.IGNORE:
        stored = _existing(conn, work_items, source, sorted(complete))
        present = {c.external_id for c in batch_comments}
        result.deleted_comments = drop_missing_comments(conn, [row.id for row in stored.values()], present,
                                                        source, job_id)
    return result


def _originals_with_stored_copies(conn: Connection, source: str, items: dict[str, WorkItem],
                                  written: list[str]) -> dict[str, int]:
    """Moved originals (`WorkItem.moved_to_id`) whose new item is stored live, by external id -> row id:
    those of this batch whose new item is stored, and stored ones whose new item this batch wrote.

    The source keeps an original's notes and copies them to its new item (GitLab), so while the
    new item is not stored (its project not imported) the original keeps its notes, and once it
    is, the notes are stored once, on the new item: the original's copies leave. They are still
    at the source, so they are neither soft-deleted nor counted as gone."""
    targets = {eid: item.moved_to_id for eid, item in items.items() if item.moved_to_id}
    found: dict[str, int] = {}
    if targets:
        live = {eid: row for eid, row in _existing(conn, work_items, source, sorted({*targets.values(), *targets}))
                .items() if not row.deleted}
        found = {eid: live[eid].id for eid, target in targets.items() if target in live and eid in live}
    found.update(_of_source(conn, "SELECT external_id, id FROM work_items "
                                  "WHERE source = ? AND moved_to_id IN (...) AND deleted_at IS NULL", source,
                            sorted(written)))
    return found


def upsert_states(conn: Connection, source: str, states: dict[tuple[str, str], str]) -> None:
    """Make the workflow states {(project, name): category} exist; a state that exists moves to the
    category given (the source or the mapping changed it)."""
    if not states:
        return
    stmt = _insert(conn, workflow_states)
    conn.execute(stmt.on_conflict_do_update(index_elements=["source", "project", "name"],
                                            set_={"category": stmt.excluded.category}),
                 [{"source": source, "project": p, "name": n, "category": c} for (p, n), c in sorted(states.items())])


def _item_row_ids(conn: Connection, source: str, batch: list[Comment]) -> tuple[dict[str, int], dict[str, int]]:
    """Stored row ids of the comments' items: by external id, and by key for comments that name
    their item only by key (a live item wins over a soft-deleted one with the same key)."""
    by_id = {eid: row.id for eid, row in
             _existing(conn, work_items, source, sorted({c.item_external_id for c in batch if c.item_external_id}))
             .items()}
    keys = sorted({c.item_key for c in batch if c.item_key and not c.item_external_id})
    by_key: dict[str, int] = {}
    for chunk in _chunks(keys):
        rows = conn.execute(select(work_items.c.key, work_items.c.id, work_items.c.deleted_at)
                            .where(and_(work_items.c.source == source, work_items.c.key.in_(chunk)))
                            .order_by(work_items.c.deleted_at.is_not(None).desc()))  # live rows last: they win
        by_key.update({r.key: r.id for r in rows})
    return by_id, by_key


COMMENT_COLUMNS = ("item_id", "author_id", "author_source_id", "body", "created_at", "content_hash", "visibility",
                   "visible_to")


def _write_comments(conn: Connection, batch: list[Comment], source: str, job_id: str, policy: str,
                    person_rows: dict[int, int], foreign: Foreign | None = None) -> tuple[int, int]:
    """Attach comments to their items, stored before this run or in this batch; comments of
    items in neither are dropped. Returns (comments written, changed ones kept by SKIP)."""
    by_id = {c.external_id: c for c in batch}
    item_by_id, item_by_key = _item_row_ids(conn, source, batch)
    existing = _existing(conn, comments, source, list(by_id))
    if foreign is not None:  # a comment id another server's stored comment has: not taken over
        for eid, row in existing.items():
            comment = by_id[eid]
            target = item_by_id.get(comment.item_external_id) if comment.item_external_id \
                else item_by_key.get(comment.item_key or "")
            if target != row.kept_in and foreign(row.made_by):
                del by_id[eid]
    inserts, updates = [], []
    frozen = 0
    for eid, comment in by_id.items():
        item_id = item_by_id.get(comment.item_external_id) if comment.item_external_id \
            else item_by_key.get(comment.item_key or "")
        if item_id is None:
            continue
        digest = _comment_hash(comment)
        author = comment.author
        author_row, author_id = (person_rows.get(id(author)), author.external_id) if author else (None, None)
        if eid not in existing:  # the row in the insert's column order, one tuple
            inserts.append((source, eid, item_id, author_row, author_id, comment.body, comment.created_at, digest,
                            comment.visibility._value_, comment.visible_to or None, job_id, job_id))
            continue
        verdict = _changed(existing[eid], digest, policy)
        if verdict:
            values = (item_id, author_row, author_id, comment.body, comment.created_at, digest,
                      comment.visibility._value_, comment.visible_to or None)
            updates.append(dict(zip(COMMENT_COLUMNS, values, strict=True), _id=existing[eid].id,
                                updated_by_job=job_id, deleted_at=None, deleted_by_job=None))
        elif verdict is None:
            frozen += 1
    if inserts:
        _insert_new(conn, comments, ("source", "external_id", *COMMENT_COLUMNS, "created_by_job", "updated_by_job"),
                    inserts)
    if updates:
        conn.execute(update(comments).where(comments.c.id == bindparam("_id")), updates)
    return len(inserts) + len(updates), frozen
