"""Raw JSON pages from GitLab through python-gitlab's own requester.

Building python-gitlab's `ProjectIssue` objects per item costs more than the import itself,
so this client asks `Gitlab.http_request` for the `requests.Response` (auth, base URL and
error types stay the library's) and decodes pages as plain dicts. The library's own sleeping
on 429 and transient errors is switched off: all waiting goes through our `RetryPolicy`.

python-gitlab's errors carry the status but not the headers, and a 429's `Retry-After` /
`RateLimit-Reset` live in the headers; a session response hook keeps the last response's
headers per thread so the retry policy can honour them.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import gitlab
import requests

from .. import outbound
from ..errors import NetworkError, SourceError, network_reason
from ..jsonbody import parse
from ..pageguard import PageGuard
from ..retry import RetryPolicy, Transient, check_status
from .graphql import GraphQLUnavailable
from .settings import NOTE_WORKERS, TIMEOUT_SECONDS, TOOL, Query, project_path

TOKEN_HINT = "GITLAB_TOKEN"
__all__ = ["TOOL", "GitLabClient", "GraphQLUnavailable", "Query", "Unreachable", "next_query", "project_path"]


def next_query(response: requests.Response, query: Query) -> Query | None:
    """The query of the next page, or None on the last one.

    Keyset pages name the next page only in `Link: <...>; rel="next"`; offset pages also send
    `X-Next-Page`. Only the link's query is kept, so a cursor never pins a host name.
    """
    link = response.links.get("next", {}).get("url")
    if link:
        following: Query = dict(parse_qsl(urlsplit(link).query, keep_blank_values=True))
    elif response.headers.get("X-Next-Page", "").strip():
        following = {**query, "page": response.headers["X-Next-Page"].strip()}
    else:
        return None
    if following == {k: str(v) for k, v in query.items()}:
        raise NetworkError(f"{TOOL} returned the same page twice ({sorted(following)}); stopping to avoid a loop")
    return following


class Unreachable(Transient):
    """No answer at all (refused, timed out): worth retrying mid-import, not in a connection test."""


class GitLabClient:
    """One python-gitlab session; every request goes through `retry`."""

    def __init__(self, url: str, token: str, retry: RetryPolicy):
        self.url = url
        self.retry = retry
        self.gl = gitlab.Gitlab(url, private_token=token, timeout=TIMEOUT_SECONDS, retry_transient_errors=False)
        outbound.install(self.gl.session, url, TOOL, "GITLAB_URL", pool_maxsize=NOTE_WORKERS + 2)
        self._local = threading.local()
        self.gl.session.hooks["response"].append(self._remember_headers)

    def _remember_headers(self, response: requests.Response, *args, **kwargs) -> None:
        self._local.headers = response.headers

    def _once(self, path: str, query: Query | None, what: str) -> requests.Response:
        self._local.headers = None
        try:
            return self.gl.http_request(
                "get", path, query_data=query or {}, obey_rate_limit=False,
                retry_transient_errors=False, max_retries=0,
            )
        except (gitlab.exceptions.GitlabHttpError, gitlab.exceptions.GitlabAuthenticationError) as exc:
            check_status(TOOL, exc.response_code or 0, self._local.headers, credentials_hint=TOKEN_HINT, what=what)
            raise SourceError(f"{TOOL} refused the request for {what}: {exc.error_message}") from None
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise Unreachable(f"could not reach {TOOL} at {self.url}: {network_reason(exc)}") from None

    def get(self, path: str, query: Query | None = None, what: str = "the resource") -> requests.Response:
        """GET with retries; returns the response (2xx only) for its JSON and headers."""
        return self.retry.call(self._once, path, query, what)

    def get_once(self, path: str, query: Query | None = None, what: str = "the resource") -> requests.Response:
        """GET that retries rate limits and 5xx but not an unreachable server: a connection
        test must answer at once when GITLAB_URL is wrong."""
        def attempt() -> requests.Response:
            try:
                return self._once(path, query, what)
            except Unreachable as exc:
                raise NetworkError(f"{exc.reason}; check GITLAB_URL") from None

        return self.retry.call(attempt)

    def _post_graphql_once(self, body: dict[str, Any], what: str) -> requests.Response:
        self._local.headers = None
        try:
            return self.gl.http_request(
                "post", f"{self.url}/api/graphql", post_data=body, obey_rate_limit=False,
                retry_transient_errors=False, max_retries=0,
            )
        except (gitlab.exceptions.GitlabHttpError, gitlab.exceptions.GitlabAuthenticationError) as exc:
            if exc.response_code == 404:
                raise GraphQLUnavailable(f"{TOOL} at {self.url} has no GraphQL API (HTTP 404 for /api/graphql)") \
                    from None
            check_status(TOOL, exc.response_code or 0, self._local.headers, credentials_hint=TOKEN_HINT, what=what)
            raise SourceError(f"{TOOL} refused the GraphQL query for {what}: {exc.error_message}") from None
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise Unreachable(f"could not reach {TOOL} at {self.url}: {network_reason(exc)}") from None

    def post_graphql(self, query: str, variables: dict[str, Any], what: str) -> Any:
        """POST one query to `/api/graphql` through the library's session, with retries; the decoded body.

        Rate limits and 5xx are retried like any GET (GraphQL shares the API's rate limit and
        headers); 401 is an AuthError; 404 (no GraphQL on this server) a GraphQLUnavailable."""
        body = {"query": query, "variables": variables}
        return self.json(self.retry.call(self._post_graphql_once, body, what))

    def json(self, response: requests.Response) -> Any:
        """Decoded body, or a NetworkError when the server is not a GitLab API (a login page...)."""
        try:
            return parse(response)
        except ValueError:
            raise NetworkError(
                f"{TOOL} at {self.url} answered something that is not its API "
                f"({response.headers.get('Content-Type', 'no content type')}): check GITLAB_URL"
            ) from None

    def page(self, path: str, query: Query, what: str) -> tuple[list[Any], Query | None]:
        """One page's raw JSON list and the query of the page after it (None on the last)."""
        response = self.get(path, query, what)
        data = self.json(response)
        if not isinstance(data, list):
            raise NetworkError(f"{TOOL} answered {type(data).__name__} instead of a list for {what}")
        return data, next_query(response, query)

    def pages(self, path: str, query: Query, what: str) -> Iterator[list[Any]]:
        """Every page of a list, one request at a time."""
        current: Query | None = query
        guard = PageGuard(TOOL, what)
        while current is not None:
            data, current = self.page(path, current, what)
            guard.page(len(data), tuple(sorted(current.items())) if current else None)
            yield data

    def close(self) -> None:
        self.gl.session.close()
