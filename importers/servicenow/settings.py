"""The ServiceNow source's constants and its one mapping table (table -> state/priority/type).

Everything a reader may want to tune or check against an instance lives here: page sizes, the
fields asked for, and how each table's numeric states become ACGS2 statuses.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..model import Person, Priority, Status
from ..urls import check_url, has_userinfo

TOOL = "ServiceNow"
CREDENTIALS_HINT = "SERVICENOW_USERNAME and SERVICENOW_PASSWORD"
INSTANCE_ENV = "SERVICENOW_INSTANCE"
INSTANCE_DOMAIN = "service-now.com"
INSTANCE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")  # "acme" of acme.service-now.com
_HOSTNAME = re.compile(r"[A-Za-z0-9.-]+(:\d+)?(/.*)?")  # acme.example.com[:port][/path], read as https


def instance_base(raw: str) -> str:
    """What an instance setting names, unchecked: a name ("acme") widened to its service-now.com URL."""
    text = (raw or "").strip()
    return f"https://{text.lower()}.{INSTANCE_DOMAIN}" if INSTANCE_NAME.fullmatch(text) else text


def instance_url(raw: str, *, secret: str = "", field: str | None = None,
                 places: Mapping[str, str] | None = None) -> str:
    """The instance's base URL from a name ("acme"), a host name, or a full URL, checked as `check_url` checks
    any server's (with its arguments: where the secret goes, how each surface names the setting)."""
    at = "{at}" if places else INSTANCE_ENV
    text = (raw or "").strip()
    if INSTANCE_NAME.fullmatch(text):
        return instance_base(text)
    if "://" not in text:
        if not _HOSTNAME.fullmatch(text) and not has_userinfo(text):  # user:password@host is check_url's to refuse
            raise ConfigError(f"{at} must be an instance name such as 'acme' or a URL such as "
                              f"https://acme.{INSTANCE_DOMAIN}, not {text[:80]!r}", field=field, places=places)
        text = f"https://{text}"
    url = check_url(text, INSTANCE_ENV, secret=secret, field=field, places=places)
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ConfigError(f"{at} must be the instance's address only (no query or fragment)", field=field,
                          places=places)
    return url


# Tickets per Table API request. pysnow does not page; we page with sysparm_offset.
PAGE_SIZE = 1000
# sys_ids per `element_idIN...` / `sys_idIN...` query. ServiceNow's Tomcat refuses request
# headers above ~8 KB (KB0826932), and each encoded sys_id costs ~35 characters of URL.
IDS_PER_QUERY = 150
# Rows per journal/user request: ServiceNow's default REST cap, so one chunk is one request
# (an instance may cap lower: paging.py pages on by key whatever it sends).
LOOKUP_LIMIT = 10000
# sys_ids per request of the id listing (deletion sweep): the Table API's default row limit.
ID_PAGE_SIZE = 10000
# Concurrent requests: the next ticket page and this page's journal chunks load together.
WORKERS = 4
TIMEOUT = (10, 120)  # (connect, read) seconds: a 1,000-row page of a busy instance is slow
ORDER = "ORDERBYsys_updated_on^ORDERBYsys_id"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # ServiceNow's API times, always UTC

PEOPLE_FIELDS = ("sys_id", "user_name", "name", "email")
JOURNAL_FIELDS = ("sys_id", "element_id", "element", "value", "sys_created_on", "sys_created_by")
JOURNAL_ELEMENTS = ("comments", "work_notes")
INTERNAL_ELEMENTS = ("work_notes",)  # journal fields only fulfillers see: imported as Visibility.INTERNAL
# Who a reference to a deleted user becomes: one person for all of them, never one named by a sys_id.
DELETED_PERSON = Person(source="servicenow", external_id="(deleted)", display_name="unknown (deleted)")

# Urgency is not imported: ServiceNow derives priority from impact x urgency, so priority
# already carries it and a label would only repeat it.
PRIORITY_MAP = {
    "1": Priority.URGENT,  # 1 - Critical
    "2": Priority.HIGH,  # 2 - High
    "3": Priority.MEDIUM,  # 3 - Moderate
    "4": Priority.LOW,  # 4 - Low
    "5": Priority.NONE,  # 5 - Planning
}


@dataclass(frozen=True)
class TableSpec:
    """How one ServiceNow table maps into the model."""

    name: str  # shown as the project name
    type: str  # WorkItem.type
    reporter: str  # reference field holding who reported it
    states: dict[str, Status]  # state value -> status; unknown states fall back (see mapping)
    parent: str | None = None  # reference field whose display value is the parent's number
    links: dict[str, str] = field(default_factory=dict)  # reference field -> Link.kind
    description: str = ""


TABLES: dict[str, TableSpec] = {
    "incident": TableSpec(
        name="Incidents",
        type="incident",
        reporter="caller_id",
        parent="parent_incident",
        links={"problem_id": "problem", "rfc": "change"},
        description="Incidents (table incident)",
        states={
            "1": Status.TODO,  # New
            "2": Status.IN_PROGRESS,  # In Progress
            "3": Status.IN_PROGRESS,  # On Hold
            "6": Status.DONE,  # Resolved
            "7": Status.DONE,  # Closed
            "8": Status.CANCELLED,  # Canceled
        },
    ),
    "problem": TableSpec(
        name="Problems",
        type="problem",
        reporter="opened_by",
        links={"rfc": "change"},
        description="Problems (table problem)",
        states={
            "101": Status.TODO,  # New
            "102": Status.TODO,  # Assess
            "103": Status.IN_PROGRESS,  # Root Cause Analysis
            "104": Status.IN_PROGRESS,  # Fix in Progress
            "106": Status.DONE,  # Resolved
            "107": Status.DONE,  # Closed
            # states of instances still on the pre-Madrid problem workflow
            "1": Status.TODO,  # Open
            "2": Status.IN_PROGRESS,  # Known Error
            "3": Status.IN_PROGRESS,  # Pending Change
            "4": Status.DONE,  # Closed/Resolved
        },
    ),
    "change_request": TableSpec(
        name="Change requests",
        type="change",
        reporter="requested_by",
        parent="parent",
        description="Change requests (table change_request)",
        states={
            "-5": Status.TODO,  # New
            "-4": Status.TODO,  # Assess
            "-3": Status.TODO,  # Authorize
            "-2": Status.TODO,  # Scheduled
            "-1": Status.IN_PROGRESS,  # Implement
            "0": Status.IN_PROGRESS,  # Review
            "3": Status.DONE,  # Closed
            "4": Status.CANCELLED,  # Canceled
        },
    ),
}
DEFAULT_TABLE = "incident"

TICKET_FIELDS = (
    "sys_id", "number", "short_description", "description", "state", "priority", "category",
    "sys_created_on", "sys_updated_on", "closed_at", "assigned_to",
)


def ticket_fields(spec: TableSpec) -> list[str]:
    """The sysparm_fields of a table: plain fields plus dot-walked user columns (for emails)."""
    people = ["assigned_to", spec.reporter]
    walked = [f"{ref}.{col}" for ref in people for col in ("user_name", "email")]
    extra = [spec.reporter, *([spec.parent] if spec.parent else []), *spec.links]
    return list(dict.fromkeys([*TICKET_FIELDS, *extra, *walked]))
