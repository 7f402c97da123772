"""The mapping of one source project: which workspace state, priority, type and person each source value
becomes. One module for the console, the CLI, the HTTP API and the worker.

A mapping is built from what the source lists (importers/metadata.py), with the connector's one mapping
table as its defaults, counts from the vendor or a sample, and whatever the user saved before; every
import applies it to the items it writes; a changed mapping re-maps the items already stored
(jobs/remap.py); it is saved per source project with each job that used it, and round-trips as a file
(jobs/mapping_file.py). Its rules (`Mapping.rules()`) are plain JSON:

    {"source": "jira", "project": "ACME",
     "statuses":   [{"source": "Blocked", "target": "Blocked", "category": "in_progress", "items": 30}, ...],
     "priorities": [{"source": "Highest", "target": "urgent", "items": 23}, ...],
     "types":      [{"source": "Bug", "target": "bug", "items": 22}, ...],
     "people":     [{"source": "5b10...", "name": "Dmitri Ivanov", "email": null,
                     "target": "email:alice@example.com", "items": 9}, ...]}

Targets: a status row names a state and its category; a priority row a level (urgent, high, medium, low,
none); a type row a type; a person row the workspace person it is written as, by match key: `email:<addr>`
(matched by email), `<source>:<id>` (a person of its own); its `default` is how the source matches them,
and only a target other than that moves them. A row without a target leaves its items as the
connector maps them; a status or priority the source has but the tables cannot place is flagged, and an
import does not start until it has a target.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from importers.errors import API, CLI, CONSOLE, ConfigError
from importers.metadata import LABEL_PREFIX, Metadata, label_key
from importers.model import Comment, Page, Person, Priority, Status, WorkItem
from importers.workflow import CLOSED

KINDS = ("statuses", "priorities", "types", "people")
ONE = {"statuses": "status", "priorities": "priority", "types": "type", "people": "person"}
NAME_MAX = {"statuses": 255, "types": 64}  # workflow_states.name / work_items.state, work_items.type
# what a state can be filed under (MOVED marks an original left behind by a move: no mapping's to choose)
CATEGORIES = tuple(s.value for s in (Status.BACKLOG, Status.TODO, Status.IN_PROGRESS, Status.DONE, Status.CANCELLED))
LEVELS = tuple(p.value for p in Priority)
SAMPLE_SIZE = 100  # items read to count what the vendor does not count: one request on every connector


def read_whole(read: int, total: int | None) -> bool:
    """Whether `read` items (a sample, the preview's) are every item of a project the source counts `total`: also at
    exactly the sample's size (a project of 50 read by a sample of 50 was read whole, not "a sample of 50"); never
    when the source cannot say its count (a full sample may have stopped short of more)."""
    return total is not None and read >= total


def checked_name(kind: str, text: str) -> str:
    """A state's or type's name as a user gave it (a file, the API, the mapping step), without surrounding spaces;
    ConfigError in one line when it cannot be one. Every page, export and the CLI shows these names and every
    item of the project carries one: a lone surrogate (no UTF-8 form) failed every later import and preview of the
    project, a control character (a terminal escape, NUL) or an invisible one (zero-width, bidi) made a name that
    looks like another or acts on a terminal, and a name longer than its column (PostgreSQL) failed every write."""
    name = text.strip()
    what = "state" if kind == "statuses" else "type"
    if len(name) > NAME_MAX[kind]:
        raise ConfigError(f"the {what} name {name[:40]!r}... is longer than {NAME_MAX[kind]} characters")
    odd = next((c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Cs")), None)
    if odd is not None:
        raise ConfigError(f"the {what} name {name[:60]!r} holds an invisible or control character (U+{ord(odd):04X}): "
                          f"type the name without it")
    return name


@dataclass
class Row:
    """One source value and its target. `counted` says where `items` comes from: the source itself, a sample
    of `sample` items, or a dry run."""

    source: str
    label: str = ""
    target: str | None = None
    category: str | None = None  # statuses: the target state's category
    items: int | None = None
    counted: str = "sample"
    default: str | None = None
    default_category: str | None = None
    required: bool = True
    email: str | None = None  # people
    username: str | None = None  # people

    @property
    def is_label(self) -> bool:
        return self.source.startswith(LABEL_PREFIX)

    @property
    def changed(self) -> bool:
        return (self.target, self.category) != (self.default, self.default_category)


@dataclass
class Mapping:
    source: str
    project: str
    statuses: list[Row] = field(default_factory=list)
    priorities: list[Row] = field(default_factory=list)
    types: list[Row] = field(default_factory=list)
    people: list[Row] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # every label the project has, for label rows to name
    label_counts: dict[str, int] = field(default_factory=dict)  # items carrying each label (source's, else sample's)
    groups: list[str] = field(default_factory=list)  # ServiceNow assignment groups (listed, not imported)
    states: dict[str, str] = field(default_factory=dict)  # the project's states in the workspace: name -> category
    workspace_people: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # key -> (name, email)
    sample: int = 0  # items the sample counts come from
    total: int | None = None  # the project's items as the source estimates them (None: not asked, or it cannot say)

    def __post_init__(self) -> None:
        self._cache: tuple[dict[str, dict[str, Row]], dict[str, tuple[str, str | None]]] | None = None

    # -- lookups -------------------------------------------------------------------------
    def rows(self, kind: str) -> list[Row]:
        if kind not in KINDS:
            raise KeyError(kind)
        found: list[Row] = getattr(self, kind)
        return found

    def _lookups(self) -> tuple[dict[str, dict[str, Row]], dict[str, tuple[str, str | None]]]:
        """(kind -> source value -> row, person key -> (name, email)), built once until a row is added."""
        if self._cache is None:
            keys = dict(self.workspace_people)
            for row in self.people:
                for key in self._own_keys(row):
                    keys.setdefault(key, (row.label, row.email))
            self._cache = ({k: {r.source: r for r in self.rows(k)} for k in KINDS}, keys)
        return self._cache

    def row(self, kind: str, source: str) -> Row | None:
        return self._lookups()[0][kind].get(source)

    def _add(self, kind: str, row: Row) -> Row:
        self.rows(kind).append(row)
        self._cache = None
        return row

    def source_total(self) -> int | None:
        """The project's items as the source counted them (the sum of its statuses' counts), or None when any
        status was counted in a sample, saved, or not counted."""
        statuses = [row for row in self.statuses if not row.is_label]
        if not statuses or any(row.counted not in ("source", "dry run") or row.items is None for row in statuses):
            return None
        return sum(row.items or 0 for row in statuses)

    def sample_is_whole(self) -> bool:
        """Whether the sample read every item of the project, so its counts are exact (`read_whole`; the project's
        count is the source's estimate, else the sum of its statuses' counts)."""
        return read_whole(self.sample, self.total if self.total is not None else self.source_total())

    def flagged(self) -> list[tuple[str, Row]]:
        """Rows an import cannot start with: a status without a state and category, a priority without a level."""
        return [(kind, row) for kind in ("statuses", "priorities") for row in self.rows(kind)
                if row.required and (not row.target or (kind == "statuses" and not row.category))]

    def state_categories(self) -> dict[str, str]:
        """Every state this mapping files items under, with its category, the workspace's states first."""
        found = dict(self.states)
        found.update({r.target: r.category for r in self.statuses if r.target and r.category})
        return found

    def person_keys(self) -> dict[str, tuple[str, str | None]]:
        """Every person a people row may target, key -> (name, email): workspace people, and each source
        person's own keys (by email, and by this source's id)."""
        return dict(self._lookups()[1])

    def _own_keys(self, row: Row) -> list[str]:
        own = f"{self.source}:{row.source}"
        return [f"email:{row.email}", own] if row.email else [own]

    def merges_to_confirm(self) -> list[tuple[Row, str, str | None]]:
        """(row, target key, target's email) for each person written as someone with a different email."""
        found: list[tuple[Row, str, str | None]] = []
        keys = self.person_keys()
        for row in self.people:
            if row.target and row.email and row.target != row.default:
                other = keys.get(row.target, ("", None))[1]
                if other and other.lower() != row.email.lower():
                    found.append((row, row.target, other))
        return found

    def count_from(self, census: dict[str, Any]) -> None:
        """Take exact counts from a dry run's census (jobs/census.py) where the source did not count."""
        for kind in ("statuses", "priorities", "types"):
            for row in self.rows(kind):
                if row.counted != "source":
                    row.items, row.counted = (census.get(kind) or {}).get(row.source, 0), "dry run"
        read = census.get("people") or {}
        for row in self.people:
            row.items, row.counted = (read.get(row.source) or {}).get("items", 0), "dry run"

    @property
    def changed_rows(self) -> int:
        """How many rows point elsewhere than the connector's defaults (what `mapping import` and the audit say)."""
        return sum(row.changed for kind in KINDS for row in self.rows(kind))

    # -- changing ------------------------------------------------------------------------
    def set_target(self, kind: str, source: str, target: str | None, category: str | None = None) -> Row:
        """Point a row at a target; a status row pointed at a state that exists takes that state's category
        (a state has one), a new state needs `category`. A state or type name is checked (`checked_name`:
        ConfigError, the row unchanged)."""
        row = self.row(kind, source)
        if row is None:
            raise KeyError(f"{ONE[kind]} {source!r}")
        if target and kind in NAME_MAX:
            target = checked_name(kind, target)
        row.target = target or None
        if kind == "statuses":
            others = {r.target: r.category for r in self.statuses if r is not row and r.target and r.category}
            existing = {**self.states, **others}.get(row.target or "")
            row.category = (existing or category) if row.target else None
        return row

    def use_label(self, kind: str, name: str) -> Row:
        """A row for one of the project's labels as a status, priority or type (a workflow kept in labels that
        the defaults do not know); it has no target until one is set."""
        if name not in self.labels:
            raise ConfigError(f"{self.source} project {self.project} has no label {name!r}")
        return self.row(kind, label_key(name)) or self._add(kind, Row(source=label_key(name), label=name,
                                                                        required=False, counted="sample",
                                                                        items=self.label_counts.get(name)))

    def check_startable(self) -> None:
        """Raise ConfigError naming the first value an import cannot start with (see `flagged`)."""
        flagged = self.flagged()
        if flagged:
            kind, row = flagged[0]
            what = "a state and its category" if kind == "statuses" else "a priority level"
            more = f" ({len(flagged) - 1} more)" if len(flagged) > 1 else ""
            raise ConfigError(f"{self.source} project {self.project}: {ONE[kind]} {row.label or row.source!r} has no "
                              f"target{more}: give it {what} {{at}}", places={
                                  CLI: "in the mapping step or with `mapping import`",
                                  API: "in its row of the mapping's document", CONSOLE: "in the mapping step"})

    # -- the saved form ------------------------------------------------------------------
    def rules(self) -> dict[str, Any]:
        """The mapping as JSON (what is saved, kept with a job, and written to a file)."""
        out: dict[str, Any] = {"source": self.source, "project": self.project}
        flagged = {(kind, row.source) for kind, row in self.flagged()}
        for kind in KINDS:
            entries = []
            for row in self.rows(kind):
                entry: dict[str, Any] = {"source": row.source}
                if kind == "people":
                    entry.update(name=row.label, email=row.email)
                entry["target"] = row.target
                if kind == "people":
                    entry["default"] = row.default  # how the source matches them; a target that differs moves them
                if kind == "statuses":
                    entry["category"] = row.category
                entry["items"] = row.items
                if (kind, row.source) in flagged:
                    entry["flagged"] = True  # needs a target before an import can start
                entries.append(entry)
            out[kind] = entries
        return out

    def fingerprint(self) -> str:
        return fingerprint(self.rules())

    @classmethod
    def from_rules(cls, rules: dict[str, Any]) -> Mapping:
        """A mapping from its saved rules: enough to apply it (the worker) and to show it (a job's page)."""
        found = cls(source=str(rules.get("source") or ""), project=str(rules.get("project") or ""))
        for kind in KINDS:
            for entry in rules.get(kind) or []:
                found.rows(kind).append(Row(
                    source=str(entry["source"]), label=str(entry.get("name") or entry["source"]),
                    target=entry.get("target"), category=entry.get("category"), items=entry.get("items"),
                    counted="saved", email=entry.get("email"), default=entry.get("default"),
                    required=bool(entry.get("flagged"))))
        return found

    # -- applying ------------------------------------------------------------------------
    def decide_status(self, source_status: str, labels: Sequence[str], current: Status) -> tuple[str, Status] | None:
        """(state, category) for an item: a label row on the item's side (open or closed) first, then the row
        of its status (importers/workflow.py decides the connectors' defaults the same way); None: keep."""
        base = self.row("statuses", source_status) if source_status else None
        own = (base.target, Status(base.category)) if base is not None and base.target and base.category else None
        closed = (own[1] if own else current) in CLOSED
        for label in labels:
            row = self.row("statuses", label_key(label))
            if row is not None and row.target and row.category and (Status(row.category) in CLOSED) == closed:
                return row.target, Status(row.category)
        return own

    def _first_target(self, kind: str, value: str, labels: Sequence[str]) -> str | None:
        """A label row's target first, then the value's own row's (priorities and types)."""
        for label in labels:
            row = self.row(kind, label_key(label))
            if row is not None and row.target:
                return row.target
        row = self.row(kind, value) if value else None
        return row.target if row is not None and row.target else None

    def decide_priority(self, source_priority: str, labels: Sequence[str]) -> Priority | None:
        target = self._first_target("priorities", source_priority, labels)
        return Priority(target) if target in LEVELS else None

    def decide_type(self, source_type: str, labels: Sequence[str]) -> str | None:
        return self._first_target("types", source_type, labels)

    def decide_person(self, person: Person | None) -> Person | None:
        """The person as the workspace should record them: merged into, or kept apart from, whom the row says.
        A row left at its default keeps the connector's match (by email, else by the source's id)."""
        if person is None:
            return None
        row = self.row("people", person.external_id)
        if row is None or not row.target or row.target in (row.default, person.default_key):
            return person
        name, email = self._lookups()[1].get(row.target) or (person.display_name, person.email)
        return person.model_copy(update={"workspace_key": row.target, "display_name": name, "email": email})

    def apply(self, item: WorkItem) -> WorkItem:
        """The item as this mapping files it (a copy; the item itself is not changed)."""
        updates: dict[str, Any] = {}
        decided = self.decide_status(item.source_status, item.labels, item.status)
        if decided is not None and decided != (item.state, item.status):
            updates["state"], updates["status"] = decided
        priority = self.decide_priority(item.source_priority, item.labels)
        if priority is not None and priority != item.priority:
            updates["priority"] = priority
        kind = self.decide_type(item.source_type, item.labels)
        if kind is not None and kind != item.type:
            updates["type"] = kind
        for role in ("assignee", "reporter"):
            person = getattr(item, role)
            mapped = self.decide_person(person)
            if mapped is not person:
                updates[role] = mapped
        return item.model_copy(update=updates) if updates else item

    def apply_page(self, page: Page) -> Page:
        comments = [self._comment(c) for c in page.comments]
        return page.model_copy(update={"items": [self.apply(i) for i in page.items], "comments": comments})

    def _comment(self, comment: Comment) -> Comment:
        author = self.decide_person(comment.author)
        return comment if author is comment.author else comment.model_copy(update={"author": author})


