"""GitLab issue and note JSON -> the normalized model, through the table in `settings.py`.

Pure functions over plain dicts, so the mapping is tested on arbitrary JSON without a server:
a malformed issue becomes an `ItemFailure` with a reason a user can act on, never an exception
that would lose the rest of the page.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError

from ..errors import validation_reason
from ..model import (
    Attachment,
    Comment,
    ItemFailure,
    People,
    Person,
    Priority,
    Status,
    Visibility,
    WorkItem,
    source_count,
)
from ..workflow import CLOSED, refine_by_label
from .settings import (
    BUG_LABELS,
    MILESTONE_LABEL_PREFIX,
    PRIORITY_LABELS,
    SEVERITY_MAP,
    STATE_NAMES,
    STATUS_LABELS,
    STATUS_MAP,
    TYPE_MAP,
)

SOURCE = "gitlab"
MAPPING_ERRORS = (ValidationError, KeyError, TypeError, ValueError, AttributeError)
# Files uploaded to an issue appear only as Markdown links to /uploads/<secret>/<name>.
UPLOAD_LINK = re.compile(r"\[[^\]]*\]\((/uploads/[0-9a-f]+/[^)\s]+)\)")
EPIC_URL = re.compile(r"/groups/(.+)/-/epics/(\d+)")


def person(raw: Any) -> Person | None:
    """A GitLab user object; issue payloads omit emails, so `email` is set only when present."""
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise TypeError(f"user is a {type(raw).__name__}, not an object")
    return _people.get(SOURCE, str(raw["id"]), raw.get("name") or raw.get("username") or "",
                       raw.get("email") or raw.get("public_email") or None, raw.get("username"))


_people = People()


def status(state: str, labels: list[str]) -> tuple[str, Status]:
    """(state name, category): the bare state, refined by the first workflow label the table knows."""
    if state not in STATUS_MAP:
        raise ValueError(f"unknown GitLab state {state!r}")
    base = STATUS_MAP[state]
    return refine_by_label(labels, STATUS_LABELS, closed=base in CLOSED) or (STATE_NAMES.get(state, state), base)


def severity_key(raw: dict) -> str:
    """The source value a mapping's priority rows are keyed on: an incident's severity."""
    return f"severity:{raw['severity']}" if raw.get("issue_type") == "incident" and raw.get("severity") else ""


def priority(raw: dict, labels: list[str]) -> Priority:
    for label in labels:
        if label.lower() in PRIORITY_LABELS:
            return PRIORITY_LABELS[label.lower()]
    return SEVERITY_MAP.get(severity_key(raw).removeprefix("severity:"), Priority.NONE)


def item_type(raw: dict, labels: list[str]) -> str:
    if any(label.lower() in BUG_LABELS for label in labels):
        return "bug"
    return TYPE_MAP.get(str(raw.get("issue_type") or "issue").lower(), "task")


def parent_key(epic: Any) -> str | None:
    """The epic as GitLab references it (`group&iid`); Premium-only, absent otherwise."""
    if not isinstance(epic, dict):
        return None
    match = EPIC_URL.search(str(epic.get("url") or ""))
    if match:
        return f"{match.group(1)}&{match.group(2)}"
    return f"&{epic['iid']}" if epic.get("iid") is not None else None


def attachments(description: str, web_url: str | None) -> list[Attachment]:
    """Uploads linked from the description: metadata only, sizes are not listed by the API."""
    if "/uploads/" not in description:  # most issues link no file: skip the pattern
        return []
    base = (web_url or "").split("/-/")[0]
    seen: dict[str, Attachment] = {}
    for path in UPLOAD_LINK.findall(description):
        if path not in seen:
            seen[path] = Attachment(file_name=unquote(path.rsplit("/", 1)[-1]), url=f"{base}{path}" if base else path)
    return list(seen.values())


def to_item(raw: dict, project: str) -> WorkItem:
    """Map one issue; raises on malformed JSON (see `map_issue` for the safe form)."""
    labels = raw.get("labels") or []
    if not isinstance(labels, list):
        raise TypeError(f"labels is a {type(labels).__name__}, not a list")
    labels = [str(label) for label in labels]
    milestone = raw.get("milestone")
    all_labels = labels + ([f"{MILESTONE_LABEL_PREFIX}{milestone['title']}"] if milestone else [])
    assignees = raw.get("assignees") or ([raw["assignee"]] if raw.get("assignee") else [])
    description = raw.get("description") or ""
    state, category = status(raw["state"], labels)
    moved_to = raw.get("moved_to_id")
    return WorkItem(
        source=SOURCE,
        external_id=str(raw["id"]),
        key=f"{project}#{raw['iid']}",
        project=project,
        title=raw["title"],
        description=description,
        type=item_type(raw, labels),
        source_type=str(raw.get("issue_type") or "issue"),
        # a moved original is closed and names its new issue (REST `moved_to_id`, GraphQL `movedTo`):
        # recorded as moved, not done, and linked to the new item
        status=Status.MOVED if moved_to else category,
        moved_to_id=str(moved_to) if moved_to else None,
        source_status=raw["state"],
        state=state,
        priority=priority(raw, labels),
        source_priority=severity_key(raw),
        labels=all_labels,
        assignee=person(assignees[0]) if assignees else None,
        reporter=person(raw.get("author")),
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        closed_at=raw.get("closed_at"),
        url=raw.get("web_url"),
        parent_key=parent_key(raw.get("epic")),
        attachments=attachments(description, raw.get("web_url")),
        visibility=Visibility.INTERNAL if raw.get("confidential") is True else Visibility.PUBLIC,
        comments_at_source=source_count(raw.get("user_notes_count")),
    )


def to_comment(note: dict, item_external_id: str, on_internal_item: bool = False) -> Comment:
    """A user note; an internal note (`internal`, formerly `confidential`) is INTERNAL, and so is
    every note of a confidential issue: who cannot see the issue cannot see its notes."""
    internal = on_internal_item or note.get("internal") is True or note.get("confidential") is True
    return Comment(
        source=SOURCE,
        external_id=str(note["id"]),
        item_external_id=item_external_id,
        author=person(note.get("author")),
        body=note.get("body") or "",
        created_at=note["created_at"],
        visibility=Visibility.INTERNAL if internal else Visibility.PUBLIC,
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return validation_reason(exc, "value")
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return f"{type(exc).__name__}: {exc}"


def map_issue(raw: Any, project: str, notes: list[Any]) -> tuple[WorkItem | ItemFailure, list[Comment]]:
    """An issue and its user comments, or an ItemFailure saying why it cannot be imported.

    A note that cannot be mapped fails its issue too, so "retry failed items" re-reads both
    instead of silently importing the issue without that comment.
    """
    ids = raw if isinstance(raw, dict) else {}
    external_id = str(ids.get("id", "?"))
    key = f"{project}#{ids['iid']}" if "iid" in ids else ""
    try:
        if not isinstance(raw, dict):
            raise TypeError(f"issue is a {type(raw).__name__}, not an object")
        item = to_item(raw, project)
        # a moved original keeps its notes at GitLab (and its new issue has copies): they are read
        # here too; the writer keeps them on the original only while its new item is not stored
        comments = [
            to_comment(note, item.external_id, item.visibility is not Visibility.PUBLIC)
            for note in notes
            if not (isinstance(note, dict) and note.get("system"))  # "changed the label", etc.
        ]
    except MAPPING_ERRORS as exc:
        return ItemFailure(external_id=external_id, key=key, reason=_reason(exc)), []
    return item, comments
