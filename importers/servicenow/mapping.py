"""Turns ServiceNow Table API rows into the model, one row at a time.

Rows come with `sysparm_display_value=all`, so a field is `{"value": ..., "display_value": ...}`;
rows read without display values (journal, users) hold plain strings. Both shapes are read by
`value()` / `display()`, so one mapping serves every request. A row that cannot be mapped
becomes an ItemFailure with a reason, never an exception that would lose the whole page.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ..errors import validation_reason
from ..html_markdown import html_to_markdown
from ..model import Comment, ItemFailure, Link, People, Person, Priority, Status, Visibility, WorkItem
from .settings import DELETED_PERSON, INTERNAL_ELEMENTS, PRIORITY_MAP, TABLES, TIME_FORMAT, TOOL

SOURCE = "servicenow"
MAPPING_ERRORS = (ValidationError, KeyError, TypeError, ValueError, AttributeError, OverflowError)  # int(Infinity)

_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_TIME_FORM = b"0000-00-00 00:00:00"  # TIME_FORMAT with every ASCII digit read as 0
_CODE_BLOCK = re.compile(r"\[code\](.*?)\[/code\]", re.DOTALL | re.IGNORECASE)


def value(row: dict[str, Any], name: str) -> str:
    """The stored value of a field (sys_id for references, number for choices)."""
    field = row.get(name)
    if isinstance(field, dict):
        field = field.get("value")
    if type(field) is str:  # nearly every field: no str() call (about 30 fields a ticket)
        return field
    return "" if field is None else str(field)


def display(row: dict[str, Any], name: str) -> str:
    """What ServiceNow shows for a field (a person's name, a state's label)."""
    field = row.get(name)
    if isinstance(field, dict):
        shown = field.get("display_value")
        if type(shown) is str and shown:
            return shown
        return str(shown) if shown not in (None, "") else value(row, name)
    return "" if field is None else str(field)


def _field(row: dict[str, Any], name: str) -> tuple[str, str, bool]:
    """(`value`, `display`, `_deleted`) of a field from one lookup instead of three: a ticket's mapping
    reads about 40 of them."""
    field = row.get(name)
    if type(field) is dict:
        stored, shown = field.get("value"), field.get("display_value")
        if type(stored) is str and type(shown) is str:  # every field of a row read with display values
            return stored, shown or stored, bool(stored) and not shown
    return value(row, name), display(row, name), _deleted(row, name)


class FieldError(ValueError):
    """A field of a row that cannot be read; its message names the field first, as pydantic's do."""


def parse_time(text: str, name: str) -> datetime | None:
    """ServiceNow's API times are "YYYY-MM-DD HH:MM:SS" in UTC; empty means not set. `name` is the
    field, named by the error of a time that cannot be read (`sys_created_on: time '...' is not ...`).

    fromisoformat is ~50x faster than strptime (three times per ticket adds up); the shape
    check keeps it as strict as TIME_FORMAT. The form every time has, in ASCII digits, is checked
    by one translate and compare (a third of the regex's instructions: the regex took over half of
    this function's); the regex still decides for any other text, as it always did.
    """
    try:
        if len(text) == 19 and text.isascii() and text.encode().translate(_DIGITS_AS_ZERO) == _TIME_FORM:
            return datetime.fromisoformat(f"{text}+00:00")
        if len(text) == 19 and _TIME.fullmatch(text):  # Unicode digits: fromisoformat's own error, as before
            return datetime.fromisoformat(f"{text}+00:00")
        text = text.strip()
        if not text:
            return None
        if not _TIME.fullmatch(text):
            raise FieldError(f"{name}: time {text[:40]!r} is not in ServiceNow's YYYY-MM-DD HH:MM:SS form")
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except FieldError:
        raise
    except ValueError as exc:  # the form, but no date ("2024-13-04 ..."), or digits that are not ASCII
        raise FieldError(f"{name}: time {text[:40]!r} is not a date ({exc})") from None


def required_time(text: str, name: str) -> datetime:
    """`parse_time` for a field every record has; a missing one makes the record a failure."""
    when = parse_time(text, name)
    if when is None:
        raise FieldError(f"{name} is empty")
    return when


