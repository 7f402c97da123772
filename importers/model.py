"""The normalized model every source maps into and the workspace store writes.

One model for all four tools: a connector's only job is to turn its vendor's JSON into these
objects through its own mapping table, so the store, the runner and the console never learn
vendor shapes.
"""
from __future__ import annotations

import copyreg
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, overload

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Status(StrEnum):
    """The five workflow-state categories. A workspace project has named states (its source's own
    names by default, see `WorkItem.state`), each in one of these; grouping and charts use them."""

    BACKLOG = "backlog"
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"
    MOVED = "moved"  # an original left behind by a move to another project: set it with WorkItem.moved_to_id

    @property
    def label(self) -> str:
        """How the category reads to a person ("In progress", not "in_progress"; "To do")."""
        return "To do" if self is Status.TODO else self.value.replace("_", " ").capitalize()


class Visibility(StrEnum):
    """Who may see an item or a comment at its source. Stored with it, shown by the Workspace,
    exports and the API, and filterable there (a filter's default may hide all but PUBLIC).

    Connectors map their vendor's marker, and say whom in `visible_to` when the source names it:
    ServiceNow work notes and GitLab internal notes (`internal: true`) and confidential issues are
    INTERNAL; a JIRA comment with `visibility` {type: role|group, value: NAME} and an issue under a
    security level are RESTRICTED with `visible_to` "role: NAME" / "group: NAME" / "security level: NAME";
    a GitHub comment the API reports minimized is INTERNAL with `visible_to` "minimized: REASON".
    """

    PUBLIC = "public"  # everyone who can see the project
    INTERNAL = "internal"  # the source's own team, not its customers or the public
    RESTRICTED = "restricted"  # only the roles or groups named in `visible_to`


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(value: Any) -> Any:
    """Text every store can hold. JSON may carry "\\u0000" (PostgreSQL refuses NUL in text) and
    lone surrogates such as "\\ud800" (no driver can encode them as UTF-8): a vendor sending
    either must not fail the whole batch, so NUL is dropped and a lone surrogate becomes U+FFFD."""
    if isinstance(value, str):
        if "\x00" not in value and value.isascii():  # the common case, two C-speed checks
            return value
        return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value) \
            if _UNSTORABLE.search(value) else value
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _unstorable(value: Any) -> bool:
    """Whether `_storable` would change `value` (the same cases it rebuilds, lists at any depth)."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


_object_setattr = object.__setattr__
# By model class: its field names, and each set of set fields met so far by its mask and back (see _Model.__reduce__)
_FIELD_SETS: dict[type, tuple[tuple[str, ...], dict[frozenset[str], int], dict[int, frozenset[str]]]] = {}


def _field_sets(cls: type[BaseModel]) -> tuple[tuple[str, ...], dict[frozenset[str], int], dict[int, frozenset[str]]]:
    found = _FIELD_SETS[cls] = (tuple(cls.model_fields), {}, {})
    return found


def _rebuild(cls: type[_Model], fields: dict[str, Any], mask: int) -> _Model:
    """The model `_Model.__reduce__` pickled: its `__dict__` as it was, the fields it was given by their
    mask (a bit a field, in field order)."""
    names, _, sets = _FIELD_SETS.get(cls) or _field_sets(cls)
    fields_set = sets.get(mask)
    if fields_set is None:
        fields_set = sets[mask] = frozenset(name for i, name in enumerate(names) if mask >> i & 1)
    model = cls.__new__(cls)
    _object_setattr(model, "__dict__", fields)
    _object_setattr(model, "__pydantic_fields_set__", set(fields_set))
    _object_setattr(model, "__pydantic_extra__", None)
    _object_setattr(model, "__pydantic_private__", None)
    return model


class _Model(BaseModel):
    def __reduce__(self) -> tuple:
        """Pickled compactly (a reader process sends every page to its work horse, jobs/reader.py): the
        model's `__dict__` and a number for its set fields, rebuilt by one call (`_rebuild`). pydantic's own
        pickling sends a state dict of four entries and the set of set fields by name, for every item and
        comment, and calls `__setstate__` to unpack them: this takes 15% fewer instructions to unpickle the
        pages of a 10,000-ticket ServiceNow or GitHub import, 8-9% fewer to pickle them. The same models come
        back: field values and their types, set fields, shared people (tests/test_model_pickle.py)."""
        cls = type(self)
        if self.__pydantic_extra__ is not None or self.__pydantic_private__ is not None:
            # pydantic's own (none of ours has these)
            return copyreg.__newobj__, (cls,), self.__getstate__()  # type: ignore[attr-defined]
        names, masks, _ = _FIELD_SETS.get(cls) or _field_sets(cls)
        fields_set = frozenset(self.__pydantic_fields_set__)
        mask = masks.get(fields_set)
        if mask is None:
            mask = masks[fields_set] = sum(1 << i for i, name in enumerate(names) if name in fields_set)
        return _rebuild, (cls, self.__dict__, mask)

    # defer_build: each model's validator and serializer (pydantic's schema of it, most of this module's import
    # time) are built at its first use, not at import: `cli.py run` imports the models and never uses them. A
    # worker builds them all (`build_models`) before it forks work horses, which would otherwise each build them.
    model_config = ConfigDict(frozen=False, extra="forbid", str_strip_whitespace=False, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _only_storable_text(cls, data: Any) -> Any:
        """Every field's input made storable (see `_storable`), in one pass over the input: a
        validator per field cost a Python call per field of every item and comment, a fifth of
        an import's CPU. The input is rebuilt only when some value holds NUL or a lone surrogate:
        rebuilding every input that merely held non-ASCII text (any accent, any emoji) was a
        quarter of GitLab's mapping CPU. (The same results as that rebuild, value for value:
        tests/test_model_storable.py.)"""
        if not isinstance(data, dict):
            return data
        # Inline checks, loops rather than generators (a generator a list was a third of this function's
        # CPU): most inputs are plain ASCII and come back as they are.
        for value in data.values():
            if type(value) is str:
                if value.isascii() and "\x00" not in value:
                    continue
            elif type(value) is list:
                for v in value:
                    if type(v) is str and not (v.isascii() and "\x00" not in v):
                        break
                else:
                    continue
            else:
                continue
            # non-ASCII text somewhere: one C-speed search a string says whether anything must change
            # (none for the strings the checks above pass, nor for an empty list)
            search = _UNSTORABLE.search
            for v in data.values():
                if type(v) is str:
                    if (v.isascii() and "\x00" not in v) or search(v) is None:
                        continue
                elif type(v) is list:
                    for item in v:
                        if type(item) is str:
                            if (item.isascii() and "\x00" not in item) or search(item) is None:
                                continue
                        elif not _unstorable(item):
                            continue
                        break
                    else:
                        continue
                elif not isinstance(v, str) or search(v) is None:
                    continue
                return {k: _storable(v) for k, v in data.items()}
            return data
        return data


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: None) -> None: ...
def _aware(value: datetime | None) -> datetime | None:
    """Store every timestamp in UTC so sources in different zones compare correctly.

    A time whose offset takes it past year 9999 or before year 1 in UTC ("9999-12-31T23:00:00-05:00")
    has no UTC form: that is a ValueError naming the time, which pydantic turns into the field's
    validation error, so the one item or comment fails with a reason and the rest import. (The
    OverflowError astimezone raises is no ValueError: pydantic would let it escape the mapping.)"""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"time {value.isoformat()} is out of range: in UTC it falls before year 1 "
                         f"or after year 9999") from None


class Person(_Model):
    """Someone from a source. People are matched across sources by email, case-insensitively."""

    source: str
    external_id: str
    display_name: str = ""
    email: str | None = None
    username: str | None = None
    # Set by a mapping that merges or separates people: the workspace person this one is written
    # as (a match key such as "email:ada@acme.example"); None keeps the match by email.
    workspace_key: str | None = None

    @field_validator("email")
    @classmethod
    def _normalize_email(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        return value.lower() if value else None

    @property
    def match_key(self) -> str:
        """The identity used to merge the same human seen in several tools."""
        return self.workspace_key or self.default_key

    @property
    def default_key(self) -> str:
        """The match key before any mapping: by email, else by this source's id."""
        return f"email:{self.email}" if self.email else f"{self.source}:{self.external_id}"


