"""The GitLab source (gitlab.com or self-managed) over python-gitlab.

Issues are read over GraphQL (`graphql.py`): 100 a request, oldest update first, each with its
first notes nested, so comments cost no request per issue; the cursor is GitLab's `endCursor`
and an incremental run is `updatedAfter`. A server without GraphQL (older self-managed, or one
whose schema lacks a field we read) is read over REST instead, and the job says so: issues 100 a
page with keyset pagination on `updated_at` (the cursor is the next page's query), and the user
notes of each issue that has some (`user_notes_count`), a few at a time in parallel. People carry
no email: GitLab's issue and note payloads do not show one, and looking every user up would cost
a rate-limited request per person (300 per 10 minutes on gitlab.com).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..base import Cursor, Setting, Source
from ..errors import ConfigError, NetworkError, NotFoundError, SourceError
from ..limits import enough_comments
from ..model import Comment, ItemFailure, Page, Project, StreamGap, WorkItem
from ..numbers import count, whole_number
from ..pageguard import PageGuard
from .graphql import GraphQLUnavailable, IssueQuery
from .mapping import map_issue, node_comment, node_item
from .settings import (
    APIS,
    DEFAULT_URL,
    ISSUE_QUERY,
    NOTE_QUERY,
    NOTE_WORKERS,
    PAGE_SIZE,
    PROJECT_QUERY,
    TOOL,
    Query,
    project_path,
)

if TYPE_CHECKING:
    from .client import GitLabClient

GRAPHQL, REST = "graphql", "rest"
# Comment reads that lose only the comments: the issue went away meanwhile, or the server kept
# failing. Credentials, rate limits and settings still end the part (they would fail every read).
UNREADABLE = (NotFoundError, NetworkError)


def _iso(since: datetime) -> str:
    aware = since if since.tzinfo else since.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _issue_query(since: datetime | None) -> Query:
    """The first issue page's query; `updated_after` is inclusive, as incremental runs need."""
    return {**ISSUE_QUERY, **({"updated_after": _iso(since)} if since else {})}


