"""Cells a spreadsheet would run as formulas, neutralised (OWASP's CSV injection rule).

Titles, keys and failure reasons come from vendors. A cell that begins with `=`, `+`, `-`, `@`,
a tab or a carriage return opens in Excel, LibreOffice or Google Sheets as a formula:
`=HYPERLINK("http://...","fix me")` becomes a live link, and DDE formulas have run commands.
OWASP's rule (https://owasp.org/www-community/attacks/CSV_Injection): prefix such a cell with a
single quote, which spreadsheets show as text. Every CSV the product writes goes through
`csv_text`. The guard belongs to files only: the console's tables show cells as they are (a title
"-1 bug", a priority "-"), since Streamlit's grid evaluates nothing, and the grid's own CSV download
and copy, which would export those cells unguarded, are turned off (`client.disableDataExport` in
.streamlit/config.toml).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

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
