"""A GitHub repository's labels, close reasons and assignees, for the mapping step.

Routes (docs.github.com/rest): "List labels for a repository" (`/repos/{o}/{r}/labels`) and "List
assignees" (`/repos/{o}/{r}/assignees`), both Link-paged 100 at a time. GitHub has no status list: an
issue is open or closed, closed issues carry a `state_reason` (completed, not_planned, duplicate; none on
issues closed before reasons existed; reopened ones are open again), and workflow, priority and type live
in labels. GitHub counts none of these cheaply (a search per label), so the mapping counts a sample.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from ..metadata import Metadata, Value, label_values
from ..model import WorkItem
from .mapping import base_state, person, type_name
from .settings import PAGE_SIZE, PRIORITY_LABELS, STATUS_LABELS, TYPE_MAP

if TYPE_CHECKING:
    from . import GitHubSource

STATE_KEYS = ("open", "open:reopened", "closed", "closed:completed", "closed:not_planned", "closed:duplicate")
LABELS = {"open:reopened": "Open (reopened)", "closed": "Closed (no reason)", "closed:completed": "Closed as completed",
          "closed:not_planned": "Closed as not planned", "closed:duplicate": "Closed as duplicate"}


def read(source: GitHubSource, project: str, sample: Sequence[WorkItem] = ()) -> Metadata:
    """Labels and assignees from the API; issue types (an organisation's, not listed per repository) from
    the sample."""
    repo = source._repo(project)
    source.project(repo)  # a clear "no repository" error first
    query = urlencode({"per_page": PAGE_SIZE})
    labels = [str(raw["name"]) for page, _ in source._walk(f"/repos/{repo}/labels?{query}", f"labels of {repo!r}")
              for raw in page if isinstance(raw, dict) and raw.get("name")]
    assignees = [p for page, _ in source._walk(f"/repos/{repo}/assignees?{query}", f"assignees of {repo!r}")
                 for p in (person(raw) for raw in page) if p is not None]
    meta = Metadata(source="github", project=repo, people=assignees)
    for key in STATE_KEYS:
        name, category = base_state(key) or (key, None)
        meta.statuses.append(Value(key=key, label=LABELS.get(key, key.capitalize()), default=name, category=category))
    by_role = label_values(((name, None) for name in labels), STATUS_LABELS, PRIORITY_LABELS, TYPE_MAP)
    meta.statuses += by_role["statuses"]
    meta.priorities += by_role["priorities"]
    meta.types += by_role["types"]
    meta.types += [Value(key=name, label=name, default=type_name(name), required=False)
                   for name in sorted({i.source_type for i in sample if i.source_type})]
    meta.labels = by_role["labels"]
    return meta
