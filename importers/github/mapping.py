"""Turns GitHub's issue and comment JSON into the normalized model, one object at a time.

The functions read the raw REST JSON (no PyGithub objects: building those per item costs more
than the whole import). An issue that cannot be mapped becomes an `ItemFailure` naming the
field, so one odd issue never stops a page.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ..errors import validation_reason
from ..model import Comment, ItemFailure, People, Person, Priority, Status, WorkItem, source_count
from ..numbers import whole_number
from ..workflow import CLOSED, refine_by_label
from .settings import (
    DEFAULT_TYPE,
    MILESTONE_LABEL_PREFIX,
    PRIORITY_LABELS,
    PULL_REQUEST_TYPE,
    STATE_NAMES,
    STATUS_LABELS,
    STATUS_MAP,
    TYPE_MAP,
)

SOURCE = "github"

_ISSUE_URL = re.compile(r"/repos/([^/]+/[^/]+)/issues/(\d+)$")
_REPOSITORY_URL = re.compile(r"/repos/([^/]+/[^/]+)$")


def issue_number(issue_url: Any) -> int | None:
    """The issue number at the end of an API `issue_url` (comments name their issue only this way)."""
    if type(issue_url) is str:  # the usual `.../repos/OWNER/NAME/issues/123` without the regex (same answer)
        head, _, number = issue_url.rpartition("/issues/")
        parts = head.rsplit("/", 3)
        if (found := whole_number(number)) is not None and len(parts) == 4 and parts[1] == "repos" and parts[2] \
                and parts[3]:
            return found
    match = _ISSUE_URL.search(issue_url) if isinstance(issue_url, str) else None
    return whole_number(match.group(2)) if match else None


def repository_of(raw: Any) -> str | None:
    """`owner/name` of an issue's repository, from its `repository_url` (where a transfer took it)."""
    url = raw.get("repository_url") if isinstance(raw, dict) else None
    match = _REPOSITORY_URL.search(url) if isinstance(url, str) else None
    return match.group(1) if match else None


_fromisoformat = datetime.fromisoformat


def _time(value: Any) -> Any:
    """A time as GitHub writes it (`2024-01-31T12:00:00Z`) parsed by C's `datetime.fromisoformat` into
    the aware UTC datetime the model keeps of it (pydantic parses the text into its own UTC tzinfo,
    which the model's validator then converts to `datetime.UTC`: 43,000 conversions a read of 10,000
    issues and 17,204 comments); anything else, or a time fromisoformat refuses (February 30th, hour
    24, second 60, year 0), as it came, for the model to parse or refuse as before."""
    if type(value) is str and len(value) == 20 and value[4::3] == "--T::Z" and value.isascii():  # YYYY-MM-DDTHH:MM:SSZ
        try:
            return _fromisoformat(value)
        except ValueError:
            return value
    return value


def is_pull_request(raw: Any) -> bool:
    """The issues listing mixes pull requests in; they carry a `pull_request` key."""
    return isinstance(raw, dict) and raw.get("pull_request") is not None


def person(raw: Any) -> Person | None:
    """A GitHub user. List responses carry no email (None); `/user` and some GHE setups do."""
    if not isinstance(raw, dict) or raw.get("id") is None:
        return None
    login = raw.get("login") or ""
    return _people.get(SOURCE, str(raw["id"]), raw.get("name") or login, raw.get("email"), login or None)


_people = People()


def _label_names(raw: dict) -> list[str]:
    names = []
    for label in raw.get("labels") or []:
        name = label.get("name") if isinstance(label, dict) else label  # GitHub also accepts bare names
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return names


def status_key(state: str, reason: str | None) -> str:
    """The source value a mapping's status rows are keyed on: `open`, `closed:not_planned`, ..."""
    return f"{state}:{reason}" if reason else state


def base_state(key: str) -> tuple[str, Status] | None:
    """(state name, category) of a state key before labels refine it; None for an unknown state."""
    state, _, reason = key.partition(":")
    status = STATUS_MAP.get((state, reason or None)) or STATUS_MAP.get((state, None))
    if status is None:
        return None
    return STATE_NAMES.get(key) or STATE_NAMES.get(state) or key, status


def _status(raw: dict, labels: list[str]) -> tuple[Status, str, str]:
    """(category, status key, state name)."""
    key = status_key(raw["state"], raw.get("state_reason"))
    base = base_state(key)
    if base is None:
        raise ValueError(f"unknown state {raw['state']!r}")
    name, status = refine_by_label(labels, STATUS_LABELS, closed=base[1] in CLOSED) or base
    return status, key, name


def _priority(lowered: list[str]) -> Priority:
    return next((PRIORITY_LABELS[n] for n in lowered if n in PRIORITY_LABELS), Priority.NONE)