def format_time(moment: datetime) -> str:
    """The form ServiceNow compares in encoded queries, in UTC, floored to the second."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def to_markdown(text: str, instance_url: str | None = None) -> str:
    """Journal and description text is plain; `[code]...[/code]` wraps HTML (ServiceNow renders it
    as HTML in the activity stream), converted to Markdown with its links, images, lists and
    tables kept; relative links point into the instance."""
    text = text.replace("\r\n", "\n")
    if "[" not in text:
        return text.strip()
    return _CODE_BLOCK.sub(lambda m: f"\n\n{html_to_markdown(m.group(1), instance_url)}\n\n", text).strip()


def _deleted(row: dict[str, Any], ref: str) -> bool:
    """A reference holding a sys_id whose record is gone: ServiceNow keeps the id and shows nothing."""
    field = row.get(ref)
    return isinstance(field, dict) and bool(field.get("value")) and field.get("display_value") in (None, "")


def person_from_reference(row: dict[str, Any], ref: str) -> Person | None:
    """A user from a reference column plus its dot-walked `user_name` and `email` columns; a
    reference to a deleted user is the one "unknown (deleted)" person, never a name made of its id."""
    sys_id, shown, deleted = _field(row, ref)
    if not sys_id:
        return None
    if deleted:
        return DELETED_PERSON
    return _people.get(SOURCE, sys_id, shown, value(row, f"{ref}.email") or None,
                       value(row, f"{ref}.user_name") or None)


def person_from_user(row: dict[str, Any]) -> Person:
    """A sys_user row (looked up for journal authors, who are known only by user name)."""
    return Person(
        source=SOURCE,
        external_id=value(row, "sys_id"),
        display_name=value(row, "name") or value(row, "user_name"),
        email=value(row, "email") or None,
        username=value(row, "user_name") or None,
    )


def unknown_author(user_name: str) -> Person:
    """An author with no sys_user record (`system`, integrations, deleted users): the journal names
    them by user name, which is a name a reader knows; an empty one is the deleted person."""
    if not user_name:
        return DELETED_PERSON
    return _people.get(SOURCE, user_name, user_name, None, user_name)


_people = People()


def _reference(row: dict[str, Any], ref: str, what: str, notes: list[str]) -> tuple[str, str] | None:
    """(number shown, sys_id) of a reference, or None: a reference to a deleted record is no
    reference, with a note saying so (its sys_id is not a key anyone can look up)."""
    sys_id, shown, deleted = _field(row, ref)
    if deleted:
        notes.append(f"{what} (sys_id {sys_id}) no longer exists in {TOOL}: not linked")
        return None
    return (shown, sys_id) if shown else None


def _status(spec_states: dict[str, Status], state: str, closed: datetime | None) -> Status:
    """The mapped state; a custom state falls back to done if the ticket is closed, else todo."""
    if state in spec_states:
        return spec_states[state]
    return Status.DONE if closed else Status.TODO


def _map(table: str, row: dict[str, Any], instance_url: str) -> WorkItem:
    spec = TABLES[table]
    sys_id = value(row, "sys_id")
    number = value(row, "number")
    closed = parse_time(value(row, "closed_at"), "closed_at")
    state, state_shown, _ = _field(row, "state")
    priority, priority_shown, _ = _field(row, "priority")
    notes: list[str] = []
    parent = _reference(row, spec.parent, "the parent", notes) if spec.parent else None
    # references carry the target's sys_id, the stable id its WorkItem has (numbers never change, but
    # ids are what the store links by)
    links = [Link(kind=kind, target_key=target[0], target_id=target[1]) for ref, kind in spec.links.items()
             if (target := _reference(row, ref, f"the linked {kind}", notes))]
    return WorkItem(
        source=SOURCE,
        external_id=sys_id,
        key=number,
        project=table,
        title=display(row, "short_description").strip() or f"{number} (no short description)",
        description=to_markdown(display(row, "description"), instance_url),
        type=spec.type,
        source_type=table,
        status=_status(spec.states, state, closed),
        source_status=state_shown or state,
        state=state_shown or state,
        priority=PRIORITY_MAP.get(priority, Priority.NONE),
        source_priority=priority_shown,
        labels=[label] if (label := display(row, "category").strip()) else [],
        assignee=person_from_reference(row, "assigned_to"),
        reporter=person_from_reference(row, spec.reporter),
        created_at=required_time(value(row, "sys_created_on"), "sys_created_on"),
        updated_at=required_time(value(row, "sys_updated_on"), "sys_updated_on"),
        closed_at=closed,
        url=f"{instance_url}/nav_to.do?uri={table}.do?sys_id={sys_id}",
        parent_key=parent[0] if parent else None,
        parent_id=parent[1] if parent else None,
        links=links,
        notes=notes,
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return validation_reason(exc)
    if isinstance(exc, FieldError):
        return str(exc)
    return f"unexpected ServiceNow data ({type(exc).__name__}: {exc})"


def map_ticket(table: str, row: Any, instance_url: str) -> WorkItem | ItemFailure:
    """A WorkItem, or an ItemFailure saying which field of which ticket could not be read."""
    try:
        return _map(table, row, instance_url)
    except MAPPING_ERRORS as exc:
        ids = row if isinstance(row, dict) else {}
        try:
            sys_id, number = value(ids, "sys_id"), value(ids, "number")
        except MAPPING_ERRORS:
            sys_id, number = "", ""
        return ItemFailure(external_id=sys_id or "(no sys_id)", key=number, reason=_reason(exc)[:1000])


def map_comment(row: dict[str, Any], author: Person | None, instance_url: str | None = None) -> Comment:
    """A journal entry (a comment, or a work note: internal, for the fulfillers' eyes); raises on
    malformed rows, callers skip those."""
    internal = value(row, "element") in INTERNAL_ELEMENTS
    return Comment(
        source=SOURCE,
        external_id=value(row, "sys_id"),
        item_external_id=value(row, "element_id"),
        author=author,
        body=to_markdown(value(row, "value"), instance_url),
        created_at=required_time(value(row, "sys_created_on"), "sys_created_on"),
        visibility=Visibility.INTERNAL if internal else Visibility.PUBLIC,
    )
