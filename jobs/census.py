"""What an import brings, counted as it reads: the basis of "what will be created" and of exact counts in
the mapping step after a dry run.

Per part, the census holds how many items, comments and attachments were read (with the first items read, and
the first that have attachments, to look into), how many items carry each
source value (keyed as the mapping's rows are: `source_status`, `label:<name>`, ...), each workflow state,
type and label the items are filed under, and each person with the workspace key they are written as. It is
counted after the mapping is applied, committed with each batch (store/census.py), and merged by addition,
so a resumed part goes on counting where it stopped.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from importers.metadata import label_key
from importers.model import Page, Person, WorkItem

Census = dict[str, Any]
LIST_MAX = 100  # entries of each list to look into (items, items with attachments): the first read


def item_entry(item: WorkItem) -> dict[str, Any]:
    """An item as "what will be created" lists it."""
    return {"key": item.key, "title": item.title, "state": item.state_name, "attachments": len(item.attachments)}


def attachment_entry(item: WorkItem) -> dict[str, Any]:
    """An item's attachments as "what will be created" lists them (files stay at the source, linked)."""
    return {"key": item.key, "attachments": len(item.attachments),
            "files": ", ".join(a.file_name for a in item.attachments[:5]) + (", ..." if len(item.attachments) > 5
                                                                              else "")}


def _person(found: dict[str, dict[str, Any]], person: Person | None, role: str) -> None:
    if person is None:
        return
    entry = found.setdefault(person.external_id, {"name": person.display_name, "email": person.email,
                                                  "key": person.match_key, "items": 0, "comments": 0})
    entry[role] += 1


def count(pages: Iterable[Page]) -> Census:
    """The census of a batch of (mapped) pages."""
    values: dict[str, Counter[str]] = {k: Counter() for k in ("statuses", "priorities", "types", "labels", "kinds")}
    states: dict[str, dict[str, Any]] = {}
    people: dict[str, dict[str, Any]] = {}
    items = comments = attachments = 0
    at_source: int | None = None  # the comments the source says the items read have, where it says
    listed: list[dict[str, Any]] = []
    attached: list[dict[str, Any]] = []
    for page in pages:
        for item in page.items:
            items += 1
            if item.comments_at_source is not None:
                at_source = (at_source or 0) + item.comments_at_source
            attachments += len(item.attachments)
            if len(listed) < LIST_MAX:
                listed.append(item_entry(item))
            if item.attachments and len(attached) < LIST_MAX:
                attached.append(attachment_entry(item))
            labels = list(dict.fromkeys(item.labels))
            keys = [label_key(name) for name in labels]
            values["statuses"].update([item.source_status, *keys])
            values["priorities"].update([item.source_priority, *keys])
            values["types"].update([item.source_type, *keys])
            values["labels"].update(labels)
            values["kinds"][item.type] += 1
            state = states.setdefault(item.state_name, {"category": item.status.value, "items": 0})
            state["items"] += 1
            someone = {p.external_id: p for p in (item.assignee, item.reporter) if p is not None}
            for person in someone.values():
                _person(people, person, "items")
        for comment in page.comments:
            comments += 1
            _person(people, comment.author, "comments")
    for counter in values.values():
        counter.pop("", None)
    return {"items": items, "comments": comments, "attachments": attachments, "states": states, "people": people,
            **({"comments_at_source": at_source} if at_source is not None else {}),
            "item_list": listed, "attachment_list": attached,
            **{kind: dict(counter) for kind, counter in values.items()}}


def merge(old: Census | None, new: Census) -> Census:
    """Two censuses added up (numbers summed, per-value counts summed, the newest details of a person kept)."""
    if not old:
        return new
    merged: Census = dict(old)
    for key, value in new.items():
        if isinstance(value, int):
            merged[key] = int(old.get(key) or 0) + value
        elif isinstance(value, list):  # the lists to look into: the first LIST_MAX entries read
            merged[key] = [*(old.get(key) or []), *value][:LIST_MAX]
        elif key in ("states", "people"):
            combined = {k: dict(v) for k, v in (old.get(key) or {}).items()}
            for name, entry in value.items():
                mine = combined.setdefault(name, {**entry, **{f: 0 for f, v in entry.items() if isinstance(v, int)}})
                for field, amount in entry.items():
                    mine[field] = mine.get(field, 0) + amount if isinstance(amount, int) else amount
            merged[key] = combined
        else:
            counts = Counter(old.get(key) or {})
            counts.update(value)
            merged[key] = dict(counts)
    return merged
