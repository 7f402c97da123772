"""The GitLab source's constants and its one mapping table (GitLab state/labels -> ACGS2 fields).

GitLab issues have only two states, `opened` and `closed`. Teams encode the rest of their
workflow in labels, so a few well-known labels refine the state: an open issue labelled
"doing" is in progress, a closed one labelled "wontfix" was cancelled rather than done.
Priority and type come from labels too (GitLab Free has no priority field), except for
incidents, whose `severity` field is used. Labels are matched case-insensitively.
"""
from typing import Any
from urllib.parse import quote

from ..model import Priority, Status

TOOL = "GitLab"
Query = dict[str, Any]  # a REST listing's query parameters, as a REST cursor keeps them

DEFAULT_URL = "https://gitlab.com"
API_PREFIX = "/api/v4"
PAGE_SIZE = 100  # GitLab's maximum per_page
NOTE_WORKERS = 4  # concurrent note requests within a page: hides latency, stays polite
# GraphQL: notes nested in each issue of a page. 20 covers all but the longest threads (in our
# benchmark's data 1 issue in 10,000; those page on with 100 a request) while keeping an answer
# to 2,000 notes at most; GitLab's complexity score does not grow with it (see graphql.py).
NESTED_NOTES = 20
APIS = ("auto", "graphql", "rest")  # auto: GraphQL, and REST on a server without it
TIMEOUT_SECONDS = 30
TOTAL_HEADER_CAP = 10_000  # above this GitLab omits X-Total / X-Total-Pages

# Keyset pagination on updated_at: stable under concurrent edits (an edited issue moves past
# the cursor and is read again later, never skipped). Servers without keyset support for
# issues ignore `pagination` and page by offset with X-Next-Page; both are followed alike.
ISSUE_QUERY = {"pagination": "keyset", "order_by": "updated_at", "sort": "asc", "per_page": PAGE_SIZE}
NOTE_QUERY = {"order_by": "created_at", "sort": "asc", "per_page": PAGE_SIZE}
PROJECT_QUERY = {"membership": "true", "simple": "true", "pagination": "keyset", "order_by": "id",
                 "sort": "asc", "per_page": PAGE_SIZE}


def project_path(key: str) -> str:
    """The API path of a project by its `group/project` key (GitLab takes it URL-encoded)."""
    return f"/projects/{quote(key, safe='')}"

# -- the mapping table ---------------------------------------------------------------------
STATUS_MAP = {
    "opened": Status.TODO,
    "closed": Status.DONE,
}
STATE_NAMES = {"opened": "Open", "closed": "Closed"}  # as GitLab's issue pages say it
# Lower-cased workflow labels -> category. A label of an open category refines an open issue, one
# of a closed category a closed issue (importers/workflow.py); the state takes the label's name,
# a scoped label its value ("workflow::doing" -> "doing").
STATUS_LABELS = {
    "doing": Status.IN_PROGRESS,
    "in progress": Status.IN_PROGRESS,
    "workflow::in progress": Status.IN_PROGRESS,
    "workflow::doing": Status.IN_PROGRESS,
    "backlog": Status.BACKLOG,
    "workflow::backlog": Status.BACKLOG,
    "wontfix": Status.CANCELLED,
    "won't fix": Status.CANCELLED,
    "won't do": Status.CANCELLED,
    "duplicate": Status.CANCELLED,
    "invalid": Status.CANCELLED,
}
# Lower-cased priority labels (scoped "priority::x" and the common short forms).
PRIORITY_LABELS = {
    "priority::1": Priority.URGENT, "priority::critical": Priority.URGENT, "p1": Priority.URGENT,
    "priority::2": Priority.HIGH, "priority::high": Priority.HIGH, "p2": Priority.HIGH,
    "priority::3": Priority.MEDIUM, "priority::medium": Priority.MEDIUM, "p3": Priority.MEDIUM,
    "priority::4": Priority.LOW, "priority::low": Priority.LOW, "p4": Priority.LOW,
}
# Incidents carry a severity field too (a priority label, when there is one, comes first).
SEVERITY_MAP = {
    "CRITICAL": Priority.URGENT,
    "HIGH": Priority.HIGH,
    "MEDIUM": Priority.MEDIUM,
    "LOW": Priority.LOW,
    "UNKNOWN": Priority.NONE,
}
# GitLab's issue_type -> ACGS2 type; a "bug" label makes any issue a bug (labels come first).
TYPE_MAP = {
    "issue": "task",
    "incident": "incident",
    "task": "sub-task",
    "test_case": "test-case",
    "requirement": "requirement",
    "ticket": "ticket",
}
BUG_LABELS = {"bug", "type::bug", "kind::bug"}
# The model has no milestone field: the milestone travels as a scoped label.
MILESTONE_LABEL_PREFIX = "milestone::"
