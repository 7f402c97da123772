"""The ceiling: each vendor's own client library paging through the items, doing nothing else.

Run as `python -m bench.ceiling VENDOR URL N` in a process of its own; prints one JSON line
(items, seconds, peak RSS). The calls are the ones each library documents for listing a
project's items page by page, with our importer's page size and fields where they differ
from the library's default, so both sides move the same bytes.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from typing import Iterator

from bench.fakes import GITHUB_TOKEN, GITLAB_TOKEN, PROJECTS


def jira_items(url: str) -> Iterator[object]:
    """`JIRA.enhanced_search_issues` page by page (Cloud's token paging), comments embedded."""
    from jira import JIRA

    from importers.jira.settings import ITEM_FIELDS, SEARCH_PAGE_SIZE
    from tests.fakes.jira import CLOUD_AUTH

    client = JIRA(server=url, basic_auth=CLOUD_AUTH, max_retries=0, options={"check_update": False})
    token = None
    while True:
        page = client.enhanced_search_issues(f"project = {PROJECTS['jira']} ORDER BY key ASC", nextPageToken=token,
                                             maxResults=SEARCH_PAGE_SIZE, fields=list(ITEM_FIELDS))
        yield from page
        token = page.nextPageToken
        if not token:
            return


def github_items(url: str) -> Iterator[object]:
    """PyGithub's `get_issues` iterated (its PaginatedList keeps every issue it has built)."""
    from github import Auth, Github

    client = Github(auth=Auth.Token(GITHUB_TOKEN), base_url=url, per_page=100, retry=None,
                    seconds_between_requests=None, seconds_between_writes=None)
    yield from client.get_repo(PROJECTS["github"]).get_issues(state="all", sort="updated", direction="asc")


def gitlab_items(url: str) -> Iterator[object]:
    """python-gitlab's `project.issues.list(iterator=True)`, keyset-paged like our importer."""
    import gitlab

    from importers.gitlab.settings import ISSUE_QUERY

    client = gitlab.Gitlab(url, private_token=GITLAB_TOKEN, retry_transient_errors=False)
    project = client.projects.get(PROJECTS["gitlab"], lazy=True)
    yield from project.issues.list(iterator=True, **ISSUE_QUERY)


def servicenow_items(url: str) -> Iterator[object]:
    """pysnow's `resource.get(limit, offset)` window after window, with our fields."""
    from urllib.parse import urlsplit

    import pysnow

    from importers.servicenow.settings import PAGE_SIZE, TABLES, ticket_fields

    parts = urlsplit(url)
    client = pysnow.Client(host=parts.netloc, user="svc.import", password="s3cret!", use_ssl=False)
    table = PROJECTS["servicenow"]
    incidents = client.resource(api_path=f"/table/{table}")
    offset = 0
    while True:
        rows = incidents.get(query="ORDERBYsys_updated_on^ORDERBYsys_id", limit=PAGE_SIZE, offset=offset,
                             fields=ticket_fields(TABLES[table]), display_value="all",
                             exclude_reference_link=True).all()
        yield from rows
        if len(rows) < PAGE_SIZE:
            return
        offset += PAGE_SIZE


READERS = {"jira": jira_items, "github": github_items, "gitlab": gitlab_items, "servicenow": servicenow_items}


def main(vendor: str, url: str) -> dict:
    started = time.perf_counter()
    count = sum(1 for _ in READERS[vendor](url))
    seconds = time.perf_counter() - started
    return {"items": count, "seconds": seconds,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
