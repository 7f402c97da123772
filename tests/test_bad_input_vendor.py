"""A vendor answering badly mid-import, for every connector, through RQ and the store: HTML or
broken JSON instead of its API, a body cut short, credentials that expire on a later page, and
hostile or huge content. Each ends with a clear one-line reason or is imported safely as text,
and the store holds exactly the items the job reports, nothing half-written.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from jobs import api
from store.schema import work_items
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.fakes.server import FakeServer, Response
from tests.fakes.servicenow import FakeServiceNow

SIZE = 300  # three pages of 100 (ServiceNow pages by 1,000: it gets 2,400 rows)
SCRIPT = "<script>alert('owned')</script> checkout"
INJECTION = "**bold** [click me](javascript:alert(1)) <img src=x onerror=alert(1)> | table | `code`"
BIG = "0123456789" * 1_000_000  # a 10 MB description
BAD_UTF8_MARK = "BADUTF8MARK"


@dataclass
class Tool:
    name: str
    fake: FakeServer
    project: str
    config: dict[str, str]
    listing: str  # regex of the issue listing route
    later_page: str  # regex of the listing's second and later pages
    items: int
    edit: Callable[[int, str, Any], str]  # (index, field "title"|"body", value) -> the item's key
    in_body: bool = False  # the patterns match the request body (GraphQL: one URL for every page)

    def fail_next(self, pattern: str, status: int, times: int = 1) -> None:
        self.fake.fail_next(pattern, status, times=times, in_body=self.in_body)

    def answer_next(self, pattern: str, answer: Response, times: int = 1) -> None:
        self.fake.answer_next(pattern, answer, times=times, in_body=self.in_body)


def _jira() -> Tool:
    fake = FakeJira(size=SIZE).start()
    user, token = fake.credentials

    def edit(index, field, value):
        issue = fake.issues["ACME"][index]
        if field == "title":
            issue["summary"] = value
        else:
            issue["description"] = [("p", [("t", value)])]
        return issue["key"]

    return Tool("jira", fake, "ACME", {"base_url": fake.url, "user_email": user, "api_token": token},
                "search", "nextPageToken", fake.ground_truth("ACME")["items"], edit)


def _github() -> Tool:
    fake = GitHubFake(sizes={"acme/web": SIZE}).start()
    issues = [i for i in fake.issues["acme/web"] if "pull_request" not in i]

    def edit(index, field, value):
        issues[index]["title" if field == "title" else "body"] = value
        return f"acme/web#{issues[index]['number']}"

    return Tool("github", fake, "acme/web", {"token": fake.token, "api_url": fake.url}, "/issues\\?", "after=",
                len(issues), edit)


def _gitlab(api: str = "graphql") -> Tool:
    fake = FakeGitLab(projects={"acme/web": SIZE}).start()

    def edit(index, field, value):
        issue = fake.issues["acme/web"][index]
        issue["title" if field == "title" else "description"] = value
        return f"acme/web#{issue['iid']}"

    config = {"token": fake.token, "url": fake.url, "api": api}
    if api == "rest":
        return Tool("gitlab", fake, "acme/web", config, "/issues\\?", "cursor=", SIZE, edit)
    # GraphQL pages differ in their variables: a later issue page names the cursor it follows
    return Tool("gitlab", fake, "acme/web", config, "/api/graphql", '"first": 100, "after": "', SIZE, edit,
                in_body=True)


def _servicenow() -> Tool:
    fake = FakeServiceNow(sizes={"incident": 8 * SIZE}).start()
    rows = fake.visible("incident")

    def edit(index, field, value):
        rows[index]["short_description" if field == "title" else "description"] = value
        return rows[index]["number"]

    return Tool("servicenow", fake, "incident",
                {"instance": fake.url, "username": fake.username, "password": fake.password},
                "/table/incident\\?", "sys_updated_on%3E", len(rows), edit)


@pytest.fixture(params=["jira", "github", "gitlab", "gitlab-rest", "servicenow"])
def tool(request):
    built = {"jira": _jira, "github": _github, "gitlab": _gitlab, "gitlab-rest": lambda: _gitlab("rest"),
             "servicenow": _servicenow}[request.param]()
    yield built
    built.fake.stop()


def _import(tool: Tool, run_worker, **options) -> dict:
    job_id = api.start_import(tool.name, [tool.project], config=tool.config, batch_size=50, **options)
    run_worker()
    return api.status(job_id)


def _stored(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(work_items)).scalar()


def _one_line(error: str | None, *words: str) -> None:
    assert error and "\n" not in error and "Traceback" not in error, error
    assert not error.startswith("internal error"), error
    for word in words:
        assert word in error, error


@pytest.mark.parametrize("answer", [
    Response(200, "<!DOCTYPE html><html><body><h1>Sign in to continue</h1></body></html>", content_type="text/html"),
    Response(200, '{"issues": [{"id": "1", "fields": {'),
    Response(200, "null"),
    Response(200, '"just a string"'),
], ids=["html", "broken-json", "null", "string"])
def test_vendor_answering_something_that_is_not_its_api_fails_clearly(tool, answer, run_worker, engine):
    tool.answer_next(tool.listing, answer, times=1000)
    doc = _import(tool, run_worker)

    assert doc["status"] == "failed", doc
    _one_line(doc["error"])
    assert {"jira": "JIRA", "github": "GitHub", "gitlab": "GitLab", "servicenow": "ServiceNow"}[tool.name] \
        in doc["error"]  # names the tool that answered wrongly (and, in most messages, the setting to check)
    assert _stored(engine) == doc["created"] == 0


def test_truncated_body_is_retried_and_counts_stay_exact(tool, run_worker, engine):
    tool.answer_next(tool.later_page, Response(200, b'{"issues": [{"id"', {"Content-Length": "4096"}))
    doc = _import(tool, run_worker)

    assert (doc["status"], doc["created"], doc["failed"]) == ("succeeded", tool.items, 0), doc
    assert _stored(engine) == tool.items


def test_credentials_expiring_on_a_later_page_stop_cleanly_and_retry_resumes(tool, run_worker, engine):
    tool.fail_next(tool.later_page, 401, times=1000)
    doc = _import(tool, run_worker)

    assert doc["status"] == "failed", doc
    _one_line(doc["error"], "rejected the credentials", "HTTP 401")
    assert 0 < doc["created"] < tool.items  # the pages before the expiry are kept, committed
    assert _stored(engine) == doc["created"]

    tool.fake._faults.clear()  # the user renewed the token
    api.retry(doc["job_id"])
    run_worker()
    after = api.status(doc["job_id"])
    assert (after["status"], after["created"], after["processed"]) == ("succeeded", tool.items, tool.items), after
    assert _stored(engine) == tool.items


def _send_invalid_utf8(fake: FakeServer) -> None:
    """Replace a marker in every answer by bytes that are not UTF-8, as a broken proxy would."""
    original = fake._dispatch

    def dispatch(*args):
        response = original(*args)
        data = response.encode()
        if BAD_UTF8_MARK.encode() in data:
            return Response(response.status, data.replace(BAD_UTF8_MARK.encode(), b"caf\xe9 \xff\xfe"),
                            response.headers, response.content_type)
        return response

    fake._dispatch = dispatch


def test_hostile_and_huge_content_is_stored_as_text(tool, run_worker, engine):
    from store.queries import items as stored_items

    script_key = tool.edit(1, "title", SCRIPT)
    injection_key = tool.edit(2, "title", INJECTION)
    big_key = tool.edit(4, "body", BIG)
    utf8_key = tool.edit(5, "title", f"title {BAD_UTF8_MARK} end")
    _send_invalid_utf8(tool.fake)
    doc = _import(tool, run_worker)

    assert doc["status"] in ("succeeded", "partial"), doc
    rows = {r["key"]: r for r in stored_items(engine, source=tool.name, project=tool.project, limit=10_000)}
    assert len(rows) == _stored(engine) == doc["created"]
    assert rows[script_key]["title"] == SCRIPT  # kept verbatim: it is text, rendering escapes it
    assert rows[injection_key]["title"] == INJECTION
    with engine.connect() as conn:
        description = conn.execute(select(work_items.c.description).where(work_items.c.key == big_key)).scalar()
    assert description is not None and "0123456789" * 1000 in description
    if utf8_key in rows:  # either imported with the bad bytes replaced, or reported as that item's failure
        assert rows[utf8_key]["title"].startswith("title caf") and rows[utf8_key]["title"].endswith(" end")
        assert doc["created"] == tool.items
    else:
        reported = api.failures(doc["job_id"])
        assert [f["key"] for f in reported] == [utf8_key] and doc["created"] == tool.items - 1, reported