def fingerprint(rules: dict[str, Any]) -> str:
    """What the targets of a mapping's rules are, as a short hash (counts and names left out)."""
    targets = [[kind, e.get("source"), e.get("target"), e.get("category")] for kind in KINDS
               for e in rules.get(kind) or []]
    return hashlib.blake2b(json.dumps(targets, sort_keys=True).encode(), digest_size=16).hexdigest()


# -- building ------------------------------------------------------------------------------
def _counts(sample: Sequence[WorkItem]) -> dict[str, Counter[str]]:
    """How many sampled items carry each value, per kind (labels as `label:<name>` in every kind)."""
    found: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    for item in sample:
        labels = [label_key(name) for name in dict.fromkeys(item.labels)]
        found["statuses"].update([item.source_status, *labels])
        found["priorities"].update([item.source_priority, *labels])
        found["types"].update([item.source_type, *labels])
        found["people"].update({p.external_id for p in (item.assignee, item.reporter) if p is not None})
    return found


def _most_common(values: Iterable[Any]) -> Any:
    counted = Counter(values).most_common(1)
    return counted[0][0] if counted else None


def build(metadata: Metadata, sample: Sequence[WorkItem], saved: dict[str, Any] | None = None,
          states: dict[str, str] | None = None,
          workspace_people: dict[str, tuple[str, str | None]] | None = None, total: int | None = None) -> Mapping:
    """The mapping of `metadata`'s project: every value the source lists or the sample carries, with its default
    target, the `saved` rules over the defaults, and counts (the source's, else the sample's)."""
    mapping = Mapping(source=metadata.source, project=metadata.project, states=dict(states or {}),
                      workspace_people=dict(workspace_people or {}), sample=len(sample), total=total,
                      labels=[v.label for v in metadata.labels], groups=[g.label for g in metadata.groups])
    counts = _counts(sample)
    sampled_labels = Counter(name for item in sample for name in dict.fromkeys(item.labels))
    mapping.labels = list(dict.fromkeys([*mapping.labels, *sampled_labels]))
    listed = {v.label: v.items for v in metadata.labels if v.items is not None}
    mapping.label_counts = {name: listed.get(name, sampled_labels.get(name, 0)) for name in mapping.labels}
    for kind in ("statuses", "priorities", "types"):
        for value in metadata.values(kind):
            category = value.category.value if value.category else None
            mapping._add(kind, Row(source=value.key, label=value.label, target=value.default, category=category,
                                   default=value.default, default_category=category, required=value.required,
                                   items=value.items if value.items is not None else counts[kind][value.key],
                                   counted="source" if value.items is not None else "sample"))
    _add_sampled(mapping, sample, counts)
    for person in metadata.people:
        _add_person(mapping, person, counts["people"][person.external_id])
    for item in sample:
        for someone in (item.assignee, item.reporter):
            if someone is not None:
                _add_person(mapping, someone, counts["people"][someone.external_id])
    if saved:
        _restore(mapping, saved)
    return mapping


