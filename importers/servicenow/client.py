"""The HTTP side of the ServiceNow source: pysnow's session, raw JSON rows, typed errors.

pysnow builds the authenticated session and the instance's base URL. It neither pages nor
retries, and its Response objects parse JSON with a pure-Python ijson stream, so rows are read
as raw JSON through pysnow's own requests session instead (auth stays the library's), and every
request goes through the shared retry policy, which does all the waiting.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pysnow
import requests

from .. import outbound
from ..errors import NetworkError, SourceError, network_reason
from ..jsonbody import parse
from ..numbers import whole_number
from ..retry import RetryPolicy, Transient, check_status
from .settings import (
    CREDENTIALS_HINT,
    INSTANCE_ENV,
    TIMEOUT,
    TOOL,
    WORKERS,
)

_RETRIABLE = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def _vendor_message(response: requests.Response) -> str:
    """ServiceNow's own `error.message`, e.g. "Invalid table foo" (never holds a secret)."""
    try:
        error = response.json().get("error") or {}
        return str(error.get("message") or "")[:200]
    except (ValueError, AttributeError):
        return ""


class ServiceNowClient:
    """Reads Table API rows as raw JSON; every call is retried by the source's policy."""

    def __init__(self, url: str, user: str, password: str, retry: RetryPolicy):
        """`url`: the instance's checked address (`ServiceNowSource.server_address`)."""
        self.url = url
        parts = urlsplit(self.url)
        self._pysnow = pysnow.Client(
            host=parts.netloc + parts.path, user=user, password=password, use_ssl=parts.scheme == "https"
        )
        self._base = self._pysnow.base_url
        self.session = self._pysnow.session
        # No urllib3 retries (our policy retries), and a pool big enough for our worker threads.
        outbound.install(self.session, self.url, TOOL, INSTANCE_ENV, pool_maxsize=WORKERS + 1)
        self.retry = retry

    def table(
        self, table: str, params: dict[str, Any], *, what: str, retry_connection: bool = True
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of a table: its rows and the `X-Total-Count` header (None if absent).

        `retry_connection=False` is for the connection test, which should say "unreachable"
        at once instead of backing off for a minute.
        """
        url = f"{self._base}/api/now/table/{table}"

        def attempt() -> tuple[list[dict[str, Any]], int | None]:
            try:
                response = self.session.get(url, params=params, timeout=TIMEOUT)
            except _RETRIABLE as exc:
                reason = f"could not reach {TOOL} at {self.url}: {network_reason(exc)}"
                if not retry_connection:
                    raise NetworkError(f"{reason}; check {INSTANCE_ENV}") from None
                raise Transient(reason) from None
            except requests.RequestException as exc:
                raise NetworkError(f"{TOOL} request to {self.url} failed: {network_reason(exc)}; "
                                   f"check {INSTANCE_ENV}") from None
            if response.status_code == 400:
                detail = _vendor_message(response)
                raise SourceError(f"{TOOL} refused the request for {what} (HTTP 400){': ' + detail if detail else ''}")
            check_status(TOOL, response.status_code, response.headers, credentials_hint=CREDENTIALS_HINT, what=what)
            return self._rows(response), self._total(response)

        return self.retry.call(attempt)

    def _rows(self, response: requests.Response) -> list[dict[str, Any]]:
        try:
            body = parse(response)
        except ValueError:
            body = None
        result = body.get("result") if isinstance(body, dict) else None
        if not isinstance(result, list):
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise NetworkError(
                f"{self.url} did not answer like the {TOOL} API (HTTP {response.status_code}, {kind}): "
                f"check {INSTANCE_ENV}; a hibernating developer instance answers with a web page"
            )
        return result

    @staticmethod
    def _total(response: requests.Response) -> int | None:
        total = response.headers.get("X-Total-Count", "").strip()
        return whole_number(total)

    def close(self) -> None:
        self._pysnow.close()
