"""PyGithub's requester, configured for bulk reads, with GitHub's errors turned into ours.

We keep the library for what it is good at (auth headers, base URL and GHE prefixes, error
classes, rate-limit bookkeeping) and read raw JSON pages through `requestJsonAndCheck`, so no
`PaginatedList` keeps every issue alive and no lazy object fires a request per attribute.
The library's own retries and request spacing are off: the one `RetryPolicy` does all waiting.
The connector imports this module with its first client: `cli.py run` never reads a page, and
PyGithub was a quarter of its start-up; a worker imports it before it forks (importers.load_client).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from github import Auth, Github, GithubException, RateLimitExceededException
from github.Requester import Requester

from .. import outbound, ratelimit
from ..errors import NetworkError, SourceError, network_reason
from ..jsonbody import loads
from ..retry import RetryPolicy, Transient, check_status
from .graphql import GraphQLUnavailable
from .paging import DeepPageRefused
from .settings import PAGE_SIZE, TIMEOUT_SECONDS, TOKEN_ENV, TOOL, URL_ENV, USER_AGENT

# GitHub's answer, with HTTP 200, when a query took too long on its side ("Something went wrong while
# executing your query. This may be the result of a timeout..."): worth asking again.
_GRAPHQL_HICCUP = "something went wrong while executing your query"


class GitHubClient:
    """GETs raw JSON from the GitHub API through PyGithub, retried by our policy; POSTs GraphQL queries."""

    def __init__(self, base_url: str, token: str, retry: RetryPolicy):
        self.base_url = base_url
        self.retry = retry
        self._github = Github(
            auth=Auth.Token(token),
            base_url=base_url,
            timeout=TIMEOUT_SECONDS,
            user_agent=USER_AGENT,
            per_page=PAGE_SIZE,
            retry=None,  # no urllib3 retries behind our back
            seconds_between_requests=None,  # PyGithub would otherwise sleep 0.25 s before every GET
            seconds_between_writes=None,
        )
        self._requester = self._github.requester
        # PyGithub keeps one connection object (its own requests session) per requester, made on first
        # use: make it now and fit its session with the outbound policy.
        connection = self._requester._Requester__createConnection()  # type: ignore[attr-defined]
        outbound.install(connection.session, base_url, TOOL, URL_ENV)

    def _get_json(self, path: str, params: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """`requestJsonAndCheck("GET", ...)` with the body parsed by orjson: PyGithub's public
        `requestJson` (auth, base URL, redirects, rate-limit bookkeeping) and then what its private
        check and post-processing do, step for step: an empty body is None, a body that is not JSON
        and does not look like it is `{"data": text}`, HTTP >= 400 raises `Requester.createException`
        (the same exception classes), and a GET's object gets its `url` when it has none.
        An absolute URL (PyGithub checks its host and may open another connection) takes the library's route."""
        if not path.startswith("/"):
            return self._requester.requestJsonAndCheck("GET", path, params)
        status, headers, output = self._requester.requestJson("GET", path, params)
        if not output:
            data: Any = None
        else:
            try:
                data = loads(output)
            except ValueError:
                if output.startswith(("{", "[")):
                    raise
                data = {"data": output}
        if status >= 400:
            raise Requester.createException(status, headers, data)
        if isinstance(data, dict) and "url" not in data:
            data["url"] = path
        return headers, data

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, what: str,
            retry_unreachable: bool = True) -> tuple[dict[str, str], Any]:
        """(headers, JSON) of one GET; `what` names the resource in error messages.

        `retry_unreachable=False` reports an unreachable server at once (the connection test,
        where a wrong URL is the likely cause and the user is waiting), instead of backing off.
        """
        def attempt() -> tuple[dict[str, str], Any]:
            try:
                return self._get_json(path, dict(params or {}))
            except GithubException as exc:
                raise self._translate(exc, what) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                message = f"{TOOL} could not be reached at {self.base_url}: {network_reason(exc)}"
                if not retry_unreachable:
                    raise NetworkError(f"{message}; check {URL_ENV}") from None
                raise Transient(message) from None
            except (ValueError, requests.exceptions.ChunkedEncodingError):  # a truncated or garbled body: try again
                raise Transient(f"{TOOL} answered with a body that is not valid JSON") from None
            except RuntimeError as exc:  # PyGithub refuses redirects to another scheme or host
                raise NetworkError(f"{exc}: check {URL_ENV}") from None

        return self.retry.call(attempt)

    def post_graphql(self, query: str, variables: Mapping[str, Any], *, what: str) -> dict[str, Any]:
        """The decoded body of one GraphQL query, POSTed through PyGithub's requester to its GraphQL URL
        (`https://api.github.com/graphql`; GHES `https://HOST/api/graphql` beside `/api/v3`), so auth,
        origin checks (importers/outbound.py) and the library's error classes are the REST calls' own.

        Retried by the one policy: 5xx, 403/429 rate limits (Retry-After, x-ratelimit-reset) and
        GitHub's HTTP 200 answers that carry a rate limit (`errors[].type` RATE_LIMITED, remaining 0)
        or a timeout on its side. HTTP 404 (no GraphQL on this server) raises GraphQLUnavailable; any
        other `errors` are returned in the body for the caller to judge (graphql.py)."""
        body = {"query": query, "variables": dict(variables)}

        def attempt() -> dict[str, Any]:
            try:
                headers, data = self._requester.requestJsonAndCheck("POST", self._requester.graphql_url, input=body)
            except GithubException as exc:
                if exc.status == 404:
                    raise GraphQLUnavailable(f"{TOOL} at {self.base_url} has no GraphQL API "
                                             f"(HTTP 404 for {self._requester.graphql_url})") from None
                raise self._translate(exc, what) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise Transient(f"{TOOL} could not be reached at {self.base_url}: {network_reason(exc)}") from None
            except (ValueError, requests.exceptions.ChunkedEncodingError):
                raise Transient(f"{TOOL} answered with a body that is not valid JSON") from None
            except RuntimeError as exc:
                raise NetworkError(f"{exc}: check {URL_ENV}") from None
            if not isinstance(data, dict):
                raise NetworkError(f"{TOOL} answered the GraphQL query for {what} with something that is not "
                                   f"a GraphQL answer: check {URL_ENV}")
            errors: list = data["errors"] if isinstance(data.get("errors"), list) else []
            lowered = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
            types = {str(e.get("type") or "") for e in errors if isinstance(e, dict)}
            messages = " ".join(str(e.get("message") or "") for e in errors if isinstance(e, dict)).lower()
            if "RATE_LIMITED" in types or (errors and lowered.get("x-ratelimit-remaining", "").strip() == "0"):
                raise Transient(f"{TOOL} rate limit (GraphQL)", ratelimit.wait_until(headers, limited=True),
                                rate_limited=True)
            if _GRAPHQL_HICCUP in messages:
                raise Transient(f"{TOOL} could not finish the GraphQL query for {what} (a timeout on its side)")
            return data

        return self.retry.call(attempt)

    @staticmethod
    def _translate(exc: GithubException, what: str) -> Exception:
        """One place deciding retry or fail for a GitHub error status."""
        headers = exc.headers or {}
        lowered = {str(k).lower() for k in headers}
        if exc.status in (403, 429) and (isinstance(exc, RateLimitExceededException) or "retry-after" in lowered):
            # primary limit (remaining 0, reset epoch) or secondary limit (Retry-After)
            return Transient(f"{TOOL} rate limit (HTTP {exc.status})",
                             ratelimit.wait_until(headers, limited=True), rate_limited=True)
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        if exc.status == 422 and isinstance(message, str) and "pagination" in message.lower():
            return DeepPageRefused(f"{TOOL} refused a deep page of {what} (HTTP 422: {message[:120]})")
        try:
            check_status(TOOL, exc.status, headers, credentials_hint=TOKEN_ENV, what=what)
        except (Transient, SourceError) as translated:
            return translated
        return NetworkError(f"{TOOL} answered HTTP {exc.status} for {what}")

    def close(self) -> None:
        self._github.close()
