"""How many lines a table cell's text takes in its column, so that `components.table` can give a column's longest
text the rows it needs instead of cutting it ("GitHub / acme-corporation/customer-portal-frontend" was cut in the
Jobs page's import column at 1280 px, "Selected for Development" in the Workspace's status column).

Streamlit draws a table on a canvas (glide-data-grid) and never tells the server how wide a text came out, so the
width is estimated here from the widths the grid's font (Source Sans, 14 px) gives each printable ASCII character in
Chromium, measured with canvas `measureText`; any other character counts as a wide Latin letter, or a full em for East
Asian wide ones, so an estimate errs towards one line too many, never one too few. The grid wraps at spaces and after
hyphens, breaks a word longer than the line anywhere and starts a new line at each line break ("\n", which a vendor's
title or error may hold: a one-line row shows only the text before the first); `lines` follows it.
"""
from __future__ import annotations

import math
import re
import unicodedata

# Source Sans at 14 px, characters 32 (space) to 126 (~), in px (Chromium, canvas measureText, 2026-12-01)
_ASCII = (2.8, 4.0, 6.0, 7.0, 7.0, 11.5, 8.5, 3.5, 4.2, 4.2, 5.9, 7.0, 3.5, 4.4, 3.5, 4.9, 7.0, 7.0, 7.0, 7.0, 7.0,
          7.0, 7.0, 7.0, 7.0, 7.0, 3.5, 3.5, 7.0, 7.0, 7.0, 5.9, 11.9, 7.6, 8.2, 8.0, 8.6, 7.4, 6.9, 8.6, 9.1, 3.7,
          6.7, 8.1, 6.8, 10.2, 9.1, 9.3, 7.9, 9.3, 8.0, 7.5, 7.5, 9.0, 7.2, 11.0, 7.2, 6.7, 7.5, 4.2, 4.9, 4.2, 7.0,
          7.0, 7.6, 7.1, 7.7, 6.4, 7.8, 6.9, 4.1, 7.1, 7.6, 3.4, 3.5, 6.9, 3.6, 11.6, 7.7, 7.6, 7.8, 7.8, 4.9, 5.9,
          4.7, 7.6, 6.5, 10.1, 6.2, 6.5, 5.9, 4.2, 3.4, 4.2, 7.0)
_MORE = {"\u00b7": 3.5, "\u2013": 6.7, "\u2014": 11.2, "\u2026": 13.3}  # the console's own "·", dashes, "…"
OTHER = 8.6  # a letter beyond ASCII ("é" 6.9, "ü" 7.6): as wide as a wide Latin capital
WIDE = 14.0  # an East Asian wide or full-width character: one em
PADDING = 2 * 8.5 + 3  # the grid's cell padding each side, and a little room for the estimate's error
LINE = 18.4  # px a wrapped line takes
ROW_MIN_WRAPPED = 65  # Streamlit wraps a table's text only in rows taller than 4rem (64 px)
MAX_LINES = 6  # a row never grows past this many lines (a 30-project import's name is cut after six)
NAMED_WIDTHS = {"small": 75, "medium": 200, "large": 400}  # Streamlit's column widths by name, in px

_BREAKS = re.compile(r"(?<=[ -])")  # the grid wraps at a space and after a hyphen


def char_width(char: str) -> float:
    code = ord(char)
    if 32 <= code <= 126:
        return _ASCII[code - 32]
    if char in _MORE:
        return _MORE[char]
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0.0
    return WIDE if unicodedata.east_asian_width(char) in ("W", "F") else OTHER


def text_width(text: str) -> float:
    return sum(char_width(c) for c in text)


def lines(text: str, column_width: int, most: int | None = None) -> int:
    """How many lines `text` takes in a column `column_width` px wide, wrapped as the grid wraps it; counted no
    further than `most` (a row shows MAX_LINES: a vendor's 2,000-character reasons, a thousand of them, cost seconds
    of measuring each view)."""
    room = column_width - PADDING
    if room <= 0 or not text:
        return 1
    if "\n" in text:  # the grid starts a new line at each line break (and shows only the first in a one-line row)
        count = 0
        for paragraph in text.split("\n"):
            count += lines(paragraph, column_width, None if most is None else most - count)
            if most is not None and count >= most:
                return most
        return count
    count, used = 1, 0.0
    for word in _BREAKS.split(text):
        if most is not None and count >= most:
            return most
        width = text_width(word)
        trailing = text_width(word[len(word.rstrip(" ")):])  # a space at the line's end takes no room
        if used and used + width - trailing > room:
            count, used = count + 1, 0.0
        if width - trailing > room:  # longer than a line: broken anywhere
            count += math.ceil((width - trailing) / room) - 1
            used = (width - trailing) % room
        else:
            used += width
    return count if most is None else min(count, most)


def row_height(line_count: int) -> int | None:
    """The row height that shows `line_count` lines (capped at MAX_LINES); None for one line (Streamlit's own)."""
    if line_count <= 1:
        return None
    return max(ROW_MIN_WRAPPED, math.ceil(min(line_count, MAX_LINES) * LINE + 18))


def column_px(width: object) -> int | None:
    """A column's width in px from its configuration (a number or Streamlit's name), None when the grid sizes it."""
    if isinstance(width, bool):
        return None
    if isinstance(width, int):
        return width
    return NAMED_WIDTHS.get(width) if isinstance(width, str) else None
