"""What a connection test says when it fails, on every surface (CLI, HTTP API, the wizard's form), for every source.
Each section names the regression of a new user's review it covers."""
from __future__ import annotations

import pytest

from store import api_tokens
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.fakes.servicenow import FakeServiceNow
from tests.helpers import asgi_post
from tests.test_ui_wizard import field, open_configure, press_test_connection, texts

from .conftest import free_port

MISSING = {  # source -> (the settings missing from an empty configuration, as each surface names them)
    "jira": ("JIRA: Site URL and API token are missing",
             "set JIRA_BASE_URL and JIRA_API_TOKEN", "give config.base_url and config.api_token", "config.base_url"),
    "servicenow": ("ServiceNow: Instance, Username and Password are missing",
                   "set SERVICENOW_INSTANCE, SERVICENOW_USERNAME and SERVICENOW_PASSWORD",
                   "give config.instance, config.username and config.password", "config.instance"),
}


@pytest.fixture(scope="module")
def fakes():
    started = {"jira": FakeJira(size=5).start(), "github": GitHubFake(sizes={"acme/web": 5}).start(),
               "gitlab": FakeGitLab(projects={"acme/web": 5}).start(),
               "servicenow": FakeServiceNow(sizes={"incident": 5}).start()}
    yield started
    for fake in started.values():
        fake.stop()


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


# -- the token field asks again only for a token that was typed ----------------------------
# it said "enter it again" after any failed test, also when nothing had been typed
@pytest.mark.parametrize("source, token", [("jira", "jira_api_token"), ("gitlab", "gitlab_token")])
def test_a_failed_test_asks_again_only_for_a_token_that_was_typed(source, token, fakes):
    at = open_configure(source)
    url = {"jira": "jira_base_url", "gitlab": "gitlab_url"}[source]
    field(at, url).input(f"http://127.0.0.1:{free_port()}")
    press_test_connection(at)
    assert texts(at, "error") and "enter it again" not in field(at, token).label  # nothing typed, nothing dropped
    field(at, url).input(fakes[source].url)
    field(at, token).input("WRONG-token")
    press_test_connection(at)
    assert "rejected the credentials" in texts(at, "error")[0]
    assert field(at, token).label.endswith("(enter it again: it is not kept after a failed test)")


# -- network errors in words ---------------------------------------------------------------
# "could not be reached ... (ConnectionError)": a Python class name
def url_env(source: str, url: str) -> dict[str, str]:
    """An environment pointing `source` at `url`, with credentials it never gets to judge."""
    return {"jira": {"JIRA_BASE_URL": url, "JIRA_API_TOKEN": "x"},
            "github": {"GITHUB_API_URL": url, "GITHUB_TOKEN": "x"},
            "gitlab": {"GITLAB_URL": url, "GITLAB_TOKEN": "x"},
            "servicenow": {"SERVICENOW_INSTANCE": url, "SERVICENOW_USERNAME": "u", "SERVICENOW_PASSWORD": "x"}}[source]


@pytest.mark.parametrize("source", ["jira", "github", "gitlab", "servicenow"])
def test_an_unreachable_server_is_told_in_words_not_a_class_name(source, fakes, cli):
    cases = {f"http://127.0.0.1:{free_port()}": "the connection was refused",
             "https://no-such-host.invalid": "its name was not found (DNS)",
             fakes[source].url.replace("http://", "https://"): "the TLS handshake failed"}  # plain HTTP answers
    for url, words in cases.items():
        result = cli("check", source, env=url_env(source, url))
        err = result.stderr.strip()
        assert result.returncode != 0 and len(err.splitlines()) == 1 and "Traceback" not in result.stderr, err
        assert words in err and "Error" not in err.removeprefix("error:"), err


# -- settings with a fixed set of values -------------------------------------------------
# GitLab's API setting took "soap", and the connection test then blamed the URL
def test_a_value_a_setting_does_not_take_is_refused_at_once_naming_it_and_its_values(cli, engine):
    result = cli("check", "gitlab", env={"GITLAB_TOKEN": "x", "GITLAB_API": "soap"})
    assert result.stderr.strip() == "error: GitLab: GITLAB_API must be one of auto, graphql, rest, not 'soap'"
    status, answer = asgi_post("/import/gitlab/preview", {"project": "acme/web", "config": {"api": "soap"}},
                               api_tokens.create(engine, "ci-bot", created_by="alice"))
    assert status == 400 and answer["error"] == "GitLab: config.api must be one of auto, graphql, rest, not 'soap'"
    assert answer["detail"]["field"] == "config.api"


