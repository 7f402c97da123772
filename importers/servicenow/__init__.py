"""The ServiceNow source: incidents, problems and change requests, with comments and work notes.

A project is a table. Every paging loop here (tickets, journal entries, people) is a keyset read
(paging.py): it advances by the key of the last row that arrived and ends on the API's own count,
so neither a row cap per response nor rows hidden by access rules make it skip or stop early.
Tickets are ordered by (sys_updated_on, sys_id), lookups by sys_id. Journal entries (comments and
work notes, the latter internal) are read in bulk, one `element_idIN...` query per page of tickets
(chunked to keep URLs short), while the next ticket page loads in parallel; at most two pages are
in memory at any time. A journal or people lookup that fails keeps the tickets and records a gap.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..base import Cursor, Setting, Source
from ..errors import NotFoundError, SourceError
from ..model import Comment, ItemFailure, Page, Person, Project, StreamGap, WorkItem
from ..words import counted
from .mapping import (
    MAPPING_ERRORS,
    _reason,
    format_time,
    map_comment,
    map_ticket,
    person_from_user,
    unknown_author,
    value,
)
from .paging import ID_KEY, SYS_ID, Keyset
from .settings import (
    DEFAULT_TABLE,
    ID_PAGE_SIZE,
    IDS_PER_QUERY,
    INSTANCE_ENV,
    INTERNAL_ELEMENTS,
    JOURNAL_ELEMENTS,
    JOURNAL_FIELDS,
    LOOKUP_LIMIT,
    PAGE_SIZE,
    PEOPLE_FIELDS,
    TABLES,
    TOOL,
    WORKERS,
    instance_base,
    instance_url,
    ticket_fields,
)

if TYPE_CHECKING:  # the client module imports pysnow: loaded with the first client
    from .client import ServiceNowClient


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _escape(text: str) -> str:
    """A value inside an encoded query: `^` separates conditions, so it is doubled."""
    return text.replace("^", "^^")


class ServiceNowSource(Source):
    name = "servicenow"
    label = TOOL
    url_setting = "instance"
    item_noun = "tickets"
    project_noun = "table"
    settings = (
        Setting("instance", "Instance", INSTANCE_ENV,
                help="instance name (acme -> https://acme.service-now.com) or the instance's full URL"),
        Setting("username", "Username", "SERVICENOW_USERNAME", account=True),
        Setting("password", "Password", "SERVICENOW_PASSWORD", secret=True),
    )

    @classmethod
    def server_url(cls, value: str) -> str:
        return instance_base(value)

    def server_address(self) -> str:
        """The instance's checked URL: a name or host name widened first (`settings.instance_url`)."""
        return instance_url(self.require("instance"), secret=self.secret_words, **self.where("instance"))

    def __init__(self, config: dict[str, str] | None = None, on_wait=None):
        super().__init__(config, on_wait)
        self.page_size = PAGE_SIZE
        self._client: ServiceNowClient | None = None
        # user_name -> Person: journal entries name their author by user name only, so people
        # seen on tickets (with emails, via dot-walked columns) are reused for their comments.
        self._people: dict[str, Person] = {}
        self._largest = 0  # the most rows one response held: the instance's row cap is no smaller
        self._journal_ids: tuple[str, set[str]] | None = None  # recheck_comments' one listing a run

    @classmethod
    def default_project(cls, environ=None) -> str | None:
        return DEFAULT_TABLE

    @property
    def client(self) -> ServiceNowClient:
        """Created on first use. pysnow is imported here, with the first client: `cli.py run servicenow`
        only checks settings and never loads it; a worker loads it before it forks (`importers.load_client`)."""
        if self._client is None:
            from .client import ServiceNowClient

            self._client = ServiceNowClient(
                self.server_address(), self.require("username"), self.require("password"), self.retry
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

    @classmethod
    def known_projects(cls) -> tuple[str, ...]:
        return tuple(TABLES)

    def project(self, key: str) -> Project:
        self.check_project(key)
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

    def fetch(self, project: str, external_ids: Iterable[str], keys: object = None) -> Iterator[Page]:
        """Re-read tickets by sys_id (failed items), a short query per chunk of ids."""
        self.project(project)
        ids = sorted({i for i in external_ids if SYS_ID.fullmatch(i)})
        for chunk in _chunks(ids, IDS_PER_QUERY):
            yield from self._pages(project, Keyset(self._conditions(None, f"sys_idIN{','.join(chunk)}")),
                                   resumable=False)

    def item_ids(self, project: str) -> Iterator[list[str]]:
        """Every ticket's sys_id, `sysparm_fields=sys_id` in pages of ID_PAGE_SIZE, keyset-paged by
        sys_id: ceil(tickets / 10,000) requests of ~45 bytes a ticket (a full read costs a request
        per 1,000 tickets plus one per 150 for their journal, each row ~2 KB). Rows hidden by access
        rules are not listed; they were never imported either."""
        self.project(project)
        keyset, more = Keyset(fields=ID_KEY), True
        while more:
            rows, total = self._window(project, {
                "sysparm_query": keyset.query(), "sysparm_fields": "sys_id", "sysparm_limit": ID_PAGE_SIZE,
                "sysparm_offset": keyset.skip, "sysparm_suppress_pagination_header": "true"})
            more = keyset.advance(rows, total, lambda: self._step(ID_PAGE_SIZE))
            ids = [value(row, "sys_id") for row in rows if isinstance(row, dict)]
            if ids:
                yield ids

    def preview(self, project: str, limit: int = 20, since: datetime | None = None) -> list[WorkItem]:
        """One request, no comments (the preview does not show them).

        The window is twice `limit` so rows hidden by access rules rarely cost a second request.
        """
        self.project(project)
        items: list[WorkItem] = []
        keyset, more = Keyset(self._conditions(since)), True
        while more and len(items) < limit:
            rows, total = self._tickets(project, keyset.query(), 2 * limit, keyset.skip)
            more = keyset.advance(rows, total, lambda: self._step(2 * limit))
            items += [i for i in (map_ticket(project, r, self.client.url) for r in rows) if isinstance(i, WorkItem)]
        return items[:limit]

    def internal_counts(self, project: str, since: datetime | None = None) -> dict[str, int]:
        """Tickets carry no visibility; work notes are internal: their count is one `X-Total-Count`
        (of every ticket's journal, so only for a whole read: `since` counts nothing)."""
        self.project(project)
        if since is not None:
            return {"items": 0}
        _, total = self.client.table(
            "sys_journal_field",
            {"sysparm_query": f"name={project}^elementIN{','.join(INTERNAL_ELEMENTS)}", "sysparm_limit": 1,
             "sysparm_fields": "sys_id", "sysparm_suppress_pagination_header": "true"},
            what="table sys_journal_field")
        return {"items": 0} if total is None else {"items": 0, "comments": total}

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

    def _window(self, table: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
        """One Table API request; remembers the most rows a response held (see `_step`)."""
        rows, total = self.client.table(table, params, what=f"table {table}")
        self._largest = max(self._largest, len(rows))
        return rows, total

    def _step(self, limit: int) -> int:
        """How far a window hidden whole by access rules may be stepped over: the most rows one
        response of this instance has held (its row cap is no smaller). Before any row arrived
        that is unknown, so one request of `limit` sys_user ids learns it (users are readable to
        an integration account); stepping one row at a time is the safe fallback."""
        if not self._largest:
            self._window("sys_user", {"sysparm_fields": "sys_id", "sysparm_limit": limit,
                                      "sysparm_suppress_pagination_header": "true"})
        return min(self._largest, limit) if self._largest else 1

    def _tickets(self, table: str, query: str, limit: int, offset: int = 0) -> tuple[list[dict[str, Any]], int | None]:
        """A window of tickets and `X-Total-Count`, the rows the query matches before access rules."""
        return self._window(table, {
            "sysparm_query": query,
            "sysparm_fields": ",".join(ticket_fields(TABLES[table])),
            "sysparm_display_value": "all",
            "sysparm_exclude_reference_link": "true",
            "sysparm_suppress_pagination_header": "true",
            "sysparm_limit": limit,
            "sysparm_offset": offset,
        })

    def recheck_comments(self, project: str, comment_ids: list[str],
                         since: datetime | None = None) -> Iterator[Page]:
        """Which stored journal entries still exist, for the deletion sweep: an entry is a row of
        sys_journal_field, and deleting that row writes no other record, so the ticket's
        sys_updated_on stays and a catch-up run would not re-read its journal. Entries cannot be
        edited (append-only), so existence is all there is to check: every entry id of the table's
        comments and work notes, `sysparm_fields=sys_id` keyset-paged in pages of ID_PAGE_SIZE,
        ceil(entries / 10,000) requests, read once a run (the sweep asks 1,000 ids at a time)."""
        if self._journal_ids is None or self._journal_ids[0] != project:
            self.project(project)
            rows, _ = self._lookup("sys_journal_field",
                                   f"name={project}^elementIN{','.join(JOURNAL_ELEMENTS)}", (), limit=ID_PAGE_SIZE)
            self._journal_ids = (project, {value(row, "sys_id") for row in rows if isinstance(row, dict)})
        present = self._journal_ids[1]
        return iter([Page(comments_present=[eid for eid in comment_ids if eid in present])])

    def _pages(self, table: str, keyset: Keyset, resumable: bool) -> Iterator[Page]:
        """Pages until the API says the table has no more rows (paging.py); the next window loads
        while this page's comments do."""
        pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="servicenow")
        counts = [0, 0]  # journal entries the instance counted, and those that arrived

        def window():
            return pool.submit(self._tickets, table, keyset.query(), self.page_size, keyset.skip)

        try:
            pending = window()
            while True:
                rows, total = pending.result()
                more = keyset.advance(rows, total, lambda: self._step(self.page_size))
                if more:
                    pending = window()
                if rows:
                    page = self._page(table, rows, pool, counts)
                    page.comments_complete = True  # each ticket's whole journal, read by ticket, not by time
                    page.cursor = keyset.cursor if resumable else None
                    if not more and counts[0] > counts[1]:
                        entries = counted(counts[0], "journal entries", "journal entry")
                        page.notes.append(f"{TOOL} counted {entries} of these {self.item_noun}, "
                                          f"{counts[1]:,} could be read (the rest hidden from this account)")
                    yield page
                if not more:
                    return
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _page(self, table: str, rows: list[dict[str, Any]], pool: ThreadPoolExecutor, counts: list[int]) -> Page:
        """Map a window of tickets and read their journal; a journal or people lookup that fails
        keeps the tickets and marks what could not be read (a gap a retry fills)."""
        page = Page()
        for result in (map_ticket(table, row, self.client.url) for row in rows):
            if isinstance(result, ItemFailure):
                page.failures.append(result)
            else:
                page.items.append(result)
                for person in (result.assignee, result.reporter):
                    if person is not None and person.username:
                        self._people[person.username] = person
        keys = {item.external_id: item.key for item in page.items}
        # An IN list is split at commas, which no escape protects: an id holding one (no instance makes such
        # ids) cannot name its ticket in a journal query, so its journal is a gap, not an empty, complete list.
        unlisted = [i for i in keys if "," in i]
        page.gaps += [StreamGap(stream="comments", item_external_id=i, key=keys[i],
                                reason=f"{keys[i]}: its sys_id {i[:40]!r} holds a comma, which a {TOOL} query by id "
                                       f"cannot carry: its comments and work notes were not read") for i in unlisted]
        chunks = list(_chunks([i for i in keys if "," not in i], IDS_PER_QUERY))
        journal: list[dict[str, Any]] = []
        for chunk, future in zip(chunks, [pool.submit(self._journal, table, c) for c in chunks], strict=True):
            try:
                rows_read, said_total = future.result()
            except SourceError as exc:
                page.gaps += [StreamGap(stream="comments", item_external_id=i, key=keys[i], reason=str(exc))
                              for i in chunk]
                continue
            journal += rows_read
            counts[0] += said_total
            counts[1] += len(rows_read)
        page.comments, unknown, unmapped = self._comments(journal, pool, keys, page.notes)
        # a journal entry that cannot be mapped keeps its ticket and is a gap of its comments: reported, its
        # ticket's stored comments are not taken for deleted, and a retry re-reads the ticket's journal
        for i, reasons in unmapped.items():
            more = f" (and {len(reasons) - 1:,} more of its entries)" if len(reasons) > 1 else ""
            page.gaps.append(StreamGap(stream="comments", item_external_id=i, key=keys.get(i, ""),
                                       reason=f"{keys.get(i) or i}: {reasons[0]}{more}"))
        if unknown:
            page.gaps += [StreamGap(stream="people", item_external_id=i, key=keys.get(i, ""), reason=unknown[i])
                          for i in unknown]
        return page

    def _journal(self, table: str, ids: list[str]) -> tuple[list[dict[str, Any]], int]:
        """Comments and work notes of up to IDS_PER_QUERY tickets (usually one request), and how
        many the instance counted."""
        query = f"name={table}^element_idIN{','.join(map(_escape, ids))}^elementIN{','.join(JOURNAL_ELEMENTS)}"
        return self._lookup("sys_journal_field", query, JOURNAL_FIELDS)

    def _lookup(self, table: str, condition: str, fields: tuple[str, ...],
                limit: int = LOOKUP_LIMIT) -> tuple[list[dict[str, Any]], int]:
        """Every row of a bulk query, paged by sys_id (paging.py), and the rows the instance
        counted for it (its first `X-Total-Count`; rows hidden by access rules never arrive)."""
        keyset = Keyset((condition,), fields=ID_KEY)
        found: list[dict[str, Any]] = []
        said_total: int | None = None  # the instance's X-Total-Count
        more = True
        while more:
            rows, total = self._window(table, {
                "sysparm_query": keyset.query(), "sysparm_fields": ",".join(dict.fromkeys(("sys_id", *fields))),
                "sysparm_limit": limit, "sysparm_offset": keyset.skip,
                "sysparm_suppress_pagination_header": "true"})
            said_total = total if said_total is None else said_total
            more = keyset.advance(rows, total, lambda: self._step(limit))
            found.extend(rows)
        return found, said_total if said_total is not None else len(found)

    def _comments(self, journal: list[dict[str, Any]], pool: ThreadPoolExecutor, keys: dict[str, str],
                  notes: list[str]) -> tuple[list[Comment], dict[str, str], dict[str, list[str]]]:
        """The journal entries as comments, ticket sys_id -> why some of its authors are unknown, and
        ticket sys_id -> why some of its entries could not be mapped (one line each).

        An entry whose `element_id` names none of the tickets it was read for (`keys`: empty, or another
        record) is no ticket's comment: it goes into `notes`, naming the entry and its `element_id`, and
        is no gap, since no retry of a ticket would read it again; fixed at the source, the next read of
        its ticket brings it."""
        unread = self._learn_authors({value(row, "sys_created_by") for row in journal if isinstance(row, dict)}, pool)
        comments = []
        unknown: dict[str, str] = {}
        unmapped: dict[str, list[str]] = {}
        for row in journal:
            if not isinstance(row, dict) or value(row, "element_id") not in keys:
                notes.append(self._orphan(row))
                continue
            try:
                name = value(row, "sys_created_by")
                comments.append(map_comment(row, self._people.get(name) or unknown_author(name), self.client.url))
                if name in unread:
                    unknown[value(row, "element_id")] = unread[name]
            except MAPPING_ERRORS as exc:
                ticket, entry = (value(row, "element_id"), value(row, "sys_id")) if isinstance(row, dict) else ("", "")
                reason = f"{TOOL} journal entry {entry or '(no sys_id)'} could not be mapped: {_reason(exc)}"
                unmapped.setdefault(ticket, []).append(reason.splitlines()[0])
        return comments, unknown, unmapped

    @staticmethod
    def _orphan(row: Any) -> str:
        """The note for a journal entry that names no ticket of its read (see `_comments`)."""
        if not isinstance(row, dict):
            return f"{TOOL} sent a journal entry that is not an object ({type(row).__name__}): not imported"
        entry, ticket = value(row, "sys_id") or "(no sys_id)", value(row, "element_id")
        why = f"names record {ticket[:40]!r}, not one of the tickets it was read for" if ticket else \
            "has no element_id (the ticket it belongs to)"
        return (f"{TOOL} journal entry {entry[:40]} {why}: not imported; set its element_id at {TOOL}, "
                "then run a full import")

    def _learn_authors(self, names: set[str], pool: ThreadPoolExecutor) -> dict[str, str]:
        """Look up authors not seen yet in bulk (sys_user by user_name), once per source; returns
        user name -> why it could not be looked up, for the names whose lookup failed."""
        unknown = sorted(name for name in names - self._people.keys() if name)
        chunks = list(_chunks(unknown, IDS_PER_QUERY))
        queries = [f"user_nameIN{','.join(_escape(n).replace(',', '') for n in chunk)}" for chunk in chunks]
        futures = [pool.submit(self._lookup, "sys_user", q, PEOPLE_FIELDS) for q in queries]
        failed: dict[str, str] = {}
        for chunk, future in zip(chunks, futures, strict=True):
            try:
                rows, _ = future.result()
            except SourceError as exc:
                failed.update(dict.fromkeys(chunk, str(exc)))
                continue
            for row in rows:
                try:
                    person = person_from_user(row)
                except MAPPING_ERRORS:
                    continue
                if person.username:
                    self._people[person.username] = person
            for name in chunk:  # no sys_user row: a script, an integration or a deleted user
                self._people.setdefault(name, unknown_author(name))
        return failed
