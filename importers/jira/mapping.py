"""Maps one JIRA issue's raw JSON (and its comments) onto the normalized model.

Pure functions over dicts, so the whole mapping is testable without HTTP. `map_issue` raises on
JSON it cannot make sense of; `map_or_fail` turns that into an ItemFailure with a reason a user
can act on, so one odd issue never costs the rest of its page.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ..errors import CommentError, validation_reason
from ..model import (
    Attachment,
    Comment,
    ItemFailure,
    Link,
    People,
    Person,
    Priority,
    Status,
    Visibility,
    WorkItem,
    source_count,
)
from .adf import adf_to_markdown
from .settings import (
    LINK_KIND_BY_PHRASE,
    PRIORITY_BY_NAME,
    STATUS_BY_CATEGORY,
    STATUS_BY_NAME,
    TYPE_BY_NAME,
)
from .wiki import wiki_to_markdown

SOURCE = "jira"
# OverflowError: int() of a JSON Infinity, which the stdlib parser reads (importers/jsonbody.py)
MAPPING_ERRORS = (ValidationError, KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)


@dataclass(frozen=True)
class Context:
    """What the mapping needs beyond the issue: where links point, which body format, and (wiki
    markup) the display names of the people an issue names, for its mentions."""

    base_url: str
    cloud: bool
    names: dict[str, str] = field(default_factory=dict)  # username, user key or account id -> display name

    def to_markdown(self, body: Any) -> str:
        """Cloud bodies are ADF (mentions carry their display name); Server's are wiki markup."""
        return adf_to_markdown(body) if self.cloud else wiki_to_markdown(body, self.names)

    def naming(self, users: list[Any]) -> Context:
        """This context, with the display names of these raw JIRA users for wiki mentions."""
        if self.cloud:
            return self
        names = dict(self.names)
        for user in users:
            if isinstance(user, dict) and user.get("displayName"):
                names.update({str(user[k]): str(user["displayName"]) for k in ("name", "key", "accountId")
                              if user.get(k)})
        return replace(self, names=names)