def test_the_form_offers_a_setting_with_fixed_values_as_a_choice():
    at = open_configure("gitlab")
    choice = next(s for s in at.selectbox if s.key.startswith("cred_gitlab_api_"))
    assert list(choice.options) == ["auto", "graphql", "rest"] and choice.value == "auto"


# -- the default project -------------------------------------------------------------------
# a JIRA default project "not a key!" passed the connection test
def test_a_default_project_the_source_cannot_have_fails_the_connection_test(fakes, cli):
    jira = fakes["jira"]
    user, token = jira.credentials
    env = {"JIRA_BASE_URL": jira.url, "JIRA_USER_EMAIL": user, "JIRA_API_TOKEN": token}
    result = cli("check", "jira", env={**env, "JIRA_DEFAULT_PROJECT": "not a key!"})
    assert result.returncode == 2 and result.stderr.strip().endswith(
        "not 'not a key!' (the default project, JIRA_DEFAULT_PROJECT)"), result.stderr
    assert cli("check", "jira", env={**env, "JIRA_DEFAULT_PROJECT": "ACME"}).returncode == 0
    at = open_configure("jira")
    for name, value in (("jira_base_url", jira.url), ("jira_user_email", user), ("jira_api_token", token),
                        ("jira_default_project", "not a key!")):
        field(at, name).input(value)
    press_test_connection(at)
    assert texts(at, "error")[0].endswith("not 'not a key!' (the default project, \"Default project key\")")
    assert "JIRA_DEFAULT_PROJECT" not in texts(at, "error")[0]



# -- a vendor's refusal in each surface's words ------------------------------------------
# review: the HTTP API's 400 for rejected credentials said "check JIRA_USER_EMAIL and JIRA_API_TOKEN" to a client that
# had sent config.api_token; the console rewrote it for its form, the API did not
REFUSED = {  # source -> (its settings in the API's body, then the credentials named by the CLI, the API, the form)
    "jira": (lambda f: {"base_url": f.url, "user_email": f.credentials[0], "api_token": f.credentials[1]},
             "JIRA_USER_EMAIL and JIRA_API_TOKEN", "config.user_email and config.api_token",
             '"Account email" and "API token"'),
    "servicenow": (lambda f: {"instance": f.url, "username": f.username, "password": f.password},
                   "SERVICENOW_USERNAME and SERVICENOW_PASSWORD", "config.username and config.password",
                   '"Username" and "Password"'),
    "github": (lambda f: {"api_url": f.url, "token": f.token}, "GITHUB_TOKEN", "config.token",
               '"Personal access token"'),
    "gitlab": (lambda f: {"url": f.url, "token": f.token}, "GITLAB_TOKEN", "config.token", '"Access token"'),
}
SECRET = {"jira": "api_token", "servicenow": "password", "github": "token", "gitlab": "token"}
PROJECT = {"jira": "ACME", "servicenow": "incident", "github": "acme/web", "gitlab": "acme/web"}


def refusing(fakes, source: str, status: int) -> dict[str, str]:
    """The settings of `source`'s fake, to which it answers `status`: a wrong secret (401), or every request
    refused (403, the account lacks a permission)."""
    settings = REFUSED[source][0](fakes[source])
    if status == 401:
        settings[SECRET[source]] = "WRONG-secret"
    else:
        fakes[source].fail_next(".", 403, times=1000)
    return settings


def env_of(source: str, settings: dict[str, str]) -> dict[str, str]:
    from importers import source_class

    return {s.env: settings[s.name] for s in source_class(source).settings if s.name in settings}


VARIABLES = tuple(f"{source.upper()}_" for source in REFUSED)


@pytest.fixture
def refused(fakes):
    yield
    for fake in fakes.values():
        fake._faults.clear()


def said_in(message: str, status: int, named: str, where: str) -> None:
    """`message` tells the refusal, naming the credentials as `where` names them, and only so."""
    told = "rejected the credentials (HTTP 401): check " if status == 401 else "(HTTP 403): check the permissions of "
    assert told + named in message and "Traceback" not in message, message
    foreign = {"cli": ("config.", '"'), "api": (*VARIABLES, '"'), "form": (*VARIABLES, "config.")}[where]
    assert not [word for word in foreign if word in message], message


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("source", list(REFUSED))
def test_refused_credentials_are_named_as_each_surface_takes_them(source, status, fakes, refused, engine, cli):
    _, variables, keys, labels = REFUSED[source]
    token = api_tokens.create(engine, "ci-bot", created_by="alice")
    body = {"project": PROJECT[source], "config": refusing(fakes, source, status)}
    answer_status, answer = asgi_post(f"/import/{source}/preview", body, token)
    assert answer_status == 400 and answer["detail"]["kind"] == "auth", answer
    said_in(answer["error"], status, keys, "api")

    result = cli("check", source, env=env_of(source, refusing(fakes, source, status)))
    assert result.returncode != 0, result.stdout
    said_in(result.stderr.strip(), status, variables, "cli")

    at = open_configure(source)
    for name, value in refusing(fakes, source, status).items():
        field(at, f"{source}_{name}").input(value)
    press_test_connection(at)
    assert not at.exception
    said_in(texts(at, "error")[0], status, labels, "form")


