"""URLs that users type are checked before the console fetches them (SSRF)."""
import socket

import pytest
import requests

from importers import outbound
from importers.errors import ConfigError
from importers.urls import check_url
from jobs import api


@pytest.mark.parametrize("url, words", [
    ("", "empty"),
    ("ftp://example.com", "http(s) URL"),
    ("not a url", "http(s) URL"),
    ("http://169.254.169.254/latest/meta-data", "link-local"),
    ("https://metadata.google.internal/", "metadata"),
    ("https://[fe80::1]/", "link-local"),
    ("http://10.0.0.5/jira", "https://"),
])
def test_refused_urls_name_the_setting(url, words):
    with pytest.raises(ConfigError) as info:
        check_url(url, "JIRA_BASE_URL")
    assert "JIRA_BASE_URL" in str(info.value) and words in str(info.value)


def test_loopback_is_refused_unless_allowed(monkeypatch):
    monkeypatch.delenv("ALLOW_LOOPBACK_URLS")
    with pytest.raises(ConfigError, match="ALLOW_LOOPBACK_URLS"):
        check_url("http://127.0.0.1:8080", "GITLAB_URL")
    monkeypatch.setenv("ALLOW_LOOPBACK_URLS", "1")
    assert check_url("http://127.0.0.1:8080/", "GITLAB_URL") == "http://127.0.0.1:8080"


def test_private_ranges_stay_allowed_for_self_hosted_servers():
    assert check_url("https://10.1.2.3/gitlab/", "GITLAB_URL") == "https://10.1.2.3/gitlab"


def _own_address() -> str:
    """This machine's address on its network (eth0's, not loopback): the source a datagram socket picks for an
    outside destination (connecting one sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("198.51.100.1", 9))
        address = probe.getsockname()[0]
    assert not address.startswith("127."), "this machine has no address but loopback"
    return address


@pytest.fixture
def local_service():
    """A service listening on this machine's own network address (as Redis or PostgreSQL do on 0.0.0.0), noting
    every connection it receives."""
    listener = socket.create_server((_own_address(), 0))
    listener.settimeout(0.5)
    yield listener
    listener.close()


def _reached(listener: socket.socket) -> bool:
    try:
        listener.accept()[0].close()
    except TimeoutError:
        return False
    return True


@pytest.mark.parametrize("form", ["{address}", "[::ffff:{address}]"])
def test_this_machines_own_addresses_are_refused_like_loopback(form, local_service, monkeypatch):
    """Its eth0 address reached the services listening here just as 127.0.0.1 would (and fd00::2, a container's
    172.x): it was only a "private range", allowed for self-hosted servers."""
    monkeypatch.delenv("ALLOW_LOOPBACK_URLS")
    address, port = local_service.getsockname()[:2]
    url = f"https://{form.format(address=address)}:{port}"
    with pytest.raises(ConfigError) as refused:
        api.check("gitlab", {"url": url, "token": "t"})
    message = str(refused.value)
    assert message.startswith("GITLAB_URL points at this machine (") and "\n" not in message
    assert message.endswith(f"{address}); set ALLOW_LOOPBACK_URLS=1 to allow it")
    assert not _reached(local_service)

    monkeypatch.setenv("ALLOW_LOOPBACK_URLS", "1")  # the tests' and benches' opt-in, plain http included
    assert check_url(f"http://{address}:{port}/", "GITLAB_URL") == f"http://{address}:{port}"


def test_a_name_for_this_machines_address_is_refused_at_connection_time(local_service, monkeypatch):
    """A host name that resolves to one of this machine's addresses is judged by that address (the session's
    pinned one), and nothing connects."""
    monkeypatch.delenv("ALLOW_LOOPBACK_URLS")
    address, port = local_service.getsockname()[:2]

    def resolver(host, port, *args):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    session = requests.Session()
    outbound.install(session, f"https://vendor.test:{port}", "GitLab", "GITLAB_URL", resolver=resolver)
    with pytest.raises(ConfigError, match=f"GITLAB_URL points at this machine \\(vendor.test: {address}\\); "
                                          f"set ALLOW_LOOPBACK_URLS=1"):
        session.get(f"https://vendor.test:{port}/api/v4/user", timeout=5)
    assert not _reached(local_service)
