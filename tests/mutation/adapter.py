"""The interface between the mutation test and one fake vendor: what exists, and how it changes.

The test (tests/test_mutation.py) starts a small fake through an adapter, imports two of its
projects, then applies random sequences of changes through the adapter, runs the default catch-up
import after each, and compares the workspace with a fresh full import of the fake as it is then.

To add a source, write `tests/mutation/adapters/<source>.py` defining `class Adapter(MutationAdapter)`
(the test finds it by file name) and implement each operation in `supports` so that the fake
changes **the way the real API shows that change**: which timestamps move (GitHub does not touch an
issue's `updated_at` when a comment is deleted), what a move does (a JIRA move changes key and
project and keeps the id; GitLab closes the original and sets `moved_to_id`), what a deleted item
answers. Say in the fake which vendor document each behaviour relies on.

References handed to and returned by an adapter (`item`, `comment`) are opaque strings of the
adapter's choosing (e.g. the fake's row id); the test only passes back what the adapter listed.
Texts the test generates are short printable strings; `n` arguments choose among the vendor's own
values (states, people) modulo their number, so every source can honour them.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

# Every kind of change the test can make; an adapter lists the ones its vendor has in `supports`.
OPERATIONS = frozenset({
    "add_item", "edit_title", "edit_body", "set_state", "set_assignee", "set_labels", "set_parent",
    "add_comment", "edit_comment", "delete_comment", "delete_item", "move_item", "rename_label",
})


class MutationAdapter(ABC):
    """One fake vendor seen by the mutation test. Subclasses set the class attributes."""

    source: ClassVar[str]  # the connector's name, e.g. "jira"
    projects: ClassVar[tuple[str, str]]  # two projects imported by every run; moves go between them
    supports: ClassVar[frozenset[str]]  # the subset of OPERATIONS this vendor has

    # -- life cycle ----------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def start(cls) -> MutationAdapter:
        """A fresh, started fake with a few items (5-10 a project, some with comments, a parent,
        a link): small, because every step runs two imports."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the fake."""

    @abstractmethod
    def config(self) -> dict[str, str]:
        """The source settings for `jobs.api.start_import(self.source, list(self.projects), config=...)`."""

    # -- what exists now -----------------------------------------------------------------
    @abstractmethod
    def items(self, project: str) -> list[str]:
        """References of the items of `project` that exist now (deleted or moved-away ones not)."""

    @abstractmethod
    def comments(self, item: str) -> list[str]:
        """References of the comments of `item` that exist now."""

    def labels(self) -> list[str]:
        """Label names in use (for rename_label); sources without labels keep this default."""
        return []

    def deleted_ids(self) -> set[str]:
        """External ids (as the connector writes them) of the items and comments this adapter deleted:
        the test checks that every soft delete in the workspace is one of these."""
        return set(self._deleted)

    def __init__(self) -> None:
        self._deleted: set[str] = set()

    # -- changes (each as the vendor's API would show it) -----------------------------------
    def add_item(self, project: str, title: str) -> None:
        raise NotImplementedError

    def edit_title(self, item: str, title: str) -> None:
        raise NotImplementedError

    def edit_body(self, item: str, body: str) -> None:
        raise NotImplementedError

    def set_state(self, item: str, n: int) -> None:
        raise NotImplementedError

    def set_assignee(self, item: str, n: int | None) -> None:
        """n: one of the vendor's people (modulo their number); None: unassigned."""
        raise NotImplementedError

    def set_labels(self, item: str, labels: list[str]) -> None:
        raise NotImplementedError

    def set_parent(self, item: str, parent: str | None) -> None:
        """Make `parent` (an item of the same project, never `item`) the parent, or clear it."""
        raise NotImplementedError

    def add_comment(self, item: str, body: str) -> None:
        raise NotImplementedError

    def edit_comment(self, item: str, comment: str, body: str) -> None:
        raise NotImplementedError

    def delete_comment(self, item: str, comment: str) -> None:
        """Delete it; record its external id in `self._deleted`."""
        raise NotImplementedError

    def delete_item(self, item: str) -> None:
        """Delete it (its comments go with it); record the external ids in `self._deleted`."""
        raise NotImplementedError

    def move_item(self, item: str, project: str) -> None:
        """Move it to the other project of `projects`, as the vendor does (same id or a new record)."""
        raise NotImplementedError

    def rename_label(self, old: str, new: str) -> None:
        """Rename a label everywhere it is used, as the vendor does (GitHub and GitLab rename in place)."""
        raise NotImplementedError
