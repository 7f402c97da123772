"""The import wizard in AppTest: steps, the failed connection that keeps Next disabled, the preview
table, starting a job, and the help panel that highlights the guide fitting the import's size."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console import help as guides

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def console() -> AppTest:
    return AppTest.from_file(APP, default_timeout=30)


def texts(at, kind: str) -> list[str]:
    return [str(e.value) for e in getattr(at, kind)]


def field(at, name: str):
    """A credential form field by its setting name (the form's keys change after each test)."""
    return next(t for t in at.text_input if t.key.startswith(f"cred_{name}_"))


def open_demo_wizard(size: str = "small") -> AppTest:
    """The Start page's demo button: the wizard opens on Demo, already connected."""
    at = console().run()
    at.button(key="demo_quick").click().run()
    if size != "small":
        # widgets in a form only count when it is submitted: set both, then press Test connection
        next(r for r in at.radio if r.key.startswith("cred_demo_size")).set_value("custom")
        next(t for t in at.text_input if t.key.endswith("_custom")).input(size)
        at.button[0].click().run()
    assert not at.exception
    return at


def test_start_page_offers_the_demo_and_three_journeys():
    at = console().run()
    assert not at.exception
    assert texts(at, "title") == ["Import your data into ACGS2"]
    assert [b.label for b in at.button][:1] == ["Try the demo import"]
    assert {"start_pitch", "start_pilot", "start_migration"} <= {b.key for b in at.button}


def test_step_one_shows_a_card_per_source_with_its_auth_status():
    at = console().run()
    at.switch_page("pages/import_wizard.py").run()
    assert not at.exception
    labels = [b.label for b in at.button]
    for name in ("Demo", "JIRA", "ServiceNow", "GitHub", "GitLab"):
        assert f"Choose {name}" in labels
    assert "No credentials needed" in texts(at, "badge") if hasattr(at, "badge") else True
    at.button(key="choose_github").click().run()
    assert "2. Configure GitHub" in texts(at, "subheader")
    assert field(at, "github_token").proto.type == field(at, "github_token").proto.PASSWORD


def test_demo_path_goes_through_every_step_to_the_progress_view():
    at = open_demo_wizard()
    assert "2. Configure Demo" in texts(at, "subheader")
    assert any(t.startswith("Account reached: demo workspace") for t in texts(at, "text"))
    assert not at.button(key="next_configure").disabled
    at.button(key="next_configure").click().run()
    assert "3. Preview Demo / ACME" in texts(at, "subheader")
    frame = at.dataframe[0].value
    assert len(frame) >= 10
    assert list(frame.columns) == ["key", "title", "status", "category", "assignee", "created", "updated"]
    assert set(frame["status"]) <= {"Backlog", "Selected for Development", "To Do", "In Progress", "In Review",
                                    "Done", "Won't Do"}  # the demo's own status names, not categories
    assert "50" in texts(at, "metric")  # estimated total
    at.button(key="next_preview").click().run()
    assert "4. Start the import" in texts(at, "subheader")
    at.button(key="start_import").click().run()
    assert not at.exception
    assert texts(at, "title") == ["Import progress"]
    job_id = at.query_params["job"][0] if isinstance(at.query_params["job"], list) else at.query_params["job"]
    assert any(job_id in t for t in texts(at, "text"))
    assert at.session_state["wizard"].config == {}  # typed settings forgotten once the job started


def test_failed_connection_shows_the_reason_and_keeps_next_disabled():
    at = console().run()
    at.switch_page("pages/import_wizard.py").run()
    at.button(key="choose_github").click().run()
    assert at.button(key="next_configure").disabled  # nothing tested yet
    field(at, "github_token").input("ghp_not-a-real-token")
    field(at, "github_api_url").input("http://127.0.0.1:9")  # closed port
    at.button[0].click().run()
    assert not at.exception
    errors = texts(at, "error")
    assert errors and errors[0].startswith("Connection failed: ")
    assert at.button(key="next_configure").disabled
    assert "3. Preview" not in " ".join(texts(at, "subheader"))
    # the token is not echoed back: the password field is empty again
    assert field(at, "github_token").value == ""
    assert not any(str(k).startswith("cred_github_token") and at.session_state[k] for k in at.session_state)


def test_invalid_demo_size_fails_the_connection_test():
    at = open_demo_wizard("lots")
    assert any("demo size 'lots' is not valid" in e for e in texts(at, "error"))
    assert at.button(key="next_configure").disabled


def test_dry_run_and_only_since_controls_exist_on_the_way():
    at = open_demo_wizard()
    at.checkbox(key="use_since").check().run()
    assert at.date_input(key="since").value is not None
    at.checkbox(key="use_since").uncheck().run()
    at.button(key="next_configure").click().run()
    assert any("Dry run" in e.label for e in at.expander)


@pytest.mark.parametrize("size, expected", [("small", "Pitch"), ("500", "Pilot"), ("5000", "Full migration")])
def test_help_panel_highlights_the_guide_fitting_the_size(size, expected):
    at = open_demo_wizard(size)
    highlighted = [s for s in texts(at, "success") if s.startswith("Recommended for this import")]
    assert highlighted == [f"Recommended for this import: {expected}"]
    links = [p.proto.page for p in at.get("page_link")] if at.get("page_link") else []
    assert any("guides" in link for link in links) or links == []
    assert any("mailto:support@acgs2.example" in m for m in texts(at, "markdown"))


def test_contact_link_follows_support_email(monkeypatch):
    monkeypatch.setenv("SUPPORT_EMAIL", "help@example.org")
    at = open_demo_wizard()
    assert any("mailto:help@example.org" in m for m in texts(at, "markdown"))


def test_journey_for_size_thresholds():
    assert [guides.journey_for_size(n) for n in (None, 0, 99, 100, 1000, 1001)] == \
        ["pitch", "pitch", "pitch", "pilot", "pilot", "migration"]


def test_dry_run_checks_everything_and_writes_nothing(run_worker):
    from store import queries
    from store.db import engine_for

    at = open_demo_wizard()
    at.button(key="next_configure").click().run()
    at.button(key="dry_run").click().run()
    run_worker()
    at.run()
    assert not at.exception
    warnings = texts(at, "warning")
    assert any(w.startswith("Dry run ended partial: 3 items would fail") and "would create 47" in w for w in warnings)
    assert queries.stats(engine_for())["items"] == 0