class GitLabSource(Source):
    name = "gitlab"
    label = "GitLab"
    url_setting = "url"
    settings = (
        Setting("token", "Access token", "GITLAB_TOKEN", secret=True,
                help="a personal, group or project access token with the read_api scope"),
        Setting("url", "GitLab URL", "GITLAB_URL", required=False, default=DEFAULT_URL,
                help="https://gitlab.com, or your self-managed server's address"),
        Setting("api", "GitLab API", "GITLAB_API", required=False, default="auto", choices=APIS,
                help="auto: GraphQL (comments come with their issues), REST on a server without it; "
                     "or graphql, or rest"),
    )

    def __init__(self, config: dict[str, str] | None = None, on_wait=None):
        super().__init__(config, on_wait)
        self._client: GitLabClient | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._notes_of: tuple[str, set[str] | dict[str, Comment]] | None = None  # the sweep's note ids, or one read

    @property
    def api(self) -> str:
        """The API setting: auto, graphql or rest (checked when the source is made, `Setting.choices`)."""
        return self.config["api"]

    # -- plumbing ------------------------------------------------------------------------
    @property
    def client(self) -> GitLabClient:
        """Created on first use, so a bad setting surfaces as a one-line ConfigError there. python-gitlab
        is imported here, with the first client: `cli.py run gitlab` only checks settings and never loads
        it; a worker loads it before it forks (`importers.load_client`)."""
        if self._client is None:
            from .client import GitLabClient

            url = self.server_address()
            self._client = GitLabClient(url, self.require("token"), self.retry)
        return self._client

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            # one extra worker prefetches the next issue page while notes are read
            self._pool = ThreadPoolExecutor(NOTE_WORKERS + 1, thread_name_prefix="gitlab")
        return self._pool

    def forked(self) -> None:
        self._pool = None  # its threads stayed in the parent; the reader starts its own

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- account and projects ------------------------------------------------------------
    def check(self) -> str:
        client = self.client
        try:
            user = client.json(client.get_once("/user", what="the current user"))
        except NotFoundError:
            raise NotFoundError(f"no GitLab API at {client.url}/api/v4 (HTTP 404): check GITLAB_URL") from None
        if not isinstance(user, dict) or "username" not in user:
            raise NetworkError(f"GitLab at {client.url} did not describe the current user: check GITLAB_URL")
        return f"{user['username']} ({user.get('name') or user['username']}) on {client.url}"

    @staticmethod
    def _project(raw: dict[str, Any]) -> Project:
        return Project(source="gitlab", key=raw["path_with_namespace"],
                       name=raw.get("name_with_namespace") or raw.get("name") or raw["path_with_namespace"],
                       url=raw.get("web_url"), description=raw.get("description") or "")

    def projects(self) -> list[Project]:
        return [self._project(raw) for page in self.client.pages("/projects", PROJECT_QUERY, "projects")
                for raw in page]

    def project(self, key: str) -> Project:
        client = self.client
        return self._project(client.json(client.get(project_path(key), what=f"project {key!r}")))

    def estimate(self, project: str, since: datetime | None = None) -> int | None:
        """From X-Total of a one-item page; GitLab omits it above 10,000, then issue statistics."""
        client = self.client
        query: Query = {"updated_after": _iso(since)} if since else {}
        what = f"project {project!r}"
        response = client.get(f"{project_path(project)}/issues", {**query, "per_page": 1}, what)
        total = whole_number(response.headers.get("X-Total", "").strip())
        if total is not None:
            return total
        stats = client.json(client.get(f"{project_path(project)}/issues_statistics", query, what))
        try:
            return count(stats["statistics"]["counts"]["all"])
        except (KeyError, TypeError):
            return None

    def internal_counts(self, project: str, since: datetime | None = None) -> dict[str, int]:
        """Confidential issues, from X-Total of a one-item page filtered `confidential=true` (one
        request); internal notes have no such count (GitLab omits X-Total above 10,000: unknown)."""
        query: Query = {"confidential": "true", "per_page": 1, **({"updated_after": _iso(since)} if since else {})}
        response = self.client.get(f"{project_path(project)}/issues", query, f"project {project!r}")
        total = whole_number(response.headers.get("X-Total", "").strip())
        return {} if total is None else {"items": total}

    # -- reading -------------------------------------------------------------------------
    def _issue_pages(self, project: str, query: Query | None) -> Iterator[tuple[list[Any], Query | None]]:
        """Raw issue pages; the next one is requested while the caller maps this one."""
        path, what = f"{project_path(project)}/issues", f"project {project!r}"
        pending: Future | None = self.pool.submit(self.client.page, path, query, what) if query else None
        guard = PageGuard(TOOL, f"issues of {what}")
        try:
            while pending is not None:
                raws, following = pending.result()
                guard.page(len(raws), tuple(sorted(following.items())) if following else None)
                pending = self.pool.submit(self.client.page, path, following, what) if following else None
                yield raws, following
        finally:
            if pending is not None:
                pending.cancel()

    def _notes(self, project: str, iid: Any) -> list[Any]:
        """The issue's notes, system notes included, page by page until the end or until it has more
        user notes than the import keeps of one item (importers/limits.py)."""
        path = f"{project_path(project)}/issues/{iid}/notes"
        notes: list[Any] = []
        for page in self.client.pages(path, NOTE_QUERY, f"the comments of {project}#{iid}"):
            notes.extend(page)
            if enough_comments(sum(1 for n in notes if not (isinstance(n, dict) and n.get("system")))):
                break
        return notes

    def _page(self, project: str, raws: list[Any], cursor: Cursor) -> Page:
        """Map one page of issues, fetching the notes of those that have user notes in parallel."""
        def has_notes(raw: Any) -> bool:
            count = raw.get("user_notes_count") if isinstance(raw, dict) else None
            return isinstance(count, int) and count > 0 and isinstance(raw.get("iid"), int)

        futures = [self.pool.submit(self._notes, project, raw["iid"]) if has_notes(raw) else None for raw in raws]
        page = Page(cursor=cursor)
        for raw, future in zip(raws, futures, strict=True):
            gap = None
            try:
                notes = future.result() if future is not None else []
            except UNREADABLE as exc:  # the issue is kept; its comments are a gap a retry fills
                notes, gap = [], str(exc)
            self._add(page, map_issue(raw, project, notes), gap)
        page.comments_complete = not page.gaps  # every issue came with its whole notes list
        return page

    @staticmethod
    def _add(page: Page, mapped: tuple[WorkItem | ItemFailure, list[Comment]], gap: str | None) -> None:
        """One mapped issue into `page`: an item and its comments, a failure, and a gap when some of
        its comments could not be read (the item is kept, `Source.fill` reads them on retry)."""
        result, comments = mapped
        if isinstance(result, ItemFailure):
            page.failures.append(result)
            return
        page.items.append(result)
        page.comments.extend(comments)
        if gap is not None:
            page.gaps.append(StreamGap(stream="comments", item_external_id=result.external_id, key=result.key,
                                       reason=f"GitLab: {gap}"))

    def read(self, project: str, cursor: Cursor | None = None, since: datetime | None = None) -> Iterator[Page]:
        """Pages of issues with their comments, over GraphQL unless the server has none (or the
        setting says rest). A cursor resumes the API that wrote it: GraphQL's carries `after`,
        REST's the next page's query in `next`."""
        if cursor is not None and cursor.get("api") != GRAPHQL:
            return self._rest_pages(project, self._resume(project, cursor))
        if self.api == REST:
            return self._rest_pages(project, _issue_query(since))
        return self._graphql_pages(project, cursor, since)

    def _rest_pages(self, project: str, query: Query | None) -> Iterator[Page]:
        for raws, following in self._issue_pages(project, query):
            yield self._page(project, raws, {"project": project, "next": following})

    def _graphql_pages(self, project: str, cursor: Cursor | None, since: datetime | None) -> Iterator[Page]:
        """GraphQL pages, the next one requested while this one's long threads are completed and
        mapped; falls back to REST when the first request shows the server cannot answer."""
        if cursor is not None:
            if cursor.get("project") != project or not isinstance(cursor.get("after"), str | None):
                raise ConfigError(f"GitLab: this checkpoint does not belong to project {project!r}; "
                                  f"start the import of {project!r} afresh")
            if cursor.get("done"):
                return
            after, updated_after = cursor.get("after"), cursor.get("updated_after")
        else:
            after, updated_after = None, _iso(since) if since else None
        reader = IssueQuery(self.client, project)
        try:
            nodes, following = reader.page(after, updated_after)
        except GraphQLUnavailable as exc:
            if self.api == GRAPHQL or cursor is not None:
                raise SourceError(f"{exc}: set GITLAB_API=rest") from None
            note = f"{exc}; read over the REST API instead (one request per commented issue)"
            for number, page in enumerate(self._rest_pages(project, _issue_query(since))):
                if number == 0:
                    page.notes.append(note)  # said once on the job
                yield page
            return
        guard = PageGuard(TOOL, f"issues of project {project!r}")
        while True:
            guard.page(len(nodes), following)
            pending = self.pool.submit(reader.page, following, updated_after) if following else None
            try:
                position = {"project": project, "api": GRAPHQL, "updated_after": updated_after}
                done = {"after": following} if following else {"after": after, "done": True}
                yield self._graphql_page(reader, nodes, {**position, **done})
                if pending is None:
                    return
                after = following
                nodes, following = pending.result()
                pending = None
            finally:
                if pending is not None:
                    pending.cancel()

    def _graphql_page(self, reader: IssueQuery, nodes: list[Any], cursor: Cursor) -> Page:
        """Map one GraphQL page; threads longer than the nested notes page are read on, in parallel."""
        longer = {i: self.pool.submit(reader.notes, node) for i, node in enumerate(nodes)
                  if reader.needs_more_notes(node)}
        page = Page(cursor=cursor)
        for i, node in enumerate(nodes):
            ids = node if isinstance(node, dict) else {}
            nested = (ids.get("notes") or {}).get("nodes") or []
            gap = None
            try:
                notes = longer[i].result() if i in longer else nested
            except UNREADABLE as exc:  # the issue is kept with its first notes; a retry reads the rest
                notes, gap = nested, str(exc)
            self._add(page, map_issue(node, reader.project, notes, node_item, node_comment), gap)
        page.comments_complete = not page.gaps  # every issue came with its whole notes list
        return page

    def item_ids(self, project: str) -> Iterator[list[str]]:
        """Every issue id of the project now, for the deletion sweep. Over GraphQL one walk of
        `issues { nodes { id notes { nodes { id } } } }`, 100 issues a request (GitLab's page
        maximum) with their first 100 user-note ids nested, plus one request per further 100 notes
        of a long thread: ceil(issues / 100) requests of a few KB each, and the note ids kept for
        `recheck_comments` once the walk is complete. Over REST (servers without GraphQL,
        GITLAB_API=rest) the keyset issue listing, the same number of requests with whole issues
        in them. Moved originals and confidential issues the token sees are listed (they exist)."""
        self._notes_of = None
        if self.api != REST:
            reader = IssueQuery(self.client, project)
            notes: set[str] = set()
            issues: set[str] = set()
            try:
                after: str | None = None
                guard = PageGuard(TOOL, f"the issue ids of {project!r}")
                while True:
                    page, after = reader.ids(after)
                    guard.page(len(page.keys() - issues), after)  # pages of ids seen before bring nothing
                    issues.update(page)
                    for note_ids in page.values():
                        notes.update(note_ids)
                    yield list(page)
                    if after is None:
                        self._notes_of = (project, notes)  # only a complete walk may say what is gone
                        return
            except GraphQLUnavailable:
                if self.api == GRAPHQL:
                    raise
        for raws, _ in self._issue_pages(project, _issue_query(None)):
            yield [str(raw["id"]) for raw in raws if isinstance(raw, dict) and "id" in raw]

    def recheck_comments(self, project: str, comment_ids: list[str],
                         since: datetime | None = None) -> Iterator[Page] | None:
        """Which stored notes still exist, for the deletion sweep (GitLab does not touch an issue
        when a note is deleted: `Note` has `after_save :touch_noteable`, no such hook on destroy;
        an edit does touch it, so edits come through the catch-up's read of changed issues).

        Over GraphQL the answer is the note ids of `item_ids`' walk, as `Page.comments_present`:
        no request of its own. Without them (REST, or a walk that did not complete) GitLab has no
        notes-by-id listing (GraphQL `note(id:)` takes one id per field, about 25 in a query within
        the complexity limit), so every issue's notes are read again, once per run (the sweep asks
        1,000 ids at a time): REST one notes request per commented issue, kept as Comments."""
        if self._notes_of is None or self._notes_of[0] != project:
            found = {c.external_id: c for page in self.read(project) for c in page.comments}
            self._notes_of = (project, found)
        notes = self._notes_of[1]
        if isinstance(notes, set):
            return iter([Page(comments_present=[i for i in comment_ids if i in notes])])
        return iter([Page(comments=[notes[i] for i in comment_ids if i in notes])])

    @staticmethod
    def _resume(project: str, cursor: Cursor) -> Query | None:
        """The query a checkpoint resumes with (None: the last page was read), checked first."""
        query = cursor.get("next", False)
        if cursor.get("project") != project or not (query is None or isinstance(query, dict)):
            raise ConfigError(f"GitLab: this checkpoint does not belong to project {project!r}; "
                              f"start the import of {project!r} afresh")
        return query

    def fetch(self, project: str, external_ids: Iterable[str], keys: object = None) -> Iterator[Page]:
        """Re-read failed items: scan issue pages (no notes), fetch notes only for the wanted ones.

        GitLab filters issues by project-scoped iid, not by the global id we key items on, so
        the scan is the cheapest exact way; it stops as soon as every id was seen.
        """
        wanted = set(external_ids)
        for raws, following in self._issue_pages(project, _issue_query(None)):
            hits = [raw for raw in raws if isinstance(raw, dict) and str(raw.get("id")) in wanted]
            if hits:
                wanted -= {str(raw.get("id")) for raw in hits}
                yield self._page(project, hits, {"project": project, "next": following})
            if not wanted:
                return

    def preview(self, project: str, limit: int = 20, since: datetime | None = None) -> list[WorkItem]:
        """One request of `limit` issues, without comments: the wizard shows items only."""
        if limit > PAGE_SIZE:
            return super().preview(project, limit, since)
        query = {**_issue_query(since), "per_page": max(limit, 1)}
        raws, _ = self.client.page(f"{project_path(project)}/issues", query, f"project {project!r}")
        mapped = (map_issue(raw, project, [])[0] for raw in raws)
        return [item for item in mapped if isinstance(item, WorkItem)][:limit]
