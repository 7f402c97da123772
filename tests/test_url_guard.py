"""URLs that users type are checked before the console fetches them (SSRF)."""
import pytest

from importers.errors import ConfigError
from importers.urls import check_url


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
