"""Re-mapping what a project already has in the workspace when its mapping changed.

Items keep the source's own values (status, priority, type, labels, the source ids of assignee, reporter
and comment authors) beside what they were mapped to, so a changed mapping is applied to them in the
store, in batches, without reading the source again and whatever the duplicates policy: a mapping is the
user's decision about the whole project, not an edit at the source. The decisions are the mapping's own
(`Mapping.decide_*`), the same an import makes for the items it writes.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, select, update

from importers.model import Person, Status
from store.schema import comments, people, work_items
from store.writer import upsert_people, upsert_states

from .mapping import Mapping

BATCH = 1000


def own_keys(conn: Connection, source: str) -> dict[str, str]:
    """source id -> match key of the person's own workspace record: the record that lists the id as its
    `source` id (an import records that only for a person it did not merge into someone else)."""
    found: dict[str, str] = {}
    for row in conn.execute(select(people.c.match_key, people.c.source_ids)):
        own = (row.source_ids or {}).get(source)
        if own is not None:
            found.setdefault(str(own), row.match_key)
    return found


def _person_keys(mapping: Mapping, source_ids: Iterable[str | None], own: dict[str, str]) -> dict[str, Person]:
    """source id -> the Person, keyed as the mapping says: a moved row's target; a row left at its default
    goes back to the person's own record (undoing an earlier merge), or to the default key if it has none."""
    found: dict[str, Person] = {}
    for source_id in {s for s in source_ids if s}:
        row = mapping.row("people", source_id)
        if row is None:
            continue
        moved = row.target and row.target != row.default
        key = row.target if moved else own.get(source_id) or row.default
        if not key:
            continue
        name, email = mapping.person_keys().get(key) or (row.label, row.email)
        found[source_id] = Person(source=mapping.source, external_id=source_id, display_name=name, email=email,
                                  workspace_key=key)
    return found


def remap(engine: Engine, mapping: Mapping) -> int:
    """Apply `mapping` to its project's stored items and comments; returns how many of them changed."""
    changed = 0
    last = 0
    with engine.connect() as conn:
        own = own_keys(conn, mapping.source)
    scope = and_(work_items.c.source == mapping.source, work_items.c.project == mapping.project)
    while True:
        with engine.begin() as conn:
            rows = list(conn.execute(select(
                work_items.c.id, work_items.c.source_status, work_items.c.state, work_items.c.status,
                work_items.c.source_priority, work_items.c.priority, work_items.c.source_type, work_items.c.type,
                work_items.c.labels, work_items.c.assignee_source_id, work_items.c.reporter_source_id,
                work_items.c.assignee_id, work_items.c.reporter_id,
            ).where(and_(scope, work_items.c.id > last)).order_by(work_items.c.id).limit(BATCH)))
            if not rows:
                return changed
            last = rows[-1].id
            found = _person_keys(mapping, [r.assignee_source_id for r in rows] + [r.reporter_source_id for r in rows],
                                 own)
            ids = upsert_people(conn, found.values())
            updates, states = [], {}
            for row in rows:
                new = _decide(mapping, row, {sid: ids[p.match_key] for sid, p in found.items()})
                states[(mapping.project, new["state"])] = new["status"]
                if any(new[k] != getattr(row, k) for k in new):
                    updates.append({"_id": row.id, **new})
            upsert_states(conn, mapping.source, states)
            if updates:
                conn.execute(update(work_items).where(work_items.c.id == bindparam("_id")), updates)
            changed += len(updates) + _remap_comments(conn, mapping, [r.id for r in rows], own)


def _decide(mapping: Mapping, row: Any, person_ids: dict[str, int]) -> dict[str, Any]:
    labels = list(row.labels or [])
    state = row.state or row.source_status or Status(row.status).label
    decided = mapping.decide_status(row.source_status or "", labels, Status(row.status))
    state, status = decided if decided is not None else (state, Status(row.status))
    priority = mapping.decide_priority(row.source_priority or "", labels)
    kind = mapping.decide_type(row.source_type or "", labels)
    return {"state": state, "status": status.value, "priority": priority.value if priority else row.priority,
            "type": kind or row.type,
            "assignee_id": person_ids.get(row.assignee_source_id, row.assignee_id),
            "reporter_id": person_ids.get(row.reporter_source_id, row.reporter_id)}


def _remap_comments(conn: Connection, mapping: Mapping, item_ids: list[int], own: dict[str, str]) -> int:
    found = list(conn.execute(select(comments.c.id, comments.c.author_source_id, comments.c.author_id)
                              .where(comments.c.item_id.in_(item_ids))))
    authors = _person_keys(mapping, [c.author_source_id for c in found], own)
    ids = upsert_people(conn, authors.values())
    updates = [{"_id": c.id, "author_id": ids[authors[c.author_source_id].match_key]} for c in found
               if c.author_source_id in authors and ids[authors[c.author_source_id].match_key] != c.author_id]
    if updates:
        conn.execute(update(comments).where(comments.c.id == bindparam("_id")), updates)
    return len(updates)
