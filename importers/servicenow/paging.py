"""Keyset paging over the Table API, for every ServiceNow paging loop (tickets, journal entries,
people, sys_id listings): each window asks for the rows after the last one that arrived.

Why keys and not offsets. Offset paging lost tickets: a ticket edited during a full read moves to
the end of the (sys_updated_on, sys_id) order, the tickets behind it slide back into a window
already read and are never returned. And a window may come back shorter than asked, for two
reasons a client cannot tell apart: the instance caps rows per response below `sysparm_limit`
(`glide.processor.json.row_limit`, "the maximum number of rows a JSON query returns", default
10,000; ServiceNow docs, "Setting the number of rows returned"), and access rules drop rows after
the window is cut. A loop that advanced its offset by the limit it asked for skipped the rest of
a capped window (issue 13: 30 of 89 journal entries stored). Asking for the rows after the last
key that arrived cannot skip a row, whatever the cap.

The end. The Table API's own signal is `X-Total-Count`, the rows the current query matches
before access rules: a window that brought all of them ends the read at once; an empty window
ends it when the count says no rows remain past it. An empty window with rows behind it was
hidden whole by access rules: we step over it by offset, by the most rows one response has held
(a response never holds more than the instance's cap, so a step that large skips no row).

`^NQ` ORs whole condition groups, so a read's own conditions (the table filter, `since`) are
repeated in each group: (k1 > A AND conds) OR (k1 = A AND k2 > B AND conds).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..base import Cursor
from ..errors import SourceError
from ..pageguard import PageGuard
from .mapping import value
from .settings import TOOL

SYS_ID = re.compile(r"[0-9a-f]{32}")
_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")

TICKET_KEY = ("sys_updated_on", "sys_id")  # a read's order: edits move a ticket later, never earlier
HIDDEN_WINDOWS_TOLERATED = 100  # consecutive empty windows stepped over while X-Total-Count says rows remain
ID_KEY = ("sys_id",)  # bulk lookups (journal entries, people, sys_id listings): any stable order will do
Key = tuple[str, ...]  # the values of the key fields, as the API sends them


def _valid(name: str, text: str) -> bool:
    return bool((SYS_ID if name == "sys_id" else _TIME).fullmatch(text))


def order_key(row: Any, fields: tuple[str, ...] = TICKET_KEY) -> Key | None:
    """Where a row stands in the read order; None for a row too broken to say."""
    if not isinstance(row, dict):
        return None
    key = tuple(value(row, name) for name in fields)
    return key if all(_valid(name, text) for name, text in zip(fields, key, strict=True)) else None


@dataclass
class Keyset:
    """The position of a read: the key of the last row that arrived, and hidden rows stepped over."""

    conditions: tuple[str, ...] = ()  # AND-ed into every group: the table's filter, `since`
    after: Key | None = None
    # Rows of the current keyset query skipped by offset: only when access rules hid a whole
    # window, whose rows we never see and so cannot page past by key.
    skip: int = 0
    fields: tuple[str, ...] = field(default=TICKET_KEY)
    # a window hidden whole is stepped over, but not for ever: an instance (or an impostor) that counts
    # rows it never sends would keep the read going with empty windows
    guard: PageGuard = field(default_factory=lambda: PageGuard(TOOL, "rows", tolerated=HIDDEN_WINDOWS_TOLERATED),
                             compare=False, repr=False)

    @classmethod
    def resume(cls, conditions: tuple[str, ...], cursor: Cursor | None) -> Keyset:
        """From a page's cursor; anything else (none, an old offset cursor) starts at the top."""
        after = (cursor or {}).get("after")
        if isinstance(after, (list, tuple)) and len(after) == len(TICKET_KEY) and order_key(
                dict(zip(TICKET_KEY, map(str, after), strict=True))):
            return cls(conditions, tuple(map(str, after)))
        return cls(conditions)

    @property
    def cursor(self) -> Cursor:
        return {"after": list(self.after)} if self.after else {}

    def query(self) -> str:
        """The encoded query of the next window, ordered by the key fields."""
        order = "^".join(f"ORDERBY{name}" for name in self.fields)
        if self.after is None:
            groups = [list(self.conditions)]
        else:
            groups = [[*(f"{name}={self.after[j]}" for j, name in enumerate(self.fields[:i])),
                       f"{self.fields[i]}>{self.after[i]}", *self.conditions]
                      for i in range(len(self.fields))]
        where = "^NQ".join("^".join(group) for group in groups)
        return f"{where}^{order}" if where else order

    def advance(self, rows: list[Any], total: int | None, step: Callable[[], int]) -> bool:
        """Move past a window that arrived; True while rows may remain behind it.

        `rows`: the window as it arrived; `total`: its `X-Total-Count` (None if the instance sent
        none); `step()`: how far an empty window may be stepped over by offset, the most rows one
        response of this instance has held (asked only then: it may cost a request). Raises
        SourceError for rows that do not move the key forward: paging on could loop for ever.
        """
        if not rows:
            if total is None or self.skip >= total:
                return False
            size = step()
            if self.skip + size >= total:
                return False
            self.skip += size  # a window hidden whole by access rules: rows remain past it
            self.guard.page(0, (self.after, self.skip))
            return True
        # the last row with a readable key (rows are checked from the end: usually the last one is)
        last = next((key for key in (order_key(row, self.fields) for row in reversed(rows)) if key is not None), None)
        if last is None or (self.after is not None and last <= self.after):
            raise SourceError(f"{TOOL} returned rows out of ({', '.join(self.fields)}) order: "
                              "cannot page on safely")
        remaining = None if total is None else total - self.skip
        self.after, self.skip = last, 0
        self.guard.page(len(rows), self.after)
        return remaining is None or len(rows) < remaining
