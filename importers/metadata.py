"""What a source says about a project's values before an import: the statuses, priorities, types and
people its items can carry, each with its default target from the connector's one mapping table.

The mapping step starts from this (jobs/mapping.py). Each connector reads its vendor's metadata routes in
`importers/<tool>/metadata.py` (a `read(source, project) -> Metadata` function), looked up by name here,
so the connectors' read paths stay untouched. Labels take part where a tool keeps its workflow in them
(GitHub, GitLab): a label value's key is `label:<name>`.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module

from .base import Source
from .model import Person, Priority, Status, WorkItem
from .workflow import scoped_name

LABEL_PREFIX = "label:"
KINDS = ("statuses", "priorities", "types")


@dataclass(frozen=True)
class Value:
    """One source value a mapping row is keyed on.

    `default` is the target the connector's table gives it (a state name, a priority level, a type), None
    when the table cannot say; a status the table does not file under a category has a state name but no
    `category`. `required` values need a target before an import starts (a status or
    priority the items carry); a label without one simply means nothing more than a label."""

    key: str  # what items carry: "In Review", "closed:not_planned", "label:workflow::review", "1 - Critical"
    label: str  # as the vendor shows it
    default: str | None = None
    category: Status | None = None  # statuses: the default state's category
    items: int | None = None  # items carrying it, when the vendor counts them (None: the mapping counts a sample)
    required: bool = True

    @property
    def is_label(self) -> bool:
        return self.key.startswith(LABEL_PREFIX)


def label_key(name: str) -> str:
    return f"{LABEL_PREFIX}{name}"


@dataclass
class Metadata:
    """A project's values, as the vendor lists them."""

    source: str
    project: str
    statuses: list[Value] = field(default_factory=list)
    priorities: list[Value] = field(default_factory=list)
    types: list[Value] = field(default_factory=list)
    labels: list[Value] = field(default_factory=list)  # every label (GitHub, GitLab), `required` False
    people: list[Person] = field(default_factory=list)  # who can be assigned: JIRA assignable users, members
    groups: list[Value] = field(default_factory=list)  # ServiceNow assignment groups (not imported)

    def values(self, kind: str) -> list[Value]:
        return {"statuses": self.statuses, "priorities": self.priorities, "types": self.types}[kind]


# A label naming its role: "workflow::review", "status: blocked", "priority/urgent", "type::spike".
_SCOPED = re.compile(r"^\s*(?P<scope>[A-Za-z ]+?)\s*(?:::|:|/)\s*(?P<value>\S.*)$")
_ROLES = {"workflow": "statuses", "status": "statuses", "state": "statuses", "stage": "statuses",
          "priority": "priorities", "prio": "priorities", "severity": "priorities", "type": "types", "kind": "types"}


def label_values(labels: Iterable[tuple[str, int | None]], statuses: Mapping[str, Status],
                 priorities: Mapping[str, Priority], types: Mapping[str, str]) -> dict[str, list[Value]]:
    """Which of a project's labels (name, items carrying it) take part in each kind, for tools that keep
    their workflow in labels. A label the connector's tables (lower-cased names) know gets their target;
    one whose scope names a role (`workflow::review`, `priority: urgent`) but that the tables do not know
    is listed without a category or level, to be decided before the import; every label is also listed under
    "labels"."""
    found: dict[str, list[Value]] = {"statuses": [], "priorities": [], "types": [], "labels": []}
    for name, count in labels:
        lowered = name.strip().lower()
        key = label_key(name)
        found["labels"].append(Value(key=key, label=name, items=count, required=False))
        scoped = _SCOPED.match(name)
        role = _ROLES.get(scoped.group("scope").strip().lower()) if scoped else None
        if lowered in statuses:
            found["statuses"].append(Value(key=key, label=name, default=scoped_name(name),
                                           category=statuses[lowered], items=count, required=False))
        elif role == "statuses" and scoped:  # named after its value; its category is the user's to say
            found["statuses"].append(Value(key=key, label=name, default=scoped.group("value").strip(), items=count))
        if lowered in priorities:
            found["priorities"].append(Value(key=key, label=name, default=priorities[lowered].value, items=count,
                                             required=False))
        elif role == "priorities":
            found["priorities"].append(Value(key=key, label=name, items=count))
        if lowered in types:
            found["types"].append(Value(key=key, label=name, default=types[lowered], items=count, required=False))
        elif role == "types" and scoped:
            found["types"].append(Value(key=key, label=name, default=scoped.group("value").strip().lower(),
                                        items=count, required=False))
    return found


def read(source: Source, project: str, sample: Sequence[WorkItem] = ()) -> Metadata:
    """The project's metadata through `importers.<source.name>.metadata.read`, which may also draw on a
    `sample` of the project's items for what the vendor does not list; raises SourceError as reads do."""
    module = import_module(f"importers.{source.name}.metadata")
    found: Metadata = module.read(source, project, sample)
    return found