class People:
    """Each distinct person validated once and that one Person shared by every item and comment
    naming them (nothing downstream changes a Person: a mapping copies it). The same few people
    appear on every page; validating a Person per reference took a tenth of an import's CPU.
    Bounded: a project's distinct people, not one per reference."""

    def __init__(self, kept: int = 10_000):
        self._found: dict[tuple, Person] = {}
        self._kept = kept

    def get(self, source: str, external_id: str, display_name: str = "", email: str | None = None,
            username: str | None = None) -> Person:
        """The Person of these fields (validated as `Person(...)` would be; raises as it does)."""
        signature = (source, external_id, display_name, email, username)
        try:
            found = self._found.get(signature)
        except TypeError:  # a value no Person takes (a list, an object): validation says which field
            return Person(source=source, external_id=external_id, display_name=display_name, email=email,
                          username=username)
        if found is None:
            found = Person(source=source, external_id=external_id, display_name=display_name, email=email,
                           username=username)
            if len(self._found) >= self._kept:
                self._found.clear()
            self._found[signature] = found
        return found


class Project(_Model):
    source: str
    key: str
    name: str
    url: str | None = None
    description: str = ""


class Link(_Model):
    """A relation to another item of the same source (blocks, relates, ...).

    `target_id` is the target's stable external id (what `WorkItem.external_id` holds for it):
    keys change when an item moves (a JIRA issue moved to another project gets a new key, a
    transferred GitHub issue a new repository), ids do not. The store keeps both and the
    workspace shows the target's *current* key, looked up by `target_id`; `target_key` is what
    the source said at read time, the fallback while the target is not (yet) in the store.
    Connectors fill `target_id` whenever their API gives it (JIRA's issuelinks carry the id).
    """

    kind: str
    target_key: str
    target_id: str | None = None


