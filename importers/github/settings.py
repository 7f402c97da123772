"""The GitHub source's constants and its one mapping table (GitHub states and labels -> ACGS2).

GitHub issues have only two states plus a close reason, and no priority or type fields of
their own (issue types exist on organisations that enable them). Teams encode the rest in
labels, so the table below maps the common label conventions too. Label names are compared
lowercased and trimmed.
"""
from ..model import Priority, Status

TOOL = "GitHub"
TOKEN_ENV = "GITHUB_TOKEN"
URL_ENV = "GITHUB_API_URL"
DEFAULT_API_URL = "https://api.github.com"
PAGE_SIZE = 100  # the most GitHub serves per page
# Comment pages fetched at once where GitHub numbers them (a `last` link): hides the round trip;
# issue listings page by cursor, so their pages come one after another. GitHub asks clients to
# keep concurrent requests low (secondary limits: at most 100 at once), so this stays small.
COMMENT_WORKERS = 8
# Pages of the comment listing read under one `since` before a new window starts (comments.py):
# far below the depth GitHub refuses (page 1,334 of 30 in singer-io/tap-github#61, page 100 of the
# issue listings), so a window costs one sequential round trip per 3,000 comments.
WINDOW_PAGES = 30
TIMEOUT_SECONDS = 30
USER_AGENT = "ACGS2-Import-Console"

# (state, state_reason) -> Status; a missing reason falls back to (state, None).
STATUS_MAP: dict[tuple[str, str | None], Status] = {
    ("open", None): Status.TODO,
    ("open", "reopened"): Status.TODO,
    ("closed", None): Status.DONE,
    ("closed", "completed"): Status.DONE,
    ("closed", "not_planned"): Status.CANCELLED,
    ("closed", "duplicate"): Status.CANCELLED,
}

# The workspace state of each (state, state_reason) key, in the words GitHub's own pages use.
STATE_NAMES: dict[str, str] = {
    "open": "Open",
    "open:reopened": "Open",
    "closed": "Closed",
    "closed:completed": "Closed",
    "closed:not_planned": "Not planned",
    "closed:duplicate": "Duplicate",
}

# Workflow labels: a label of an open category refines an open issue, one of a closed category a
# closed issue (importers/workflow.py); the state takes the label's name.
STATUS_LABELS: dict[str, Status] = {
    "in progress": Status.IN_PROGRESS,
    "in-progress": Status.IN_PROGRESS,
    "status: in progress": Status.IN_PROGRESS,
    "wip": Status.IN_PROGRESS,
    "in review": Status.IN_PROGRESS,
    "backlog": Status.BACKLOG,
    "icebox": Status.BACKLOG,
}

PRIORITY_LABELS: dict[str, Priority] = {
    "p0": Priority.URGENT,
    "critical": Priority.URGENT,
    "urgent": Priority.URGENT,
    "priority: critical": Priority.URGENT,
    "p1": Priority.HIGH,
    "high priority": Priority.HIGH,
    "priority: high": Priority.HIGH,
    "p2": Priority.MEDIUM,
    "priority: medium": Priority.MEDIUM,
    "p3": Priority.LOW,
    "low priority": Priority.LOW,
    "priority: low": Priority.LOW,
}

# Issue type (a type label, else the organisation's `type.name`) -> ACGS2 type; default below.
TYPE_MAP: dict[str, str] = {
    "bug": "bug",
    "feature": "feature",
    "enhancement": "feature",
    "feature request": "feature",
    "task": "task",
    "epic": "epic",
    "documentation": "task",
    "question": "question",
}
DEFAULT_TYPE = "issue"
PULL_REQUEST_TYPE = "pull_request"

# Milestones have no field of their own in the model: they become a label with this prefix.
MILESTONE_LABEL_PREFIX = "milestone:"
