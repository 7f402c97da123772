"""What an import will create, before anything is written: items, comments, attachments, and which people,
labels, workflow states and types are new to the workspace and which already exist.

Two bases: the preview (the source's estimate, its lists and a sample, through the project's mapping) and
the dry run (its census: every item read and mapped, exact). Either way each list says, per entry, whether
the workspace has it already, so a user sees "12 people: 9 new, 3 matched" and can look into each; items
likewise: a re-run of an imported project creates none, it updates (or keeps) the items it reads again.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, func, select

from importers.model import WorkItem
from importers.words import counted, listed
from store import soft_delete
from store.schema import labels as labels_table
from store.schema import people, work_items, workflow_states
from store.writer import UPDATE

from .census import LIST_MAX, item_entry
from .mapping import Mapping


@dataclass
class Forecast:
    """`None` counts are unknown on this basis (comments in a preview that reads no comments)."""

    basis: str
    items: int | None = None  # items the import reads
    items_existing: int | None = None  # of these, already in the workspace: updated or kept, never created
    duplicates: str = UPDATE  # what the import does with those: "update" them (the default) or "skip" (keep them)
    comments: int | None = None
    attachments: int | None = None
    people: list[dict[str, Any]] = field(default_factory=list)  # name, email, items, outcome
    labels: list[dict[str, Any]] = field(default_factory=list)  # name, items, new
    states: list[dict[str, Any]] = field(default_factory=list)  # name, category, items, new
    types: list[dict[str, Any]] = field(default_factory=list)  # name, items, new
    items_list: list[dict[str, Any]] = field(default_factory=list)  # key, title, state, attachments (the first)
    comments_list: list[dict[str, Any]] = field(default_factory=list)  # author, comments (by a dry run)
    attachments_list: list[dict[str, Any]] = field(default_factory=list)  # key, attachments, files (the first)

    def summary(self) -> dict[str, int | None]:
        """The headline counts: items, comments, attachments, and new / existing per list."""
        new = {kind: sum(1 for e in getattr(self, kind) if e.get("new")) for kind in ("labels", "states", "types")}
        created = sum(1 for p in self.people if p["outcome"] == "new")
        existing = self.items_existing
        new_items = None if self.items is None or existing is None else max(self.items - existing, 0)
        return {"items": self.items, "items_new": new_items, "items_existing": existing,
                "comments": self.comments, "attachments": self.attachments,
                "people": len(self.people), "people_new": created, "people_matched": len(self.people) - created,
                "labels": len(self.labels), "labels_new": new["labels"], "states": len(self.states),
                "states_new": new["states"], "types": len(self.types), "types_new": new["types"]}


    def uncounted(self) -> list[str]:
        """The counts the preview could not make, by name ("items" where the source cannot count them, GitHub
        without its search API; "comments", "attachments" before a dry run), in that order."""
        return [kind for kind in ("items", "comments", "attachments") if getattr(self, kind) is None]

    def not_counted(self) -> str:
        """"comments and attachments not counted in the preview: a dry run counts them", or "" when every count is
        known: said in words on every surface, never as "?" (the wizard's caption, the CLI's forecast line)."""
        unknown = self.uncounted()
        if not unknown:
            return ""
        return f"{listed(unknown)} not counted in the preview: a dry run counts {'it' if len(unknown) == 1 else 'them'}"

    def existing_outcome(self) -> str:
        """What happens to the items already in the workspace: "updated where they changed" or "kept as they are"
        (review: "50 already in the workspace, updated" beside a dry run that would "leave 50 unchanged")."""
        return "updated where they changed" if self.duplicates == "update" else "kept as they are"


def _stored_items(engine: Engine, source: str, project: str) -> int:
    """Items of the project in the workspace (soft-deleted ones excluded: a re-read revives them as new)."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(work_items).where(and_(
            work_items.c.source == source, work_items.c.project == project,
            soft_delete.visible(work_items)))).scalar_one()


def _existing(engine: Engine, source: str, project: str, keys: list[str]) -> tuple[set[str], set[str], set[str],
                                                                                   dict[str, str]]:
    """(label names, state names, types) the project has in the workspace, and match key -> name of people."""
    with engine.connect() as conn:
        labels = set(conn.execute(select(labels_table.c.name).where(and_(
            labels_table.c.source == source, labels_table.c.project == project))).scalars())
        states = set(conn.execute(select(workflow_states.c.name).where(and_(
            workflow_states.c.source == source, workflow_states.c.project == project))).scalars())
        types = set(conn.execute(select(work_items.c.type).distinct().where(and_(
            work_items.c.source == source, work_items.c.project == project))).scalars())
        found: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            found.update({r.match_key: r.display_name for r in conn.execute(
                select(people.c.match_key, people.c.display_name).where(people.c.match_key.in_(chunk)))})
    return labels, states, types, found


