"""Numbers in text from outside (a vendor's headers and links, a user's settings, arguments and URLs) are read one
way (importers/numbers.py): "²" passes `str.isdigit()` and fails `int()`, and a check-then-convert on it was a
traceback in the CLI, a 500 from the HTTP API, a failed import or a crashed console page. Each place that read
such a number is driven here with it, as its user or a hostile vendor would send it.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from importers import make_source
from importers.github.mapping import map_issue
from importers.github.paging import numbered_pages
from importers.jira.adf import adf_to_markdown
from importers.model import ItemFailure
from importers.numbers import count, whole_number
from jobs import api
from store import api_tokens
from store.schema import import_parts
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.fakes.server import Response
from tests.fakes.servicenow import FakeServiceNow
from tests.helpers import asgi_post

ODD = ["\u00b2", "\u0663", "+5", " 5", "1_0", "-1", "5.0", "", "9" * 5000]  # superscript two, Arabic-Indic three


@pytest.mark.parametrize(("text", "number"), [("0", 0), ("007", 7), ("123456789012345678", 123456789012345678),
                                              ("1234567890123456789", None), *((t, None) for t in ODD)])
def test_only_ascii_digits_are_a_number(text, number):
    assert whole_number(text) == number


def test_a_servicenow_count_header_it_cannot_read_is_no_count(engine):
    with FakeServiceNow(sizes={"incident": 30}, hide_every=0) as fake:
        config = {"instance": fake.url, "username": fake.username, "password": fake.password}
        fake.answer_next(r"/table/incident\?.*sysparm_limit=1&", Response(200, {"result": []},
                                                                           {"X-Total-Count": "\u00b2"}))
        preview = api.preview("servicenow", "incident", config, limit=5)
    assert preview.estimated_total is None and len(preview.items) == 5


def test_a_gitlab_count_header_it_cannot_read_falls_back_to_the_issue_statistics():
    with FakeGitLab({"acme/web": 12}) as fake:
        fake.answer_next(r"/issues\?.*per_page=1", Response(200, [], {"X-Total": "\u00b2"}))
        source = make_source("gitlab", {"url": fake.url, "token": fake.token})
        try:
            assert source.estimate("acme/web") == 12
        finally:
            source.close()
        assert fake.requests["issues_statistics"] == 1


@pytest.mark.parametrize("page", ["\u00b2", "9" * 5000])
def test_github_links_whose_page_is_no_number_are_paged_by_link(page):
    base = "https://api.github.com/repos/o/r/issues/comments?per_page=100&page="
    assert numbered_pages(f"{base}2", f"{base}{page}") == []
    assert numbered_pages(f"{base}2", f"{base}4") == [f"{base}2", f"{base}3", f"{base}4"]


@pytest.mark.parametrize("failures", ["\u00b2", "9" * 5000])
def test_a_demo_setting_that_is_no_number_is_a_400_naming_it(failures, engine):
    token = api_tokens.create(engine, "ci-bot", created_by="alice")
    status, answer = asgi_post("/import/demo/preview", {"project": "ACME", "config": {"failures": failures}}, token)
    assert status == 400, answer
    assert answer["error"].startswith("demo failures") and "whole number of items from 0 to 1,000" in answer["error"]


@pytest.mark.parametrize("declared", ["\u00b2", "9" * 5000])
def test_a_request_whose_content_length_is_no_number_is_answered(declared, engine):
    token = api_tokens.create(engine, "ci-bot", created_by="alice")
    status, answer = asgi_post("/import/demo/preview", {"project": "ACME"}, token, {"content-length": declared})
    assert status == 200 and answer["items"], answer


def test_a_project_named_twice_is_one_part(engine, cli):
    job_id = api.start_import("demo", ["ACME", " ACME ", "OPS", "ACME"], config={"size": "10"})
    with engine.connect() as conn:
        parts = conn.execute(select(import_parts.c.project).where(import_parts.c.job_id == job_id)
                             .order_by(import_parts.c.id)).scalars().all()
    assert parts == ["ACME", "OPS"]
    result = cli("run", "demo", "--project", "OPS", "--project", "OPS", "--size", "10")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result
    assert api.status(result.stdout.strip().splitlines()[-1])["projects"] == ["OPS"]


def test_a_schedule_checks_its_projects_as_a_run_does(cli, engine):
    result = cli("schedule", "demo", "--project", "bad name!", "--every", "1")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result
    assert result.stderr.strip() == ("error: Demo: 'bad name!' is not a project name: use letters, digits and . _ - / "
                                     "(e.g. ACME, owner/repo)")
    assert api.schedules_list() == []
    schedule_id = api.schedule("demo", ["ACME", "ACME"], 1)
    assert [s["projects"] for s in api.schedules_list() if s["id"] == schedule_id] == [["ACME"]]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(import_parts)).scalar() == 0  # booked, not run


@pytest.mark.parametrize(("value", "number"), [(12, 12), (12.0, 12), (" 12 ", 12), ("12", 12), (-1, None),
                                               (float("inf"), None), (float("nan"), None), (1e300, None), (1.5, None),
                                               (True, None), (None, None), ([1], None), ("\u00b2", None)])
def test_a_count_in_json_is_a_whole_number_or_none(value, number):
    assert count(value) == number


def test_a_jira_count_that_is_no_number_leaves_the_preview_without_a_total():
    with FakeJira(cloud=True, size=12) as fake:
        user, token = fake.credentials
        fake.answer_next("approximate-count", Response(200, {"count": "\u00b2"}))
        preview = api.preview("jira", "ACME", {"base_url": fake.url, "user_email": user, "api_token": token}, limit=3)
    assert preview.estimated_total is None and len(preview.items) == 3


def test_a_jira_server_page_total_that_is_no_count_fails_the_part_in_one_line(run_import):
    with FakeJira(cloud=False, size=12) as fake:
        user, password = fake.credentials
        fake.answer_next(r"/search\?", Response(200, b'{"startAt": 0, "maxResults": 50, "total": Infinity, '
                                                       b'"issues": []}'), times=20)
        doc = run_import("jira", ["ACME"], config={"base_url": fake.url, "user_email": user, "api_token": password})
    assert doc["status"] == "failed", doc
    assert doc["error"] == ("JIRA sent a total of a search page of issues that is not a count ('inf'): cannot page on "
                            "safely"), doc["error"]


def test_a_gitlab_statistics_count_of_infinity_is_no_estimate():
    with FakeGitLab({"acme/web": 12}) as fake:
        fake.answer_next(r"/issues\?.*per_page=1", Response(200, []))  # no X-Total: the statistics are asked
        fake.answer_next("issues_statistics", Response(200, b'{"statistics": {"counts": {"all": Infinity}}}'))
        source = make_source("gitlab", {"url": fake.url, "token": fake.token})
        try:
            assert source.estimate("acme/web") is None
        finally:
            source.close()


@pytest.mark.parametrize("number", [float("inf"), float("nan"), "\u00b2"])
def test_a_github_issue_whose_number_is_no_number_fails_alone(number):
    raw = {"id": 7, "number": number, "title": "t", "state": "open", "created_at": "2025-01-01T00:00:00Z",
           "updated_at": "2025-01-01T00:00:00Z", "labels": []}
    failed = map_issue(raw, "acme/web")
    assert isinstance(failed, ItemFailure) and failed.reason.startswith("GitHub issue could not be mapped")


def test_jira_rich_text_with_an_infinite_heading_level_or_list_start_still_renders():
    doc = {"type": "doc", "content": [
        {"type": "heading", "attrs": {"level": float("inf")}, "content": [{"type": "text", "text": "Plan"}]},
        {"type": "orderedList", "attrs": {"order": float("inf")}, "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]}]}]}
    assert adf_to_markdown(doc) == "# Plan\n\n1. one"


@pytest.mark.parametrize(("value", "hours"), [("inf", 12.0), ("nan", 12.0), ("1e300", 24 * 365.0), ("0", 0.1),
                                              ("abc", 12.0), ("36", 36.0)])
def test_a_session_length_that_is_no_finite_number_is_the_default(value, hours, monkeypatch):
    """A sign-in's cookie lives `timedelta(hours=...)`: inf or 1e300 overflowed it, so nobody could sign in."""
    from datetime import timedelta

    from console.session import session_hours

    monkeypatch.setenv("CONSOLE_SESSION_HOURS", value)
    assert session_hours() == hours
    assert timedelta(hours=session_hours())  # what signing in computes
