"""The four flows of the console in a real browser, against the real stack (tests/e2e/conftest.py).

Each flow ends by asserting that the browser console logged no error (direct links such as /import
included: console/server.py removes the base-path probes of streamlit#7074) and saves a
screenshot under test-artifacts/.
"""
from __future__ import annotations

import contextlib
import re
import time

import pytest
from playwright.sync_api import expect

from tests.fakes.jira import CLOUD_AUTH

pytestmark = pytest.mark.timeout(120)
expect.set_options(timeout=15_000)  # a loaded 2-core machine can take seconds per step


def texts(console) -> str:
    return "\n".join(console.page.locator("[data-testid='stText']").all_inner_texts())


def click(console, name: str, **kwargs) -> None:
    console.settle()  # a click that lands while a script run redraws the page can be dropped
    console.page.get_by_role("button", name=name, **kwargs).click()
    console.settle()


def field(console, label: str):
    """The text input whose label starts with `label` (Streamlit puts the label in aria-label)."""
    return console.page.locator(f"input[aria-label^='{label}']").first


def fill(console, label: str, value: str) -> None:
    field(console, label).fill(value)


def choose_jira(console, fake_jira, token: str) -> None:
    console.open("import")
    expect(console.page.get_by_text("1. Choose where your data comes from")).to_be_visible()
    click(console, "Choose JIRA")
    fill(console, "Site URL", fake_jira.url)
    fill(console, "Account email", CLOUD_AUTH[0])
    fill(console, "API token", token)
    click(console, "Test connection")


def job_id_from_url(console) -> str:
    console.page.wait_for_url(re.compile(r".*/progress\?job=\w+"), timeout=20_000)
    return re.search(r"job=(\w+)", console.page.url).group(1)


def wait_for_end(console, timeout: float = 60) -> str:
    """Follow the progress view until it shows the job's outcome; returns that outcome's text."""
    page = console.page
    outcome = page.locator("[data-testid='stAlertContentSuccess'], [data-testid='stAlertContentWarning']") \
        .filter(has_text=re.compile(r"Done:|Finished with"))
    outcome.first.wait_for(timeout=timeout * 1000)
    console.settle()
    text = outcome.first.inner_text()
    return text[text.index("Done:") if "Done:" in text else text.index("Finished with"):]


def metric(console, label: str) -> int:
    box = console.page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return int(box.locator("[data-testid='stMetricValue']").inner_text().replace(",", ""))


def start_demo_import(console, size: int, shots: str | None = None) -> str:
    """Start on the Start page's demo button, choose a custom size, preview, start: the job id."""
    console.open("")
    if shots:
        console.screenshot(f"{shots}-start-page")
    click(console, "Try the demo import")
    console.page.get_by_text("A number of items").click()
    fill(console, "Number of items a project", str(size))
    click(console, "Test connection")
    expect(console.page.get_by_text("Account reached: demo workspace")).to_be_visible()
    click(console, "Next")
    expect(console.page.get_by_role("heading", name="3. Preview Demo / ACME")).to_be_visible()
    if shots:  # the help panel, with the guide that fits this size highlighted
        button = console.page.get_by_test_id("stPopoverButton").first
        recommended = console.page.get_by_test_id("stPopoverBody").get_by_text(
            "Recommended for this import: Full migration")
        for _ in range(4):  # a click that lands during a redraw is dropped: settle, click, look again
            console.settle()
            if recommended.is_visible():
                break
            button.click()
            console.page.wait_for_timeout(500)
        expect(recommended).to_be_visible()
        console.screenshot(f"{shots}-help-panel")
        console.page.keyboard.press("Escape")
        console.settle()
    click(console, "Next")
    expect(console.page.get_by_role("heading", name="4. Start the import")).to_be_visible()
    click(console, "Start import")
    return job_id_from_url(console)


def assert_no_secret(console, secret: str) -> None:
    """Neither the rendered page nor the browser's storage holds the secret."""
    page = console.page
    assert secret not in page.content()
    assert secret not in page.url
    stored = page.evaluate("() => JSON.stringify(Object.entries(localStorage)) + JSON.stringify("
                           "Object.entries(sessionStorage)) + document.cookie")
    assert secret not in stored


