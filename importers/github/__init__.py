"""The GitHub source: a repository's issues and their comments, read in bulk pages.

A read has two phases, because GitHub lists issues and comments as two repo-wide streams:
first every issue page (`/repos/{o}/{r}/issues`, oldest update first), then every comment
page (`/repos/{o}/{r}/issues/comments`, oldest update first, in `since` windows of numbered
pages fetched a few at once: comments.py), each comment joined to its issue by number. That is
the fewest requests GitHub allows: ceil(issues and PRs / 100) + ceil(comments / 100) + one a
window of 3,000 comments (its first page repeats the last second of the window before), never
one request per issue. The cursor is the phase plus the next-page link, so a resumed
read continues exactly after the last page it yielded. Pull requests (which the issues
listing mixes in) are skipped unless the config sets `include_pull_requests`.

The deletion sweep of a catch-up run (`item_ids`, `recheck_comments`) walks GraphQL instead
(graphql.py): issue ids with their comment ids nested, 100 issues a request; REST where a server
has no GraphQL.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..base import Cursor, Setting, Source
from ..errors import AuthError, ConfigError, NetworkError, NotFoundError, RateLimitedError, SourceError
from ..model import Comment, ItemFailure, Page, Project, StreamGap, WorkItem
from ..numbers import whole_number
from ..pageguard import PageGuard
from ..relay import is_id
from .comments import CommentWalk
from .graphql import GraphQLUnavailable, IdWalk
from .index import IssueIndex
from .mapping import is_pull_request, issue_number, map_comment, map_issue, repository_of
from .paging import DeepPageRefused, LinkPaginator
from .settings import DEFAULT_API_URL, PAGE_SIZE, TOOL, URL_ENV

if TYPE_CHECKING:
    from .client import GitHubClient

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
ISSUES, COMMENTS, DONE = "issues", "comments", "done"


def _unmapped_gap(item_id: str, key: str, reasons: list[str], resume: dict | None = None) -> StreamGap:
    """Comments of issue `key` that could not be mapped, in one line naming the issue and the first reason."""
    more = f" (and {len(reasons) - 1:,} more of its comments)" if len(reasons) > 1 else ""
    return StreamGap(stream="comments", item_external_id=item_id, key=key, reason=f"{key}: {reasons[0]}{more}",
                     resume=resume)


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("since must be an aware datetime")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number_in(repo: str, key: str) -> int | None:
    """The issue number of a key of this repository ("owner/repo#123"), else None (ASCII digits only, at
    most 20: "#١٢" or "#²" is no number, never read as 12 or a ValueError)."""
    prefix, _, number = key.rpartition("#")
    return int(number) if prefix.lower() == repo.lower() and is_id(number) else None


def _truthy(value: Any) -> bool:
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


class GitHubSource(Source):
    name = "github"
    label = "GitHub"
    url_setting = "api_url"
    settings = (
        Setting("token", "Personal access token", "GITHUB_TOKEN", secret=True,
                help="A classic token with `repo` scope, or a fine-grained token with read access to issues"),
        Setting("api_url", "API URL", URL_ENV, required=False, default=DEFAULT_API_URL,
                help="https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server"),
    )

    def __init__(self, config: dict[str, str] | None = None, on_wait=None):
        super().__init__(config, on_wait)
        self.include_pull_requests = _truthy((config or {}).get("include_pull_requests"))
        self._client: GitHubClient | None = None
        self._comments_of: tuple[str, dict[str, Comment | tuple[str, str]]] | None = None  # recheck_comments' REST read
        self._comment_ids: tuple[str, set[str]] | None = None  # the comment ids item_ids' GraphQL walk found
        self._graphql_refused: str | None = None  # why GraphQL cannot serve the deletion sweep here (REST then)
        self._numbers: tuple[str, dict[str, int]] | None = None  # issue id -> number, as item_ids listed them

    @property
    def client(self) -> GitHubClient:
        """Built on first use, so a bad setting surfaces as a one-line error where it is used."""
        if self._client is None:
            url = self.server_address()
            self._client = self._new_client(url)
        return self._client

    @staticmethod
    def _repo(project: str) -> str:
        repo = (project or "").strip().strip("/")
        if not _REPO.match(repo):
            raise ConfigError(f"{TOOL} projects are repositories named owner/name, not {project[:60]!r}",
                              field="projects")
        return repo

    @classmethod
    def check_project(cls, key: str) -> None:
        cls._repo(key)

    # -- account and projects ------------------------------------------------------------
    def check(self) -> str:
        url = self.client.base_url
        try:
            _, user = self.client.get("/user", what="the signed-in user", retry_unreachable=False)
        except NotFoundError:
            raise NetworkError(f"{url} does not answer like the {TOOL} API (HTTP 404 for /user): check {URL_ENV} "
                               "(GitHub Enterprise: https://HOST/api/v3)") from None
        if not isinstance(user, dict) or not user.get("login"):
            raise NetworkError(f"{url} does not answer like the {TOOL} API: check {URL_ENV}")
        who = user.get("name") or user.get("email")
        return f"{user['login']} ({who}) on {url}" if who else f"{user['login']} on {url}"

    @staticmethod
    def _project(raw: Any) -> Project:
        if not isinstance(raw, dict) or not raw.get("full_name"):
            raise NetworkError(f"{TOOL} answered something that is not a repository: check {URL_ENV}")
        return Project(source="github", key=raw["full_name"], name=raw["full_name"],
                       url=raw.get("html_url"), description=raw.get("description") or "")

    def projects(self) -> list[Project]:
        """The repositories the token can see (`/user/repos`: owned, collaborator, organisation)."""
        first = "/user/repos?" + urlencode({"per_page": PAGE_SIZE, "sort": "full_name"})
        return [self._project(raw) for data, _ in self._walk(first, "repositories") for raw in data]

    def project(self, key: str) -> Project:
        repo = self._repo(key)
        _, raw = self.client.get(f"/repos/{repo}", what=f"repository {repo!r}")
        return self._project(raw)

    def estimate(self, project: str, since: datetime | None = None) -> int | None:
        """One search request: `total_count` of the repository's issues (`open_issues_count`
        would count open issues and pull requests only). None when search is unavailable."""
        repo = self._repo(project)
        query = f"repo:{repo}" + ("" if self.include_pull_requests else " is:issue")
        if since is not None:
            query += f" updated:>={_iso(since)}"
        try:
            _, data = self.client.get("/search/issues", {"q": query, "per_page": 1}, what="the search API")
        except (AuthError, ConfigError, RateLimitedError):
            raise
        except SourceError:
            # a missing repository (search answers 422) or a search API that is off or failing
            # (some GitHub Enterprise servers): tell the first apart, let the second show no total
            self.project(repo)
            return None
        count = data.get("total_count") if isinstance(data, dict) else None
        return count if isinstance(count, int) else None

    # -- reading -------------------------------------------------------------------------
    def read(self, project: str, cursor: Cursor | None = None, since: datetime | None = None) -> Iterator[Page]:
        repo = self._repo(project)
        phase, start = self._parse_cursor(cursor)
        return self._read(repo, phase, start, since)

    def _read(self, repo: str, phase: str, start: str | None, since: datetime | None) -> Iterator[Page]:
        index = IssueIndex()
        if start is not None or phase == COMMENTS:
            self._rebuild_index(repo, since, index, until=start if phase == ISSUES else None)
        if phase == ISSUES:
            yield from self._issue_pages(repo, start, since, index)
            phase, start = COMMENTS, None
        if phase == COMMENTS:
            yield from self._comment_pages(repo, start, since, index)

    def _rebuild_index(self, repo: str, since: datetime | None, index: IssueIndex, until: str | None) -> None:
        """A resumed read re-reads the issue pages before its cursor (all of them in the comment
        phase) to learn the number -> id join, so comments of earlier pages still find their
        issue. A resume thus costs the requests of a full read, never more."""
        for page in self._issue_pages(repo, None, since, index):
            if until is not None and (page.cursor or {}).get("next") == until:
                return

    def preview(self, project: str, limit: int = 20, since: datetime | None = None) -> list[WorkItem]:
        """The first issues only: no comment phase (usually one request)."""
        items: list[WorkItem] = []
        for page in self._issue_pages(self._repo(project), None, since, IssueIndex()):
            items.extend(page.items)
            if len(items) >= limit:
                break
        return items[:limit]

    def item_ids(self, project: str) -> Iterator[list[str]]:
        """Every issue id of the repository now, for the deletion sweep.

        Over GraphQL (graphql.py): one cursor-paged walk of the issues (and of the pull requests when
        imported), 100 a request, each with its comments' ids nested, so the comment check
        (`recheck_comments`) costs nothing more: ceil(issues / 100) (+ ceil(pull requests / 100))
        requests, plus one per further 100 comments of the few issues with more than 100. The comment
        ids are kept for this run only once the walk is complete (a walk that breaks off raises).

        Where GraphQL is not there (HTTP 404 for the GraphQL URL, or a schema without the fields we
        read), the REST issue listing (`state=all`, 100 a page, cursor-paged): ceil((issues + pull
        requests) / 100) requests, and the comment check then reads the repository comment listing
        whole (both said on the job: `sweep_notes`). A transferred issue is in neither listing of its old
        repository."""
        repo = self._repo(project)
        numbers: dict[str, int] = {}
        self._numbers = (repo, numbers)
        if self._graphql_refused is None:
            present: set[str] = set()
            walked = False
            walk = IdWalk(self.client, repo, self.include_pull_requests)
            walk.numbers = numbers
            try:
                for items, comment_ids in walk.pages():
                    walked = True
                    present.update(comment_ids)
                    yield items
            except GraphQLUnavailable as exc:
                if walked:  # the server answered GraphQL, then stopped: never mix two half listings
                    raise SourceError(f"{exc}; stopped in the middle of the deletion check") from None
                self._graphql_refused = str(exc)
            else:
                self._comment_ids = (repo, present)
                return
        params = {"state": "all", "per_page": PAGE_SIZE, "sort": "created", "direction": "asc"}
        for data, _ in self._walk(f"/repos/{repo}/issues?{urlencode(params)}", f"issues of repository {repo!r}"):
            wanted = [raw for raw in data if isinstance(raw, dict) and raw.get("id") is not None
                      and (self.include_pull_requests or not is_pull_request(raw))]
            numbers.update({str(raw["id"]): raw["number"] for raw in wanted
                            if isinstance(raw.get("number"), int) and not isinstance(raw["number"], bool)})
            yield [str(raw["id"]) for raw in wanted]

    def follow_moves(self, project: str, external_ids: list[str],
                     keys: Mapping[str, str] | None = None) -> Iterator[Page]:
        """The issues among `external_ids` (missing from the repository's listing) that were
        transferred, followed by their stored key: GitHub answers the old URL with 301 Moved
        Permanently to the issue in its new repository, a new issue with a new number and id
        (docs.github.com/rest/issues/issues#get-an-issue), which PyGithub follows within the one
        configured origin (importers/outbound.py refuses any other). Each is yielded under its new id,
        key and repository with `moved_from_id` set, so the store keeps one item, and with its whole
        comment list (retained by the transfer). Deleted issues answer 410, unreadable ones 404: not
        yielded, so soft-deleted. Cost: one request per missing id (two where it redirects) plus
        ceil(comments / 100) per transferred issue."""
        repo = self._repo(project)
        for external_id in external_ids:
            key = (keys or {}).get(external_id, "")
            number = whole_number(key.rpartition("#")[2])
            if number is None:
                continue
            try:
                _, raw = self.client.get(f"/repos/{repo}/issues/{number}", what=f"issue {key}")
            except NotFoundError:
                continue
            if not isinstance(raw, dict) or raw.get("id") is None or \
                    (is_pull_request(raw) and not self.include_pull_requests):
                continue
            yield self._with_comments(raw, repository_of(raw) or repo, external_id)

    def fetch(self, project: str, external_ids: Iterable[str],
              keys: Mapping[str, str] | None = None) -> Iterator[Page]:
        """Re-read these issues (failed ones, gaps' issues, the deletion sweep's), each by number with
        its whole comment list: REST addresses an issue by number only (`GET /repos/{repo}/issues/{n}`,
        then `/issues/{n}/comments`, docs.github.com/rest/issues), never by id.

        An id's number comes from this run's `item_ids` walk (an issue new to the store), else from its
        key in `keys` ("owner/repo#123": a failure's, a gap's or a stored item's). Cost: 2 requests per
        issue, plus ceil(comments / 100) - 1 for an issue with more than 100 comments. A comment list
        that breaks off keeps the issue and what was read, with a gap for the rest (`comments_complete`
        only where the whole list was read). An issue no longer at that number here (deleted: 410;
        transferred: its number now redirects to another issue) is not yielded. Ids with no known
        number are found by the default's filtered full read, for those ids only: as costly as a full
        import (ceil(issues / 100) + ceil(comments / 100) requests), so callers give keys."""
        repo = self._repo(project)
        walked = self._numbers[1] if self._numbers is not None and self._numbers[0] == repo else {}
        unknown: list[str] = []
        for external_id in dict.fromkeys(external_ids):
            number = walked.get(external_id) or _number_in(repo, (keys or {}).get(external_id, ""))
            if number is None:
                unknown.append(external_id)
                continue
            try:
                _, raw = self.client.get(f"/repos/{repo}/issues/{number}", what=f"issue {repo}#{number}")
            except NotFoundError:
                continue
            if not isinstance(raw, dict) or str(raw.get("id")) != external_id or \
                    (is_pull_request(raw) and not self.include_pull_requests):
                continue
            yield self._with_comments(raw, repo, external_id, keep_gaps=True)
        if unknown:
            yield from super().fetch(project, unknown)

    def fill(self, project: str, gaps: list[StreamGap]) -> Iterator[Page]:
        """Re-read what `gaps` name: issues by number with their comments (`fetch`, 2 requests an issue),
        and a repository comment listing that broke off from where it stopped, its comments joined to the
        stored issues by key. Unlike a resumed `read`, which re-reads every issue page to rebuild its
        number -> id join (ceil(issues / 100) requests), this costs the remaining comment pages only."""
        repo = self._repo(project)
        ids = sorted({g.item_external_id for g in gaps if g.item_external_id})
        if ids:
            yield from self.fetch(project, ids, {g.item_external_id: g.key for g in gaps if g.item_external_id})
        for gap in gaps:
            if gap.item_external_id or gap.resume is None:
                continue
            phase, start = self._parse_cursor(gap.resume)
            if phase == COMMENTS and start is not None:
                yield from self._comment_pages(repo, start, None, IssueIndex(), by_key=True)
            else:
                yield from self.read(project, cursor=gap.resume)

    def _with_comments(self, raw: dict, repo: str, old_id: str, keep_gaps: bool = False) -> Page:
        """One issue with its whole comment list (comments_complete). A transferred issue is yielded under
        its new id with `moved_from_id`, so the writer re-keys it. With `keep_gaps`, a comment list that
        breaks off keeps the issue and the comments read, with a gap for the rest (else it raises)."""
        item = map_issue(raw, repo)
        if isinstance(item, ItemFailure):
            return Page(failures=[item])
        if item.external_id != old_id:
            item.moved_from_id = old_id
        first = f"/repos/{repo}/issues/{int(raw['number'])}/comments?{urlencode({'per_page': PAGE_SIZE})}"
        comments: list[Comment] = []
        unmapped: list[str] = []
        try:
            for data, _ in self._walk(first, f"comments of issue {item.key}"):
                for one in data:
                    comment = map_comment(one, item.external_id)
                    if isinstance(comment, Comment):
                        comments.append(comment)
                    else:
                        unmapped.append(comment)
        except (NetworkError, NotFoundError, DeepPageRefused) as exc:
            if not keep_gaps:
                raise
            gap = StreamGap(stream="comments", item_external_id=item.external_id, key=item.key, reason=str(exc))
            return Page(items=[item], comments=comments, gaps=[gap])
        if unmapped:  # the issue is kept with the comments that map; the rest is a gap a retry re-reads
            return Page(items=[item], comments=comments, gaps=[_unmapped_gap(item.external_id, item.key, unmapped)])
        return Page(items=[item], comments=comments, comments_complete=True)

    def recheck_comments(self, project: str, comment_ids: list[str],
                         since: datetime | None = None) -> Iterator[Page] | None:
        """Which stored comments still exist, for the deletion sweep: GitHub does not move an
        issue's `updated_at` when one of its comments is deleted, so a catch-up run would never
        re-read it.

        Over GraphQL the answer is the comment ids `item_ids` walked with the issues (no request of its
        own; the sweep always lists ids first), as `Page.comments_present`: ids only, because edits
        need no check here. An edit moves the comment's `updated_at`, so the catch-up run's read already
        brought it from the repository comment listing with `since=` (`_comment_pages`, joined to the
        stored issue by key), and a `--full` run reads every comment.

        Without GraphQL, the repository's comment listing read whole (REST has no comments-by-id
        listing; one issue's listing costs a request per issue): once per run, in `since` windows like
        a full read's comment phase (comments.py), ceil(comments and PR comments / 100) requests plus
        one a window of 3,000 (`sweep_notes` says so on the job). Comments are joined to
        their issue by key; one that cannot be mapped exists (never a deletion) and is a comments gap of its
        issue, as in a read. A
        listing that breaks off raises: a partial listing must not be taken for deletions."""
        repo = self._repo(project)
        if self._graphql_refused is None and (self._comment_ids is None or self._comment_ids[0] != repo):
            for _ in self.item_ids(project):  # called on its own: walk now (or learn GraphQL is not there)
                pass
        if self._graphql_refused is None and self._comment_ids is not None and self._comment_ids[0] == repo:
            present = self._comment_ids[1]
            return iter([Page(comments_present=[eid for eid in comment_ids if eid in present])])
        params = {"per_page": PAGE_SIZE, "sort": "updated", "direction": "asc"}
        first = f"/repos/{repo}/issues/comments?{urlencode(params)}"
        if self._comments_of is None or self._comments_of[0] != repo:
            found: dict[str, Comment | tuple[str, str]] = {}  # comment id -> it, or (its issue's key, why not)
            for data, _ in self._comment_walk(repo).pages(first):
                for raw in data:
                    if not isinstance(raw, dict) or raw.get("id") is None:
                        continue
                    eid, number = str(raw["id"]), issue_number(raw.get("issue_url"))
                    comment = map_comment(raw, "", item_key=f"{repo}#{number}")
                    found[eid] = comment if isinstance(comment, Comment) else (f"{repo}#{number}", comment)
            self._comments_of = (repo, found)
        rows = [(eid, self._comments_of[1][eid]) for eid in comment_ids if eid in self._comments_of[1]]
        unmapped: dict[str, list[str]] = {}  # issue key -> why its comments could not be mapped
        for _, row in rows:
            if isinstance(row, tuple):
                unmapped.setdefault(row[0], []).append(row[1])
        return iter([Page(comments=[row for _, row in rows if isinstance(row, Comment)],
                          comments_present=[eid for eid, row in rows if isinstance(row, tuple)],
                          gaps=[self._recheck_gap(repo, key, reasons, first) for key, reasons in unmapped.items()])])

    def _recheck_gap(self, repo: str, key: str, reasons: list[str], listing: str) -> StreamGap:
        """A comment the REST deletion check found but cannot map: it exists (never a deletion) and is a
        comments gap of its issue, as in a read (a retry re-reads the issue by number, whole); where this
        run did not list the issue's id, the gap re-reads the repository comment listing joined by key."""
        number = _number_in(repo, key)
        walked = self._numbers[1] if self._numbers is not None and self._numbers[0] == repo else {}
        item_id = next((i for i, n in walked.items() if n == number), "") if number is not None else ""
        return _unmapped_gap(item_id, key, reasons, None if item_id else {"phase": COMMENTS, "next": listing})

    def sweep_notes(self, project: str) -> list[str]:
        """The REST fallback of this run's deletion check, said on the job also when the repository had
        no stored comments to re-check (then only the issue listing was read over REST)."""
        repo = self._repo(project)
        if self._graphql_refused is None or self._numbers is None or self._numbers[0] != repo:
            return []
        if self._comments_of is not None and self._comments_of[0] == repo:
            return [f"{self._graphql_refused}: the check for deleted issues and comments read the REST issue "
                    f"listing and the whole REST comment listing of {repo} instead"]
        return [f"{self._graphql_refused}: the check for deleted issues read the REST issue listing of {repo} "
                "instead"]

    def _new_client(self, url: str) -> GitHubClient:
        """A client of PyGithub's, imported here: only a read needs the library (see client.py)."""
        from .client import GitHubClient

        return GitHubClient(url, self.require("token"), self.retry)

    def _comment_walk(self, repo: str) -> CommentWalk:
        what = f"comments of repository {repo!r}"
        return CommentWalk(self.client, lambda: self._new_client(self.client.base_url),
                           lambda client, path: self._get_page(client, path, what), what)

    def _parse_cursor(self, cursor: Cursor | None) -> tuple[str, str | None]:
        if not cursor:
            return ISSUES, None
        phase, start = cursor.get("phase"), cursor.get("next")
        if phase not in (ISSUES, COMMENTS, DONE) or not (start is None or isinstance(start, str)):
            raise ConfigError(f"{TOOL}: the saved read position {cursor!r} is not one this connector wrote; "
                              "restart the import from the beginning")
        if start is not None:
            start = LinkPaginator(self.client.base_url, start).current
        return phase, start

    def _walk(self, first: str, what: str) -> Iterator[tuple[list, str | None]]:
        """(page JSON list, path of the next page or None) for each page from `first` on."""
        paginator, guard = LinkPaginator(self.client.base_url, first), PageGuard(TOOL, what)
        while paginator.current is not None:
            headers, data = self._get_page(self.client, paginator.current, what)
            following = paginator.advance(headers)
            guard.page(len(data), following)
            yield data, following

    def _issue_pages(self, repo: str, start: str | None, since: datetime | None,
                     index: IssueIndex) -> Iterator[Page]:
        params = {"state": "all", "per_page": PAGE_SIZE, "sort": "updated", "direction": "asc"}
        if since is not None:
            params["since"] = _iso(since)
        first = start or f"/repos/{repo}/issues?{urlencode(params)}"
        for data, next_path in self._walk(first, f"issues of repository {repo!r}"):
            items: list[WorkItem] = []
            failures: list[ItemFailure] = []
            for raw in data:
                if is_pull_request(raw) and not self.include_pull_requests:
                    continue
                result = map_issue(raw, repo)
                if isinstance(result, ItemFailure):
                    failures.append(result)
                    continue
                items.append(result)
                if (issue_id := whole_number(result.external_id)) is not None:
                    index.add(int(raw["number"]), issue_id)
            cursor = {"phase": ISSUES, "next": next_path} if next_path else {"phase": COMMENTS, "next": None}
            yield Page(items=items, failures=failures, cursor=cursor)

    def _comment_pages(self, repo: str, start: str | None, since: datetime | None,
                       index: IssueIndex, by_key: bool = False) -> Iterator[Page]:
        """Repo-wide comment pages; comments of pull requests and unread issues are dropped.

        A catch-up read (`since`) and a fill (`by_key`) join a comment whose issue this read did not
        list to the stored issue by key instead; the writer drops those that find none (pull requests).

        A listing that breaks off (the server keeps failing, or a page is gone) keeps what was
        read: the rest is a gap that resumes here, so a retry reads only the remainder."""
        params = {"per_page": PAGE_SIZE, "sort": "updated", "direction": "asc"}
        if since is not None:
            params["since"] = _iso(since)
        first = start or f"/repos/{repo}/issues/comments?{urlencode(params)}"
        walk = self._comment_walk(repo)
        current = first
        try:
            for data, next_path in walk.pages(first):
                comments: list[Comment] = []
                unmapped: dict[tuple[str, str], list[str]] = {}  # (issue id or "", its key) -> reasons
                for raw in data:
                    number = issue_number(raw.get("issue_url")) if isinstance(raw, dict) else None
                    item_id = index.get(number)
                    if item_id:
                        comment: Comment | str | None = map_comment(raw, item_id)
                    elif (since is not None or by_key) and number is not None:
                        # a catch-up run lists comments changed since, on issues it may not have re-read:
                        # joined by key to the stored issue (a pull request's finds none and is dropped)
                        comment = map_comment(raw, "", item_key=f"{repo}#{number}")
                    else:
                        comment = None
                    if isinstance(comment, Comment):
                        comments.append(comment)
                    elif comment is not None:
                        unmapped.setdefault((str(item_id or ""), f"{repo}#{number}"), []).append(comment)
                # an issue this read listed: a gap of its comments (a retry re-reads it by number, whole);
                # one joined by key only (its id unknown here): a gap that re-reads the listing from this page
                gaps = [_unmapped_gap(item_id, key, reasons, None if item_id else {"phase": COMMENTS, "next": current})
                        for (item_id, key), reasons in unmapped.items()]
                cursor = {"phase": COMMENTS, "next": next_path} if next_path else {"phase": DONE, "next": None}
                yield Page(comments=comments, gaps=gaps, cursor=cursor)
                current = next_path or current
        except (NetworkError, NotFoundError, DeepPageRefused) as exc:
            gap = StreamGap(stream="comments", reason=str(exc), resume={"phase": COMMENTS, "next": current})
            yield Page(gaps=[gap], cursor={"phase": DONE, "next": None})

    @staticmethod
    def _get_page(client: GitHubClient, path: str, what: str) -> tuple[dict[str, str], list]:
        headers, data = client.get(path, what=what)
        if not isinstance(data, list):
            raise NetworkError(f"{TOOL} answered something that is not a list of {what}: check {URL_ENV}")
        return headers, data

    def close(self) -> None:
        self._comment_ids = self._comments_of = self._numbers = None  # what a run found is not the next run's truth
        if self._client is not None:
            self._client.close()
            self._client = None
