"""The one retry policy every connector uses (tenacity).

Connectors turn their library's exceptions into either a `Transient` (429, 5xx, connection
errors: worth another try, maybe after a vendor-given time) or a typed `SourceError` (fatal).
This policy does the waiting: exponential backoff with jitter, or exactly what the vendor's
rate-limit headers ask, within a bounded total wait. Past that bound the job fails with
"rate limited by <tool> until HH:MM" and resumes from its checkpoint on retry.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from . import ratelimit
from .errors import AuthError, NetworkError, NotFoundError, RateLimitedError, SourceError
from .numbers import env_number, env_whole
from .redact import nothing
from .words import counted

T = TypeVar("T")


class WaitReason(str):
    """Why the policy waits, as text, and whether the vendor's rate limit is the cause.

    A `str`, so a listener that only shows the reason needs nothing more; the progress view
    reads `rate_limited` to say "rate limit" only for rate limits, and "retrying" for the
    rest (a refused connection, a 5xx)."""

    rate_limited: bool

    def __new__(cls, text: str, rate_limited: bool = False) -> WaitReason:
        reason = super().__new__(cls, text)
        reason.rate_limited = rate_limited
        return reason


WaitListener = Callable[[datetime | None, str], None]  # (until, reason: a WaitReason while waiting, "" once over)


class Transient(Exception):
    """A failure worth retrying; `until` is when the vendor said we may call again."""

    def __init__(self, reason: str, until: datetime | None = None, rate_limited: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.until = until
        self.rate_limited = rate_limited


PREVIEW_SECONDS_ENV = "IMPORT_PREVIEW_SECONDS"
_budget = threading.local()  # the time budget of the call running on this thread (read by importers/outbound.py)


def time_left() -> tuple[float, str] | None:
    """(seconds left, what the budget is: "30 s (IMPORT_PREVIEW_SECONDS)") of the time budget of the retried
    call running on this thread; None when it has none (an import's reads: IMPORT_REQUEST_DEADLINE alone)."""
    until = getattr(_budget, "until", None)
    return None if until is None else (until[0] - time.monotonic(), until[1])


def preview_seconds() -> float:
    """The whole time a preview may take, every request and retry wait included (IMPORT_PREVIEW_SECONDS, 30)."""
    return env_number(PREVIEW_SECONDS_ENV, 30.0, low=1.0)


class OutOfTime(NetworkError):
    """The call's whole time budget (a preview's) ran out: no further attempt is made."""


class RetryPolicy:
    """Retries `Transient` failures for one tool; reports each wait to an optional listener.

    `limit(seconds, setting)` gives every later call one shared time budget (a preview's): no wait is
    started that would outlast it, and each request's own deadline is cut to what is left
    (importers/outbound.py), so retries cannot multiply the time a caller waits."""

    def __init__(self, tool: str, on_wait: WaitListener | None = None, redact: Callable[[str], str] = nothing):
        self.tool = tool
        self.on_wait = on_wait
        self.redact = redact  # scrubs the source's secrets from every message that leaves (importers/redact.py)
        self.max_attempts = env_whole("IMPORT_RETRY_ATTEMPTS", 8)
        self.max_total_wait = env_number("IMPORT_MAX_RATE_LIMIT_WAIT", 300.0)
        self.base = env_number("IMPORT_RETRY_BASE_SECONDS", 0.5)
        self._backoff = wait_exponential_jitter(multiplier=self.base, max=30, jitter=self.base)
        self.until: tuple[float, str] | None = None  # (monotonic end of the time budget, what it is)

    def limit(self, seconds: float, setting: str) -> None:
        """From now on, every call of this policy together ends within `seconds` (OutOfTime after)."""
        self.until = (time.monotonic() + seconds, f"{seconds:.0f} s ({setting})")

    def _out_of_time(self, exc: BaseException | None) -> OutOfTime:
        assert self.until is not None
        reason = exc.reason if isinstance(exc, Transient) else str(exc or "no answer")
        return OutOfTime(f"{self.tool} did not answer within {self.until[1]} ({reason}); "
                         "try again later or check the tool's address")

    def _wait_seconds(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Transient) and exc.until is not None:
            return max((exc.until - datetime.now(UTC)).total_seconds(), 0.0) + 0.05
        return self._backoff(state)

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        seconds = state.upcoming_sleep
        if self.until is not None and time.monotonic() + seconds >= self.until[0]:
            raise self._out_of_time(exc)
        waited = (state.idle_for or 0) + seconds
        if waited > self.max_total_wait:
            until = datetime.now(UTC) + timedelta(seconds=seconds)
            raise self._give_up(exc, until)
        if self.on_wait is not None:
            reason = WaitReason(self.redact(exc.reason), exc.rate_limited) if isinstance(exc, Transient) \
                else WaitReason(self.redact(str(exc)))
            self.on_wait(datetime.now(UTC) + timedelta(seconds=seconds), reason)

    def _give_up(self, exc: BaseException | None, until: datetime | None) -> SourceError:
        if isinstance(exc, Transient) and (exc.rate_limited or exc.until is not None):
            until = exc.until or until
            local = until.astimezone() if until else None
            when = f" until {local:%H:%M}" if local else ""
            return RateLimitedError(f"rate limited by {self.tool}{when}; retry the import then", until)
        reason = exc.reason if isinstance(exc, Transient) else str(exc)
        return NetworkError(f"{self.tool} kept failing after {counted(self.max_attempts, 'attempts')}: {reason}")

    def _scrubbed(self, error: SourceError) -> SourceError:
        """`error` with the source's secrets taken out of its message (it may quote a vendor's answer)."""
        error.scrub(self.redact)
        return error

    def call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        retrying = Retrying(
            retry=retry_if_exception_type(Transient),
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait_seconds,
            before_sleep=self._before_sleep,
            sleep=time.sleep,
            reraise=True,
        )
        if self.until is not None and time.monotonic() >= self.until[0]:
            raise self._scrubbed(self._out_of_time(None))
        outer, _budget.until = getattr(_budget, "until", None), self.until
        try:
            result = retrying(fn, *args, **kwargs)
        except Transient as exc:
            raise self._scrubbed(self._give_up(exc, exc.until)) from None
        except SourceError as exc:
            raise self._scrubbed(exc) from None
        finally:
            _budget.until = outer
        if self.on_wait is not None and retrying.statistics.get("attempt_number", 1) > 1:
            self.on_wait(None, "")  # the wait is over: clear it from the progress view
        return result


def check_status(
    tool: str,
    status: int,
    headers: Mapping[str, str] | None = None,
    *,
    credentials_hint: str,
    what: str = "the resource",
) -> None:
    """Raise the right error for an HTTP status, the same way for every connector.

    `credentials_hint` names the settings to fix (e.g. "JIRA_USER_EMAIL and JIRA_API_TOKEN").
    """
    if status < 400:
        return
    limited = status == 429 or (
        status == 403 and str(dict((k.lower(), v) for k, v in (headers or {}).items()).get(
            "x-ratelimit-remaining", "")).strip() == "0"
    )
    if limited:
        raise Transient(f"{tool} rate limit (HTTP {status})", ratelimit.wait_until(headers, limited=True), True)
    if status >= 500:
        raise Transient(f"{tool} answered HTTP {status}", ratelimit.wait_until(headers))
    if status == 401:
        raise AuthError(f"{tool} rejected the credentials (HTTP 401): check {credentials_hint}")
    if status == 403:
        raise AuthError(f"{tool} denied access to {what} (HTTP 403): check the permissions of {credentials_hint}")
    if status in (404, 410):
        raise NotFoundError(f"{tool} has no {what} (HTTP {status}), or the account cannot see it")
    raise SourceError(f"{tool} refused the request for {what} (HTTP {status})")