# -- a job's stored reason in each surface's words ---------------------------------------------
# review: a job that failed in the worker on a vendor 401 showed "check JIRA_USER_EMAIL and JIRA_API_TOKEN" on the
# progress page ("Reason:") and in GET /import/status, where the form's fields and the API's config. keys belong
def failed_in_the_worker(fakes, run_worker, **options) -> str:
    """A JIRA import that starts (its connection test passes) and then meets a 401 on every request in the worker."""
    from jobs import api

    job_id = api.start_import("jira", ["ACME"], **options)
    fakes["jira"].fail_next(".", 401, times=1000)
    run_worker()
    assert api.status(job_id)["status"] == "failed"
    return job_id


def status_answer(engine, job_id: str) -> dict:
    import json

    from tests.helpers import asgi_call

    status, _, body = asgi_call("GET", f"/import/status/{job_id}", api_tokens.create(engine, "ci-bot", created_by="a"))
    assert status == 200, body
    return json.loads(body)


def reasons(doc: dict) -> list[str]:
    return [r for r in (doc["error"], *(p["error"] for p in doc["parts"]), *(a["error"] for a in doc["attempts"])) if r]


def test_a_stored_failure_names_the_credentials_as_each_surface_takes_them(fakes, refused, engine, cli, run_worker):
    from tests.test_ui_pages import page

    _, variables, keys, labels = REFUSED["jira"]
    job_id = failed_in_the_worker(fakes, run_worker, config=REFUSED["jira"][0](fakes["jira"]))
    answer = status_answer(engine, job_id)
    assert reasons(answer) and answer["settings_from_env"] == []
    for reason in reasons(answer):
        said_in(reason, 401, keys, "api")
    at = page("pages/progress.py", job=job_id)
    [reason] = [t for t in (str(e.value) for e in at.text) if t.startswith("Reason: ")]
    said_in(reason, 401, labels, "form")
    shown = cli("status", job_id)
    said_in(shown.stdout + shown.stderr, 401, variables, "cli")  # the CLI keeps the variables


def test_a_stored_failure_keeps_the_variables_the_servers_environment_supplied(fakes, refused, engine, monkeypatch,
                                                                                run_worker):
    from tests.test_ui_pages import page

    for name, value in env_of("jira", REFUSED["jira"][0](fakes["jira"])).items():
        monkeypatch.setenv(name, value)
    job_id = failed_in_the_worker(fakes, run_worker)  # nothing typed: the admin's variables are what to fix
    answer = status_answer(engine, job_id)
    assert set(answer["settings_from_env"]) == {"JIRA_BASE_URL", "JIRA_USER_EMAIL", "JIRA_API_TOKEN"}
    for reason in reasons(answer):
        said_in(reason, 401, REFUSED["jira"][1], "cli")
    at = page("pages/progress.py", job=job_id)
    [reason] = [t for t in (str(e.value) for e in at.text) if t.startswith("Reason: ")]
    said_in(reason, 401, REFUSED["jira"][1], "cli")


def test_a_process_that_loaded_no_connector_still_shows_a_stored_reason_in_its_own_words():
    # review: connectors are imported lazily and each adds its settings' words when defined, so a console or HTTP API
    # process that had loaded none showed a worker's "check JIRA_API_TOKEN" as the CLI writes it (this suite's own
    # process has every connector loaded: the check runs in a fresh one)
    import subprocess
    import sys
    from pathlib import Path

    script = ("import sys; from jobs.progress import shown_in; from importers.errors import API, CONSOLE; "
              "loaded = [m for m in sys.modules if m.startswith('importers.jira')]; "
              "doc = {'error': 'JIRA refused the credentials: check JIRA_USER_EMAIL and JIRA_API_TOKEN', "
              "'parts': [], 'attempts': []}; "
              "print(loaded); print(shown_in(doc, API)['error']); print(shown_in(doc, CONSOLE)['error'])")
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           cwd=Path(__file__).resolve().parent.parent).stdout
    loaded, api, console = shown.splitlines()
    assert loaded == "[]"  # nothing had imported the JIRA connector before the reason was shown
    assert api.endswith("check config.user_email and config.api_token"), api
    assert console.endswith('check "Account email" and "API token"'), console
