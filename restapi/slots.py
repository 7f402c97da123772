"""Calls that wait on a vendor (preview, execute with mappings) run in slots of their own, never in the threads
that answer status, cancel and the tool list.

FastAPI runs a plain `def` route in AnyIO's one shared thread pool (40 threads): 45 previews against a server
that accepts connections and never answers held all of them, and `GET /import/tools` waited minutes behind.
Here such a call first takes a slot, at most SLOTS_PER_TOKEN for one token and SLOTS at once overall, or is
refused at once (429 for the token, 503 for the server, with Retry-After, in the one error shape); it then runs
in a thread limiter of its own, so the shared pool stays free. How long a slot is held is bounded by the
preview's time budget (IMPORT_PREVIEW_SECONDS, importers/retry.py).
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

from importers.words import counted

from .errors import ApiError

T = TypeVar("T")
SLOTS = 8  # vendor calls at once, all tokens together
SLOTS_PER_TOKEN = 4  # vendor calls at once for one token
RETRY_AFTER = "5"  # seconds a refused client is asked to wait


class Slots:
    """Counts vendor calls in flight, per token and overall; `run(token, fn)` runs `fn` in one or refuses."""

    def __init__(self, total: int = SLOTS, per_token: int = SLOTS_PER_TOKEN):
        self.total = total
        self.per_token = per_token
        self._lock = threading.Lock()
        self._held: Counter[str] = Counter()
        self._limiter: CapacityLimiter | None = None  # made in the server's event loop, on first use

    def _take(self, token: str) -> None:
        with self._lock:
            if self._held[token] >= self.per_token:
                held = counted(self.per_token, "previews or starts", "preview or start")
                raise ApiError(429, f"this API token already has {held} waiting on a tool: wait for one to answer, "
                                    "then try again",
                               {"kind": "busy", "limit": self.per_token}, {"Retry-After": RETRY_AFTER})
            if sum(self._held.values()) >= self.total:
                raise ApiError(503, f"{counted(self.total, 'previews or starts', 'preview or start')} "
                                    f"{'is' if self.total == 1 else 'are'} already waiting on tools: try again "
                                    "in a few seconds", {"kind": "busy", "limit": self.total},
                               {"Retry-After": RETRY_AFTER})
            self._held[token] += 1

    def _give_back(self, token: str) -> None:
        with self._lock:
            self._held[token] -= 1
            if self._held[token] <= 0:
                del self._held[token]

    async def run(self, token: str, fn: Callable[[], T]) -> T:
        """`fn()` in a worker thread of these slots' own; ApiError 429 or 503 when no slot is free."""
        self._take(token)
        try:
            if self._limiter is None:
                self._limiter = CapacityLimiter(self.total)
            return await anyio.to_thread.run_sync(fn, limiter=self._limiter)
        finally:
            self._give_back(token)


vendor_calls = Slots()
