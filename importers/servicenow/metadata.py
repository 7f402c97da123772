"""A ServiceNow table's state and priority choice lists, users and assignment groups, for the mapping step.

All through the Table API (docs.servicenow.com, "Choice table" and "Table API"): `sys_choice` holds every
choice list, one row per (table, field, language, value) with its label and sequence; a table defines its
own `state` choices (an admin's added states are rows there too, which the connector's table does not know),
`priority` is defined on `task`, which incident, problem and change_request extend. `sys_user` and
`sys_user_group` list people and groups. Counts come from a sample: the Table API does not count per value.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..metadata import Metadata, Value
from ..model import WorkItem
from .mapping import person_from_user, value
from .settings import PEOPLE_FIELDS, PRIORITY_MAP, TABLES

if TYPE_CHECKING:
    from . import ServiceNowSource

PEOPLE_LIMIT = 500  # the mapping lists people seen in the sample besides these


def _choices(source: ServiceNowSource, tables: str, element: str) -> dict[str, str]:
    """value -> label of the active English choices of `element`, the first table named in `tables` winning."""
    rows, _ = source.client.table("sys_choice", {
        "sysparm_query": f"nameIN{tables}^element={element}^language=en^inactive=false^ORDERBYsequence",
        "sysparm_fields": "name,value,label", "sysparm_limit": 1000}, what=f"the {element} choices")
    found: dict[str, str] = {}
    for name in tables.split(","):
        for row in rows:
            if value(row, "name") == name and value(row, "value"):
                found.setdefault(value(row, "value"), value(row, "label") or value(row, "value"))
    return found


def read(source: ServiceNowSource, project: str, sample: Sequence[WorkItem] = ()) -> Metadata:
    spec = TABLES[source.project(project).key]
    meta = Metadata(source="servicenow", project=project)
    for number, label in _choices(source, project, "state").items():
        category = spec.states.get(number)  # None: a state the instance added
        meta.statuses.append(Value(key=label, label=f"{label} ({number})", default=label, category=category))
    for number, label in _choices(source, f"{project},task", "priority").items():
        level = PRIORITY_MAP.get(number)
        meta.priorities.append(Value(key=label, label=label, default=level.value if level else None))
    meta.types.append(Value(key=project, label=spec.name, default=spec.type))
    users, _ = source.client.table("sys_user", {
        "sysparm_query": "active=true^ORDERBYname", "sysparm_fields": ",".join(PEOPLE_FIELDS),
        "sysparm_limit": PEOPLE_LIMIT}, what="table sys_user")
    meta.people = [person_from_user(row) for row in users if value(row, "sys_id")]
    groups, _ = source.client.table("sys_user_group", {
        "sysparm_query": "active=true^ORDERBYname", "sysparm_fields": "sys_id,name", "sysparm_limit": PEOPLE_LIMIT},
        what="table sys_user_group")
    meta.groups = [Value(key=value(g, "sys_id"), label=value(g, "name"), required=False) for g in groups]
    return meta
