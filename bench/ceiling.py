"""The ceiling: each vendor's own client library reading what our import reads, doing nothing else.

Run as `python -m bench.ceiling VENDOR URL [items|comments]` in a process of its own; prints one
JSON line (items, comments, seconds, peak RSS). "items" pages through the project's items;
"comments" also reads every comment, one request after another as a plain script would. The
calls are the ones each library documents, with our importer's API version, page sizes, fields
and queries, so both sides send the same requests and move the same bytes.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator
from itertools import islice

from bench.fakes import GITHUB_TOKEN, GITLAB_TOKEN, PROJECTS

MODES = ("items", "comments")
ITEM, COMMENT = "item", "comment"
COMMENT_WINDOW = 300 * 100  # comments a `since` window reads: 300 pages, within GitHub's page depth
Read = Iterator[tuple[str, object]]  # (ITEM or COMMENT, what the library built)


def jira(url: str, comments: bool) -> Read:
    """`JIRA.enhanced_search_issues` page by page over v3 (Cloud's ADF bodies, as we read them);
    comments come embedded, and `JIRA.comments` pages the rest of threads longer than that."""
    from jira import JIRA

    from importers.jira.settings import CLOUD_API, COMMENT_PAGE_SIZE, ITEM_FIELDS, SEARCH_PAGE_SIZE
    from tests.fakes.jira import CLOUD_AUTH

    client = JIRA(server=url, basic_auth=CLOUD_AUTH, max_retries=0,
                  options={"check_update": False, "rest_api_version": CLOUD_API})
    # One comma-separated `fields` value, the parameter our connector sends. Given a list, the library
    # repeats `fields=` once per field, and the fake reads the first only: the ceiling got summaries alone.
    fields = [",".join(ITEM_FIELDS)]
    token = None
    while True:
        page = client.enhanced_search_issues(f"project = {PROJECTS['jira']} ORDER BY key ASC", nextPageToken=token,
                                             maxResults=SEARCH_PAGE_SIZE, fields=fields)
        for issue in page:
            yield ITEM, issue
            if comments:
                thread = issue.fields.comment
                yield from ((COMMENT, c) for c in thread.comments)
                start = thread.startAt + len(thread.comments)
                while start < thread.total:
                    rest = client.comments(issue.key, start_at=start, max_results=COMMENT_PAGE_SIZE)
                    if not rest:
                        break
                    yield from ((COMMENT, c) for c in rest)
                    start += len(rest)
        token = page.nextPageToken
        if not token:
            return


def github(url: str, comments: bool) -> Read:
    """PyGithub's `get_issues` (GitHub pages issue listings by `after=` cursors), then
    `get_issues_comments` (the repository-wide stream), iterated (each PaginatedList keeps every
    object it has built). That stream is numbered by page and GitHub refuses deep pages (422), so
    it is read as GitHub's docs advise for it: sorted by update, in `since` windows of
    COMMENT_WINDOW comments, each next window from the last update time read (`since` is
    inclusive: the comments of that second come again and are skipped by id)."""
    from github import Auth, Github

    client = Github(auth=Auth.Token(GITHUB_TOKEN), base_url=url, per_page=100, retry=None,
                    seconds_between_requests=None, seconds_between_writes=None)
    repo = client.get_repo(PROJECTS["github"])
    yield from ((ITEM, i) for i in repo.get_issues(state="all", sort="updated", direction="asc"))
    if not comments:
        return
    since, at_since = None, set()  # the window's start and the ids already read at that update time
    while True:
        window = repo.get_issues_comments(sort="updated", direction="asc", **({"since": since} if since else {}))
        read = fresh = 0
        for comment in islice(window, COMMENT_WINDOW):
            read += 1
            if comment.updated_at == since and comment.id in at_since:
                continue
            fresh += 1
            if comment.updated_at != since:
                since, at_since = comment.updated_at, set()
            at_since.add(comment.id)
            yield COMMENT, comment
        if read < COMMENT_WINDOW:
            return
        if not fresh:
            raise SystemExit(f"more than {COMMENT_WINDOW} comments updated at {since}: no window moves past it")


def gitlab(url: str, comments: bool) -> Read:
    """python-gitlab's `project.issues.list(iterator=True)`, keyset-paged like our importer, and
    `issue.notes.list(iterator=True)` for each issue with user notes (system notes read, not counted)."""
    import gitlab as python_gitlab

    from importers.gitlab.settings import ISSUE_QUERY, NOTE_QUERY

    client = python_gitlab.Gitlab(url, private_token=GITLAB_TOKEN, retry_transient_errors=False)
    project = client.projects.get(PROJECTS["gitlab"], lazy=True)
    for issue in project.issues.list(iterator=True, **ISSUE_QUERY):
        yield ITEM, issue
        if comments and issue.user_notes_count > 0:
            notes = issue.notes.list(iterator=True, **NOTE_QUERY)
            yield from ((COMMENT, n) for n in notes if not n.system)  # "changed the label" is no comment


def servicenow(url: str, comments: bool) -> Read:
    """pysnow's `resource.get(limit, offset)` window after window with our fields; per window, its
    tickets' journal entries from sys_journal_field in bulk, with our connector's query."""
    from urllib.parse import urlsplit

    import pysnow

    from importers.servicenow.settings import ORDER, PAGE_SIZE, TABLES, ticket_fields

    client = pysnow.Client(host=urlsplit(url).netloc, user="svc.import", password="s3cret!", use_ssl=False)
    table = PROJECTS["servicenow"]
    tickets = client.resource(api_path=f"/table/{table}")
    journal = client.resource(api_path="/table/sys_journal_field")
    offset = 0
    while True:
        rows = tickets.get(query=ORDER, limit=PAGE_SIZE, offset=offset, fields=ticket_fields(TABLES[table]),
                           display_value="all", exclude_reference_link=True, suppress_pagination_header=True).all()
        yield from ((ITEM, r) for r in rows)
        if comments:
            yield from _journal(journal, table, [r["sys_id"]["value"] for r in rows])
        if len(rows) < PAGE_SIZE:
            return
        offset += PAGE_SIZE


def _journal(journal, table: str, ids: list[str]) -> Read:
    """The comments and work notes of these tickets: our connector's bulk query, chunk by chunk."""
    from importers.servicenow.settings import IDS_PER_QUERY, JOURNAL_ELEMENTS, JOURNAL_FIELDS, LOOKUP_LIMIT

    for start in range(0, len(ids), IDS_PER_QUERY):
        query = (f"name={table}^element_idIN{','.join(ids[start:start + IDS_PER_QUERY])}"
                 f"^elementIN{','.join(JOURNAL_ELEMENTS)}^ORDERBYsys_created_on^ORDERBYsys_id")
        offset = 0
        while True:
            entries = journal.get(query=query, fields=list(JOURNAL_FIELDS), limit=LOOKUP_LIMIT, offset=offset,
                                  suppress_pagination_header=True).all()
            yield from ((COMMENT, e) for e in entries)
            if len(entries) < LOOKUP_LIMIT:
                break
            offset += LOOKUP_LIMIT


READERS = {"jira": jira, "github": github, "gitlab": gitlab, "servicenow": servicenow}


def main(vendor: str, url: str, mode: str = "items") -> dict:
    if mode not in MODES:
        raise SystemExit(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    started = time.perf_counter()
    counts = Counter(kind for kind, _ in READERS[vendor](url, mode == "comments"))
    seconds = time.perf_counter() - started
    return {"items": counts[ITEM], "comments": counts[COMMENT], "seconds": seconds,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
