"""The wizard's Preview step takes a dry run's counts as soon as the dry run ends, in a real browser.

Review (new user, 2026-12-01): after "Dry run passed", "What will be created" still read "Basis: ... a sample of 50
items" and "Comments and attachments not counted in the preview: a dry run counts them": the dry run's status
redraws alone (a Streamlit fragment, every second) and the section above it was drawn again only when the user left
the step and came back. AppTest cannot show this (each `run()` draws the whole page), so the browser does.
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import STEP_MS
from .test_browser_flows import click


def test_a_finished_dry_run_fills_what_will_be_created_without_leaving_the_step(console):
    page = console.page
    console.open("")
    console.settle()
    page.locator("[class*='st-key-start_pitch'] button").click()
    console.settle()
    click(console, "Next")
    expect(page.get_by_role("heading", name="3. Map Demo values")).to_be_visible()
    click(console, "Next")
    expect(page.get_by_role("heading", name="4. Preview Demo / ACME")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Basis: the source's lists"))).to_be_visible()
    page.get_by_text("Dry run: check the whole import without writing anything").click()
    click(console, "Start dry run")
    expect(page.get_by_text(re.compile(r"^Dry run (passed|finished with failures)"))).to_be_visible(timeout=STEP_MS)
    # no click, no navigation: the step is drawn again with the dry run as its basis
    expect(page.get_by_text("Basis: the dry run (every item read). Nothing has been written.")).to_be_visible(
        timeout=15_000)
    expect(page.get_by_text(re.compile("not counted in the preview"))).to_have_count(0)
    console.screenshot("dry-run-fills-what-will-be-created")
    console.assert_clean_console()