class Attachment(_Model):
    """Metadata only: files stay at the source and are linked, never copied."""

    file_name: str
    size: int | None = None
    url: str | None = None


def source_count(value: Any) -> int | None:
    """A count as a source sends it, or None when it is not a whole number >= 0 (never a failure:
    a count only informs a comparison)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class WorkItem(_Model):
    source: str
    external_id: str = Field(min_length=1, max_length=255)
    key: str = Field(min_length=1, max_length=255)
    project: str = Field(min_length=1)
    title: str = Field(min_length=1, max_length=1000)
    description: str = ""  # Markdown
    type: str = "task"
    status: Status  # the category of `state`
    source_status: str = ""  # the source's status value: what a mapping's status rows are keyed on
    # The workflow state's name (the source's own status name by default); "" when a connector
    # does not say, then the workspace shows `source_status`.
    state: str = ""
    priority: Priority = Priority.NONE
    source_priority: str = ""  # the source's priority value, what a mapping's priority rows are keyed on
    source_type: str = ""  # the source's type value, what a mapping's type rows are keyed on
    labels: list[str] = Field(default_factory=list)
    assignee: Person | None = None
    reporter: Person | None = None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    url: str | None = None
    parent_key: str | None = None  # as the source said it at read time; shown only while parent_id is unknown
    parent_id: str | None = None  # the parent's stable external id: see `Link` for why ids, not keys
    links: list[Link] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    visibility: Visibility = Visibility.PUBLIC
    visible_to: str = ""  # whom RESTRICTED (or INTERNAL) content is for, as the source names it
    # What the import could not carry over faithfully, said on the item ("parent INC0010003 no
    # longer exists at the source"): shown with the item, never silently dropped.
    notes: list[str] = Field(default_factory=list)
    # The external id of the item this one became when it was moved to another project and the
    # source keeps the original as a separate record (GitLab's `moved_to_id`). The store records
    # the original as moved, linked to its new item, and a catch-up run counts it neither as done
    # nor as deleted. Sources whose moves keep the id (JIRA) leave it None: the one item's key
    # and project simply follow the move.
    moved_to_id: str | None = None
    # The external id this item was stored under before a move that gave it a new one and left no
    # original behind (a transferred GitHub issue is a new issue of the target repository and the
    # old one answers 301). The writer re-keys the stored item instead of storing a second one;
    # not part of the item's content (it says how it was found, not what it is).
    moved_from_id: str | None = None
    # How many comments the source says the item has (JIRA's comment `total`, GitHub's `comments`,
    # GitLab's `user_notes_count`; None where the source gives no count, as ServiceNow): Progress
    # compares it with the comments read. Not part of the item's content.
    comments_at_source: int | None = None

    @field_validator("created_at", "updated_at", "closed_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value if value is None or value.tzinfo is UTC else _aware(value)  # UTC already: as _aware gives it

    @property
    def state_name(self) -> str:
        """The state the workspace files this item under: its state, else the source's status, else
        the category's own name."""
        return self.state or self.source_status or self.status.label

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("title is empty")
        return value


