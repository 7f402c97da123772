"""Raw JSON access to JIRA through the `jira` library's own session.

The library keeps authentication, the base URL and its error type; we skip its Issue objects
(building one per issue costs more than the request) and its retries (ours honour JIRA Cloud's
reset headers and report waits). Every call goes through the source's one retry policy, and
every failure leaves here as a typed error that names the setting to fix.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from jira import JIRA, JIRAError
from jira.resilientsession import raise_on_error

from .. import outbound
from ..errors import AuthError, NetworkError, NotFoundError, SourceError, network_reason
from ..jsonbody import parse
from ..limits import enough_comments
from ..numbers import count, page_total, whole_number
from ..retry import RetryPolicy, Transient, check_status
from .jql import PageTokenRefused, jql_string
from .mapping import parse_time
from .settings import (
    CLOUD_API,
    COMMENT_PAGE_SIZE,
    CREDENTIALS_HINT,
    PROJECT_PAGE_SIZE,
    SERVER_API,
    TIMEOUT,
    TOOL,
    WORKERS,
)

__all__ = ["TOOL", "JiraClient", "PageTokenRefused", "jql_string"]


def _messages(response: requests.Response | None) -> str:
    """JIRA's own error text ("errorMessages" and "errors"), for 400 answers."""
    try:
        body = response.json() if response is not None else {}
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    found = [str(m) for m in body.get("errorMessages") or []]
    errors = body.get("errors")
    if isinstance(errors, dict):
        found += [str(m) for m in errors.values()]
    return "; ".join(found)[:300]


