"""Vendor text never opens in a spreadsheet as a formula (issue 11, finding 4): the failure report's CSV
and the console's tables (whose grid offers its own CSV download of the cells it shows) neutralise
cells beginning with =, +, -, @, tab or CR with a leading ' (OWASP's CSV injection rule)."""
from __future__ import annotations

import csv
import io

from tests.fakes.github import GitHubFake
from tests.fakes.servicenow import FakeServiceNow

from .test_ui_pages import page

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


def test_the_workspace_table_neutralises_formula_titles(run_import):
    """An imported GitHub title starting with = or + or @: the grid (and so its CSV download) shows it
    with a leading quote; ordinary titles are unchanged."""
    fake = GitHubFake(sizes={"acme/web": 5}, token="t0ken-formula").start()
    try:
        titles = [LINK, "+1 on this", "@admin please look", "-2 regression", "\tTabbed", "Normal title"]
        issues = [i for i in fake.issues["acme/web"] if "pull_request" not in i]
        for issue, title in zip(issues, titles, strict=False):
            issue["title"] = title
        run_import("github", ["acme/web"], config={"api_url": fake.url, "token": "t0ken-formula"})
    finally:
        fake.stop()
    at = page("pages/workspace.py")
    shown = set(at.dataframe[0].value["title"])
    expected = {"'" + t if t[0] in "=+-@\t" else t for t in titles[:len(issues)]}
    assert expected <= shown, shown
    assert not any(t.startswith(("=", "+", "-", "@", "\t")) for t in shown)
