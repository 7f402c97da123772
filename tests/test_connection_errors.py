"""What a connection test says when it fails, on every surface (CLI, HTTP API, the wizard's form), for every source.
Each section names the regression of a new user's review it covers."""
from __future__ import annotations

import pytest

from store import api_tokens
from tests.helpers import asgi_post
from tests.test_ui_wizard import open_configure, press_test_connection, texts

MISSING = {  # source -> (the settings missing from an empty configuration, as each surface names them)
    "jira": ("JIRA: Site URL and API token are missing",
             "set JIRA_BASE_URL and JIRA_API_TOKEN", "give config.base_url and config.api_token", "config.base_url"),
    "servicenow": ("ServiceNow: Instance, Username and Password are missing",
                   "set SERVICENOW_INSTANCE, SERVICENOW_USERNAME and SERVICENOW_PASSWORD",
                   "give config.instance, config.username and config.password", "config.instance"),
}


# -- every missing setting at once ---------------------------------------------------------
# the form, `cli.py check`, the API's preview and its mapping documents named one per test (ServiceNow took three)
@pytest.mark.parametrize("command", [("check",), ("preview", "--project", "P")])
@pytest.mark.parametrize("source", list(MISSING))
def test_the_cli_names_every_missing_setting_at_once(source, command, cli):
    said, hint, _, _ = MISSING[source]
    result = cli(command[0], source, *command[1:])
    assert result.returncode == 2 and result.stderr.strip() == f"error: {said}: {hint}", result.stderr


@pytest.mark.parametrize("source", list(MISSING))
def test_the_http_api_names_every_missing_setting_at_once_in_preview_and_mapping_documents(source, engine):
    said, _, hint, first = MISSING[source]
    token = api_tokens.create(engine, "ci-bot", created_by="alice")
    project = {"jira": "ACME", "servicenow": "incident"}[source]
    for path, body in ((f"/import/{source}/preview", {"project": project}),
                       (f"/import/{source}/execute", {"projects": [project],
                                                      "mappings": [{"source": source, "project": project}]})):
        status, answer = asgi_post(path, body, token)
        assert status == 400 and answer["error"].endswith(f"{said}: {hint}"), (path, answer)
        assert answer["detail"]["field"] == first, answer


@pytest.mark.parametrize("source", list(MISSING))
def test_the_form_names_every_missing_setting_at_once_in_its_own_words(source):
    at = press_test_connection(open_configure(source))
    assert not at.exception
    assert texts(at, "error")[0] == f"Connection failed: {MISSING[source][0]}: enter them in the form"
