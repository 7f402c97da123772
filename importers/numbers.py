"""Whole numbers read from text that came from outside: a vendor's headers, ids and links, a user's settings,
arguments and URLs, an operator's environment.

`str.isdigit()` is true for "²" and other digits `int()` refuses (ValueError), `int()` takes " 5", "+5", "1_0" and
other scripts' digits, and past 4,300 digits it raises too: a check-then-convert on such text was a traceback
(or a 500) for one odd character. Every such number is read here, the one way.
"""
from __future__ import annotations

import math
import os
from typing import Any

from .errors import SourceError

MAX_DIGITS = 18  # below 2**63: every store's and driver's integer holds it


def whole_number(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """`text` as an int when it is 1 to `max_digits` ASCII digits ("007" is 7), else None. No sign, no spaces:
    strip first where the source pads."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def count(value: Any) -> int | None:
    """A count or id that a vendor's JSON holds, as a non-negative int: a JSON integer, a float with a whole value
    (`12.0`), or text `whole_number` reads ("12"); else None. The stdlib JSON parser, which reads what orjson
    refuses (importers/jsonbody.py), takes `Infinity` and `NaN`, so `int()` of a JSON number can raise too."""
    if type(value) is int:
        return value if value >= 0 else None
    if type(value) is float:
        return int(value) if math.isfinite(value) and value.is_integer() and 0 <= value < 10 ** MAX_DIGITS else None
    if isinstance(value, str):
        return whole_number(value.strip())
    return None


def page_total(data: Any, tool: str, what: str) -> int:
    """The `total` of a page (0 when it has none), where paging ends on it (JIRA Server's searches, comment pages).
    SourceError for one that is no count ("²", Infinity): paging on it could stop early or never end."""
    total = data.get("total") if isinstance(data, dict) else None
    if total is None:
        return 0
    number = count(total)
    if number is None:
        raise SourceError(f"{tool} sent a total of {what} that is not a count ({str(total)[:40]!r}): cannot page on "
                          "safely")
    return number


def env_number(name: str, default: float, low: float | None = None, high: float | None = None) -> float:
    """The number an operator set in the environment variable `name`, clamped to [`low`, `high`]; `default` when it
    is unset, empty, not a number, or not finite ("inf", "nan": `int()`, `timedelta()` and a wait's timeout raise on
    them, so one setting could stop every worker). Every setting of ours that is a number is read here or by
    `env_whole`."""
    try:
        value = float(os.environ.get(name, "").strip())
    except ValueError:
        return default
    if not math.isfinite(value):
        return default
    return _clamped(value, low, high)


def env_whole(name: str, default: int, low: int | None = None, high: int | None = None) -> int:
    """`env_number` for a whole number (int() of the text: "5.5" or "1e3" is not one, `default` then)."""
    try:
        value = int(os.environ.get(name, "").strip())
    except ValueError:
        return default
    return _clamped(value, low, high)


def _clamped(value, low, high):
    if low is not None:
        value = max(low, value)
    return value if high is None else min(high, value)