class JiraClient:
    """One authenticated JIRA session plus what we learn once about the server and the user."""

    def __init__(self, base_url: str, user: str, token: str, retry: RetryPolicy):
        self.base_url = base_url
        self.retry = retry
        auth: dict[str, Any] = {"basic_auth": (user, token)} if user else {"token_auth": token}
        # max_retries=0: the library would otherwise sleep up to a minute per 429 on its own.
        self.jira = JIRA(server=base_url, max_retries=0, get_server_info=False, timeout=TIMEOUT,
                         options={"check_update": False}, **auth)
        outbound.install(self.jira._session, base_url, TOOL, "JIRA_BASE_URL", pool_maxsize=2 * WORKERS + 2)
        self._info: dict[str, Any] | None = None
        self._me: dict[str, Any] | None = None

    # -- transport -----------------------------------------------------------------------
    def get(self, path: str, params: dict[str, Any] | None = None, *, version: str = SERVER_API,
            post: bool = False, what: str = "the resource", retry_connect: bool = True) -> Any:
        """JSON of one API call, retried by our policy; typed errors for everything else.

        `retry_connect=False` (the connection test) reports an unreachable server at once
        instead of backing off for a minute.
        """
        url = self.jira._get_url(path, "{server}/rest/api/" + version + "/{path}")
        session = self.jira._session

        def once() -> Any:
            try:
                # the library's _get_json, with the body parsed by orjson instead of the json module
                response = session.post(url, data=json.dumps(params)) if post else session.get(url, params=params)
                raise_on_error(response)
                return parse(response) if response.content else {}
            except JIRAError as exc:
                self._raise_for(exc, what, params or {})
            except ValueError:  # JSON decoding: something that is not JIRA's API answered
                raise NetworkError(f"{TOOL} at {self.base_url} did not answer with JSON for {what}: "
                                   "check JIRA_BASE_URL") from None
            except requests.exceptions.ChunkedEncodingError:  # the body was cut short: worth another try
                raise Transient(f"{TOOL} at {self.base_url} sent a truncated answer for {what}") from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                reason = f"{TOOL} could not be reached at {self.base_url}: {network_reason(exc)}"
                if not retry_connect:
                    raise NetworkError(f"{reason}; check JIRA_BASE_URL") from None
                raise Transient(reason) from None
            except requests.RequestException as exc:
                raise NetworkError(f"{TOOL} request to {self.base_url} failed: {network_reason(exc)}; "
                                   "check JIRA_BASE_URL") from None

        return self.retry.call(once)

    def _raise_for(self, exc: JIRAError, what: str, params: dict[str, Any]) -> None:
        response = exc.response
        status = exc.status_code or (response.status_code if response is not None else 0)
        headers = dict(response.headers) if response is not None else {}
        if not status:
            raise NetworkError(f"{TOOL} at {self.base_url} sent an empty answer for {what}: check JIRA_BASE_URL")
        if status == 403 and "CAPTCHA" in headers.get("X-Authentication-Denied-Reason", "").upper():
            raise AuthError(f"{TOOL} wants a CAPTCHA after failed logins: sign in once in the browser, "
                            f"then check {CREDENTIALS_HINT}")
        if status == 400:
            detail = _messages(response)
            if params.get("nextPageToken"):
                raise PageTokenRefused(f"{TOOL} refused the page token: {detail}")
            if "does not exist for the field 'project'" in detail:
                raise NotFoundError(f"{TOOL} has no project in {what} visible to this account: "
                                    "check JIRA_DEFAULT_PROJECT or pick a project from the list")
            raise SourceError(f"{TOOL} refused the request for {what} (HTTP 400): {detail or 'no details'}")
        check_status(TOOL, status, headers, credentials_hint=CREDENTIALS_HINT, what=what)
        raise SourceError(f"{TOOL} failed on {what} (HTTP {status})")

    def close(self) -> None:
        self.jira.close()

    # -- what we learn once --------------------------------------------------------------
    def server_info(self, retry_connect: bool = True) -> dict[str, Any]:
        if self._info is None:
            info = self.get("serverInfo", what="the server info", retry_connect=retry_connect)
            if not isinstance(info, dict) or "deploymentType" not in info and "version" not in info:
                raise NetworkError(f"{self.base_url} is not a JIRA server: check JIRA_BASE_URL")
            self._info = info
        return self._info

    def server_time(self) -> datetime | None:
        """The server's clock, the one its `updated` times are kept by, when this client first asked for the server
        info (`serverTime`): no later than any read by this client began, at no request of its own. None when the
        server does not say."""
        try:
            when = parse_time(self.server_info().get("serverTime"))
        except (TypeError, ValueError):
            return None
        return when.astimezone(UTC) if when.tzinfo else None  # without an offset it names no instant

    def myself(self, retry_connect: bool = True) -> dict[str, Any]:
        if self._me is None:
            me = self.get("myself", what="the account", retry_connect=retry_connect)
            if not isinstance(me, dict):
                raise NetworkError(f"{self.base_url} is not a JIRA server: check JIRA_BASE_URL")
            self._me = me
        return self._me

    @property
    def is_cloud(self) -> bool:
        return self.server_info().get("deploymentType") == "Cloud"

    @property
    def api(self) -> str:
        """v3 on Cloud (ADF bodies), v2 on Server/Data Center (wiki markup)."""
        return CLOUD_API if self.is_cloud else SERVER_API

    def jql_since(self, since: datetime) -> str:
        """`updated >= "yyyy/MM/dd HH:mm"` in the user's time zone, which is how JIRA reads it.

        JQL dates have minute precision; callers drop the few earlier items it lets through.
        Without a known zone we start a day early, which covers every UTC offset; a wall time the zone's fall-back
        repeats (02:30 twice in Berlin on the last Sunday of October) as early as the repeat is long. Within a day of
        either end of what a datetime holds (a `since` of 0001-01-01, a high-water mark some item's
        9999-12-31 set), that zone's time has no datetime (OverflowError): the day before `since`'s
        own clock time is earlier in every zone, and year 1 is the earliest there is.
        """
        try:
            try:
                zone = ZoneInfo(str(self.myself().get("timeZone") or ""))
                local = since.astimezone(zone)
                repeat = local.replace(fold=1 - local.fold).utcoffset() - local.utcoffset()  # type: ignore[operator]
                local -= abs(repeat)  # a wall time the fall-back repeats: JIRA may read the later one
            except (ZoneInfoNotFoundError, ValueError):
                local = since.astimezone(UTC) - timedelta(days=1)
        except OverflowError:
            local = since.replace(tzinfo=None) - timedelta(days=1) if since.year > 1 else datetime.min
        return f'updated >= "{local.year:04d}/{local:%m/%d %H:%M}"'  # (strftime's %Y writes year 1 as "1")

    # -- calls ---------------------------------------------------------------------------
    def search(self, jql: str, fields: tuple[str, ...], limit: int, token: str | None = None,
               start: int = 0) -> dict[str, Any]:
        """One page of issues: enhanced search with a page token on Cloud, `startAt` on Server.

        Server reads are keyset queries (`key > last`) built by the caller, so they start at 0;
        `start` pages a fixed set of issues (ids) on Server.
        """
        params: dict[str, Any] = {"jql": jql, "fields": ",".join(fields), "maxResults": limit}
        if self.is_cloud:
            if token:
                params["nextPageToken"] = token
            data = self.get("search/jql", params, version=self.api, what="the issue search")
        else:
            params["startAt"] = start
            data = self.get("search", params, version=self.api, what="the issue search")
        if not isinstance(data, dict) or not isinstance(data.get("issues", []), list):
            raise NetworkError(f"{TOOL} answered the issue search with something unexpected: check JIRA_BASE_URL")
        return data

    def highest_key(self, where: str) -> str | None:
        """The highest issue key `where` matches: where the key ranges of a read end."""
        issues = self.search(f"{where} ORDER BY key DESC", ("updated",), 1).get("issues") or [None]
        return str(issues[0].get("key")) if isinstance(issues[0], dict) else None

    def count(self, jql: str) -> int | None:
        """Cloud's approximate count, or Server's exact `total` of an empty page."""
        if self.is_cloud:
            data = self.get("search/approximate-count", {"jql": jql}, post=True, what="the issue count")
            return count(data.get("count")) if isinstance(data, dict) else None
        data = self.get("search", {"jql": jql, "maxResults": 0, "fields": "key"}, what="the issue count")
        return count(data.get("total")) if isinstance(data, dict) else None

    def comments(self, issue: str, start: int) -> list[dict[str, Any]]:
        """The comments of one issue from `start` on (those the search did not embed), to JIRA's
        `total`, or only until there are more than the import keeps of one item (importers/limits.py)."""
        found: list[dict[str, Any]] = []
        while not enough_comments(start):
            data = self.get(f"issue/{issue}/comment", {"startAt": start, "maxResults": COMMENT_PAGE_SIZE},
                            version=self.api, what=f"the comments of {issue}")
            batch = data.get("comments") or [] if isinstance(data, dict) else []
            found.extend(batch)
            start += len(batch)
            if not batch or start >= page_total(data, TOOL, f"the comments of {issue}"):
                break
        return found

    def comments_by_id(self, ids: list[str]) -> list[dict[str, Any]]:
        """The comments among `ids` (at most COMMENT_LIST_SIZE) that exist and this account may see:
        `POST /rest/api/{2,3}/comment/list` with {"ids": [...]}, answered as a page bean whose
        `values` are comments (deleted ones are simply absent). Should JIRA ever answer part of them
        (`isLast` false), the rest are asked again until an answer brings nothing new."""
        wanted = [n for i in ids if (n := whole_number(str(i))) is not None]
        found: dict[str, dict[str, Any]] = {}
        while wanted:
            data = self.get("comment/list", {"ids": wanted}, version=self.api, post=True, what="comments by id")
            values = [v for v in (data.get("values") or [] if isinstance(data, dict) else []) if isinstance(v, dict)]
            fresh = {str(v.get("id")): v for v in values if str(v.get("id")) not in found}
            found.update(fresh)
            if not fresh or not isinstance(data, dict) or data.get("isLast", True):
                break
            wanted = [i for i in wanted if str(i) not in found]
        return list(found.values())

    def projects(self) -> list[dict[str, Any]]:
        """Every project the account can browse: paged on Cloud, one list on Server."""
        if not self.is_cloud:
            data = self.get("project", what="the project list")
            return [p for p in data if isinstance(p, dict)] if isinstance(data, list) else []
        found: list[dict[str, Any]] = []
        start = 0
        while True:
            data = self.get("project/search", {"startAt": start, "maxResults": PROJECT_PAGE_SIZE},
                            what="the project list")
            values = data.get("values") or [] if isinstance(data, dict) else []
            found.extend(v for v in values if isinstance(v, dict))
            start += len(values)
            if not values or data.get("isLast", True):
                return found

    def project(self, key: str) -> dict[str, Any]:
        try:
            return self.get(f"project/{key}", what=f"project {key!r}")
        except NotFoundError:
            raise NotFoundError(f"{TOOL} has no project {key!r} visible to this account: "
                                "check JIRA_DEFAULT_PROJECT or pick a project from the list") from None