def _add_sampled(mapping: Mapping, sample: Sequence[WorkItem], counts: dict[str, Counter[str]]) -> None:
    """Values the sample carries that the source did not list: their default is what the connector did."""
    for value, carriers in _group(sample, lambda i: i.source_status).items():
        if value and mapping.row("statuses", value) is None:
            state, category = _most_common((i.state_name, i.status.value) for i in carriers)
            mapping._add("statuses", Row(source=value, label=value, target=state, category=category, default=state,
                                         default_category=category, items=counts["statuses"][value]))
    for kind, attr, target in (("priorities", "source_priority", lambda i: i.priority.value),
                               ("types", "source_type", lambda i: i.type)):
        for value, carriers in _group(sample, lambda i, attr=attr: getattr(i, attr)).items():
            if value and mapping.row(kind, value) is None:
                default = _most_common(target(i) for i in carriers)
                mapping._add(kind, Row(source=value, label=value, target=default, default=default, required=False,
                                       items=counts[kind][value]))


def _group(sample: Sequence[WorkItem], key) -> dict[str, list[WorkItem]]:
    found: dict[str, list[WorkItem]] = {}
    for item in sample:
        found.setdefault(key(item), []).append(item)
    return found


def _add_person(mapping: Mapping, person: Person, items: int) -> None:
    row = mapping.row("people", person.external_id)
    if row is not None:
        if person.email and not row.email:  # lists often hide emails that items show (GitHub assignees)
            row.email, row.label = person.email, row.label if row.label != row.username else person.display_name
            row.default = row.target = person.default_key
        return
    mapping._add("people", Row(source=person.external_id, label=person.display_name or person.username or
                               person.external_id, target=person.default_key, default=person.default_key,
                               email=person.email, username=person.username, items=items, required=False))


def _restore(mapping: Mapping, saved: dict[str, Any]) -> None:
    """The saved rules over the defaults; a saved value the source no longer lists keeps its row."""
    for kind in KINDS:
        for entry in saved.get(kind) or []:
            source = str(entry.get("source"))
            row = mapping.row(kind, source)
            if row is None:
                row = mapping._add(kind, Row(source=source, label=str(entry.get("name") or source), counted="saved",
                                             items=entry.get("items"), email=entry.get("email"), required=False))
            row.target = entry.get("target")
            if kind == "statuses":
                row.category = entry.get("category")
            if kind == "people" and entry.get("target") == entry.get("default"):
                row.target = row.default  # not moved: follows the source's match as it is now

