"""Joins comments to their issues: GitHub names a comment's issue only by number, while
items are keyed by the issue's id, so a read remembers number -> id for the issues it yields.
"""
from __future__ import annotations

from array import array


class IssueIndex:
    """Issue number -> issue id of the issues a read imports, 8 bytes a number.

    GitHub numbers issues densely from 1, so an array indexed by number stays small (800 KB
    for 100,000 issues and pull requests) where a dict of ints would take ten times that.
    """

    _DENSE_LIMIT = 2_000_000  # numbers beyond this (rare: a few repos pass 300k) go to a dict

    def __init__(self) -> None:
        self._ids = array("q")
        self._sparse: dict[int, int] = {}

    def add(self, number: int, issue_id: int) -> None:
        if 0 < number < self._DENSE_LIMIT:
            if number >= len(self._ids):
                self._ids.extend([0] * max(number + 1 - len(self._ids), len(self._ids)))
            self._ids[number] = issue_id
        else:
            self._sparse[number] = issue_id

    def get(self, number: int | None) -> str | None:
        """The id as the item's external id, or None for pull requests and unread issues."""
        if number is None:
            return None
        found = self._ids[number] if 0 < number < len(self._ids) else self._sparse.get(number, 0)
        return str(found) if found else None
