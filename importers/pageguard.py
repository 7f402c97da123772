"""Stops a listing that never ends: every paging loop of every connector asks this guard after each page.

A vendor (or something posing as one) can answer every page with nothing while still naming a next page,
answer the same rows again under a fresh cursor, or hand out a cursor it handed out before. Followed
blindly, such a listing holds a worker for ever and never fills a batch. The guard lets a few empty pages
pass (rows hidden by access rules can empty a whole ServiceNow window, and a real API may answer one empty
page mid-listing), then fails the read with one line.
Callers that know their rows' ids count only the rows not seen before, so a server replaying the same page
under fresh cursors is stopped the same way. The cursors remembered are bounded (the most recent
CURSORS_KEPT, as hashes): a longer cycle repeats rows, which those callers count as nothing new.
"""
from __future__ import annotations

from collections.abc import Hashable
from contextlib import suppress

from .errors import NetworkError

EMPTY_PAGES_TOLERATED = 5  # consecutive pages with nothing new that still claim a next page
CURSORS_KEPT = 100_000  # cursor hashes remembered (a few MB), oldest forgotten first


class PageGuard:
    """`guard.page(rows, following)` after each page: raises NetworkError when the listing goes nowhere.

    `tool`: the vendor's label ("GitHub"); `what`: the listing ("issues of repository 'acme/web'").
    `rows`: how many new rows the page brought (not seen before, where the caller can tell); `following`:
    the next page's cursor or link (None at the end), compared with the cursors this listing gave before."""

    def __init__(self, tool: str, what: str, tolerated: int = EMPTY_PAGES_TOLERATED):
        self.tool = tool
        self.what = what
        self.tolerated = tolerated
        self._empty = 0
        self._seen: dict[int, None] = {}  # hashes of cursors given, oldest first

    def page(self, rows: int, following: Hashable | None) -> None:
        if following is None:
            return
        self._empty = 0 if rows else self._empty + 1
        if self._empty > self.tolerated:
            raise NetworkError(f"{self.tool} kept sending empty pages of {self.what} (or only rows it had sent "
                               f"before) while announcing more ({self._empty} in a row); stopping")
        key = hash(following)
        if key in self._seen:
            raise NetworkError(f"{self.tool} sent a page cursor of {self.what} it had sent before; stopping")
        self._seen[key] = None
        if len(self._seen) > CURSORS_KEPT:
            with suppress(StopIteration):
                del self._seen[next(iter(self._seen))]
