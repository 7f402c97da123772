"""A long import name is shown whole in the Jobs table at 1280 px, in a real browser.

The review found "01 Dec 01:19:49 · GitHub / acme-c" in the import column: the grid (a canvas) cut the name at the
column's edge. The console now gives every row the lines its longest name needs (console/text_fit.py estimates the
text's width from the grid font's character widths); here the browser says whether the rows did grow, whether the
estimate is never short of the font's real width, and the table still fits the page without a sideways scroll.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from console import text_fit

from .test_browser_flows import _fits

LONG = "acme-corporation/customer-portal-frontend"
GRID_FONT = "14px 'Source Sans', sans-serif"  # what Streamlit's grid draws cells with (theme font, 14 px)


def github_job_with_a_long_name() -> None:
    """A demo import run by the stack's worker, renamed as a GitHub import of a long owner/name project."""
    from sqlalchemy import update

    from jobs import api
    from jobs.launch import progress_store
    from store.db import engine_for
    from store.schema import import_jobs, import_parts

    job_id = api.start_import("demo", ["ACME"], config={"size": "10"})
    api.wait(job_id, timeout=90)
    with engine_for().begin() as conn:
        conn.execute(update(import_jobs).where(import_jobs.c.id == job_id).values(source="github", projects=[LONG]))
        conn.execute(update(import_parts).where(import_parts.c.job_id == job_id).values(project=LONG))
    progress_store().publish(job_id)


@pytest.mark.viewport(1280, 720)
def test_a_long_import_name_wraps_in_the_jobs_table(console, stack):
    github_job_with_a_long_name()
    console.open("jobs")
    page = console.page
    table = page.locator("[class*='st-key-wide_only'] [data-testid='stDataFrame']").first
    expect(table).to_be_visible()
    scroller = table.locator(".dvn-scroller").first
    # one job: the grid's content is its 35 px header and one row, as tall as the row height the console asked for
    content = page.evaluate("(el) => el.scrollHeight", scroller.element_handle())
    assert content - 35 >= text_fit.ROW_MIN_WRAPPED, content
    _fits(console, table)
    # the estimate that chose the row height is never short of what the grid's font measures
    words = [LONG, "Selected for Development", "Finished with failures · 2 attempts", "Katherine Johnson"]
    measured = page.evaluate("([font, words]) => { const c = document.createElement('canvas').getContext('2d');"
                             " c.font = font; return words.map(w => c.measureText(w).width); }", [GRID_FONT, words])
    for word, real in zip(words, measured, strict=True):
        assert text_fit.text_width(word) >= real - 0.5, (word, text_fit.text_width(word), real)
    console.screenshot("w1280-jobs-long-name")
    console.assert_clean_console()
