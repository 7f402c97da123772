"""Whole numbers read from text that came from outside: a vendor's headers, ids and links, a user's settings,
arguments and URLs.

`str.isdigit()` is true for "²" and other digits `int()` refuses (ValueError), `int()` takes " 5", "+5", "1_0" and
other scripts' digits, and past 4,300 digits it raises too: a check-then-convert on such text was a traceback
(or a 500) for one odd character. Every such number is read here, the one way.
"""
from __future__ import annotations

MAX_DIGITS = 18  # below 2**63: every store's and driver's integer holds it


def whole_number(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """`text` as an int when it is 1 to `max_digits` ASCII digits ("007" is 7), else None. No sign, no spaces:
    strip first where the source pads."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None
