"""Keyset paging over the Table API: each window asks for the rows after the last one read.

Offset paging lost tickets: a ticket edited during a full read moves to the end of the
(sys_updated_on, sys_id) order, the tickets behind it slide back into a window already read and
are never returned, and since their update times are old no later incremental run finds them.
Asking for the rows after the last (sys_updated_on, sys_id) pair read cannot skip a row that
still sorts after it, and an edited row only moves later, so it is read again, edited.

`^NQ` ORs whole condition groups, so the table's own conditions (and `since`) are repeated in
both groups: (updated > U AND conditions) OR (updated = U AND sys_id > I AND conditions).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..base import Cursor
from ..errors import SourceError
from .mapping import value
from .settings import ORDER, TOOL

SYS_ID = re.compile(r"[0-9a-f]{32}")
_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")

Key = tuple[str, str]  # (sys_updated_on as the API sends it, in UTC; sys_id)


def order_key(row: Any) -> Key | None:
    """Where a row stands in the read order; None for a row too broken to say."""
    if not isinstance(row, dict):
        return None
    updated, sys_id = value(row, "sys_updated_on"), value(row, "sys_id")
    return (updated, sys_id) if _TIME.fullmatch(updated) and SYS_ID.fullmatch(sys_id) else None


@dataclass
class Keyset:
    """The position of a read: the last pair read, and hidden rows stepped over since."""

    conditions: tuple[str, ...] = ()  # AND-ed into every group: the table's filter, `since`
    after: Key | None = None
    # Rows of the current keyset query skipped by offset: only when access rules hid a whole
    # window, whose rows we never see and so cannot page past by key.
    skip: int = 0

    @classmethod
    def resume(cls, conditions: tuple[str, ...], cursor: Cursor | None) -> Keyset:
        """From a page's cursor; anything else (none, an old offset cursor) starts at the top."""
        after = (cursor or {}).get("after")
        if isinstance(after, (list, tuple)) and len(after) == 2 and order_key(
                {"sys_updated_on": after[0], "sys_id": after[1]}):
            return cls(conditions, (str(after[0]), str(after[1])))
        return cls(conditions)

    @property
    def cursor(self) -> Cursor:
        return {"after": list(self.after)} if self.after else {}

    def query(self) -> str:
        """The encoded query of the next window, ordered ORDERBYsys_updated_on^ORDERBYsys_id."""
        if self.after is None:
            groups = [list(self.conditions)]
        else:
            updated, sys_id = self.after
            groups = [[f"sys_updated_on>{updated}", *self.conditions],
                      [f"sys_updated_on={updated}", f"sys_id>{sys_id}", *self.conditions]]
        where = "^NQ".join("^".join(group) for group in groups)
        return f"{where}^{ORDER}" if where else ORDER

    def advance(self, rows: list[Any]) -> None:
        """Move past a window's rows; a window that does not move forward is the instance's error."""
        keys = [key for key in map(order_key, rows) if key is not None]
        if not keys or (self.after is not None and keys[-1] <= self.after):
            raise SourceError(f"{TOOL} returned rows out of (sys_updated_on, sys_id) order: cannot page on safely")
        self.after, self.skip = keys[-1], 0

    def step_over_hidden(self, total: int | None, size: int) -> bool:
        """After an empty window: True if rows remain past it (all hidden from us), so read on."""
        if total is None or self.skip + size >= total:
            return False
        self.skip += size
        return True
