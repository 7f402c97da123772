"""Strict reading of GraphQL cursor connections and numeric ids, for the walks that decide deletions.

GitHub's and GitLab's GraphQL APIs page lists as Relay connections: `{ nodes [...], pageInfo {
hasNextPage endCursor } }` (docs.github.com/graphql/guides/using-pagination-in-graphql; GitLab
doc/api/graphql/getting_started.md, "Pagination"). Both document `pageInfo.hasNextPage` as a non-null
Boolean and `endCursor` as the cursor to ask for next. The deletion sweep soft-deletes what a complete
walk did not list, so a page is accepted only when it says plainly whether more follows: a connection
that is null, lacks `nodes` or `pageInfo`, has a `hasNextPage` that is not a bool, announces more
without a cursor, or lists a node that is not an object fails the read (NetworkError, one line naming
the vendor) instead of being taken for the last page.
"""
from __future__ import annotations

from typing import Any

from .errors import NetworkError
from .numbers import whole_number

ID_DIGITS = 20  # a 64-bit id has at most 20 decimal digits; more is not an id (and int() of 4,300+ refuses)


def connection(value: Any, tool: str, what: str) -> tuple[list[dict], str | None]:
    """(nodes, the cursor of the next page or None on the last) of one connection in an answer."""
    if not isinstance(value, dict) or not isinstance(value.get("nodes"), list):
        raise NetworkError(f"{tool} answered the GraphQL query for {what} without its list; stopping rather "
                           "than taking it as complete")
    info = value.get("pageInfo")
    if not isinstance(info, dict) or not isinstance(info.get("hasNextPage"), bool):
        raise NetworkError(f"{tool} answered the GraphQL query for {what} without saying whether more follows "
                           "(pageInfo.hasNextPage); stopping rather than taking it as complete")
    following = info.get("endCursor") if info["hasNextPage"] else None
    if info["hasNextPage"] and (not isinstance(following, str) or not following):
        raise NetworkError(f"{tool} announced more of {what} without a cursor; stopping")
    nodes: list = value["nodes"]
    if not all(isinstance(node, dict) for node in nodes):
        raise NetworkError(f"{tool} listed one of {what} as something other than an object; stopping rather "
                           "than taking it as gone")
    return nodes, following


def is_id(text: str) -> bool:
    """Whether `text` is a positive decimal id: ASCII digits only ("١٢٣" and "²" are not), at most 20."""
    return bool(whole_number(text, ID_DIGITS))


def numeric_id(value: Any, tool: str, what: str) -> int:
    """The positive integer id `value` (an int or its decimal text), else NetworkError naming the vendor."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and is_id(value):
        return int(value)
    raise NetworkError(f"{tool} listed one of {what} with an id that is not a positive number ({str(value)[:40]!r}); "
                       "stopping rather than taking it as gone")