def _dict(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise TypeError(f"{what} is {type(value).__name__}, not an object")
    return value


def _list(value: Any, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{what} is {type(value).__name__}, not a list")
    return value


def parse_time(value: Any) -> datetime:
    """JIRA timestamps look like 2025-01-06T09:00:00.000+0100 (offset without a colon)."""
    if not isinstance(value, str):
        raise TypeError(f"timestamp is {type(value).__name__}, not text")
    return datetime.fromisoformat(value)


def map_person(raw: Any) -> Person | None:
    """accountId is Cloud's stable id; Server's `key` survives renames, its `name` does not."""
    if raw is None:
        return None
    raw = _dict(raw, "user")
    external_id = raw.get("accountId") or raw.get("key") or raw.get("name")
    if not external_id:
        raise ValueError("user has no accountId, key or name")
    return _people.get(SOURCE, str(external_id), str(raw.get("displayName") or raw.get("name") or ""),
                       raw.get("emailAddress") or None, raw.get("name") or None)


_people = People()


def status_category(name: str, category_key: Any) -> Status:
    """The category a JIRA status is filed under: its status category (new, indeterminate, done),
    refined by a few names JIRA has no category for (Backlog, Won't Do). Per status, never per
    issue, so every issue in one status lands in one workspace state."""
    by_name = STATUS_BY_NAME.get(name.strip().lower())
    if by_name is not None:
        return by_name
    return STATUS_BY_CATEGORY[str(category_key)]


def map_status(status: Any) -> tuple[str, Status]:
    """(the status's name, its category)."""
    status = _dict(status, "status")
    name = str(status.get("name", ""))
    return name, status_category(name, _dict(status["statusCategory"], "status category")["key"])


def priority_level(name: str) -> Priority:
    return PRIORITY_BY_NAME.get(name.strip().lower(), Priority.NONE)


def map_priority(priority: Any) -> tuple[str, Priority]:
    """(the priority's name, its level)."""
    if priority is None:
        return "", Priority.NONE
    name = str(_dict(priority, "priority").get("name", ""))
    return name, priority_level(name)


def type_name(name: str, subtask: bool = False) -> str:
    if subtask:
        return "sub-task"
    lowered = name.strip().lower() or "task"
    return TYPE_BY_NAME.get(lowered, lowered)


def map_type(issuetype: Any) -> tuple[str, str]:
    """(the issue type's name, the workspace type)."""
    if issuetype is None:
        return "", "task"
    issuetype = _dict(issuetype, "issue type")
    name = str(issuetype.get("name") or "")
    return name, type_name(name, issuetype.get("subtask") is True)


def map_link(raw: Any) -> Link:
    raw = _dict(raw, "issue link")
    kind = _dict(raw["type"], "link type")
    if raw.get("outwardIssue") is not None:
        phrase, target = kind["outward"], _dict(raw["outwardIssue"], "linked issue")
    else:
        phrase, target = kind["inward"], _dict(raw["inwardIssue"], "linked issue")
    phrase = str(phrase).strip().lower()
    return Link(kind=LINK_KIND_BY_PHRASE.get(phrase, phrase.replace(" ", "_")), target_key=str(target["key"]),
                target_id=str(target["id"]) if target.get("id") else None)


def map_attachment(raw: Any) -> Attachment:
    raw = _dict(raw, "attachment")
    return Attachment(file_name=raw["filename"], size=raw.get("size"), url=raw.get("content"))


def comment_visibility(raw: dict) -> tuple[Visibility, str]:
    """Who may see a comment: its `visibility` {type: group|role, value: NAME} restricts it to that
    group or role; Jira Service Management's `jsdPublic: false` keeps it from the customer (internal)."""
    restricted = raw.get("visibility")
    if isinstance(restricted, dict) and restricted.get("value"):
        return Visibility.RESTRICTED, f"{restricted.get('type') or 'group'}: {restricted['value']}"
    if raw.get("jsdPublic") is False:
        return Visibility.INTERNAL, ""
    return Visibility.PUBLIC, ""


def issue_visibility(security: Any) -> tuple[Visibility, str]:
    """An issue under an issue security level is visible to that level's members only."""
    if isinstance(security, dict) and security.get("name"):
        return Visibility.RESTRICTED, f"security level: {security['name']}"
    return Visibility.PUBLIC, ""


def map_comment(raw: Any, item_id: str, ctx: Context) -> Comment:
    raw = _dict(raw, "comment")
    visibility, visible_to = comment_visibility(raw)
    return Comment(source=SOURCE, external_id=str(raw["id"]), item_external_id=item_id,
                   author=map_person(raw.get("author")), body=ctx.to_markdown(raw.get("body")),
                   created_at=parse_time(raw["created"]), visibility=visibility, visible_to=visible_to)


def map_issue(raw: Any, extra_comments: list, ctx: Context) -> tuple[WorkItem, list[Comment]]:
    """The work item and all its comments (embedded ones plus `extra_comments` fetched later)."""
    raw = _dict(raw, "issue")
    fields = _dict(raw["fields"], "fields")
    item_id, key = str(raw["id"]), str(raw["key"])
    parent = fields.get("parent")
    resolved = fields.get("resolutiondate")
    visibility, visible_to = issue_visibility(fields.get("security"))
    state, category = map_status(fields["status"])
    priority_name, priority = map_priority(fields.get("priority"))
    type_value, kind = map_type(fields.get("issuetype"))
    embedded = fields.get("comment")
    total = source_count(embedded.get("total")) if isinstance(embedded, dict) else None
    embedded = _list(_dict(embedded, "comment field").get("comments"), "comments") if embedded is not None else []
    thread = embedded + list(extra_comments)
    ctx = ctx.naming([fields.get("assignee"), fields.get("reporter")]
                     + [c.get("author") for c in thread if isinstance(c, dict)])
    item = WorkItem(
        source=SOURCE,
        external_id=item_id,
        key=key,
        project=key.rsplit("-", 1)[0],
        title=fields["summary"],
        description=ctx.to_markdown(fields.get("description")),
        type=kind,
        source_type=type_value,
        status=category,
        source_status=state,
        state=state,
        priority=priority,
        source_priority=priority_name,
        labels=[str(label) for label in _list(fields.get("labels"), "labels")],
        assignee=map_person(fields.get("assignee")),
        reporter=map_person(fields.get("reporter")),
        created_at=parse_time(fields["created"]),
        updated_at=parse_time(fields["updated"]),
        closed_at=parse_time(resolved) if resolved else None,
        url=f"{ctx.base_url}/browse/{key}",
        parent_key=str(_dict(parent, "parent")["key"]) if parent is not None else None,
        parent_id=str(parent["id"]) if parent is not None and parent.get("id") else None,
        links=[map_link(link) for link in _list(fields.get("issuelinks"), "issue links")],
        attachments=[map_attachment(a) for a in _list(fields.get("attachment"), "attachments")],
        visibility=visibility,
        visible_to=visible_to,
        comments_at_source=total,
    )
    comments = []
    for comment in thread:
        try:
            comments.append(map_comment(comment, item_id, ctx))
        except MAPPING_ERRORS as exc:  # the issue fails with it: its reason says it was this comment
            raise CommentError(comment.get("id") if isinstance(comment, dict) else None, exc) from exc
    return item, comments


def _reason(exc: Exception) -> str:
    if isinstance(exc, CommentError):
        return f"comment {exc.comment_id}: {_reason(exc.cause)}"
    if isinstance(exc, ValidationError):
        return validation_reason(exc)
    if isinstance(exc, KeyError):
        return f"JIRA sent no {exc.args[0]!r} field"
    return f"{exc}"[:500] or type(exc).__name__


def map_or_fail(raw: Any, extra_comments: list, ctx: Context) -> tuple[WorkItem, list[Comment]] | ItemFailure:
    """Like `map_issue`, but an issue that cannot be mapped becomes an ItemFailure."""
    try:
        return map_issue(raw, extra_comments, ctx)
    except MAPPING_ERRORS as exc:
        ident = raw if isinstance(raw, dict) else {}
        external_id = str(ident.get("id") or ident.get("key") or "unknown")
        return ItemFailure(external_id=external_id, key=str(ident.get("key") or ""), reason=_reason(exc))
