"""The Start page and the import wizard in AppTest: the one-click demos, steps, the failed connection
that keeps Next disabled and asks for the token again, errors in the form's words, saved credentials,
the incremental start, and the `?` panel of each step."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console import help as guides
from jobs import api
from tests.helpers import progress_while_running

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def console() -> AppTest:
    return AppTest.from_file(APP, default_timeout=30)


def texts(at, kind: str) -> list[str]:
    return [str(e.value) for e in getattr(at, kind)]


def field(at, name: str):
    """A credential form field by its setting name (the form's keys change after each test)."""
    return next(t for t in at.text_input if t.key.startswith(f"cred_{name}_"))


def press_test_connection(at) -> AppTest:
    return next(b for b in at.button if b.label == "Test connection").click().run()


def job_in_url(at) -> str:
    value = at.query_params["job"]
    return value[0] if isinstance(value, list) else value


def open_demo_wizard(size: str = "small") -> AppTest:
    """The pitch journey's card: the wizard opens on Demo, already connected."""
    at = console().run()
    at.button(key="start_pitch").click().run()
    if size != "small":
        next(r for r in at.radio if r.key.endswith("_size")).set_value("custom").run()
        next(t for t in at.text_input if t.key.endswith("_custom")).input(size).run()
    assert not at.exception
    return at


def open_configure(source: str) -> AppTest:
    at = console().run()
    at.switch_page("pages/import_wizard.py").run()
    at.button(key=f"choose_{source}").click().run()
    return at


def test_start_page_offers_two_demos_and_three_journeys():
    at = console().run()
    assert not at.exception
    assert texts(at, "title") == ["Import your data into ACGS2"]
    labels = [b.label for b in at.button]
    assert labels[:2] == ["Try the demo import", "Demo with failures"]
    assert {"start_pitch", "start_pilot", "start_migration"} <= {b.key for b in at.button}


@pytest.mark.parametrize("button, project, failures", [("demo_quick", "ACME", "0"), ("demo_failures", "OPS", "3")])
def test_one_click_demo_starts_the_import_and_lands_on_its_progress(button, project, failures):
    at = console().run()
    at.button(key=button).click().run()
    assert not at.exception
    assert texts(at, "title") == ["Import progress"]
    doc = api.status(job_in_url(at))
    assert (doc["source"], doc["projects"]) == ("demo", [project])
    from store.db import engine_for
    from store.jobs import get_job

    with engine_for().connect() as conn:
        assert get_job(conn, doc["job_id"]).options["config"] == {"size": "small", "failures": failures, "pace": "10"}


def test_default_demo_ends_succeeded_and_the_failure_demo_retries_green(run_worker, monkeypatch):
    monkeypatch.delenv("DEMO_INVALID_ITEMS")  # the demo as shipped
    clean = api.start_demo("clean")
    failing = api.start_demo("failures")
    run_worker()
    assert api.status(clean)["status"] == "succeeded" and api.status(clean)["created"] == 50
    doc = api.status(failing)
    assert (doc["status"], doc["failed"], doc["created"]) == ("partial", 3, 47)
    api.retry(failing)
    run_worker()
    doc = api.status(failing)
    assert (doc["status"], doc["failed"], doc["created"]) == ("succeeded", 0, 50)
    assert [a["status"] for a in doc["attempts"]] == ["partial", "succeeded"]


def test_a_one_click_demo_runs_at_a_pace_the_progress_view_shows_moving(monkeypatch):
    """Read at full speed, the 50 items were in before the progress view first showed the import: a presenter saw
    only the result. Paced (10 items a second, batches of 10), the view's 2 s refreshes find it part-way."""
    monkeypatch.delenv("DEMO_INVALID_ITEMS")
    job_id = api.start_demo("clean")
    seen = progress_while_running(job_id)
    between = sorted({n for n in seen if 0 < n < 50})
    assert len(between) >= 3 and all(n % 10 == 0 for n in between), between  # the bar moved in steps of 10
    assert api.status(job_id)["created"] == 50


def test_step_one_shows_a_card_per_source_with_its_auth_status():
    at = open_configure("github")
    assert "2. Configure GitHub" in texts(at, "subheader")
    assert field(at, "github_token").proto.type == field(at, "github_token").proto.PASSWORD
    at = console().run()
    at.switch_page("pages/import_wizard.py").run()
    labels = [b.label for b in at.button]
    for name in ("Demo", "JIRA", "ServiceNow", "GitHub", "GitLab"):
        assert f"Choose {name}" in labels


def test_demo_path_goes_through_every_step_to_the_progress_view():
    at = open_demo_wizard()
    assert "2. Configure Demo" in texts(at, "subheader")
    assert any(t.startswith("Account reached: demo workspace") for t in texts(at, "text"))
    assert not any(t.key.endswith("_custom") for t in at.text_input)  # Small chosen: no custom-size field
    at.button(key="next_configure").click().run()
    at.button(key="next_map").click().run()
    assert "4. Preview Demo / ACME" in texts(at, "subheader")
    frame = at.dataframe[0].value
    assert len(frame) >= 10
    assert list(frame.columns) == ["key", "title", "status", "category", "assignee", "updated"]
    assert set(frame["status"]) <= {"Backlog", "Selected for Development", "To Do", "In Progress", "In Review",
                                    "Done", "Won't Do"}  # the demo's own status names, not categories
    assert not any("_" in s for s in frame["category"])  # "In progress", never in_progress
    assert "50" in texts(at, "metric")  # estimated total
    at.button(key="next_preview").click().run()
    assert "5. Start the import" in texts(at, "subheader")
    assert any("no earlier import of this project" in t for t in texts(at, "text"))
    at.button(key="start_import").click().run()
    assert not at.exception
    assert texts(at, "title") == ["Import progress"]
    assert job_in_url(at)
    assert at.session_state["wizard"].config == {}  # typed settings forgotten once the job started


def test_failed_connection_names_the_form_field_and_keeps_the_token_it_is_not_about():
    at = open_configure("github")
    assert at.button(key="next_configure").disabled  # nothing tested yet
    field(at, "github_token").input("ghp_not-a-real-token")
    field(at, "github_api_url").input("ftp://example.org")
    press_test_connection(at)
    assert not at.exception
    errors = texts(at, "error")
    assert errors and errors[0].startswith("Connection failed: ")
    assert '"API URL"' in errors[0] and "GITHUB_API_URL" not in errors[0]  # the field the user sees
    assert at.button(key="next_configure").disabled
    assert "3. Preview" not in " ".join(texts(at, "subheader"))
    token = field(at, "github_token")
    # regression: the token was wiped although the URL was the problem; typed secrets still leave the widgets
    assert token.value == "" and "kept: leave empty to keep it" in token.label
    assert at.session_state["wizard"].config["token"] == "ghp_not-a-real-token"
    assert not any(str(k).startswith("cred_github_token") and at.session_state[k] for k in at.session_state)


def test_the_cli_keeps_naming_environment_variables():
    from importers.errors import SourceError

    with pytest.raises(SourceError, match="GITHUB_API_URL"):
        api.check("github", {"token": "t", "api_url": "ftp://example.org"})


def test_saved_credentials_are_announced_and_prefill_the_public_fields():
    api.save_credentials("jira", {"base_url": "https://acme.example", "user_email": "me@acme.example",
                                  "api_token": "secret-token-123"})
    at = open_configure("jira")
    info = " ".join(texts(at, "info"))
    assert "Saved credentials (encrypted) are used" in info and "https://acme.example" in info
    assert "secret-token-123" not in info
    assert field(at, "jira_base_url").value == "https://acme.example"
    token = field(at, "jira_api_token")
    assert token.value == "" and token.placeholder == "saved, encrypted: leave empty to use it"


def test_an_invalid_demo_size_is_said_at_its_field_and_holds_the_wizard():
    at = open_demo_wizard("lots")
    assert "lots is not a number of items: type a whole number from 0 to 5,000,000." in texts(at, "error")
    assert at.button(key="next_configure").disabled


def test_a_repeated_import_says_it_is_incremental_and_since_when(run_import):
    run_import("demo", ["ACME"], config={"size": "20"})
    at = open_demo_wizard()
    at.button(key="next_configure").click().run()
    at.button(key="next_map").click().run()
    at.button(key="next_preview").click().run()
    info = " ".join(texts(at, "info"))
    assert "this run is incremental" in info and "updated since 2025-01-" in info
    at.checkbox(key="full_run").check().run()
    assert not any("incremental" in i for i in texts(at, "info"))



def test_a_run_of_several_projects_counts_each_and_says_which_is_new(run_import):
    """The Start step of ACME (imported before, at 20) and MOBILE (new) said "Items: about 20" and "This project
    was imported before": the previewed project's alone."""
    run_import("demo", ["ACME"], config={"size": "20"})
    at = console().run()
    at.button(key="start_pitch").click().run()  # "as imported before": ACME at 20, a new project at Small
    at.multiselect(key="projects").set_value(["ACME", "MOBILE"]).run()
    at.button(key="next_configure").click().run()
    at.button(key="next_map").click().run()
    at.button(key="next_preview").click().run()
    assert "5. Start the import" in texts(at, "subheader")
    assert "Items: about 70 (ACME 20, MOBILE 50)" in texts(at, "text")
    [info] = texts(at, "info")
    assert info.startswith("ACME was imported before: its run is incremental") and "(ACME since 2025-01-" in info
    assert info.endswith("MOBILE is new: all of its items are read.")
    assert "This project" not in info
    at.checkbox(key="full_run").check().run()
    assert not texts(at, "info")


def test_dry_run_and_only_since_controls_exist_on_the_way():
    at = open_demo_wizard()
    at.checkbox(key="use_since").check().run()
    assert at.date_input(key="since").value is not None
    at.checkbox(key="use_since").uncheck().run()
    at.button(key="next_configure").click().run()
    at.button(key="next_map").click().run()
    assert any("Dry run" in e.label for e in at.expander)


def help_texts(at) -> str:
    return "\n".join(texts(at, "markdown") + texts(at, "text") + texts(at, "caption"))


@pytest.mark.parametrize("size, expected", [("small", "Pitch"), ("500", "Pilot"), ("5000", "Full migration")])
def test_help_panel_highlights_the_guide_fitting_the_size(size, expected):
    at = open_demo_wizard(size)
    highlighted = [s for s in texts(at, "success") if s.startswith("Recommended for this import")]
    assert highlighted == [f"Recommended for this import: {expected}"]


def test_help_panel_with_an_unknown_size_follows_the_journey():
    at = console().run()
    at.button(key="start_migration").click().run()
    at.button(key="choose_github").click().run()
    assert [s for s in texts(at, "success") if s.startswith("Recommended")] == \
        ["Recommended for this import: Full migration"]
    assert ("This import's size is not counted yet: the guide of your journey, full migration, is recommended."
            in texts(at, "caption"))


def test_help_panel_reads_the_size_a_project_was_imported_at(run_import):
    """Review: with "As imported before: ACME 150 items" chosen, the panel said "This import: a size not known yet"
    and recommended the journey's guide (pitch), not the one of the size the run reads."""
    run_import("demo", ["ACME"], config={"size": "150"})
    at = console().run()
    at.button(key="start_pitch").click().run()
    assert next(r for r in at.radio if r.key.endswith("_size")).value == "kept"
    assert "This import: about 150 items." in texts(at, "caption")
    assert [s for s in texts(at, "success") if s.startswith("Recommended")] == ["Recommended for this import: Pilot"]


def test_help_panel_is_about_the_step_and_the_error_met_there():
    at = open_configure("github")
    shown = help_texts(at)
    assert "Test connection" in shown and "HTTP 401" in shown  # what configure needs, what fails there
    links = [p.proto for p in at.get("page_link")]
    assert any("section=troubleshooting" in str(link) or "troubleshooting" in str(link) for link in links)
    field(at, "github_token").input("ghp_x")
    field(at, "github_api_url").input("ftp://example.org")
    press_test_connection(at)
    assert "The error you met here" in help_texts(at)
    at = open_demo_wizard()
    at.button(key="next_configure").click().run()
    at.button(key="next_map").click().run()
    assert "the preview only reads" in help_texts(at)


def test_contact_link_comes_from_console_contact_url(monkeypatch):
    at = open_demo_wizard()
    assert not any("Contact us" in m for m in texts(at, "markdown"))  # nothing made up
    captions = texts(at, "caption")  # the open demo's user is an admin: what to do now, and the setting's name
    assert "Stuck? Each guide's **Troubleshooting** section lists the usual causes and their fixes." in captions
    assert any(c.startswith("No contact link is shown here: set CONSOLE_CONTACT_URL") for c in captions), captions
    monkeypatch.setenv("CONSOLE_CONTACT_URL", "https://support.example.org/acgs2")
    at = open_demo_wizard()
    assert any("[Contact us](https://support.example.org/acgs2)" in m for m in texts(at, "markdown"))
    monkeypatch.setenv("CONSOLE_CONTACT_URL", "javascript:alert(1)")
    at = open_demo_wizard()
    assert not any("javascript" in m for m in texts(at, "markdown"))


def test_guide_section_from_the_help_panel_comes_first():
    at = console().run()
    at.query_params["guide"] = "pilot"
    at.query_params["section"] = "troubleshooting"
    at.switch_page("pages/guides.py").run()
    assert not at.exception
    assert any(m.startswith("### Troubleshooting") for m in texts(at, "markdown"))


def test_journey_for_size_thresholds():
    assert [guides.journey_for_size(n) for n in (None, 0, 99, 100, 1000, 1001)] == \
        [None, "pitch", "pitch", "pilot", "pilot", "migration"]


def test_dry_run_checks_everything_and_writes_nothing(run_worker):
    from store import queries
    from store.db import engine_for

    at = open_demo_wizard()
    at.button(key="next_configure").click().run()
    at.button(key="next_map").click().run()
    at.button(key="dry_run").click().run()
    run_worker()
    at.run()
    assert not at.exception
    warnings = texts(at, "warning")
    assert any(w.startswith("Dry run finished with failures: 3 items would fail") and "would create 47" in w
               for w in warnings)
    assert queries.stats(engine_for())["items"] == 0


def test_a_dry_run_waiting_for_a_worker_keeps_the_preview_step_whole():
    """Regression: a queued dry run (total not known: None) crashed the step's fragment on `{total:,}`, and
    Back / Next never rendered."""
    at = open_demo_wizard()
    at.button(key="next_configure").click().run()
    at.button(key="next_map").click().run()
    at.button(key="dry_run").click().run()
    at.run()
    assert not at.exception
    assert api.status(at.session_state["wizard"].dry_run_job)["total"] is None
    assert any(c.startswith("Dry run: 0 checked so far") for c in texts(at, "caption"))
    assert at.button(key="next_preview") and "Back" in [b.label for b in at.button]
