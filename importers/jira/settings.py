"""The JIRA source's constants and its one mapping table (JIRA vocabulary -> ACGS2 model).

A JIRA status becomes a workspace state of the same name, filed under the category JIRA gives it
(its status category: every workflow names its statuses differently, but each belongs to one of
four fixed categories). A few names override the category: JIRA files "Won't Do" under done,
ACGS2 calls it cancelled. The category is a status's, never an issue's: the resolution does not
move one issue of "Done" elsewhere, so every issue in a status lands in one state.
"""
from datetime import UTC, datetime, timedelta

from ..model import Priority, Status

# Enhanced search (Cloud) answers at most 100 issues a page once comments are requested;
# Server/DC would allow up to 1,000, but 100 keeps a page's raw JSON (with 20 embedded
# comments an issue and long descriptions) at a few MB and matches the runner's batches.
TOOL = "JIRA"
SEARCH_PAGE_SIZE = 100
# Comments beyond the 20 JIRA embeds in a search hit are fetched per issue, 100 at a time.
COMMENT_PAGE_SIZE = 100
# The id listing (a catch-up run's deletion sweep): a search asking for `fields=id` only. Cloud's
# enhanced search answers up to 5,000 issues a page then ("The greatest number of items returned
# per page is achieved when requesting id or key only. It returns max 5000 issues": GET
# /rest/api/3/search/jql, maxResults); Server/Data Center caps every search page at its
# jira.search.views.default.max (1,000 by default). We ask for 5,000 and page by key either way.
ID_PAGE_SIZE = 5000
# `POST /comment/list` takes at most 1,000 comment ids ("A maximum of 1000 IDs can be specified").
COMMENT_LIST_SIZE = 1000
# a comment updated this long before a catch-up run's since-point is taken as applied by an earlier
# run (recheck_comments): covers edits made while that run was reading
RECHECK_MARGIN = timedelta(hours=1)
PROJECT_PAGE_SIZE = 50
# Issue pages and the comment pages of long threads are fetched concurrently, a few at a time.
WORKERS = 4
# (connect, read) seconds: a wrong URL fails fast; a big page may take a while to render.
TIMEOUT = (10, 90)

# Cloud: API v3, whose bodies are Atlassian Document Format, the format Cloud stores. Its v2
# answers are a lossy rendering of that ADF into wiki markup (mentions become bare account
# ids), so we read v3 and convert ADF. Server/Data Center only speaks v2 and stores wiki markup.
CLOUD_API = "3"
SERVER_API = "2"

CREDENTIALS_HINT = "JIRA_USER_EMAIL and JIRA_API_TOKEN"

ITEM_FIELDS = (
    "summary", "status", "resolution", "resolutiondate", "priority", "issuetype", "labels",
    "assignee", "reporter", "created", "updated", "parent", "issuelinks", "attachment",
    "description", "comment", "security",
)
# What the preview table shows: no bodies, no comments, so the first page comes back fast.
PREVIEW_FIELDS = (
    "summary", "status", "resolution", "resolutiondate", "priority", "issuetype", "labels",
    "assignee", "reporter", "created", "updated", "parent",
)

# -- the mapping table ---------------------------------------------------------------------
STATUS_BY_CATEGORY = {
    "new": Status.TODO,
    "indeterminate": Status.IN_PROGRESS,
    "done": Status.DONE,
    "undefined": Status.TODO,  # "No category": states a workflow admin never filed
}
# Checked before the category (lower-case names).
STATUS_BY_NAME = {
    "backlog": Status.BACKLOG,
    "open": Status.TODO,
    "won't do": Status.CANCELLED,
    "wont do": Status.CANCELLED,
    "won't fix": Status.CANCELLED,
    "cancelled": Status.CANCELLED,
    "canceled": Status.CANCELLED,
    "declined": Status.CANCELLED,
    "rejected": Status.CANCELLED,
    "abandoned": Status.CANCELLED,
}

PRIORITY_BY_NAME = {
    # Cloud's default scheme
    "highest": Priority.URGENT,
    "high": Priority.HIGH,
    "medium": Priority.MEDIUM,
    "low": Priority.LOW,
    "lowest": Priority.LOW,
    # Server/Data Center's default scheme
    "blocker": Priority.URGENT,
    "critical": Priority.HIGH,
    "major": Priority.MEDIUM,
    "minor": Priority.LOW,
    "trivial": Priority.LOW,
}

TYPE_BY_NAME = {
    "bug": "bug",
    "story": "story",
    "task": "task",
    "epic": "epic",
    "sub-task": "sub-task",
    "subtask": "sub-task",
    "improvement": "improvement",
    "new feature": "feature",
    "incident": "incident",
}

# Link phrases as JIRA words them (outward and inward) -> ACGS2 link kinds.
LINK_KIND_BY_PHRASE = {
    "blocks": "blocks",
    "is blocked by": "blocked_by",
    "relates to": "relates",
    "duplicates": "duplicates",
    "is duplicated by": "duplicated_by",
    "clones": "clones",
    "is cloned by": "cloned_by",
    "causes": "causes",
    "is caused by": "caused_by",
}

# A read's start when the server does not tell its clock (serverInfo without serverTime): ours, this much earlier
# (more than clocks usually differ); and when a resumed read's cursor does not say when it began, the epoch.
CLOCK_MARGIN = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
