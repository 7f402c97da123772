"""The `?` panel and the progress view in a non-admin's words: what to ask the admin for, not a command or an
environment variable they cannot use (the review found `./start.sh`, `python cli.py worker` and
CREDENTIAL_ENCRYPTION_KEY as a company sign-in user's only instruction)."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from jobs import api
from tests.test_ui_wizard import help_texts, texts

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ADMIN_WORDS = ("./start.sh", "cli.py", "CREDENTIAL_ENCRYPTION_KEY", "CONSOLE_CONTACT_URL")


@pytest.fixture
def signed_in(monkeypatch):
    """A company sign-in (OIDC) user: carol is not listed in CONSOLE_ADMINS, dave is."""
    monkeypatch.delenv("CONSOLE_OPEN_DEMO", raising=False)
    monkeypatch.setenv("CONSOLE_ADMINS", "dave@acme.com")

    def start(email: str, path: str | None = None, **params) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=30)
        at.secrets["auth"] = {"redirect_uri": "http://localhost:3000/oauth2callback", "cookie_secret": "x" * 32,
                              "client_id": "id", "client_secret": "secret",
                              "server_metadata_url": "https://login.example.org/.well-known/openid-configuration"}
        at.user = {"is_logged_in": True, "email": email}
        at.run()
        for name, value in params.items():
            at.query_params[name] = value
        if path:
            at.switch_page(path).run()
        assert not at.exception, at.exception
        return at

    return start


def to_start_step(at: AppTest) -> AppTest:
    at.button(key="start_pitch").click().run()
    at.button(key="next_configure").click().run()
    at.button(key="next_map").click().run()
    at.button(key="next_preview").click().run()
    assert "5. Start the import" in texts(at, "subheader")
    return at


def test_a_non_admin_reads_what_to_ask_the_admin_for(signed_in):
    at = to_start_step(signed_in("carol@acme.com"))
    shown = help_texts(at)
    assert "ask whoever runs this console to start one" in shown
    assert "whoever runs this console starts it" in shown
    assert not [w for w in ADMIN_WORDS if w in shown], shown
    at = signed_in("carol@acme.com", "pages/import_wizard.py")
    assert "ask whoever runs this console to start them" in help_texts(at)  # step 1: services down
    job_id = api.start_import("demo", ["ACME"], config={"size": "10"})  # no worker runs in this test
    progress = signed_in("carol@acme.com", "pages/progress.py", job=job_id)
    [waiting] = [i for i in texts(progress, "info") if "Waiting for a worker" in i]
    assert "ask whoever runs this console to start an import worker" in waiting
    assert "cli.py" not in waiting
    guide_page = texts(signed_in("carol@acme.com", "pages/guides.py"), "caption")  # its contact line too
    assert any("ask whoever runs this console" in c for c in guide_page), guide_page
    assert not [c for c in guide_page if "CONSOLE_CONTACT_URL" in c], guide_page
    admin = help_texts(to_start_step(signed_in("dave@acme.com")))  # an admin still reads the commands
    assert "`python cli.py worker`" in admin and "CONSOLE_CONTACT_URL" in admin
