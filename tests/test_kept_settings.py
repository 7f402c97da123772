"""A demo run without a size reads each project at the size it was last imported at (`Source.kept_settings`).

Regression: `run demo --project OPS --size 5000 --wait`, then a schedule of the demo for OPS booked without a size
ran, read the default 50 items and marked the other 4,950 deleted ("gone 4,950"); a plain re-run without --size
did the same."""
from __future__ import annotations

import json

import pytest

from jobs import api, tasks


@pytest.fixture(autouse=True)
def clean_demo(monkeypatch):
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")


def _live(cli) -> dict[str, int]:
    """project -> live demo items in the workspace, as `stats` shows them."""
    return {row["project"]: row["items"] for row in json.loads(cli("stats", "--json").stdout)["by_project"]}


def test_a_schedule_booked_without_a_size_keeps_the_size_the_project_was_imported_at(cli, run_worker):
    assert cli("run", "demo", "--project", "OPS", "--size", "300", "--in-process").returncode == 0
    booked = cli("schedule", "demo", "--project", "OPS", "--every", "24")
    assert booked.returncode == 0, booked.stderr

    ran = tasks.run_schedule(booked.stdout.strip())  # what the worker runs when the booking is due
    run_worker()
    doc = api.status(ran)
    assert doc["status"] == "succeeded" and doc["deleted_items"] == 0, doc["deletions_summary"]
    assert _live(cli) == {"OPS": 300}

    from_job = api.schedule_job(ran, 24)  # the Jobs page's "schedule a re-run" of that run
    again = tasks.run_schedule(from_job)
    run_worker()
    assert api.status(again)["deleted_items"] == 0 and _live(cli) == {"OPS": 300}


def test_a_run_without_a_size_keeps_each_projects_size_and_one_given_wins(cli):
    cli("run", "demo", "--project", "OPS", "--size", "120", "--in-process")
    cli("run", "demo", "--project", "ACME", "--size", "60", "--in-process")

    for args in ((), ("--full",)):  # a catch-up and a full read of both: one job, two sizes
        run = cli("run", "demo", "--project", "OPS", "--project", "ACME", *args, "--in-process")
        assert run.returncode == 0 and api.status(run.stdout.strip())["deleted_items"] == 0, run.stderr
        assert _live(cli) == {"OPS": 120, "ACME": 60}, args

    smaller = cli("run", "demo", "--project", "OPS", "--size", "100", "--in-process")  # said: the project is smaller
    assert api.status(smaller.stdout.strip())["deleted_items"] == 20 and _live(cli) == {"OPS": 100, "ACME": 60}
    cli("run", "demo", "--project", "OPS", "--in-process")
    assert _live(cli) == {"OPS": 100, "ACME": 60}


def test_a_retry_runs_at_the_kept_size(cli, run_worker):
    cli("run", "demo", "--project", "OPS", "--size", "150", "--in-process")
    job_id = api.start_import("demo", ["OPS"], incremental=False)
    api.cancel(job_id)
    run_worker()
    api.retry(job_id)
    run_worker()
    doc = api.status(job_id)
    assert (doc["status"], doc["processed"], doc["deleted_items"]) == ("succeeded", 150, 0)


def test_a_one_click_demo_reads_its_project_at_the_size_it_was_imported_at(cli, run_worker):
    # review: the one-click demo read ACME at Small, in full, after `run demo --project ACME --size 300`, and marked
    # the other 250 items deleted
    cli("run", "demo", "--project", "ACME", "--size", "300", "--in-process")
    job_id = api.start_demo("clean")
    run_worker()
    doc = api.status(job_id)
    assert (doc["status"], doc["processed"], doc["deleted_items"]) == ("succeeded", 300, 0)
    assert _live(cli) == {"ACME": 300}


def test_a_preview_given_no_size_counts_what_the_import_will_read(cli):
    cli("run", "demo", "--project", "OPS", "--size", "300", "--in-process")
    assert api.preview("demo", "OPS").estimated_total == 300  # the estimate said 50, the run then read 300
    assert api.preview("demo", "OPS", {"size": "medium"}).estimated_total == 1500
    assert api.preview("demo", "ACME").estimated_total == 50


def test_the_wizard_rerun_of_a_demo_project_keeps_its_size(cli, run_worker):
    # review: the wizard's demo started at Small (the pitch journey's; Medium for the others) and its run of a project
    # imported at 300 read 50 and marked 250 deleted; it now starts on "as imported before"
    from streamlit.testing.v1 import AppTest

    from tests.test_ui_wizard import APP, texts

    cli("run", "demo", "--project", "ACME", "--size", "300", "--in-process")
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.button(key="start_pitch").click().run()
    [size] = [r for r in at.radio if r.key.endswith("_size")]
    assert size.value == "kept" and "ACME 300 items" in size.proto.options[0].split("\n")[0]
    at.button(key="next_configure").click().run()
    at.button(key="next_map").click().run()
    assert "300" in texts(at, "metric")  # the preview's estimated total
    at.button(key="next_preview").click().run()
    at.button(key="start_import").click().run()
    assert not at.exception and texts(at, "title") == ["Import progress"]
    run_worker()
    doc = api.jobs()[0]  # newest first: the wizard's
    assert (doc["status"], doc["deleted_items"]) == ("succeeded", 0) and _live(cli) == {"ACME": 300}


