"""Cells a spreadsheet would run as formulas, neutralised (OWASP's CSV injection rule).

Titles, keys and failure reasons come from vendors. A cell that begins with `=`, `+`, `-`, `@`,
a tab or a carriage return opens in Excel, LibreOffice or Google Sheets as a formula:
`=HYPERLINK("http://...","fix me")` becomes a live link, and DDE formulas have run commands.
OWASP's rule (https://owasp.org/www-community/attacks/CSV_Injection): prefix such a cell with a
single quote, which spreadsheets show as text. Every CSV the product writes goes through
`csv_text`; every table the console shows goes through `safe_frame`, because Streamlit's grid
offers its own CSV download of exactly the cells it shows (and quotes them, nothing more).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas costs ~0.5 s of CPU to import: `cli.py run` and the worker never need it
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """`value` with a leading `'` when it is text a spreadsheet would read as a formula; others as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Mapping[str, Any]], fieldnames: list[str]) -> str:
    """CSV of `rows` (a header line, then one line a row) with every text cell neutralised."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fieldnames, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: neutral(v) for k, v in row.items()})
    return out.getvalue()


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells are neutralised (numbers, dates and the rest untouched)."""
    from pandas.api.types import is_string_dtype  # loaded already: the caller built `frame`

    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or is_string_dtype(safe[column].dtype):
            safe[column] = safe[column].map(neutral)
    return safe
