"""A user name or password typed into a server URL is refused, for every source and on every surface, and never
quoted back (security review: `JIRA_BASE_URL=http://alice:TopSecretPw99@host` was accepted for JIRA, GitHub and
GitLab, kept in the clear in import_jobs.options.config and shown by GET /import/jobs to any token).

`importers/urls.check_url` is the one rule (ServiceNow's own refusal of it is gone); launches check the URL before
the job keeps its settings (`jobs/launch.check_startable`), so nothing is stored or queued.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from importers.errors import API, CONSOLE, ConfigError, SourceError
from importers.urls import check_url
from jobs import api
from store.schema import import_jobs, schedules
from tests.helpers import asgi_post

PASSWORD = "TopSecretPw99"
URL = f"http://alice:{PASSWORD}@127.0.0.1:1"

# source -> (its URL variable, the rest of a complete environment, the variable its secret goes in)
SOURCES = {
    "jira": ("JIRA_BASE_URL", {"JIRA_USER_EMAIL": "alice@example.com", "JIRA_API_TOKEN": "t"}, "JIRA_API_TOKEN"),
    "github": ("GITHUB_API_URL", {"GITHUB_TOKEN": "t"}, "GITHUB_TOKEN"),
    "gitlab": ("GITLAB_URL", {"GITLAB_TOKEN": "t"}, "GITLAB_TOKEN"),
    "servicenow": ("SERVICENOW_INSTANCE", {"SERVICENOW_USERNAME": "svc", "SERVICENOW_PASSWORD": "p"},
                   "SERVICENOW_PASSWORD"),
}
PROJECTS = {"jira": "ACME", "github": "acme/web", "gitlab": "acme/web", "servicenow": "incident"}


@pytest.mark.parametrize("url", [URL, f"https://alice:{PASSWORD}@jira.example.com/", "https://alice@example.com",
                                 f"ftp://alice:{PASSWORD}@example.com", f"alice:{PASSWORD}@example.com",
                                 f"https://alice:{PASSWORD}@[::1"])
def test_check_url_refuses_a_user_or_password_without_quoting_it(url):
    with pytest.raises(ConfigError) as info:
        check_url(url, "JIRA_BASE_URL", secret="JIRA_API_TOKEN")
    said = str(info.value)
    assert said.startswith("JIRA_BASE_URL must not hold a user name or password") and "JIRA_API_TOKEN" in said
    assert PASSWORD not in said and "alice" not in said, said


def test_an_at_sign_after_the_host_is_no_user():
    assert check_url("https://10.1.2.3/jira/@team?who=a@b", "JIRA_BASE_URL") == "https://10.1.2.3/jira/@team?who=a@b"


def _nothing_stored(engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(import_jobs)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(schedules)).scalar() == 0


@pytest.mark.parametrize("command", ["check", "run", "schedule"])
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_the_cli_refuses_it_naming_the_variable_and_where_the_secret_goes(name, command, cli, engine):
    url_env, rest, secret_env = SOURCES[name]
    args = {"check": ("check", name), "run": ("run", name, "--project", PROJECTS[name]),
            "schedule": ("schedule", name, "--project", PROJECTS[name], "--every", "6")}[command]
    result = cli(*args, env={url_env: URL, **rest})
    err = result.stderr.strip()
    assert result.returncode == 2 and not result.stdout, (result.returncode, err, result.stdout)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert f"{url_env} must not hold a user name or password" in err and f"secret in {secret_env}" in err, err
    assert PASSWORD not in err
    _nothing_stored(engine)


def test_servicenow_refuses_it_in_a_host_name_without_a_scheme_too(cli, engine):
    _, rest, _ = SOURCES["servicenow"]
    result = cli("run", "servicenow", env={"SERVICENOW_INSTANCE": f"alice:{PASSWORD}@acme.service-now.com", **rest})
    assert result.returncode == 2 and "SERVICENOW_INSTANCE must not hold a user name" in result.stderr
    assert PASSWORD not in result.stderr
    _nothing_stored(engine)


@pytest.mark.parametrize("route", ["preview", "execute"])
@pytest.mark.parametrize("name, url_setting, secret", [("jira", "base_url", "api_token"),
                                                       ("github", "api_url", "token"), ("gitlab", "url", "token"),
                                                       ("servicenow", "instance", "password")])
def test_the_http_api_refuses_it_naming_the_body_keys(name, url_setting, secret, route, engine):
    from store import api_tokens

    token = api_tokens.create(engine, "someone", created_by="alice")
    config = {url_setting: URL, secret: "t", **({"username": "svc"} if name == "servicenow" else {})}
    body = {"project": PROJECTS[name]} if route == "preview" else {"projects": [PROJECTS[name]]}
    status, answer = asgi_post(f"/import/{name}/{route}", {**body, "config": config}, token)
    assert status == 400, answer
    assert answer["error"].startswith(f"config.{url_setting} must not hold a user name or password"), answer
    assert f"secret in config.{secret}" in answer["error"] and answer["detail"]["field"] == f"config.{url_setting}"
    assert PASSWORD not in str(answer)
    _nothing_stored(engine)


def test_the_console_names_the_form_fields():
    with pytest.raises(SourceError) as info:
        api.check("jira", {"base_url": URL, "api_token": "t"})
    said = info.value.shown_in(CONSOLE)
    assert said.startswith('"Site URL" must not hold a user name or password') and 'secret in "API token"' in said
    assert info.value.shown_in(API).startswith("config.base_url must not")


def test_the_wizard_shows_the_refusal_in_the_forms_words():
    from streamlit.testing.v1 import AppTest

    from tests.test_ui_wizard import APP, field, press_test_connection, texts

    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/import_wizard.py").run()
    at.button(key="choose_jira").click().run()
    field(at, "jira_base_url").input(URL)
    field(at, "jira_api_token").input("t")
    press_test_connection(at)
    assert not at.exception
    errors = texts(at, "error")
    assert errors and '"Site URL" must not hold a user name or password' in errors[0], errors
    assert 'secret in "API token"' in errors[0] and PASSWORD not in errors[0]
    assert at.button(key="next_configure").disabled