def test_the_connection_check_says_the_size_each_project_is_read_at(cli):
    # review: under "As imported before" the wizard's check said "Account reached: demo workspace (50 items a project,
    # no credentials needed)", where ACME, imported at 300, is read at 300
    from streamlit.testing.v1 import AppTest

    from tests.test_ui_wizard import APP, texts

    cli("run", "demo", "--project", "ACME", "--size", "300", "--in-process")
    kept = "demo workspace (as imported before: ACME 300 items; a new project 50, no credentials needed)"
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.button(key="start_pitch").click().run()
    [size] = [r for r in at.radio if r.key.endswith("_size")]
    assert size.value == "kept" and f"Account reached: {kept}" in texts(at, "text"), texts(at, "text")
    size.set_value("medium").run()  # a size chosen is the size every project is read at
    assert "Account reached: demo workspace (1,500 items a project, no credentials needed)" in texts(at, "text")
    assert cli("check", "demo").stdout.strip().endswith(kept)  # the CLI's check, by the same rule
    assert cli("check", "demo", env={"DEMO_SIZE": "medium"}).stdout.strip().endswith(
        "demo workspace (1,500 items a project, no credentials needed)")


def test_the_one_click_card_says_how_many_items_the_click_reads(cli):
    # review: the Start page's card promised "50 realistic work items" where the click read the 1 item ACME had last
    # been imported at
    from tests.test_ui_pages import page

    def card() -> str:
        return next(m for m in page("pages/start.py").markdown if "One click imports" in m.value).value

    assert "One click imports 50 realistic work items with people" in card()
    cli("run", "demo", "--project", "ACME", "--size", "1", "--in-process")
    assert "One click imports 1 realistic work item (the size ACME was last imported at) with people" in card()


def test_the_start_step_says_a_smaller_demo_size_marks_the_rest_deleted_and_an_incremental_run_reads_less(cli):
    # review: ACME imported at 50, the wizard run at 7 said "Items: about 7 ... it creates nothing twice" and marked 43
    # items deleted; and "Items: about 50" stood beside "this run is incremental" for a run that read 1 item
    from streamlit.testing.v1 import AppTest

    from tests.test_ui_wizard import APP, texts

    cli("run", "demo", "--project", "ACME", "--size", "50", "--in-process")
    at, custom = _custom_size_wizard()
    custom.input("7").run()
    at.button(key="next_configure").click().run()
    at.button(key="next_map").click().run()
    at.button(key="next_preview").click().run()
    assert "ACME was last imported at 50 items: reading 7, the import finds the other 43 gone and marks them deleted " \
           "(a dry run in the Preview step counts them first)." in texts(at, "warning"), texts(at, "warning")
    assert "Items in the project: about 7 (this run reads those updated since its last import)" in texts(at, "text")

    size_kept = AppTest.from_file(APP, default_timeout=30).run()  # as imported before: nothing is cut
    size_kept.button(key="start_pitch").click().run()
    for step in ("next_configure", "next_map", "next_preview"):
        size_kept.button(key=step).click().run()
    assert not [w for w in texts(size_kept, "warning") if "gone" in w]


def test_a_custom_demo_size_that_is_no_number_is_said_at_its_field_not_as_a_failed_connection():
    # review: "abc" read "Connection failed: demo size 'abc' is not valid: use small, medium, large or a number of
    # items", then "Fix the settings above and test again", on a form with no Test button
    from tests.test_ui_wizard import texts

    at, custom = _custom_size_wizard()
    custom.input("abc").run()
    assert texts(at, "error") == ["abc is not a number of items: type a whole number from 0 to 5,000,000."]
    assert not [t for t in texts(at, "text") + texts(at, "error") if "Connection failed" in t]
    assert at.button(key="next_configure").disabled
    custom.input("2000").run()
    assert not texts(at, "error") and not at.button(key="next_configure").disabled


def _custom_size_wizard():
    """The pitch wizard on the demo with "A number of items" chosen: (the app, its empty number field)."""
    from streamlit.testing.v1 import AppTest

    from tests.test_ui_wizard import APP

    at = AppTest.from_file(APP, default_timeout=30).run()
    at.button(key="start_pitch").click().run()
    [size] = [r for r in at.radio if r.key.endswith("_size")]
    size.set_value("custom").run()
    [custom] = [t for t in at.text_input if t.key.endswith("_custom")]
    return at, custom