class Comment(_Model):
    """A comment on an item, tied to it within the same source by the item's external id or key.

    A connector fills `item_external_id` when it knows the item's id, and may instead fill only
    `item_key` when all it has is the item's key (GitHub's repo-wide comment listing names an
    issue by its number, so `item_key="owner/repo#12"`, the same text its `WorkItem.key` has).
    Either way the writer joins the comment to the item already in the store, whether or not that
    item was read in this run: a comment edited on an untouched item is still applied. A comment
    whose item is in neither the batch nor the store is dropped (it cannot be shown).
    """

    source: str
    external_id: str = Field(min_length=1)
    item_external_id: str = ""
    item_key: str | None = None
    author: Person | None = None
    body: str = ""  # Markdown
    created_at: datetime
    visibility: Visibility = Visibility.PUBLIC
    visible_to: str = ""  # see Visibility

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo is UTC else _aware(value)  # UTC already: as _aware gives it

    @model_validator(mode="after")
    def _names_its_item(self) -> Comment:
        if not self.item_external_id and not self.item_key:
            raise ValueError("a comment needs item_external_id or item_key")
        return self


class ItemFailure(_Model):
    """An item that could not be mapped or written, with the reason a user can act on."""

    external_id: str
    key: str = ""
    reason: str


class StreamGap(_Model):
    """Data of a secondary stream (comments, attachments, people) that could not be read, while the
    items it belongs to were read and are kept.

    A gap names one item (`item_external_id`), or, for a project-wide listing that broke off (such
    as a repository's comment listing), the place to resume that listing (`resume`, a cursor the
    source's `read` accepts) with `item_external_id` empty. The job ends `partial` with `reason`,
    and a retry re-reads only what gaps name (`Source.fill`)."""

    stream: Literal["comments", "attachments", "people"]
    item_external_id: str = ""
    key: str = ""
    reason: str
    resume: dict[str, Any] | None = None


class Page(_Model):
    """One page read from a source; `cursor` resumes the read right after this page.

    `gaps` are the page's data that could not be read (its items are kept); `notes` are what the
    source wants said on the job, such as its own count of rows differing from what it returned.

    `comments_complete` is the connector's promise that every item of this page comes with its
    whole comment list in this same page (JIRA embeds them in the search hit and fetches the
    rest; the demo source generates them). The writer then treats that list as authoritative:
    a stored comment of such an item that is not in the list no longer exists at the source and
    is soft-deleted (unless the run says `--deletions ignore`). Items a comments gap names are
    exempt (their list was not read whole). Leave it False when comments arrive in pages of their
    own (GitHub's repo-wide listing) or filtered by time.

    `read_started_at` is for a read that does not follow the source's update order (JIRA's key ranges):
    the source's own time when the read began (kept in its cursor, so a resumed read keeps it). An item
    read early and changed later is not read again, so the next catch-up must start no later than this:
    the runner caps the part's high-water mark at it. A read in update order leaves it None (a change
    moves the item after the read's position, where the read meets it again).

    `before_since` counts what the source's search returned that changed before the read's `since` and that the
    page leaves out (JIRA's search has minutes, the mark has milliseconds): the source's count included them, so
    the part's total drops by them.
    """

    items: list[WorkItem] = Field(default_factory=list)
    comments: list[Comment] = Field(default_factory=list)
    failures: list[ItemFailure] = Field(default_factory=list)
    cursor: dict[str, Any] | None = None
    gaps: list[StreamGap] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    comments_complete: bool = False
    read_started_at: datetime | None = None
    before_since: int = 0
    # For `Source.recheck_comments` of sources whose comments cannot be edited (ServiceNow's
    # append-only journal): ids of comments that still exist, listed without their content.
    comments_present: list[str] = Field(default_factory=list)

    @property
    def size(self) -> int:
        """Items this page accounts for, mapped or failed."""
        return len(self.items) + len(self.failures)


MODELS = (Person, Project, Link, Attachment, WorkItem, Comment, ItemFailure, StreamGap, Page)


def build_models() -> None:
    """Build every model's validator and serializer now (see `_Model`'s defer_build): done once in a worker
    before it forks, so each work horse starts with them built and shared."""
    for model in MODELS:
        model.model_rebuild()
