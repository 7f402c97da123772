"""Progress, Jobs, Workspace and Guides in AppTest, over real jobs run by the `run_import` fixture."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from jobs import api

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def page(path: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()  # through app.py, which registers the pages
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def texts(at, kind: str) -> list[str]:
    return [str(e.value) for e in getattr(at, kind)]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("path", ["pages/start.py", "pages/import_wizard.py", "pages/progress.py", "pages/jobs.py",
                                  "pages/workspace.py", "pages/guides.py"])
def test_every_page_opens_with_a_helpful_empty_state(path):
    at = page(path)
    assert len(at.title) == 1
    assert not at.error


def test_progress_shows_the_values_of_a_finished_job(run_import):
    doc = run_import("demo", ["ACME"], config={"size": "30"})
    assert doc["status"] == "partial"  # the demo's 3 deliberately invalid items
    at = page("pages/progress.py", job=doc["job_id"])
    shown = metrics(at)
    assert shown["Processed"] == "30"
    assert shown["Created"] == str(doc["created"]) == "27"
    assert shown["Failed"] == "3"
    assert shown["Skipped"] == "0"
    assert at.get("progress")[0].proto.value == 100
    assert any("3 failed item(s)" in w for w in texts(at, "warning"))
    report = at.dataframe[0].value
    assert len(report) == 3 and set(report.columns) >= {"key", "reason"}
    assert at.get("download_button")
    assert at.button(key="retry").label == "Retry failed items"
    assert "Undo this import" in [e.label for e in at.expander]
    assert at.button(key="undo").disabled  # until the confirmation is ticked


def test_retry_and_undo_from_the_progress_view(run_import, run_worker):
    doc = run_import("demo", ["OPS"], config={"size": "20"})
    at = page("pages/progress.py", job=doc["job_id"])
    at.button(key="retry").click().run()
    assert not at.exception
    assert api.status(doc["job_id"])["status"] == "queued"
    run_worker()
    at.run()
    at.checkbox(key="undo_confirm").check().run()
    at.button(key="undo").click().run()
    assert not at.exception
    assert api.status(doc["job_id"])["undone_at"]
    assert any("was undone" in i for i in texts(at, "info"))


def test_progress_of_a_queued_job_refreshes_and_offers_cancel():
    job_id = api.start_import("demo", ["ACME"], config={"size": "10"})
    at = page("pages/progress.py", job=job_id)
    assert any("Waiting for a worker" in i for i in texts(at, "info"))
    at.button(key="cancel").click().run()
    assert not at.exception
    assert api.status(job_id)["status"] == "cancelled"


def test_progress_of_an_unknown_job_says_so():
    at = page("pages/progress.py", job="nope")
    assert any("no import job 'nope'" in e for e in texts(at, "error"))


def test_jobs_lists_imports_newest_first_and_schedules(run_import):
    first = run_import("demo", ["ACME"], config={"size": "10"})
    second = run_import("demo", ["OPS"], config={"size": "10"})
    api.schedule("demo", ["OPS"], 6)
    at = page("pages/jobs.py")
    table = at.dataframe[0].value
    assert list(table["open"]) == [f"progress?job={second['job_id']}", f"progress?job={first['job_id']}"]
    schedules = at.dataframe[1].value
    assert list(schedules["every (hours)"]) == [6]
    assert at.selectbox(key="open_job").value == second["job_id"]


def test_workspace_filters_and_shows_an_item_with_its_comments(run_import):
    run_import("demo", ["ACME"], config={"size": "40"})
    at = page("pages/workspace.py")
    assert metrics(at)["Work items"] == "37"
    assert len(at.dataframe[0].value) == 37
    at.selectbox(key="filter_state").set_value("In Review").run()  # the demo's own status name
    table = at.dataframe[0].value
    assert set(table["status"]) == {"In Review"} and set(table["category"]) == {"in_progress"}
    at.selectbox(key="filter_state").set_value("All").run()
    at.text_input(key="filter_text").input("ACME-1").run()
    keys = list(at.dataframe[0].value["key"])
    assert keys and all("ACME-1" in k for k in keys)
    at.selectbox(key="item").set_value("demo / ACME-1").run()
    assert not at.exception
    shown = texts(at, "text")
    assert "ACME-1  ·  demo / ACME" in shown
    assert any(t.startswith("Status: ") for t in shown)
    comments = [m for m in texts(at, "markdown") if m.startswith("**Comments (")]
    assert comments and len(at.code) >= 1  # the description (and comment bodies) drawn as text


def test_guides_render_the_chosen_guide():
    at = page("pages/guides.py", guide="pilot")
    assert any(m.startswith("# Pilot") for m in texts(at, "markdown"))
    at = page("pages/guides.py", guide="migration")
    assert any("Cut-over checklist" in m for m in texts(at, "markdown"))
