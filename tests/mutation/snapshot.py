"""A workspace store read into plain values, for comparing a catch-up store with a fresh import.

What is compared is what a person sees: every column of an item and a comment except the store's
own bookkeeping (row ids, hashes, which job wrote it, the soft-delete marks), people by their
match key, and references (parent, links, moved-to) by the stable id *and* the current key the
workspace shows for it. Columns added later by anyone are compared too, without touching this file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from store.db import engine_for
from store.schema import comments, people, work_items

BOOKKEEPING = {"id", "content_hash", "created_by_job", "updated_by_job", "deleted_at", "deleted_by_job"}


@dataclass
class Snapshot:
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # live items by external id
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)  # live comments by external id
    deleted_items: set[str] = field(default_factory=set)
    deleted_comments: set[str] = field(default_factory=set)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value


def read(url: str, source: str) -> Snapshot:
    """The store at `url`, limited to `source`'s rows."""
    engine = engine_for(url)
    found = Snapshot()
    with engine.connect() as conn:
        person = {r.id: r.match_key for r in conn.execute(select(people.c.id, people.c.match_key))}
        rows = [dict(r._mapping) for r in conn.execute(select(work_items).where(work_items.c.source == source))]
        key_of = {r["external_id"]: r["key"] for r in rows}
        item_of = {r["id"]: r["external_id"] for r in rows}
        for row in rows:
            if row["deleted_at"] is not None:
                found.deleted_items.add(row["external_id"])
                continue
            item = {k: _plain(v) for k, v in row.items() if k not in BOOKKEEPING | {"assignee_id", "reporter_id"}}
            item["assignee"] = person.get(row["assignee_id"])
            item["reporter"] = person.get(row["reporter_id"])
            item["parent_key"] = key_of.get(row["parent_id"] or "", row["parent_key"])  # as the workspace shows it
            item["links"] = [{**link, "target_key": key_of.get(link.get("target_id") or "", link["target_key"])}
                             for link in row["links"] or []]
            item["moved_to_key"] = key_of.get(row["moved_to_id"] or "")
            found.items[row["external_id"]] = item
        for row in (dict(r._mapping) for r in conn.execute(select(comments).where(comments.c.source == source))):
            if row["deleted_at"] is not None:
                found.deleted_comments.add(row["external_id"])
                continue
            comment = {k: _plain(v) for k, v in row.items() if k not in BOOKKEEPING | {"item_id", "author_id"}}
            comment["item"] = item_of.get(row["item_id"])
            comment["author"] = person.get(row["author_id"])
            found.comments[row["external_id"]] = comment
    return found


def differences(caught_up: dict[str, dict], fresh: dict[str, dict], what: str) -> list[str]:
    """Each difference as one line, "item 10012 title: 'old' != 'new'", missing and extra rows first."""
    lines = [f"{what} {eid} missing after the catch-up run" for eid in sorted(fresh.keys() - caught_up.keys())]
    lines += [f"{what} {eid} live after the catch-up run, absent from a fresh import"
              for eid in sorted(caught_up.keys() - fresh.keys())]
    for eid in sorted(caught_up.keys() & fresh.keys()):
        for column in sorted(fresh[eid].keys() | caught_up[eid].keys()):
            if caught_up[eid].get(column) != fresh[eid].get(column):
                lines.append(f"{what} {eid} {column}: {caught_up[eid].get(column)!r} != {fresh[eid].get(column)!r}")
    return lines
