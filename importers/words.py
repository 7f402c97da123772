"""A count and its noun in agreement, the one way every page, CLI line and message writes one: "1 item",
"2 items", "1,450 comments", "? items" for a count not known yet; and names listed as a sentence lists them.
An f-string's "{n} items" read "1 items so far", and "item(s)" made the reader do the agreeing."""
from __future__ import annotations

IRREGULAR = {"people": "person"}  # plural -> singular where dropping the "s" is wrong


def counted(n: int | None, plural: str, singular: str | None = None, unknown: str = "?") -> str:
    """`n` (with thousands separators) and `plural`, or its singular for exactly 1: `counted(1, "items")` is
    "1 item"; `singular` for a noun whose singular is not `plural` less its "s" ("matches": "match")."""
    if n is None:
        return f"{unknown} {plural}"
    if n != 1:
        return f"{n:,} {plural}"
    return f"1 {singular or IRREGULAR.get(plural) or plural.removesuffix('s')}"


def listed(names: list[str]) -> str:
    """`names` as a sentence lists them: "comments", "comments and attachments", "a, b and c"; "" for none."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}" if names else ""
