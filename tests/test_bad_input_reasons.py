"""A reason names what to fix: the field, and whose field it is. Through RQ, the real client libraries
and the fakes:

- a ServiceNow time that cannot be read named its value but not its field ("time '...' is not in
  ServiceNow's YYYY-MM-DD HH:MM:SS form"), for tickets and journal entries alike;
- a JIRA or GitLab comment that fails its issue gave the comment's field as if it were the issue's
  (`created_at: ...`): the reason now starts `comment {id}: `;
- a ServiceNow journal entry naming no ticket of its read was a comments gap of no ticket, which a
  retry cannot fill: it is now a note naming the entry and what to set, and no retry is offered;
- GitHub's REST deletion check reported a comment it could not map as a failed item keyed
  `comment {id}` (no item has that key): it is now a comments gap of its issue, as in a read.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from jobs import api
from store.schema import comments
from tests.fakes.github import GitHubFake
from tests.fakes.server import FakeServer, Response
from tests.fakes.servicenow import FakeServiceNow
from tests.test_bad_input_times import PAST_9999, _gitlab, _jira, _rewrite

SIZE = 30
MANGLED = "the day after tomorrow"


def _alive(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(comments.c.external_id).where(comments.c.deleted_at.is_(None))).scalars())


def _servicenow() -> FakeServiceNow:
    return FakeServiceNow(sizes={"incident": SIZE}).start()


def _sn_config(fake: FakeServiceNow) -> dict[str, str]:
    return {"instance": fake.url, "username": fake.username, "password": fake.password}


@pytest.mark.parametrize("field", ["sys_created_on", "closed_at"])
def test_a_servicenow_ticket_time_that_cannot_be_read_names_its_field(field, run_import):
    """(A garbled sys_updated_on is the read's paging key: the read refuses to page on past it.)"""
    fake = _servicenow()
    try:
        row = fake.visible("incident")[4]
        row[field] = MANGLED
        doc = run_import("servicenow", ["incident"], config=_sn_config(fake), batch_size=10)
        [failure] = api.failures(doc["job_id"])
    finally:
        fake.stop()
    assert (doc["status"], doc["failed"], failure["key"]) == ("partial", 1, row["number"]), doc
    assert failure["reason"] == f"{field}: time {MANGLED!r} is not in ServiceNow's YYYY-MM-DD HH:MM:SS form", failure


def test_a_servicenow_ticket_time_that_is_no_date_names_its_field(run_import):
    fake = _servicenow()
    try:
        row = fake.visible("incident")[4]
        row["sys_created_on"] = "2024-13-04 08:00:00"
        doc = run_import("servicenow", ["incident"], config=_sn_config(fake), batch_size=10)
        [failure] = api.failures(doc["job_id"])
    finally:
        fake.stop()
    reason = failure["reason"]
    assert reason.startswith("sys_created_on: time '2024-13-04 08:00:00' is not a date"), reason
    assert "month must be in 1..12" in reason and "\n" not in reason, reason


def test_a_servicenow_journal_time_that_cannot_be_read_names_its_field_and_entry(run_import):
    fake = _servicenow()
    try:
        ticket = next(r for r in fake.visible("incident") if any(
            j["element_id"] == r["sys_id"] for j in fake.comments_of("incident")))
        entry = next(j for j in fake.comments_of("incident") if j["element_id"] == ticket["sys_id"])
        entry["sys_created_on"] = MANGLED
        doc = run_import("servicenow", ["incident"], config=_sn_config(fake), batch_size=10)
    finally:
        fake.stop()
    assert (doc["status"], doc["unread"]) == ("partial", {"comments": 1}), doc
    error = doc["error"]
    assert ticket["number"] in error and entry["sys_id"] in error, error
    assert f"sys_created_on: time {MANGLED!r} is not in" in error and "unexpected" not in error, error


@pytest.mark.parametrize("name", ["jira", "gitlab", "gitlab-rest"])
def test_a_comment_that_fails_its_issue_is_named_in_the_reason(name, run_import):
    """JIRA and GitLab fail an issue with its unmappable comment (a retry re-reads both): the reason says it
    was the comment, and which, before what is wrong with it."""
    tool = {"jira": _jira, "gitlab": lambda: _gitlab("graphql"), "gitlab-rest": lambda: _gitlab("rest")}[name]()
    try:
        key, renderings, comment_id = tool.set_comment_time(5)
        _rewrite(tool.fake, renderings, tool.vendor_form(PAST_9999))
        doc = run_import(tool.name, [tool.project], config=tool.config, batch_size=10)
        [failure] = api.failures(doc["job_id"])
    finally:
        tool.fake.stop()
    assert (doc["status"], doc["failed"], failure["key"]) == ("partial", 1, key), doc
    reason = failure["reason"]
    assert reason.startswith(f"comment {comment_id}: created_at: time "), reason
    assert "out of range" in reason and "\n" not in reason, reason


def _journal_rewrite(fake: FakeServer, entry_id: str, element_id: str) -> None:
    """Every journal answer says `element_id` for that entry (as an instance with a broken entry would)."""
    original = fake._dispatch

    def dispatch(*args):
        response = original(*args)
        data = response.encode()
        if entry_id.encode() not in data:
            return response
        body = json.loads(data)
        for row in body.get("result") or []:
            if isinstance(row, dict) and row.get("sys_id") == entry_id and "element_id" in row:
                row["element_id"] = element_id
        return Response(response.status, json.dumps(body).encode(), response.headers, response.content_type)

    fake._dispatch = dispatch


@pytest.mark.parametrize("element_id", ["", "f" * 32])
def test_a_servicenow_journal_entry_of_no_ticket_is_said_and_no_retry_is_offered(element_id, run_import, engine):
    fake = _servicenow()
    try:
        journal = fake.comments_of("incident")
        entry = journal[3]
        _journal_rewrite(fake, entry["sys_id"], element_id)
        doc = run_import("servicenow", ["incident"], config=_sn_config(fake), batch_size=10)
    finally:
        fake.stop()
    # nothing a retry could read again: the job is whole, and its notes say which entry and what to set
    assert (doc["status"], doc["failed"], doc["unread"]) == ("succeeded", 0, {}), doc
    [note] = [n for n in doc["notes"] if entry["sys_id"] in n]
    assert "element_id" in note and "retry" not in note and "\n" not in note, note
    assert (element_id in note) if element_id else ("has no element_id" in note), note
    assert _alive(engine) == {j["sys_id"] for j in journal} - {entry["sys_id"]}


def test_githubs_rest_deletion_check_makes_an_unmappable_comment_a_gap_of_its_issue(run_import, run_worker, engine):
    """Without GraphQL the deletion check reads the REST comment listing: a comment there that cannot be
    mapped exists (never deleted) and is a comments gap naming its issue, which a retry re-reads."""
    fake = GitHubFake(sizes={"acme/web": SIZE}).start()
    config = {"token": fake.token, "api_url": fake.url}
    try:
        fake.graphql_available = False
        first = run_import("github", ["acme/web"], config=config, batch_size=10)
        assert first["status"] == "succeeded", first
        stored = _alive(engine)
        issues = {i["number"] for i in fake.issues["acme/web"] if "pull_request" not in i}
        comment = next(c for c in fake.comments["acme/web"] if int(c["issue_url"].rsplit("/", 1)[1]) in issues)
        number = int(comment["issue_url"].rsplit("/", 1)[1])
        good = comment["created_at"]
        with fake._data:
            comment["created_at"] = MANGLED  # its updated_at stays: only the deletion check lists it
        doc = run_import("github", ["acme/web"], config=config, batch_size=10)
        assert (doc["status"], doc["failed"], doc["unread"]) == ("partial", 0, {"comments": 1}), doc
        assert api.failures(doc["job_id"]) == []
        error = doc["error"]
        assert f"acme/web#{number}" in error and str(comment["id"]) in error and "created_at" in error, error
        assert _alive(engine) == stored  # it exists: nothing marked deleted

        with fake._data:
            comment["created_at"] = good
        before = len(fake.log)
        api.retry(doc["job_id"])
        run_worker()
        fixed = api.status(doc["job_id"])
        assert any(f"/issues/{number}/comments" in path for _, path, _ in fake.log[before:])  # its issue, re-read
        assert (fixed["status"], fixed["unread"]) == ("succeeded", {}), fixed
        assert _alive(engine) == stored
    finally:
        fake.stop()
