"""The ServiceNow source: incidents, problems and change requests, with comments and work notes.

A project is a table. Tickets are read with keyset paging ordered by (sys_updated_on, sys_id)
(see paging.py: offset paging skipped tickets edited during the read); access-control rules may
drop rows from a window after the limit is applied, so a short page is not the end: only an
empty page is. Journal entries (comments and work notes) are read in bulk, one
`element_idIN...` query per page of tickets (chunked to keep URLs short), while the next ticket
page loads in parallel; at most two pages are in memory at any time.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from ..base import Cursor, Setting, Source
from ..errors import NotFoundError
from ..model import Comment, ItemFailure, Page, Person, Project, WorkItem
from .client import ServiceNowClient
from .mapping import (
    MAPPING_ERRORS,
    format_time,
    map_comment,
    map_ticket,
    person_from_user,
    unknown_author,
    value,
)
from .paging import SYS_ID, Keyset
from .settings import (
    DEFAULT_TABLE,
    IDS_PER_QUERY,
    INSTANCE_ENV,
    JOURNAL_ELEMENTS,
    JOURNAL_FIELDS,
    LOOKUP_LIMIT,
    PAGE_SIZE,
    PEOPLE_FIELDS,
    TABLES,
    TOOL,
    WORKERS,
    ticket_fields,
)

log = logging.getLogger(__name__)


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _escape(text: str) -> str:
    """A value inside an encoded query: `^` separates conditions, so it is doubled."""
    return text.replace("^", "^^")


class ServiceNowSource(Source):
    name = "servicenow"
    label = TOOL
    item_noun = "tickets"
    settings = (
        Setting("instance", "Instance", INSTANCE_ENV,
                help="instance name (acme -> https://acme.service-now.com) or the instance's full URL"),
        Setting("username", "Username", "SERVICENOW_USERNAME"),
        Setting("password", "Password", "SERVICENOW_PASSWORD", secret=True),
    )

    def __init__(self, config: dict[str, str] | None = None, on_wait=None):
        super().__init__(config, on_wait)
        self.page_size = PAGE_SIZE
        self._client: ServiceNowClient | None = None
        # user_name -> Person: journal entries name their author by user name only, so people
        # seen on tickets (with emails, via dot-walked columns) are reused for their comments.
        self._people: dict[str, Person] = {}

    @classmethod
    def default_project(cls, environ=None) -> str | None:
        return DEFAULT_TABLE

    @property
    def client(self) -> ServiceNowClient:
        if self._client is None:
            self._client = ServiceNowClient(
                self.require("instance"), self.require("username"), self.require("password"), self.retry
            )
        return self._client

    # -- the contract --------------------------------------------------------------------
    def check(self) -> str:
        user = self.require("username")
        try:
            rows, _ = self.client.table(
                "sys_user",
                {"sysparm_query": f"user_name={_escape(user)}", "sysparm_limit": 1, "sysparm_fields": "user_name,name"},
                what="table sys_user",
                retry_connection=False,
            )
        except NotFoundError:
            raise NotFoundError(f"{self.client.url} has no {TOOL} Table API: check {INSTANCE_ENV}") from None
        name = value(rows[0], "name") if rows else ""
        return f"{user} ({name}) on {self.client.url}" if name else f"{user} on {self.client.url}"

    def projects(self) -> list[Project]:
        return [self._project(key) for key in TABLES]

    def project(self, key: str) -> Project:
        if key not in TABLES:
            raise NotFoundError(f"{TOOL} has no table {key!r} to import: choose one of {', '.join(TABLES)}")
        return self._project(key)

    def _project(self, table: str) -> Project:
        spec = TABLES[table]
        return Project(source=self.name, key=table, name=spec.name, description=spec.description,
                       url=f"{self.client.url}/{table}_list.do")

    def estimate(self, project: str, since: datetime | None = None) -> int | None:
        """`X-Total-Count` of a one-row request. It counts rows that access rules may hide."""
        self.project(project)
        _, total = self.client.table(
            project, {"sysparm_query": Keyset(self._conditions(since)).query(), "sysparm_limit": 1,
                      "sysparm_fields": "sys_id"},
            what=f"table {project}",
        )
        return total

    def read(self, project: str, cursor: Cursor | None = None, since: datetime | None = None) -> Iterator[Page]:
        self.project(project)
        return self._pages(project, Keyset.resume(self._conditions(since), cursor), resumable=True)

    def fetch(self, project: str, external_ids: Iterable[str]) -> Iterator[Page]:
        """Re-read tickets by sys_id (failed items), a short query per chunk of ids."""
        self.project(project)
        ids = sorted({i for i in external_ids if SYS_ID.fullmatch(i)})
        for chunk in _chunks(ids, IDS_PER_QUERY):
            yield from self._pages(project, Keyset(self._conditions(None, f"sys_idIN{','.join(chunk)}")),
                                   resumable=False)

    def preview(self, project: str, limit: int = 20, since: datetime | None = None) -> list[WorkItem]:
        """One request, no comments (the preview does not show them).

        The window is twice `limit` so rows hidden by access rules rarely cost a second request.
        """
        self.project(project)
        items: list[WorkItem] = []
        query, offset, window = Keyset(self._conditions(since)).query(), 0, 2 * limit
        while len(items) < limit and (rows := self._tickets(project, query, window, offset)[0]):
            offset += window
            items += [i for i in (map_ticket(project, r, self.client.url) for r in rows) if isinstance(i, WorkItem)]
        return items[:limit]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- reading ---------------------------------------------------------------------------
    @staticmethod
    def _conditions(since: datetime | None, condition: str = "") -> tuple[str, ...]:
        """The AND-ed conditions of a read, before paging adds its own."""
        parts = [condition] if condition else []
        if since is not None:
            parts.append(f"sys_updated_on>={format_time(since)}")
        return tuple(parts)

    def _tickets(self, table: str, query: str, limit: int, offset: int = 0) -> tuple[list[dict[str, Any]], int | None]:
        """A window of tickets and `X-Total-Count`, the rows the query matches before access rules."""
        return self.client.table(
            table,
            {
                "sysparm_query": query,
                "sysparm_fields": ",".join(ticket_fields(TABLES[table])),
                "sysparm_display_value": "all",
                "sysparm_exclude_reference_link": "true",
                "sysparm_suppress_pagination_header": "true",
                "sysparm_limit": limit,
                "sysparm_offset": offset,
            },
            what=f"table {table}",
        )

    def _pages(self, table: str, keyset: Keyset, resumable: bool) -> Iterator[Page]:
        """Pages until an empty window; the next window loads while this page's comments do.

        A short window is not the end (access rules drop rows after the cut), nor is an empty
        one that `X-Total-Count` says has rows behind it: a whole window was hidden from us.
        """
        pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="servicenow")

        def window():
            return pool.submit(self._tickets, table, keyset.query(), self.page_size, keyset.skip)

        try:
            pending = window()
            while True:
                rows, total = pending.result()
                if not rows:
                    if not keyset.step_over_hidden(total, self.page_size):
                        return
                    pending = window()
                    continue
                keyset.advance(rows)
                pending = window()
                page = self._page(table, rows, pool)
                page.cursor = keyset.cursor if resumable else None
                yield page
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _page(self, table: str, rows: list[dict[str, Any]], pool: ThreadPoolExecutor) -> Page:
        page = Page()
        for result in (map_ticket(table, row, self.client.url) for row in rows):
            if isinstance(result, ItemFailure):
                page.failures.append(result)
            else:
                page.items.append(result)
                for person in (result.assignee, result.reporter):
                    if person is not None and person.username:
                        self._people[person.username] = person
        ids = [item.external_id for item in page.items]
        journal = [row for rows in pool.map(lambda chunk: self._journal(table, chunk), _chunks(ids, IDS_PER_QUERY))
                   for row in rows]
        page.comments = self._comments(journal, pool)
        return page

    def _journal(self, table: str, ids: list[str]) -> list[dict[str, Any]]:
        """Comments and work notes of up to IDS_PER_QUERY tickets, usually in one request."""
        query = (f"name={table}^element_idIN{','.join(ids)}^elementIN{','.join(JOURNAL_ELEMENTS)}"
                 f"^ORDERBYsys_created_on^ORDERBYsys_id")
        return self._lookup("sys_journal_field", query, JOURNAL_FIELDS)

    def _lookup(self, table: str, query: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
        """All rows of a bulk query; more than one request only past LOOKUP_LIMIT rows."""
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            rows, total = self.client.table(
                table,
                {"sysparm_query": query, "sysparm_fields": ",".join(fields), "sysparm_limit": LOOKUP_LIMIT,
                 "sysparm_offset": offset, "sysparm_suppress_pagination_header": "true"},
                what=f"table {table}",
            )
            found.extend(rows)
            offset += LOOKUP_LIMIT
            if not rows or (total is not None and offset >= total):
                return found

    def _comments(self, journal: list[dict[str, Any]], pool: ThreadPoolExecutor) -> list[Comment]:
        self._learn_authors({value(row, "sys_created_by") for row in journal if isinstance(row, dict)}, pool)
        comments = []
        for row in journal:
            try:
                author = self._people.get(value(row, "sys_created_by"))
                comments.append(map_comment(row, author))
            except MAPPING_ERRORS as exc:
                log.warning("skipped an unreadable %s journal entry: %s", TOOL, exc)
        return comments

    def _learn_authors(self, names: set[str], pool: ThreadPoolExecutor) -> None:
        """Look up authors not seen yet in bulk (sys_user by user_name), once per source."""
        unknown = sorted(name for name in names - self._people.keys() if name)
        chunks = list(_chunks(unknown, IDS_PER_QUERY))
        queries = (f"user_nameIN{','.join(_escape(n).replace(',', '') for n in chunk)}" for chunk in chunks)
        for rows in pool.map(lambda q: self._lookup("sys_user", q, PEOPLE_FIELDS), queries):
            for row in rows:
                try:
                    person = person_from_user(row)
                except MAPPING_ERRORS:
                    continue
                if person.username:
                    self._people[person.username] = person
        for name in unknown:
            self._people.setdefault(name, unknown_author(name))