def test_complete_jira_import(console, fake_jira, stack):
    choose_jira(console, fake_jira, CLOUD_AUTH[1])
    page = console.page
    expect(page.get_by_text("Account reached: Alice Admin")).to_be_visible()
    assert field(console, "API token").input_value() == ""  # never echoed back
    click(console, "Next")
    expect(page.get_by_text("3. Preview JIRA / ACME")).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()
    assert metric(console, "Estimated total") == 120
    assert_no_secret(console, CLOUD_AUTH[1])
    console.screenshot("jira-preview")
    click(console, "Next")
    expect(page.get_by_role("heading", name="4. Start the import")).to_be_visible()
    click(console, "Start import")
    job_id = job_id_from_url(console)
    outcome = wait_for_end(console)
    assert outcome.startswith("Done: 120 items imported"), outcome
    assert metric(console, "Created") == 120
    assert_no_secret(console, CLOUD_AUTH[1])
    console.screenshot("jira-progress-done")

    page.get_by_role("link", name="See the data in Workspace").click()
    console.settle()
    expect(page.get_by_role("heading", name="Workspace")).to_be_visible()
    fill(console, "Search title or key", "script")
    page.keyboard.press("Enter")
    console.settle()
    item = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text("Item", exact=True)).locator("input")
    item.click()
    item.fill("jira / ACME-3")
    page.keyboard.press("Enter")
    console.settle()
    shown = texts(console)
    # a title carrying HTML is shown as text: the tag is visible, nothing ran (no dialog), no element made
    assert "<script>alert(1)</script> in the search box" in shown
    assert page.locator("[data-testid='stMain'] script").count() == 0
    assert_no_secret(console, CLOUD_AUTH[1])
    assert CLOUD_AUTH[1] not in stack.log_text()
    console.screenshot("jira-workspace-item")
    assert job_id
    console.assert_clean_console()


def test_failed_authentication_stops_before_preview(console, fake_jira):
    choose_jira(console, fake_jira, "wrong-token")
    page = console.page
    error = page.locator("[data-testid='stAlertContentError']").first
    expect(error).to_contain_text("Connection failed")
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    expect(page.get_by_role("heading", name=re.compile(r"^3\. Preview"))).to_have_count(0)
    assert field(console, "API token").input_value() == ""
    console.screenshot("jira-auth-failed")
    console.assert_clean_console()


# 20 pages of 100 items, a second each and committed one by one: the import runs for at least 20 s
PACED = pytest.mark.stack_env(DEMO_PAGE_DELAY="1", IMPORT_BATCH_SIZE="100")


@PACED
def test_leave_and_come_back_to_a_running_job(console, stack):
    job_id = start_demo_import(console, 2_000)
    page = console.page
    expect(page.get_by_text(f"Job {job_id}", exact=False)).to_be_visible()
    before = metric(console, "Processed")
    # leave for the Workspace: the job goes on without this page
    page.get_by_role("link", name="Workspace").first.click()
    console.settle()
    expect(page.get_by_role("heading", name="Workspace")).to_be_visible()
    time.sleep(1.5)
    # come back through the Jobs page, as a user would
    page.get_by_role("link", name="Jobs").first.click()
    console.settle()
    page.get_by_role("link", name="Open its progress").click()
    console.settle()
    assert re.search(rf"/progress\?job={job_id}", page.url)
    after = metric(console, "Processed")
    assert after > before, (before, after)
    wait_for_end(console)
    assert metric(console, "Processed") == 2_000
    console.screenshot("leave-and-return")
    # and a new tab opened on the address shows the same job
    other = page.context.new_page()
    other.goto(page.url)
    other.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    expect(other.get_by_text(f"Job {job_id}", exact=False)).to_be_visible()
    other.close()
    console.assert_clean_console()


@PACED
def test_import_of_more_than_a_thousand_items(console, stack):
    job_id = start_demo_import(console, 2_000, shots="large-import")
    expect(console.page.get_by_text("Recommended for this import: Full migration")).to_have_count(0)  # closed
    page = console.page
    seen: list[int] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the fragment was being redrawn
            seen.append(metric(console, "Processed"))
        if page.get_by_text(re.compile(r"Done:|Finished with")).count():
            break
        time.sleep(0.5)
    outcome = wait_for_end(console)
    moving = sorted(set(v for v in seen if 0 < v < 2_000))
    assert moving, f"no intermediate progress was shown: {seen}"
    assert outcome.startswith("Finished with 3 failed item(s)"), outcome  # the demo's 3 invalid items
    assert metric(console, "Processed") == 2_000
    assert metric(console, "Created") == 1_997
    expect(page.get_by_role("heading", name="Failure report")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Retry failed items"))).to_be_visible()
    console.screenshot("large-import-done")
    from jobs import api

    assert api.status(job_id)["status"] == "partial"
    console.assert_clean_console()
