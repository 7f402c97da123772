"""Workflow states: a source's own status names, each filed under one of the five categories.

JIRA, ServiceNow and the demo name their statuses; GitHub and GitLab only have open and closed,
and teams keep the rest of their workflow in labels ("in progress", `workflow::review`). The
connectors (their default state for an item) and the mapping (its default row for a value) both
decide through these functions, so what the mapping step shows is what an import does.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from .model import Status

CLOSED = frozenset({Status.DONE, Status.CANCELLED})


def scoped_name(label: str) -> str:
    """The state a workflow label names: a scoped label's value (`workflow::In review` -> `In review`)."""
    label = label.strip()
    return label.rsplit("::", 1)[-1].strip() or label


def refine_by_label(labels: Iterable[str], table: Mapping[str, Status], closed: bool) -> tuple[str, Status] | None:
    """(state name, category) of the first label the table (lower-cased names) knows whose category is on
    the item's side: labels of open categories refine open items ("doing" -> in progress), labels of
    closed ones refine closed items ("wontfix" -> cancelled). None when no label says more."""
    for label in labels:
        category = table.get(label.strip().lower())
        if category is not None and (category in CLOSED) == closed:
            return scoped_name(label), category
    return None