def _outcome(key: str, own: str, workspace: dict[str, str], names: dict[str, str]) -> str:
    if key in workspace:
        return f"matched: {workspace[key]}"
    if key != own:
        return f"merged into {names.get(key, key)}"
    return "new"


def from_census(engine: Engine, source: str, project: str, census: dict[str, Any], existing: int | None = None,
                duplicates: str = UPDATE, stopped_after: int | None = None) -> Forecast:
    """Exact: what a dry run read of `project`; `existing` is how many of its items the workspace has (the
    dry run's updated plus skipped), `duplicates` the job's choice for them. `stopped_after`: the items a dry run
    that failed or was cancelled had read, its counts partial (its basis says so)."""
    people_read = census.get("people") or {}
    labels, states, types, workspace = _existing(engine, source, project,
                                                 sorted({p["key"] for p in people_read.values()}))
    names = {p["key"]: p["name"] for p in people_read.values()}
    basis = "the dry run (every item read)" if stopped_after is None else (
        f"the {counted(stopped_after, 'items')} the dry run read before it stopped, not the whole project")
    forecast = Forecast(basis=basis, items=census.get("items"),
                        comments=census.get("comments"), attachments=census.get("attachments"),
                        items_existing=existing, duplicates=duplicates, items_list=list(census.get("item_list") or []),
                        attachments_list=list(census.get("attachment_list") or []))
    for source_id, p in sorted(people_read.items(), key=lambda kv: kv[1]["name"] or ""):
        own = f"email:{p['email']}" if p.get("email") else f"{source}:{source_id}"
        forecast.people.append({"name": p["name"], "email": p.get("email"), "items": p["items"],
                                "comments": p["comments"], "outcome": _outcome(p["key"], own, workspace, names)})
    forecast.comments_list = sorted(({"author": p["name"], "email": p["email"], "comments": p["comments"]}
                                     for p in forecast.people if p["comments"]), key=lambda e: -e["comments"])
    forecast.labels = [{"name": n, "items": c, "new": n not in labels} for n, c in sorted((census.get("labels") or {})
                                                                                          .items())]
    forecast.states = [{"name": n, "category": e["category"], "items": e["items"], "new": n not in states}
                       for n, e in (census.get("states") or {}).items()]
    forecast.types = [{"name": n, "items": c, "new": n not in types} for n, c in sorted((census.get("kinds") or {})
                                                                                        .items())]
    return forecast


def from_mapping(engine: Engine, mapping: Mapping, estimate: int | None, sample: Sequence[WorkItem] = (),
                 duplicates: str = UPDATE) -> Forecast:
    """From the preview: the source's estimate, its lists and the sample, through `mapping`; `sample` (the preview's
    items, as mapped) lists the items to look into. Comments and attachments are counted and listed by a dry run.
    Items already in the workspace: those of the project stored, at most the estimate (a dry run says exactly)."""
    sampled = [row for row in mapping.people if row.items]
    keys = [row.target or row.default or "" for row in sampled]
    labels, states, types, workspace = _existing(engine, mapping.source, mapping.project, sorted(set(keys)))
    names = {key: name for key, (name, _) in mapping.person_keys().items()}
    stored = _stored_items(engine, mapping.source, mapping.project)
    forecast = Forecast(basis=f"the source's lists and a sample of {counted(mapping.sample, 'items')}", items=estimate,
                        items_existing=None if estimate is None else min(stored, estimate), duplicates=duplicates,
                        items_list=[item_entry(i) for i in sample[:LIST_MAX]])
    for row, key in zip(sampled, keys, strict=True):
        forecast.people.append({"name": row.label, "email": row.email, "items": row.items, "comments": None,
                                "outcome": _outcome(key, row.default or key, workspace, names)})
    by_state: dict[str, dict[str, Any]] = {}
    for row in mapping.statuses:
        if row.target and row.category and not row.is_label:
            entry = by_state.setdefault(row.target, {"name": row.target, "category": row.category, "items": 0,
                                                     "new": row.target not in states})
            entry["items"] += row.items or 0
    forecast.states = list(by_state.values())
    by_type: dict[str, dict[str, Any]] = {}
    for row in mapping.types:
        if row.target and not row.is_label:
            entry = by_type.setdefault(row.target, {"name": row.target, "items": 0, "new": row.target not in types})
            entry["items"] += row.items or 0
    forecast.types = list(by_type.values())
    forecast.labels = [{"name": name, "items": count, "new": name not in labels}
                       for name, count in mapping.label_counts.items() if count]
    return forecast
