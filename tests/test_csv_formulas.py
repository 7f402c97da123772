"""Vendor text never opens in a spreadsheet as a formula (issue 11, finding 4): the failure report's CSV
neutralises cells beginning with =, +, -, @, tab or CR with a leading ' (OWASP's CSV injection rule). The
console's tables show cells as they are (review: the grid showed a priority `'-`); their grid's own CSV
download, which would export them unguarded, is turned off."""
from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path

from tests.fakes.github import GitHubFake
from tests.fakes.servicenow import FakeServiceNow

from .test_ui_pages import page

ROOT = Path(__file__).resolve().parent.parent
LINK = '=HYPERLINK("http://evil.example/","fix me")'


def test_the_failure_report_csv_neutralises_formula_cells(run_import):
    """A ServiceNow ticket numbered like a formula, whose unreadable creation time makes it a failure."""
    fake = FakeServiceNow(sizes={"incident": 12}).start()
    try:
        row = fake.data["incident"][0]
        row["number"], row["sys_created_on"] = LINK, "not a time"
        doc = run_import("servicenow", ["incident"], config={"instance": fake.url, "username": fake.username,
                                                             "password": fake.password})
    finally:
        fake.stop()
    from jobs import api

    assert doc["failed"] >= 1
    rows = list(csv.DictReader(io.StringIO(api.failures_csv(doc["job_id"]))))
    keys = [r["key"] for r in rows]
    assert "'" + LINK in keys and LINK not in keys
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_the_workspace_table_shows_titles_as_they_are_and_offers_no_grid_download(run_import):
    """Review: the grid's priority column showed `'-` (the item detail `-`): the formula guard belongs to
    files, not to the screen. A title "-1 bug" or "=HYPERLINK(...)" shows as is; the grid's own CSV export,
    which would carry it unguarded, is off, so every download is the console's guarded CSV."""
    fake = GitHubFake(sizes={"acme/web": 5}, token="t0ken-formula").start()
    try:
        titles = ["-1 bug", LINK, "+1 on this", "@admin please look", "\tTabbed", "Normal title"]
        issues = [i for i in fake.issues["acme/web"] if "pull_request" not in i]
        for issue, title in zip(issues, titles, strict=False):
            issue["title"] = title
        run_import("github", ["acme/web"], config={"api_url": fake.url, "token": "t0ken-formula"})
    finally:
        fake.stop()
    at = page("pages/workspace.py")
    grid = at.dataframe[0].value
    assert "-1 bug" in set(grid["title"]) and set(titles[:len(issues)]) <= set(grid["title"])
    assert not any(str(t).startswith("'") for t in grid["title"])
    assert "-" in set(grid["priority"]) and not any(str(p).startswith("'") for p in grid["priority"])
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True
