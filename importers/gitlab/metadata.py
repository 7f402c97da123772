"""A GitLab project's labels (scoped ones included), members and issue counts, for the mapping step.

Routes (docs.gitlab.com/api): "List labels" with `with_counts=true` (each label's open and closed issue
counts: exact counts for every label, one request a page), "List all members ... including inherited
members" (`members/all`), and `issues_statistics` (how many issues are opened and closed). GitLab's own
values are fixed: the states `opened` and `closed`, the issue types, and incidents' severities; the rest of
a team's workflow, priority and type lives in labels, scoped ones (`workflow::review`) by GitLab's design.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..metadata import Metadata, Value, label_values
from ..model import WorkItem
from .mapping import person
from .settings import (
    BUG_LABELS,
    PAGE_SIZE,
    PRIORITY_LABELS,
    SEVERITY_MAP,
    STATE_NAMES,
    STATUS_LABELS,
    STATUS_MAP,
    TYPE_MAP,
    project_path,
)

if TYPE_CHECKING:
    from . import GitLabSource

TYPE_LABELS = dict.fromkeys(BUG_LABELS, "bug")


def _count(raw: dict[str, Any]) -> int | None:
    opened, closed = raw.get("open_issues_count"), raw.get("closed_issues_count")
    return opened + closed if isinstance(opened, int) and isinstance(closed, int) else None


def read(source: GitLabSource, project: str, sample: Sequence[WorkItem] = ()) -> Metadata:
    client = source.client
    source.project(project)  # a clear "no project" error first
    path = project_path(project)
    labels = [(str(raw["name"]), _count(raw))
              for page in client.pages(f"{path}/labels", {"with_counts": "true", "per_page": PAGE_SIZE},
                                       f"the labels of {project}")
              for raw in page if isinstance(raw, dict) and raw.get("name")]
    members = [p for page in client.pages(f"{path}/members/all", {"per_page": PAGE_SIZE}, f"the members of {project}")
               for p in (person(raw) for raw in page if isinstance(raw, dict)) if p is not None]
    stats = client.json(client.get(f"{path}/issues_statistics", {}, f"the issue counts of {project}"))
    counts = ((stats or {}).get("statistics") or {}).get("counts") or {} if isinstance(stats, dict) else {}
    meta = Metadata(source="gitlab", project=project, people=members)
    for state, category in STATUS_MAP.items():
        meta.statuses.append(Value(key=state, label=STATE_NAMES[state], default=STATE_NAMES[state], category=category,
                                   items=counts.get(state) if isinstance(counts.get(state), int) else None))
    meta.priorities += [Value(key=f"severity:{level}", label=f"Incident severity {level.lower()}",
                              default=priority.value, required=False) for level, priority in SEVERITY_MAP.items()]
    meta.types += [Value(key=kind, label=kind.replace("_", " "), default=target) for kind, target in TYPE_MAP.items()]
    by_role = label_values(labels, STATUS_LABELS, PRIORITY_LABELS, TYPE_LABELS)
    meta.statuses += by_role["statuses"]
    meta.priorities += by_role["priorities"]
    meta.types += by_role["types"]
    meta.labels = by_role["labels"]
    return meta
