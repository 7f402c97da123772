"""The account a secret belongs to goes only where the secret may go (security review): a caller who named their own
server and token in a JIRA preview got `Basic base64("alice@example.com:x")` sent there, the server's email from its
environment; ServiceNow's user name went the same way. `Setting.account` marks them, and `jobs/launch.merge_layers`
sends them, like the secrets, only to the server their own layer names.

Two fakes of one vendor: the server's own (its settings in the environment) and a second one the caller names, whose
requests' Authorization headers (`FakeServer.authorizations`) are what it received.
"""
from __future__ import annotations

import base64
import contextlib

import pytest

from importers import source_class
from importers.errors import SourceError
from jobs import api
from tests.fakes.jira import FakeJira
from tests.fakes.servicenow import FakeServiceNow


def users_seen(fake) -> list[str]:
    """The user of each Basic Authorization the fake received ("" for a request without Basic)."""
    return [base64.b64decode(h[6:]).decode().partition(":")[0] if h.startswith("Basic ") else ""
            for h in fake.authorizations]


@pytest.fixture
def jira_pair(monkeypatch):
    """(the server's JIRA, configured in the environment, a second JIRA with the same account)."""
    own, second = FakeJira(cloud=True, size=5).start(), FakeJira(cloud=True, size=5).start()
    email, token = own.credentials
    monkeypatch.setenv("JIRA_BASE_URL", own.url)
    monkeypatch.setenv("JIRA_USER_EMAIL", email)
    monkeypatch.setenv("JIRA_API_TOKEN", token)
    yield own, second
    own.stop()
    second.stop()


@pytest.fixture
def servicenow_pair(monkeypatch):
    own, second = FakeServiceNow(sizes={"incident": 5}).start(), FakeServiceNow(sizes={"incident": 5}).start()
    monkeypatch.setenv("SERVICENOW_INSTANCE", own.url)
    monkeypatch.setenv("SERVICENOW_USERNAME", own.username)
    monkeypatch.setenv("SERVICENOW_PASSWORD", own.password)
    yield own, second
    own.stop()
    second.stop()


def test_the_accounts_are_marked():
    accounts = {name: [s.name for s in source_class(name).settings if s.account]
                for name in ("jira", "servicenow", "github", "gitlab")}
    assert accounts == {"jira": ["user_email"], "servicenow": ["username"], "github": [], "gitlab": []}


def test_a_caller_naming_another_jira_never_sends_it_the_servers_email(jira_pair, run_worker):
    own, second = jira_pair
    typed = {"base_url": second.url, "api_token": "x"}
    for call in (lambda: api.check("jira", typed), lambda: api.preview("jira", "ACME", typed),
                 lambda: api.start_import("jira", ["ACME"], config=typed), run_worker):
        with contextlib.suppress(SourceError):  # the second server's 401 for a token without its account
            call()
    assert second.authorizations, "the second server was never asked"
    assert "alice@example.com" not in users_seen(second), second.authorizations
    assert set(second.authorizations) <= {"Bearer x", ""}, second.authorizations  # the caller's token as a PAT


def test_a_caller_who_gives_their_own_jira_email_still_connects(jira_pair):
    own, second = jira_pair
    email, token = second.credentials
    assert "alice" in api.check("jira", {"base_url": second.url, "user_email": email, "api_token": token})
    assert users_seen(second) and set(users_seen(second)) <= {email, ""}


def test_the_servers_own_jira_keeps_its_email(jira_pair):
    own, _ = jira_pair
    assert api.check("jira", {"base_url": own.url.upper().replace("HTTP://", "http://") + "/"})
    assert "alice@example.com" in users_seen(own)


def test_a_caller_naming_another_servicenow_never_sends_it_the_servers_user_name(servicenow_pair):
    own, second = servicenow_pair
    typed = {"instance": second.url, "password": "x"}
    for call in (lambda: api.check("servicenow", typed), lambda: api.preview("servicenow", "incident", typed),
                 lambda: api.start_import("servicenow", ["incident"], config=typed)):
        with pytest.raises(SourceError, match="SERVICENOW_USERNAME"):  # its own is missing: nothing is sent
            call()
    assert own.username not in users_seen(second) and not second.authorizations


def test_a_caller_who_gives_their_own_servicenow_user_name_still_connects(servicenow_pair):
    own, second = servicenow_pair
    assert api.check("servicenow", {"instance": second.url, "username": second.username,
                                    "password": second.password})
    assert set(users_seen(second)) == {second.username}


def test_the_wizard_leaves_the_servers_account_out_of_the_form(jira_pair):
    """Filled in from the environment, the email was the user's own and went with their token to their URL."""
    from streamlit.testing.v1 import AppTest

    from tests.test_ui_wizard import APP, field, press_test_connection

    own, second = jira_pair
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/import_wizard.py").run()
    at.button(key="choose_jira").click().run()
    email = field(at, "jira_user_email")
    assert email.value == "" and email.placeholder == "set on the server (alice@example.com): leave empty to use it"
    press_test_connection(at)  # every field left empty: the server's own settings reach its own server
    assert at.session_state["wizard"].account and "alice@example.com" in users_seen(own)
    field(at, "jira_base_url").input(second.url)
    field(at, "jira_api_token").input("x")
    press_test_connection(at)
    assert not at.exception and second.authorizations
    assert "alice@example.com" not in users_seen(second), second.authorizations
