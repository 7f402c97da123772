"""A JIRA read as a few key ranges paged at once, and the cursor that resumes every range.

One JQL search is a chain of round trips: a Cloud page token arrives only with the page
before it, and Server's keyset paging (`key > last`) needs the last key too. At 100 ms a
request that chain caps a read near a thousand issues a second however fast we write. So
after the first page the rest of the project is cut into contiguous key ranges
(`key > a AND key <= b`, the last one open so issues created meanwhile are still read),
each paged on its own, all at once. Each range remembers its last key and Cloud token; the
read's cursor is the list of ranges, so a resume continues each one after its last
committed key. Cursors of the single-chain read ({"anchor", "token", "after"}) still resume.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

RANGES = 4  # key ranges read at once (plus the comment fetches of long threads)


@dataclass(eq=False)  # ranges are told apart by identity: the read looks them up in its list
class KeyRange:
    """One search `key > after AND key <= upto` (either bound may be open), paged by token or key."""

    after: str | None = None  # last key read; the next page starts after it
    upto: str | None = None  # last key of the range, None: to the end of the project
    anchor: str | None = None  # the `after` of the query the Cloud `token` belongs to
    token: str | None = None
    done: bool = False


def from_cursor(cursor: dict[str, Any]) -> list[KeyRange]:
    """The ranges a saved cursor describes; one open range for a fresh read."""
    if "ranges" in cursor:
        return [KeyRange(**{k: r.get(k) for k in ("after", "upto", "anchor", "token")}, done=bool(r.get("done")))
                for r in cursor["ranges"] if isinstance(r, dict)]
    return [KeyRange(after=cursor.get("after"), anchor=cursor.get("anchor"), token=cursor.get("token"))]


def to_cursor(ranges: list[KeyRange], started: datetime | None = None) -> dict[str, Any]:
    """The ranges as a saved cursor, with the time the read began (`started_at`), if known."""
    return {"ranges": [asdict(r) for r in ranges], **({"started": started.isoformat()} if started else {})}


def started_at(cursor: dict[str, Any]) -> datetime | None:
    """When the read a cursor resumes began (the server's time, in UTC; a time without an offset read as UTC), or
    None (an older cursor, or none)."""
    try:
        when = datetime.fromisoformat(str(cursor["started"]))
    except (KeyError, ValueError):
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def key_number(key: str) -> int:
    return int(key.rsplit("-", 1)[1])


def split(first: KeyRange, last_key: str, highest_key: str, page: int) -> list[KeyRange]:
    """Cut what is left after `last_key` into up to RANGES ranges of at least two pages of keys.

    Keys are numbered without reuse, so equal spans of numbers hold about equal numbers of
    issues (deleted issues leave gaps, which only unbalance the ranges, never lose an issue)."""
    low, high = key_number(last_key), key_number(highest_key)
    count = min(RANGES, (high - low) // max(2 * page, 1))
    if count < 2:
        return [first]
    prefix = last_key.rsplit("-", 1)[0]
    cuts = [low + (high - low) * i // count for i in range(1, count)]
    edges = [last_key] + [f"{prefix}-{c}" for c in cuts]
    return [KeyRange(after=edge, anchor=edge, upto=edges[i + 1] if i + 1 < len(edges) else None)
            for i, edge in enumerate(edges)]
