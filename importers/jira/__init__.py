"""The JIRA source: Cloud and Server/Data Center through the `jira` library's session.

A read is ordered JQL (`ORDER BY key ASC`: editing an issue during an import does not move it,
unlike ordering by `updated`). Comments come embedded in the search hits; only issues with more
than JIRA's 20 embedded comments cost one more request each. A big project is read as a few
key ranges at once (ranges.py), so round trips overlap; each range's next page is on its way
while a page is mapped, and memory stays flat however large the project.

Paging: Cloud's enhanced search hands out a nextPageToken; Server pages by key (`key > last`),
which unlike startAt cannot skip an issue when another one is deleted mid-read. The cursor
carries every range's last key, so a resume whose Cloud token has expired rebuilds the query.

Catch-up runs (the deletion sweep, jobs/sweep.py): the id listing is a search for `fields=id`,
5,000 issues a page on Cloud (1,000 on a default Server), paged by key; an issue missing from it
is looked up by id across projects, because a move keeps the id and changes key and project; the
stored comments of issues not re-read are checked 1,000 at a time with `POST /comment/list`,
because deleting a comment need not change its issue's `updated` (so a since-query misses it).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..base import Cursor, Setting, Source
from ..errors import ConfigError, NetworkError, NotFoundError, SourceError
from ..model import Comment, ItemFailure, Page, Project, StreamGap, WorkItem
from ..numbers import page_total, whole_number
from ..pageguard import PageGuard
from .jql import PageTokenRefused, jql_string
from .mapping import MAPPING_ERRORS, Context, map_comment, map_or_fail, parse_time
from .ranges import RANGES, KeyRange, from_cursor, split, started_at, to_cursor
from .settings import (
    CLOCK_MARGIN,
    COMMENT_LIST_SIZE,
    EPOCH,
    ID_PAGE_SIZE,
    ITEM_FIELDS,
    PREVIEW_FIELDS,
    RECHECK_MARGIN,
    SEARCH_PAGE_SIZE,
    TOOL,
    WORKERS,
)

if TYPE_CHECKING:
    from .client import JiraClient

PROJECT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,254}$")
ISSUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-[0-9]{1,18}$")  # ASCII digits that int() reads and JQL compares
_ISSUE_OF_COMMENT = re.compile(r"/issue/(\d+)/comment/\d+$")


class JiraSource(Source):
    name = "jira"
    label = "JIRA"
    url_setting = "base_url"
    settings = (
        Setting("base_url", "Site URL", "JIRA_BASE_URL",
                help="e.g. https://your-team.atlassian.net, or your Server/Data Center address"),
        Setting("user_email", "Account email", "JIRA_USER_EMAIL", required=False, account=True,
                help="Cloud: your Atlassian account email. Server/Data Center: your username, "
                     "or leave empty to use the token as a personal access token"),
        Setting("api_token", "API token", "JIRA_API_TOKEN", secret=True,
                help="Cloud: id.atlassian.com > Security > API tokens. Server/DC: a personal access token"),
        Setting("default_project", "Default project key", "JIRA_DEFAULT_PROJECT", required=False,
                help="e.g. ACME; preselected in the project list"),
    )

    def __init__(self, config=None, on_wait=None):
        super().__init__(config, on_wait)
        self._client: JiraClient | None = None

    @classmethod
    def default_project(cls, environ: dict[str, str] | None = None) -> str | None:
        value = cls.config_from_env(environ).get("default_project", "").strip()
        return value or None

    @property
    def client(self) -> JiraClient:
        """Built on first use, so a bad setting surfaces as a one-line ConfigError there. The `jira` library
        is imported here, with the first client: `cli.py run jira` only checks settings and never loads it;
        a worker loads it before it forks (`importers.load_client`)."""
        if self._client is None:
            from .client import JiraClient

            base_url = self.server_address()
            token = self.require("api_token")
            self._client = JiraClient(base_url, (self.config.get("user_email") or "").strip(), token, self.retry)
        return self._client

    def _context(self) -> Context:
        return Context(base_url=self.client.base_url, cloud=self.client.is_cloud)

    @staticmethod
    def _project_jql(project: str) -> str:
        key = (project or "").strip()
        if not PROJECT_KEY.match(key):
            raise ConfigError(f"JIRA project keys look like ACME (a letter, then letters, digits or _), not "
                              f"{project[:60]!r}", field="projects")
        return f"project = {jql_string(key)}"

    @classmethod
    def spelled(cls, name: str) -> str:
        """Upper case: JIRA project keys are upper-case letters, digits and _ (Atlassian's project key format), and
        JIRA takes a key in any case, so `acme` is ACME, the key its issues carry (ACME-1)."""
        return name.upper() if PROJECT_KEY.match(name) else name

    @classmethod
    def check_project(cls, key: str) -> None:
        cls._project_jql(key)

    def _where(self, project: str, since: datetime | None) -> str:
        where = self._project_jql(project)
        return f"{where} AND {self.client.jql_since(since)}" if since else where

    # -- the contract --------------------------------------------------------------------
    def check(self) -> str:
        client = self.client
        try:
            me = client.myself(retry_connect=False)
            info = client.server_info(retry_connect=False)
        except NotFoundError:
            raise NetworkError(f"{client.base_url} does not look like a JIRA site (no REST API there): "
                               "check JIRA_BASE_URL") from None
        name = me.get("displayName") or me.get("name") or me.get("accountId") or "unknown user"
        email = f" ({me['emailAddress']})" if me.get("emailAddress") else ""
        kind = {"Cloud": "Cloud", "DataCenter": "Data Center"}.get(str(info.get("deploymentType")), "Server")
        return f"{name}{email} on {client.base_url} (JIRA {kind} {info.get('version', '')})".replace(" )", ")")

    def projects(self) -> list[Project]:
        return [self._project(raw) for raw in self.client.projects()]

    def project(self, key: str) -> Project:
        self._project_jql(key)
        return self._project(self.client.project(key.strip()))

    def _project(self, raw: dict[str, Any]) -> Project:
        key = str(raw.get("key"))
        return Project(source=self.name, key=key, name=str(raw.get("name") or key),
                       url=f"{self.client.base_url}/browse/{key}", description=str(raw.get("description") or ""))

    def estimate(self, project: str, since: datetime | None = None) -> int | None:
        return self.client.count(self._where(project, since))

    def read(self, project: str, cursor: Cursor | None = None, since: datetime | None = None) -> Iterator[Page]:
        """The project's issues in key ranges (not in update order: each page says when the read began, see
        `Page.read_started_at`, so an issue read early and edited during the read is met by the next catch-up)."""
        return self._pages(self._where(project, since), cursor or {}, since, spread=True, marks=True)

    def fetch(self, project: str, external_ids: Iterable[str], keys: Mapping[str, str] | None = None) -> Iterator[Page]:
        """Re-read failed items by id, a page of ids per query, instead of scanning the project."""
        ids = sorted({i.strip() for i in external_ids if whole_number(i.strip()) is not None}, key=int)
        where = self._project_jql(project)
        for start in range(0, len(ids), SEARCH_PAGE_SIZE):
            yield from self._pages(f"{where} AND id in ({', '.join(ids[start:start + SEARCH_PAGE_SIZE])})", {}, None)

    # -- catch-up runs: what exists now ---------------------------------------------------
    def item_ids(self, project: str) -> Iterator[list[str]]:
        """Every issue id of `project`: `fields=id` searches of ID_PAGE_SIZE, `key > last ORDER BY key`.

        Cost: ceil(issues / 5,000) requests on Cloud, ceil(issues / 1,000) on a default Server. Paged by
        key rather than by token or startAt, so an issue deleted or moved mid-listing cannot make
        another one skipped (which would soft-delete it)."""
        where, last = self._project_jql(project), None
        guard = PageGuard(TOOL, f"the issue ids of {project}")
        while True:
            jql = f"{where} AND key > {jql_string(last)}" if last else where
            data = self.client.search(f"{jql} ORDER BY key ASC", ("id",), ID_PAGE_SIZE)
            issues = [i for i in data.get("issues") or [] if isinstance(i, dict) and i.get("id")]
            keys = [str(i.get("key")) for i in issues if ISSUE_KEY.match(str(i.get("key")))]
            if not issues or not keys:
                return
            yield [str(i["id"]) for i in issues]
            last = keys[-1]
            more = not data.get("isLast", True) if self.client.is_cloud else \
                page_total(data, TOOL, "the issue id listing") > len(issues)
            if not more:
                return
            guard.page(len(issues), last)

    def follow_moves(self, project: str, external_ids: list[str],
                     keys: Mapping[str, str] | None = None) -> Iterator[Page]:
        """The issues among `external_ids` that now live in another project: a JIRA move keeps the
        issue's id and gives it a key of the target project ("the issue is assigned a new key", Jira
        Cloud: Move an issue), so a search by id, without a project clause, finds it there. One
        search of up to SEARCH_PAGE_SIZE ids a request; deleted ids are simply not found."""
        ids = sorted({i.strip() for i in external_ids if whole_number(i.strip()) is not None}, key=int)
        client, ctx = self.client, self._context()
        pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="jira-moves")
        try:
            for chunk in range(0, len(ids), SEARCH_PAGE_SIZE):
                # a fixed set of ids: paged by token (Cloud) or startAt (Server) within the one query,
                # never by key, whose order across projects JQL does not promise
                jql = f"id in ({', '.join(ids[chunk:chunk + SEARCH_PAGE_SIZE])}) ORDER BY key ASC"
                token, start = None, 0
                guard = PageGuard(TOOL, "moved issues")
                while True:
                    data = client.search(jql, ITEM_FIELDS, SEARCH_PAGE_SIZE, token, start=start)
                    issues = [i for i in data.get("issues") or [] if isinstance(i, dict)]
                    if issues:
                        yield self._mapped(issues, pool, ctx, None, None)
                    start += len(issues)
                    token = data.get("nextPageToken") if client.is_cloud and not data.get("isLast", True) else None
                    more = bool(token) if client.is_cloud else page_total(data, TOOL, "moved issues") > start
                    if not issues or not more:
                        break
                    guard.page(len(issues), token or start)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def recheck_comments(self, project: str, comment_ids: list[str],
                         since: datetime | None = None) -> Iterator[Page]:
        """The stored comments that still exist, COMMENT_LIST_SIZE ids a `POST /comment/list`. Each
        answer names its issue only in its `self` URL (.../issue/{issueId}/comment/{id}), which is
        where the comment is joined from. A comment whose `updated` is older than `since` (less
        RECHECK_MARGIN, for edits made while the earlier run read) was applied by an earlier run: it
        comes back as an id in `comments_present`, its body not converted again (the conversion was
        most of a catch-up run's time); newer ones are mapped, so their edits are applied."""
        ctx = self._context()
        # (a `since` within the margin of year 1 has nothing before it: every comment is mapped)
        unchanged_before = since - RECHECK_MARGIN if since is not None and since.year > 1 else None
        for start in range(0, len(comment_ids), COMMENT_LIST_SIZE):
            found = self.client.comments_by_id(comment_ids[start:start + COMMENT_LIST_SIZE])
            page = Page()
            for raw in found:
                issue = _ISSUE_OF_COMMENT.search(str(raw.get("self") or ""))
                try:
                    if unchanged_before is not None and parse_time(raw.get("updated")) < unchanged_before:
                        page.comments_present.append(str(raw["id"]))
                        continue
                    if issue is None:
                        raise ValueError(f"its self URL {str(raw.get('self'))[:100]!r} names no issue")
                    page.comments.append(map_comment(raw, issue.group(1), ctx))
                except MAPPING_ERRORS as exc:  # it exists: reported, never taken for deleted
                    page.failures.append(ItemFailure(external_id=str(raw.get("id")), key=f"comment {raw.get('id')}",
                                                     reason=f"JIRA comment could not be read: {exc}"[:500]))
            yield page

    def preview(self, project: str, limit: int = 20, since: datetime | None = None) -> list[WorkItem]:
        """One small search without bodies or comments: what the preview table shows."""
        data = self.client.search(f"{self._where(project, since)} ORDER BY key ASC", PREVIEW_FIELDS, limit)
        ctx = self._context()
        results = (map_or_fail(raw, [], ctx) for raw in data.get("issues") or [])
        items = [r[0] for r in results if isinstance(r, tuple)]
        return [i for i in items if since is None or i.updated_at >= since][:limit]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- reading -------------------------------------------------------------------------
    def _search(self, where: str, anchor: str | None, upto: str | None, token: str | None) -> dict[str, Any]:
        """One page of the query for issues after the key `anchor` up to `upto`, at Cloud's page `token`.

        A Cloud token is only valid with the exact query that issued it, so the anchor stays
        fixed while tokens are followed; Server has no tokens and moves the anchor every page.
        """
        jql = f"{where} AND key > {jql_string(anchor)}" if anchor else where
        jql = f"{jql} AND key <= {jql_string(upto)}" if upto else jql
        return self.client.search(f"{jql} ORDER BY key ASC", ITEM_FIELDS, SEARCH_PAGE_SIZE, token)

    def _page(self, where: str, keys: KeyRange) -> tuple[dict[str, Any], str | None]:
        """The next page of a key range, and the anchor of the query that answered it."""
        if keys.token:
            try:
                return self._search(where, keys.anchor, keys.upto, keys.token), keys.anchor
            except PageTokenRefused:
                pass  # tokens expire: rebuild the query from the last key read
        return self._search(where, keys.after, keys.upto, None), keys.after

    def _pages(self, where: str, cursor: Cursor, since: datetime | None, spread: bool = False,
               marks: bool = False) -> Iterator[Page]:
        """Pages of every key range as they arrive; `spread` cuts a fresh read into ranges; a read that `marks`
        the next catch-up's start says when it began (the server's time, kept in the cursor across resumes)."""
        client = self.client
        ctx = self._context()
        ranges = from_cursor(cursor)
        began = self._began(cursor, since) if marks else None
        for keys in ranges:
            for key in (keys.anchor, keys.after, keys.upto):
                if key is not None and not ISSUE_KEY.match(str(key)):
                    raise ConfigError(f"the saved JIRA cursor is not valid ({key!r}): restart the import")
        spread = spread and not cursor
        pool = ThreadPoolExecutor(max_workers=WORKERS + RANGES, thread_name_prefix="jira-read")
        try:
            pending: dict[Future, KeyRange] = {pool.submit(self._page, where, k): k for k in ranges if not k.done}
            guard = PageGuard(TOOL, "issues")
            highest = pool.submit(client.highest_key, where) if spread else None  # alongside the first page
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                future = min(done, key=lambda f: ranges.index(pending[f]))  # a stable order when several are ready
                keys = pending.pop(future)
                data, anchor = future.result()
                issues = data.get("issues") or []
                last = next((str(i["key"]) for i in reversed(issues)
                             if isinstance(i, dict) and ISSUE_KEY.match(str(i.get("key")))), None)
                if client.is_cloud:
                    keys.anchor, keys.token = anchor, data.get("nextPageToken") if not data.get("isLast") else None
                    more = bool(keys.token)
                else:
                    more = page_total(data, TOOL, "a search page of issues") > len(issues)
                fresh = len(issues) if last is not None and last != keys.after else 0  # issues past the last read
                keys.after = last or keys.after
                keys.done = not (issues and last and more)
                if not keys.done:  # a range's next query: its anchor and key read last, and Cloud's token
                    guard.page(fresh, (keys.upto, keys.anchor, keys.after, keys.token))
                if highest is not None and last is not None and not keys.done:
                    top, highest = highest.result(), None
                    if top and ISSUE_KEY.match(top):
                        at = ranges.index(keys)
                        ranges[at:at + 1] = split(keys, last, top, len(issues))
                for follow in ranges:
                    if not follow.done and follow not in pending.values():
                        pending[pool.submit(self._page, where, follow)] = follow
                if issues:
                    page = self._mapped(issues, pool, ctx, since, to_cursor(ranges, began))
                    page.read_started_at = began
                    yield page
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _began(self, cursor: Cursor, since: datetime | None) -> datetime:
        """When the read `cursor` resumes began, in UTC: the time kept in the cursor, never later than the server's
        clock now; for a fresh read the server's clock (or, from a server that does not say, ours an hour back, more
        than clocks usually differ). A resumed read whose cursor does not say, or says a time to come (saved by an
        older release, or altered), began no later than its `since`, or at the epoch: the next catch-up then re-reads
        more, never less."""
        now = self.client.server_time() or datetime.now(UTC) - CLOCK_MARGIN
        if not cursor:
            return now
        kept = started_at(cursor)
        return kept if kept is not None and kept <= now else (since or EPOCH).astimezone(UTC)

    def _mapped(self, issues: list, pool: ThreadPoolExecutor, ctx: Context, since: datetime | None,
                cursor: Cursor | None) -> Page:
        """One page of search hits mapped, with the comments JIRA did not embed fetched on `pool`;
        every issue comes with its whole comment list (`comments_complete`)."""
        page = Page(cursor=cursor, comments_complete=True)
        extra = {i: pool.submit(self.client.comments, str(raw["key"]), start)
                 for i, raw in enumerate(issues) if (start := _missing_comments(raw)) is not None}
        for i, raw in enumerate(issues):
            result = self._map(raw, extra.get(i), ctx, page.gaps)
            if not isinstance(result, tuple):
                page.failures.append(result)
            elif since is None or result[0].updated_at >= since:
                page.items.append(result[0])
                page.comments.extend(result[1])
            else:
                page.before_since += 1
        return page

    @staticmethod
    def _map(raw: Any, extra: Future | None, ctx: Context,
             gaps: list[StreamGap]) -> tuple[WorkItem, list[Comment]] | ItemFailure:
        """Map one issue with the comments fetched for it; an issue deleted meanwhile fails alone.
        Comments that cannot be fetched (the server keeps failing) keep the issue with the comments
        the search embedded, and a gap that a retry fills (issue 13)."""
        try:
            comments = extra.result() if extra is not None else []
        except NotFoundError as exc:
            return ItemFailure(external_id=str(raw.get("id")), key=str(raw.get("key")), reason=str(exc))
        except SourceError as exc:
            comments = []
            gaps.append(StreamGap(stream="comments", item_external_id=str(raw.get("id")), key=str(raw.get("key")),
                                  reason=str(exc)))
        return map_or_fail(raw, comments, ctx)


def _missing_comments(raw: Any) -> int | None:
    """Where the comments JIRA did not embed start, or None when the search sent them all."""
    try:
        embedded = raw["fields"]["comment"]
        have = int(embedded.get("startAt") or 0) + len(embedded["comments"])
        return have if int(embedded["total"]) > have and ISSUE_KEY.match(str(raw["key"])) else None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):  # int(Infinity): OverflowError
        return None  # the mapping reports what is wrong with this issue
