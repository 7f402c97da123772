"""The environment's proxy and CA-bundle settings reach every source's requests. importers/outbound.py
reads them once per session, by requests' own rules (`get_environ_proxies` for the session's one origin,
REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE for verify=True), instead of requests re-reading them on every request.
Each source through its real client library (jira, PyGithub, python-gitlab, pysnow) against its fake."""
from __future__ import annotations

import pytest
import requests

from importers import make_source, outbound
from importers.errors import SourceError
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.fakes.servicenow import FakeServiceNow

from .helpers import hang_up_server

TOKEN = "proxy-test-token-5e2a"


def _github():
    fake = GitHubFake(sizes={"acme/web": 3}, token=TOKEN).start()
    return fake, {"api_url": fake.url, "token": TOKEN}


def _gitlab():
    fake = FakeGitLab(projects={"acme/web": 3}, token=TOKEN).start()
    return fake, {"url": fake.url, "token": TOKEN}


def _jira():
    fake = FakeJira(cloud=True, size=3).start()
    user, token = fake.credentials
    return fake, {"base_url": fake.url, "user_email": user, "api_token": token}


def _servicenow():
    fake = FakeServiceNow(sizes={"incident": 3}, password=TOKEN).start()
    return fake, {"instance": fake.url, "username": "svc.import", "password": TOKEN}


VENDORS = {"github": _github, "gitlab": _gitlab, "jira": _jira, "servicenow": _servicenow}


@pytest.fixture
def no_proxy_settings(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_a_proxy_the_environment_names_carries_every_request_and_no_proxy_exempts_the_host(
        vendor, monkeypatch, no_proxy_settings):
    fake, config = VENDORS[vendor]()
    try:
        with hang_up_server() as (proxy, accepted):
            monkeypatch.setenv("HTTP_PROXY", proxy)
            source = make_source(vendor, config)
            with pytest.raises(SourceError):
                source.check()
            source.close()
            assert accepted  # the connection test went to the proxy, not to the vendor
            monkeypatch.setenv("NO_PROXY", "127.0.0.1")
            seen = len(accepted)
            source = make_source(vendor, config)
            assert source.check()
            source.close()
            assert len(accepted) == seen  # straight to the vendor
    finally:
        fake.stop()


def test_the_environments_ca_bundle_is_the_one_https_is_verified_with(monkeypatch, tmp_path):
    """requests' rule: REQUESTS_CA_BUNDLE (else CURL_CA_BUNDLE) replaces its own bundle when a library asks
    for verification; a bundle that is not there fails the request, naming it, before anything is sent."""
    missing = tmp_path / "corporate-ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(missing))
    session = requests.Session()
    outbound.install(session, "https://127.0.0.1:9", "Vendor", "VENDOR_URL")
    with pytest.raises(OSError, match="corporate-ca.pem"):
        session.get("https://127.0.0.1:9/api", timeout=5)
    session.close()
