"""The GitLab source (gitlab.com or self-managed) over python-gitlab.

Issues stream 100 a page with keyset pagination on `updated_at`, so a cursor is just the next
page's query and an incremental run is `updated_after`. Comments are the issues' user notes,
requested only for issues that have some (`user_notes_count`), a few at a time in parallel,
while the next issue page is already on its way. People carry no email: GitLab's issue and
note payloads do not show one, and looking every user up would cost a rate-limited request
per person (300 per 10 minutes on gitlab.com).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from ..base import Cursor, Setting, Source
from ..errors import ConfigError, NetworkError, NotFoundError
from ..model import ItemFailure, Page, Project, WorkItem
from ..urls import check_url
from .client import GitLabClient, Query, project_path
from .mapping import map_issue
from .settings import DEFAULT_URL, ISSUE_QUERY, NOTE_QUERY, NOTE_WORKERS, PAGE_SIZE, PROJECT_QUERY


def _iso(since: datetime) -> str:
    aware = since if since.tzinfo else since.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _issue_query(since: datetime | None) -> Query:
    """The first issue page's query; `updated_after` is inclusive, as incremental runs need."""
    return {**ISSUE_QUERY, **({"updated_after": _iso(since)} if since else {})}


class GitLabSource(Source):
    name = "gitlab"
    label = "GitLab"
    settings = (
        Setting("token", "Access token", "GITLAB_TOKEN", secret=True,
                help="a personal, group or project access token with the read_api scope"),
        Setting("url", "GitLab URL", "GITLAB_URL", required=False, default=DEFAULT_URL,
                help="https://gitlab.com, or your self-managed server's address"),
    )

    def __init__(self, config: dict[str, str] | None = None, on_wait=None):
        super().__init__(config, on_wait)
        self._client: GitLabClient | None = None
        self._pool: ThreadPoolExecutor | None = None

    # -- plumbing ------------------------------------------------------------------------
    @property
    def client(self) -> GitLabClient:
        """Created on first use, so a bad setting surfaces as a one-line ConfigError there."""
        if self._client is None:
            url = check_url(self.config.get("url") or DEFAULT_URL, "GITLAB_URL")
            self._client = GitLabClient(url, self.require("token"), self.retry)
        return self._client

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            # one extra worker prefetches the next issue page while notes are read
            self._pool = ThreadPoolExecutor(NOTE_WORKERS + 1, thread_name_prefix="gitlab")
        return self._pool

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
        total = response.headers.get("X-Total", "").strip()
        if total.isdigit():
            return int(total)
        stats = client.json(client.get(f"{project_path(project)}/issues_statistics", query, what))
        try:
            return int(stats["statistics"]["counts"]["all"])
        except (KeyError, TypeError, ValueError):
            return None

    # -- reading -------------------------------------------------------------------------
    def _issue_pages(self, project: str, query: Query | None) -> Iterator[tuple[list[Any], Query | None]]:
        """Raw issue pages; the next one is requested while the caller maps this one."""
        path, what = f"{project_path(project)}/issues", f"project {project!r}"
        pending: Future | None = self.pool.submit(self.client.page, path, query, what) if query else None
        try:
            while pending is not None:
                raws, following = pending.result()
                pending = self.pool.submit(self.client.page, path, following, what) if following else None
                yield raws, following
        finally:
            if pending is not None:
                pending.cancel()

    def _notes(self, project: str, iid: Any) -> list[Any]:
        path = f"{project_path(project)}/issues/{iid}/notes"
        return [note for page in self.client.pages(path, NOTE_QUERY, f"the comments of {project}#{iid}")
                for note in page]

    def _page(self, project: str, raws: list[Any], cursor: Cursor) -> Page:
        """Map one page of issues, fetching the notes of those that have user notes in parallel."""
        def has_notes(raw: Any) -> bool:
            count = raw.get("user_notes_count") if isinstance(raw, dict) else None
            return isinstance(count, int) and count > 0 and isinstance(raw.get("iid"), int)

        futures = [self.pool.submit(self._notes, project, raw["iid"]) if has_notes(raw) else None for raw in raws]
        page = Page(cursor=cursor)
        for raw, future in zip(raws, futures, strict=True):
            try:
                notes = future.result() if future is not None else []
            except NotFoundError as exc:  # deleted while we read: report it, keep the page
                iid = raw.get("iid", "?")
                page.failures.append(ItemFailure(external_id=str(raw.get("id", "?")), key=f"{project}#{iid}",
                                                 reason=f"comments could not be read: {exc}"))
                continue
            result, comments = map_issue(raw, project, notes)
            if isinstance(result, ItemFailure):
                page.failures.append(result)
            else:
                page.items.append(result)
                page.comments.extend(comments)
        return page

    def read(self, project: str, cursor: Cursor | None = None, since: datetime | None = None) -> Iterator[Page]:
        """Pages of issues with their comments; `cursor["next"]` is the next page's query."""
        query = self._resume(project, cursor) if cursor else _issue_query(since)
        for raws, following in self._issue_pages(project, query):
            yield self._page(project, raws, {"project": project, "next": following})

    @staticmethod
    def _resume(project: str, cursor: Cursor) -> Query | None:
        """The query a checkpoint resumes with (None: the last page was read), checked first."""
        query = cursor.get("next", False)
        if cursor.get("project") != project or not (query is None or isinstance(query, dict)):
            raise ConfigError(f"GitLab: this checkpoint does not belong to project {project!r}; "
                              f"start the import of {project!r} afresh")
        return query

    def fetch(self, project: str, external_ids: Iterable[str]) -> Iterator[Page]:
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
