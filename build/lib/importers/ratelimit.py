"""Reads how long a vendor asks us to wait, from whichever header it uses.

Vendors disagree: `Retry-After` is seconds or an HTTP date; GitHub and ServiceNow send
`X-RateLimit-Reset` as Unix epoch seconds, GitLab `RateLimit-Reset` as epoch, and Jira Cloud
`X-RateLimit-Reset` as ISO-8601. This module is the one place that knows.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

RESET_HEADERS = ("x-ratelimit-reset", "ratelimit-reset")


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def _parse_reset(value: str, now: datetime) -> datetime | None:
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        # Epoch seconds; a small number is a delta in seconds (some proxies send that).
        try:
            if number > 1_000_000_000:
                return datetime.fromtimestamp(number, tz=UTC)
            return now + timedelta(seconds=max(number, 0))
        except (OverflowError, OSError, ValueError):  # inf, nan, or beyond year 9999: not a usable time
            return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def wait_until(
    headers: Mapping[str, str] | None, now: datetime | None = None, limited: bool = False
) -> datetime | None:
    """When the vendor says we may call again, or None if its headers do not say.

    `limited` tells whether the response itself was a rate-limit answer (429, or a 403 with
    the remaining count at zero): reset headers on ordinary responses are not a reason to wait.
    """
    now = now or datetime.now(UTC)
    h = _lower(headers)
    retry_after = h.get("retry-after")
    if retry_after:
        try:
            return now + timedelta(seconds=max(float(retry_after), 0))
        except (ValueError, OverflowError):
            try:
                when = parsedate_to_datetime(retry_after)
                return when if when.tzinfo else when.replace(tzinfo=UTC)
            except (TypeError, ValueError):
                pass
    remaining = h.get("x-ratelimit-remaining", h.get("ratelimit-remaining"))
    if limited or (remaining is not None and remaining.strip() == "0"):
        for name in RESET_HEADERS:
            if name in h:
                reset = _parse_reset(h[name], now)
                if reset is not None:
                    return reset
    return None
