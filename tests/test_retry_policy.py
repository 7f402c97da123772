"""The shared retry policy and rate-limit reader, without HTTP."""
from datetime import UTC, datetime, timedelta

import pytest

from importers import ratelimit
from importers.errors import AuthError, NetworkError, NotFoundError, RateLimitedError
from importers.retry import RetryPolicy, Transient, check_status

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("headers, expected", [
    ({"Retry-After": "30"}, NOW + timedelta(seconds=30)),
    ({"Retry-After": "Thu, 26 Nov 2026 12:01:00 GMT"}, NOW + timedelta(minutes=1)),
    ({"X-RateLimit-Reset": str(int((NOW + timedelta(minutes=5)).timestamp()))}, NOW + timedelta(minutes=5)),  # GitHub
    ({"RateLimit-Reset": str(int((NOW + timedelta(seconds=90)).timestamp()))}, NOW + timedelta(seconds=90)),  # GitLab
    ({"X-RateLimit-Reset": "2026-11-26T12:10:00Z"}, NOW + timedelta(minutes=10)),  # Jira Cloud, ISO-8601
    ({}, None),
])
def test_wait_until_reads_each_vendors_header(headers, expected):
    assert ratelimit.wait_until(headers, NOW, limited=True) == expected


def test_reset_header_on_an_ordinary_response_is_not_a_wait():
    headers = {"X-RateLimit-Reset": "2026-11-26T12:10:00Z", "X-RateLimit-Remaining": "40"}
    assert ratelimit.wait_until(headers, NOW) is None


def test_transient_failures_are_retried_and_waits_reported(monkeypatch):
    monkeypatch.setenv("IMPORT_RETRY_BASE_SECONDS", "0.001")
    waits = []
    calls = iter([Transient("HTTP 503"), Transient("HTTP 503"), "ok"])

    def flaky():
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert RetryPolicy("JIRA", on_wait=lambda until, reason: waits.append(reason)).call(flaky) == "ok"
    assert waits == ["HTTP 503", "HTTP 503", ""]  # two waits, then "no longer waiting"


def test_a_rate_limit_longer_than_the_budget_fails_with_the_time(monkeypatch):
    monkeypatch.setenv("IMPORT_MAX_RATE_LIMIT_WAIT", "1")
    until = datetime.now(UTC) + timedelta(hours=1)

    def limited():
        raise Transient("GitHub rate limit (HTTP 403)", until, rate_limited=True)

    with pytest.raises(RateLimitedError) as info:
        RetryPolicy("GitHub").call(limited)
    assert f"rate limited by GitHub until {until.astimezone():%H:%M}" in str(info.value)


def test_persistent_5xx_gives_up_with_a_network_error(monkeypatch):
    monkeypatch.setenv("IMPORT_RETRY_BASE_SECONDS", "0.001")
    monkeypatch.setenv("IMPORT_RETRY_ATTEMPTS", "3")
    with pytest.raises(NetworkError, match="GitLab kept failing after 3 attempts"):
        RetryPolicy("GitLab").call(lambda: (_ for _ in ()).throw(Transient("HTTP 502")))


@pytest.mark.parametrize("status, error", [(401, AuthError), (403, AuthError), (404, NotFoundError)])
def test_check_status_names_the_setting_to_fix(status, error):
    with pytest.raises(error) as info:
        check_status("JIRA", status, {}, credentials_hint="JIRA_API_TOKEN", what="project ABC")
    assert "JIRA" in str(info.value) and ("JIRA_API_TOKEN" in str(info.value) or status == 404)


def test_check_status_treats_429_and_exhausted_403_as_rate_limits():
    with pytest.raises(Transient) as info:
        check_status("GitHub", 403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1900000000"},
                     credentials_hint="GITHUB_TOKEN")
    assert info.value.rate_limited and info.value.until.year == 2030
