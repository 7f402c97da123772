"""Each source's own status names in the Workspace (issue 14, "done when"): a JIRA, GitHub, GitLab and ServiceNow
import, each through the wizard in a real browser with its default mapping, files its items under the states the
source names (JIRA's workflow, GitHub's close reasons and workflow labels, GitLab's states and scoped labels,
ServiceNow's state choices), and the Workspace's status filter, table and chart read those names, never a category
id such as `in_progress`. Screenshots: test-artifacts/states-<source>-workspace.png."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from store import queries
from store.db import engine_for
from tests.e2e.test_browser_flows import click, fill, start_and_open_workspace
from tests.e2e.test_mapping_flow import options_of
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import CLOUD_AUTH, FakeJira
from tests.fakes.servicenow import STATES as SERVICENOW_STATES
from tests.fakes.servicenow import FakeServiceNow

pytestmark = pytest.mark.timeout(900)

CATEGORY_IDS = {"backlog", "todo", "in_progress", "done", "cancelled"}


@dataclass
class Case:
    label: str  # the source's card and step titles
    project: str
    fields: dict[str, str]  # form label -> value
    names: set[str]  # state names the Workspace must offer (the source's own)
    allowed: set[str] | None = None  # when set, the only names it may offer


def case_for(source: str, fake) -> Case:
    if source == "jira":
        return Case("JIRA", "ACME", {"Site URL": fake.url, "Account email": CLOUD_AUTH[0], "API token": CLOUD_AUTH[1]},
                    {"Backlog", "To Do", "In Progress", "In Review", "Done", "Won't Do"})
    if source == "github":
        return Case("GitHub", "acme/api", {"Personal access token": fake.token, "API URL": fake.url},
                    {"Open", "Closed", "Not planned", "in progress"})
    if source == "gitlab":
        return Case("GitLab", "acme/ops", {"Access token": fake.token, "GitLab URL": fake.url}, {"Open", "Closed"},
                    {"Open", "Closed", "doing", "in progress", "backlog", "wontfix", "won't do", "duplicate"})
    return Case("ServiceNow", "incident", {"Instance": fake.url, "Username": fake.username, "Password": fake.password},
                {"New", "In Progress", "On Hold"}, set(SERVICENOW_STATES["incident"].values()))


@pytest.fixture(params=["jira", "github", "gitlab", "servicenow"])
def source_fake(request):
    fakes = {"jira": lambda: FakeJira(cloud=True, size=40), "github": lambda: GitHubFake(sizes={"acme/api": 45}),
             "gitlab": lambda: FakeGitLab(projects={"acme/ops": 40}),
             "servicenow": lambda: FakeServiceNow(sizes={"incident": 40})}
    with fakes[request.param]() as fake:
        yield request.param, fake


@pytest.mark.viewport(1400, 2600)  # the Workspace's filters, table and chart in one screenshot
def test_each_source_shows_its_own_status_names_in_the_workspace(console, stack, source_fake):
    source, fake = source_fake
    case = case_for(source, fake)
    page = console.page
    page.goto(f"{console.base}/import")
    console.settle()
    click(console, f"Choose {case.label}")
    for label, value in case.fields.items():
        fill(console, label, value)
    click(console, "Test connection")
    expect(page.get_by_text("Account reached:")).to_be_visible()
    click(console, "Next")
    expect(page.get_by_role("heading", name=f"3. Map {case.label} values")).to_be_visible()
    click(console, "Next")
    expect(page.get_by_text(f"4. Preview {case.label} / {case.project}")).to_be_visible()
    console.settle()
    click(console, "Next")
    outcome = start_and_open_workspace(console)
    assert outcome.startswith("Succeeded:"), outcome
    offered = set(options_of(console, "filter_state")) - {"All"}
    stored = {r["state"] for r in queries.items(engine_for(), source=source, limit=10_000)}
    assert offered == stored, (offered, stored)  # the filter offers exactly the states the items are filed under
    assert case.names <= offered, offered
    assert not offered & (CATEGORY_IDS - (case.allowed or set())), offered  # GitLab's label "backlog" is a name
    if case.allowed is not None:
        assert offered <= case.allowed, offered
    chart = page.locator(".st-key-charts")
    chart.scroll_into_view_if_needed()
    expect(chart.locator(".vega-embed").last).to_be_visible()  # "Items by status", drawn by Vega
    console.settle()
    console.screenshot(f"states-{source}-workspace")
    console.assert_clean_console()