# What an issue's labels and state decide, by (label names, state, state reason): a repository's issues
# share a few label sets, so each is worked out once a read. Bounded; the tables it reads are constants.
_by_labels: dict[tuple, tuple[Status, str, str, Priority, str | None]] = {}


def _from_labels(raw: dict, labels: list[str]) -> tuple[Status, str, str, Priority, str | None]:
    """(category, status key, state name, priority, the workspace type a label names or None)."""
    state, reason = raw["state"], raw.get("state_reason")
    signature = (tuple(labels), state, reason) if type(state) is str and (reason is None or type(reason) is str) \
        else None
    found = _by_labels.get(signature) if signature is not None else None
    if found is not None:
        return found
    lowered = [n.lower() for n in labels]
    status, key, name = _status(raw, labels)
    found = (status, key, name, _priority(lowered), next((TYPE_MAP[n] for n in lowered if n in TYPE_MAP), None))
    if signature is not None:
        if len(_by_labels) >= 4096:
            _by_labels.clear()
        _by_labels[signature] = found
    return found


def type_name(name: str) -> str:
    lowered = name.strip().lower()
    return TYPE_MAP.get(lowered, lowered or DEFAULT_TYPE)


def _type(raw: dict, by_label: str | None) -> tuple[str, str]:
    """(the issue type's name or "", the workspace type): a type label first, then the issue type."""
    if is_pull_request(raw):
        return "pull request", PULL_REQUEST_TYPE
    issue_type = raw.get("type")
    name = issue_type["name"] if isinstance(issue_type, dict) and isinstance(issue_type.get("name"), str) else ""
    return name, by_label or (type_name(name) if name else DEFAULT_TYPE)


def _parent_key(raw: dict) -> str | None:
    url = raw.get("parent_issue_url")
    if not url:
        return None
    match = _ISSUE_URL.search(url)
    return f"{match.group(1)}#{match.group(2)}" if match else None


def map_issue(raw: Any, project: str) -> WorkItem | ItemFailure:
    """One issue (or pull request) -> WorkItem, or an ItemFailure saying which field is wrong."""
    raw_dict = raw if isinstance(raw, dict) else {}
    external_id = str(raw_dict.get("id") or raw_dict.get("node_id") or "?")
    key = f"{project}#{raw_dict.get('number', '?')}"
    try:
        labels = _label_names(raw)
        status, source_status, state, priority, by_label = _from_labels(raw, labels)
        source_type, kind = _type(raw, by_label)
        milestone = raw.get("milestone")
        if isinstance(milestone, dict) and milestone.get("title"):
            labels.append(f"{MILESTONE_LABEL_PREFIX}{milestone['title']}")
        assignees = raw.get("assignees") or []
        assignee = person(raw.get("assignee")) or (person(assignees[0]) if assignees else None)
        return WorkItem(
            source=SOURCE,
            external_id=str(raw["id"]),
            key=f"{project}#{int(raw['number'])}",
            project=project,
            title=raw["title"],
            description=raw.get("body") or "",
            type=kind,
            source_type=source_type,
            status=status,
            source_status=source_status,
            state=state,
            priority=priority,
            labels=labels,
            assignee=assignee,
            reporter=person(raw.get("user")),
            created_at=_time(raw["created_at"]),
            updated_at=_time(raw["updated_at"]),
            closed_at=_time(raw.get("closed_at")),
            url=raw.get("html_url"),
            parent_key=_parent_key(raw),
            comments_at_source=source_count(raw.get("comments")),
        )
    except ValidationError as exc:
        reason = validation_reason(exc, "issue")
        return ItemFailure(external_id=external_id, key=key, reason=f"GitHub issue could not be mapped: {reason}")
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:  # int(Infinity)
        what = f"missing field {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
        return ItemFailure(external_id=external_id, key=key, reason=f"GitHub issue could not be mapped: {what}")


def map_comment(raw: Any, item_external_id: str, item_key: str | None = None) -> Comment | str:
    """One issue comment -> Comment, tied to its issue by id, or by key (`owner/repo#N`) when this
    read did not list the issue (the writer joins it to the stored item). An unmappable comment is
    never fatal and never silent: the caller gets its one-line reason (naming the comment and what
    to fix) and reports it as a comments gap of the issue (a retry re-reads the issue whole)."""
    try:
        return Comment(
            source=SOURCE,
            external_id=str(raw["id"]),
            item_external_id=item_external_id,
            item_key=item_key,
            author=person(raw.get("user")),
            body=raw.get("body") or "",
            created_at=_time(raw["created_at"]),
        )
    except ValidationError as exc:
        what = validation_reason(exc, "comment")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"missing field {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
    ident = raw.get("id") if isinstance(raw, dict) else None
    return f"GitHub comment {ident if ident is not None else '(no id)'} could not be mapped: {what}".splitlines()[0]
