"""GitLab issue and note JSON -> the normalized model, through the table in `settings.py`: REST's
issues and notes (`to_item`, `to_comment`) and GraphQL's Issue and Note nodes (`node_item`,
`node_comment`), each read straight into the model.

Pure functions over plain dicts, so the mapping is tested on arbitrary JSON without a server:
a malformed issue becomes an `ItemFailure` with a reason a user can act on, never an exception
that would lose the rest of the page.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError

from ..errors import CommentError, validation_reason
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
from .graphql import number
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
MAPPING_ERRORS = (ValidationError, KeyError, TypeError, ValueError, AttributeError, OverflowError)  # int(Infinity)
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
_node_people: dict[tuple[Any, Any, Any], Person] = {}  # (id, username, name) -> its Person, see `node_person`
_NODE_PEOPLE_KEPT = 10_000


def node_person(node: Any) -> Person | None:
    """A GraphQL User node as `person` maps its REST form. The same few people author and are assigned
    on every page: each distinct node is mapped once (its global id parsed once) and that Person shared."""
    if not isinstance(node, dict):
        return None
    key = (node.get("id"), node.get("username"), node.get("name"))
    try:
        found = _node_people.get(key)
    except TypeError:  # a name that is not text (hostile JSON): mapped, not kept
        return _user(*key)
    if found is None:
        if len(_node_people) >= _NODE_PEOPLE_KEPT:
            _node_people.clear()
        found = _node_people[key] = _user(*key)
    return found


def _user(global_id: Any, username: Any, name: Any) -> Person:
    return _people.get(SOURCE, str(number(global_id)), name or username or "", None, username)


def status(state: str, labels: list[str]) -> tuple[str, Status]:
    """(state name, category): the bare state, refined by the first workflow label the table knows."""
    if state not in STATUS_MAP:
        raise ValueError(f"unknown GitLab state {state!r}")
    base = STATUS_MAP[state]
    return refine_by_label(labels, STATUS_LABELS, closed=base in CLOSED) or (STATE_NAMES.get(state, state), base)


def severity_key(issue_type: Any, severity: Any) -> str:
    """The source value a mapping's priority rows are keyed on: an incident's severity."""
    return f"severity:{severity}" if issue_type == "incident" and severity else ""


def priority(labels: list[str], source_priority: str) -> Priority:
    for label in labels:
        if label.lower() in PRIORITY_LABELS:
            return PRIORITY_LABELS[label.lower()]
    return SEVERITY_MAP.get(source_priority.removeprefix("severity:"), Priority.NONE)


def item_type(issue_type: Any, labels: list[str]) -> str:
    if any(label.lower() in BUG_LABELS for label in labels):
        return "bug"
    return TYPE_MAP.get(str(issue_type or "issue").lower(), "task")


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


def _item(project: str, iid: Any, state: Any, issue_type: Any, severity: Any, labels: list[str], milestone: Any,
          description: str, url: Any, moved_to: Any, confidential: bool, fields: dict[str, Any]) -> WorkItem:
    """The WorkItem of an issue whose values `to_item` (REST) or `node_item` (GraphQL) read out, with
    `fields` (the ones both read the same way) as they are."""
    state_name, category = status(state, labels)
    source_priority = severity_key(issue_type, severity)
    return WorkItem.model_validate({
        "source": SOURCE,
        "key": f"{project}#{iid}",
        "project": project,
        "description": description,
        "type": item_type(issue_type, labels),
        "source_type": str(issue_type or "issue"),
        # a moved original is closed and names its new issue (REST `moved_to_id`, GraphQL `movedTo`):
        # recorded as moved, not done, and linked to the new item
        "status": Status.MOVED if moved_to else category,
        "moved_to_id": str(moved_to) if moved_to else None,
        "source_status": state,
        "state": state_name,
        "priority": priority(labels, source_priority),
        "source_priority": source_priority,
        "labels": labels + ([f"{MILESTONE_LABEL_PREFIX}{milestone['title']}"] if milestone else []),
        "url": url,
        "attachments": attachments(description, url),
        "visibility": Visibility.INTERNAL if confidential else Visibility.PUBLIC,
        **fields,
    })


def to_item(raw: dict, project: str) -> WorkItem:
    """Map one REST issue; raises on malformed JSON (see `map_issue` for the safe form)."""
    labels = raw.get("labels") or []
    if not isinstance(labels, list):
        raise TypeError(f"labels is a {type(labels).__name__}, not a list")
    assignees = raw.get("assignees") or ([raw["assignee"]] if raw.get("assignee") else [])
    return _item(
        project, raw["iid"], raw["state"], raw.get("issue_type"), raw.get("severity"),
        [str(label) for label in labels], raw.get("milestone"), raw.get("description") or "", raw.get("web_url"),
        raw.get("moved_to_id"), raw.get("confidential") is True, {
            "external_id": str(raw["id"]),
            "title": raw["title"],
            "assignee": person(assignees[0]) if assignees else None,
            "reporter": person(raw.get("author")),
            "created_at": raw["created_at"],
            "updated_at": raw["updated_at"],
            "closed_at": raw.get("closed_at"),
            "parent_key": parent_key(raw.get("epic")),
            "comments_at_source": source_count(raw.get("user_notes_count")),
        })


def node_item(node: dict, project: str) -> WorkItem:
    """Map one GraphQL Issue node (importers/gitlab/graphql.py) straight to the model, as `to_item` maps
    the same issue over REST: GraphQL's `type` is REST's `issue_type` upper-cased, ids are global ids."""
    labels = [str(label["title"]) for label in (node.get("labels") or {}).get("nodes") or []
              if isinstance(label, dict) and label.get("title") is not None]
    epic, moved = node.get("epic"), node.get("movedTo")
    return _item(
        project, int(node["iid"]), node.get("state"), str(node.get("type") or "issue").lower(), node.get("severity"),
        labels, node.get("milestone"), node.get("description") or "", node.get("webUrl"),
        number(moved["id"]) if isinstance(moved, dict) else None, bool(node.get("confidential")), {
            "external_id": str(number(node.get("id"))),
            "title": node.get("title"),
            "assignee": next(filter(None, map(node_person, (node.get("assignees") or {}).get("nodes") or [])), None),
            "reporter": node_person(node.get("author")),
            "created_at": node.get("createdAt"),
            "updated_at": node.get("updatedAt"),
            "closed_at": node.get("closedAt"),
            "parent_key": parent_key({"iid": epic.get("iid"), "url": epic.get("webUrl")})
            if isinstance(epic, dict) else None,
            "comments_at_source": source_count(node.get("userNotesCount")),
        })


def _comment(external_id: str, item_external_id: str, author: Person | None, body: Any, created_at: Any,
             internal: Any) -> Comment:
    return Comment.model_validate({
        "source": SOURCE, "external_id": external_id, "item_external_id": item_external_id, "author": author,
        "body": body or "", "created_at": created_at,
        "visibility": Visibility.INTERNAL if internal else Visibility.PUBLIC})


def to_comment(note: dict, item_external_id: str, on_internal_item: bool = False) -> Comment:
    """A REST user note; an internal note (`internal`, formerly `confidential`) is INTERNAL, and so is
    every note of a confidential issue: who cannot see the issue cannot see its notes."""
    return _comment(str(note["id"]), item_external_id, person(note.get("author")), note.get("body"),
                    note["created_at"],
                    on_internal_item or note.get("internal") is True or note.get("confidential") is True)


def node_comment(note: dict, item_external_id: str, on_internal_item: bool = False) -> Comment:
    """A GraphQL Note node, as `to_comment` maps its REST form."""
    return _comment(str(number(note.get("id"))), item_external_id, node_person(note.get("author")),
                    note.get("body"), note.get("createdAt"), on_internal_item or note.get("internal"))


def _reason(exc: Exception) -> str:
    if isinstance(exc, CommentError):
        return f"comment {exc.comment_id}: {_reason(exc.cause)}"
    if isinstance(exc, ValidationError):
        return validation_reason(exc, "value")
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return f"{type(exc).__name__}: {exc}"


def map_issue(raw: Any, project: str, notes: list[Any], item: Callable[[dict, str], WorkItem] = to_item,
              comment: Callable[[dict, str, bool], Comment] = to_comment,
              ) -> tuple[WorkItem | ItemFailure, list[Comment]]:
    """An issue and its user comments, or an ItemFailure saying why it cannot be imported; REST JSON,
    or GraphQL nodes with `node_item` and `node_comment`.

    A note that cannot be mapped fails its issue too, so "retry failed items" re-reads both
    instead of silently importing the issue without that comment.
    """
    ids = raw if isinstance(raw, dict) else {}
    external_id = str(ids.get("id", "?")).rpartition("/")[2]  # a GraphQL global id's number
    key = f"{project}#{ids['iid']}" if "iid" in ids else ""
    try:
        if not isinstance(raw, dict):
            raise TypeError(f"issue is a {type(raw).__name__}, not an object")
        mapped = item(raw, project)
        # a moved original keeps its notes at GitLab (and its new issue has copies): they are read
        # here too; the writer keeps them on the original only while its new item is not stored
        internal = mapped.visibility is not Visibility.PUBLIC
        comments = []
        for note in notes:
            if isinstance(note, dict) and note.get("system"):  # "changed the label", etc.
                continue
            try:
                comments.append(comment(note, mapped.external_id, internal))
            except MAPPING_ERRORS as exc:  # the issue fails with it: its reason says it was this note
                ident = str(note.get("id") or "").rpartition("/")[2] if isinstance(note, dict) else None
                raise CommentError(ident, exc) from exc
    except MAPPING_ERRORS as exc:
        return ItemFailure(external_id=external_id, key=key, reason=_reason(exc)), []
    return mapped, comments
