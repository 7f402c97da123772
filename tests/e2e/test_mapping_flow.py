"""A JIRA import with a custom mapping in a real browser (issue 14): the Map step lists JIRA's own workflow, "Blocked"
(a status beyond the defaults) stays a state of its own in "in progress", "In Review" is pointed at the existing
state "In Progress", Dmitri Ivanov is merged into Alice Admin, and the Workspace then shows the chosen names.
Screenshots: test-artifacts/mapping-*.png."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_browser_flows import choose_jira, click, start_and_open_workspace, texts
from tests.fakes.jira import CLOUD_AUTH, FakeJira

pytestmark = pytest.mark.timeout(900)

IN_REVIEW, BLOCKED, DMITRI = 3, 6, 3  # rows as JIRA lists them: its workflow's statuses, its assignable users


@pytest.fixture
def jira_with_blocked():
    server = FakeJira(cloud=True, size=60, extra_statuses=(("Blocked", "indeterminate", None),)).start()
    yield server
    server.stop()


def pick(console, key: str, option: str) -> None:
    """Choose `option` in the selectbox whose widget key is `key` (Streamlit marks its container st-key-<key>)."""
    page = console.page
    console.settle()
    page.locator(f".st-key-{key}").get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()
    console.settle()


def options_of(console, key: str) -> list[str]:
    page = console.page
    console.settle()
    page.locator(f".st-key-{key}").get_by_role("combobox").click()
    page.get_by_role("option").first.wait_for()
    found = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    console.settle()
    return found


@pytest.mark.viewport(1400, 2000)  # the Workspace's filters, table and chart in one screenshot
def test_a_jira_import_with_a_custom_mapping_shows_the_chosen_names(console, stack, jira_with_blocked):
    page = console.page
    choose_jira(console, jira_with_blocked, CLOUD_AUTH[1])
    expect(page.get_by_text("Account reached: Alice Admin")).to_be_visible()
    click(console, "Next")
    expect(page.get_by_role("heading", name="3. Map JIRA values")).to_be_visible()
    shown = texts(console)
    for name in ("Backlog", "In Review", "Blocked", "Won't Do"):
        assert name in shown  # JIRA's own workflow, read from the project's statuses
    blocked = jira_with_blocked.issues["ACME"][3::4]
    assert str(len(blocked)) in shown  # counted by JQL
    blocked_state = page.locator(f".st-key-map_ACME_statuses_{BLOCKED}_state").get_by_role("combobox")
    expect(blocked_state).to_have_value("Blocked")  # its own state by default, in JIRA's category:
    pick(console, f"map_ACME_statuses_{IN_REVIEW}_state", "In Progress")
    console.screenshot("mapping-jira-statuses")
    page.get_by_role("tab", name="People (6)").click()
    console.settle()
    pick(console, f"map_ACME_people_{DMITRI}_target", "Merge with Alice Admin <alice@example.com>")
    console.screenshot("mapping-jira-people")
    click(console, "Next")
    expect(page.get_by_text("4. Preview JIRA / ACME")).to_be_visible()
    expect(page.get_by_text("What will be created")).to_be_visible()
    expect(page.locator("[data-testid='stMetric']").filter(has_text="Estimated total")).to_be_visible()
    console.settle()
    console.screenshot("mapping-jira-preview")
    click(console, "Next")
    expect(page.get_by_role("heading", name="5. Start the import")).to_be_visible()
    outcome = start_and_open_workspace(console)
    assert outcome.startswith("Succeeded: 60 items read (60 created"), outcome
    states = options_of(console, "filter_state")
    assert "Blocked" in states and "In Progress" in states and "In Review" not in states
    people = options_of(console, "filter_assignee")
    assert "Alice Admin" in people and "Dmitri Ivanov" not in people
    console.screenshot("mapping-jira-workspace-all")  # every state: Blocked on its own, no In Review
    pick(console, "filter_state", "Blocked")
    console.screenshot("mapping-jira-workspace")
    console.assert_clean_console()
