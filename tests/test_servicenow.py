"""The ServiceNow connector against a fake instance, through pysnow's real session over HTTP."""
from __future__ import annotations

import math
import re
import socket
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.errors import AuthError, ConfigError, NetworkError, NotFoundError, RateLimitedError, SourceError
from importers.model import ItemFailure, Priority, Status, Visibility, WorkItem
from importers.servicenow import ServiceNowSource
from importers.servicenow.mapping import _deleted, _field, display, map_ticket, value
from importers.servicenow.paging import Keyset
from importers.servicenow.settings import TABLES, ticket_fields
from tests.fakes.servicenow import FORMAT, GHOST_AUTHORS, FakeServiceNow
from tests.strategies import json_values

from .helpers import hang_up_server

PAGE = 40  # 130 incidents (119 visible) -> 4 windows, the last one short
INCIDENT_STATUS = {"1": Status.TODO, "2": Status.IN_PROGRESS, "3": Status.IN_PROGRESS,
                   "6": Status.DONE, "7": Status.DONE, "8": Status.CANCELLED}


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("ALLOW_LOOPBACK_URLS", "1")
    monkeypatch.setenv("IMPORT_RETRY_BASE_SECONDS", "0.01")


@pytest.fixture(scope="module")
def _server():
    server = FakeServiceNow().start()
    yield server
    server.stop()


@pytest.fixture
def fake(_server):
    _server.reset()
    return _server


def make_source(fake, **overrides) -> ServiceNowSource:
    config = {"instance": fake.url, "username": fake.username, "password": fake.password, **overrides}
    source = ServiceNowSource(config)
    source.page_size = PAGE
    return source


@pytest.fixture
def source(fake):
    src = make_source(fake)
    yield src
    src.close()


def by_key(pages):
    return {item.key: item for page in pages for item in page.items}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- connection test ---------------------------------------------------------------------------
def test_check_names_the_account_and_instance(source, fake):
    assert source.check() == f"svc.import (Import Service) on {fake.url}"


def test_bad_password_is_an_auth_error_naming_the_settings_without_the_secret(fake):
    source = make_source(fake, password="wrong-Pa55")
    with pytest.raises(AuthError) as err:
        source.check()
    message = str(err.value)
    assert "SERVICENOW_PASSWORD" in message and "HTTP 401" in message
    assert "wrong-Pa55" not in message and "\n" not in message


def test_unreachable_instance_fails_at_once_naming_the_instance_setting():
    source = ServiceNowSource({"instance": f"http://127.0.0.1:{free_port()}", "username": "u", "password": "p"})
    with pytest.raises(NetworkError, match="SERVICENOW_INSTANCE"):
        source.check()


def test_the_connection_test_does_not_retry_a_server_that_hangs_up():
    with hang_up_server() as (url, accepted), pytest.raises(NetworkError, match="SERVICENOW_INSTANCE"):
        ServiceNowSource({"instance": url, "username": "u", "password": "p"}).check()
    assert len(accepted) == 1  # counted, not timed: one attempt, no backoff


def test_url_that_is_not_a_servicenow_instance(fake):
    source = make_source(fake, instance=f"{fake.url}/not-servicenow")
    with pytest.raises(NotFoundError, match=r"has no ServiceNow Table API: check SERVICENOW_INSTANCE"):
        source.check()


@pytest.mark.parametrize("instance", ["not an instance!", "ftp://acme.example.com", "http://169.254.169.254",
                                      "https://admin:pw@acme.service-now.com"])
def test_malformed_instance_is_a_one_line_config_error(instance):
    source = ServiceNowSource({"instance": instance, "username": "u", "password": "p"})
    with pytest.raises(ConfigError, match="SERVICENOW_INSTANCE") as err:
        source.check()
    assert "pw" not in str(err.value)


@pytest.mark.parametrize("instance, url", [("acme", "https://acme.service-now.com"),
                                           ("dev12345.service-now.com", "https://dev12345.service-now.com")])
def test_instance_name_becomes_the_service_now_url(instance, url):
    source = ServiceNowSource({"instance": instance, "username": "u", "password": "p"})
    assert source.client.url == url
    assert source.projects()[0].url == f"{url}/incident_list.do"


def test_unknown_table_lists_the_importable_ones(source):
    with pytest.raises(NotFoundError, match="incident, problem, change_request"):
        source.estimate("sys_properties")
    assert [p.key for p in source.projects()] == ["incident", "problem", "change_request"]


# -- preview and estimate ----------------------------------------------------------------------
def test_preview_is_one_fast_request_with_the_table_fields(source, fake):
    items = source.preview("incident", limit=15)
    assert len(items) == 15
    expected = fake.visible("incident")[:15]
    assert [i.key for i in items] == [r["number"] for r in expected]
    for item, row in zip(items, expected, strict=True):
        assert item.status == INCIDENT_STATUS[row["state"]] and item.source_status
        assert item.created_at.tzinfo is not None and item.updated_at >= item.created_at
        assert item.url.endswith(f"/nav_to.do?uri=incident.do?sys_id={row['sys_id']}")
    assert fake.requests == {"incident": 1}  # no journal, no user lookups for a preview


def test_estimate_reads_the_total_count_header(source, fake):
    assert source.estimate("incident") == fake.ground_truth("incident")["total"] == 130
    assert source.estimate("problem") == 40
    assert fake.requests == {"incident": 1, "problem": 1}


# -- full reads ------------------------------------------------------------------------------
def test_full_read_yields_exactly_the_visible_tickets_and_comments(source, fake):
    pages = list(source.read("incident"))
    assert len(pages) >= 3
    assert any(len(p.items) < PAGE for p in pages[:-1])  # short pages mid-table did not end the read
    keys = [i.key for p in pages for i in p.items]
    visible = fake.visible("incident")
    assert keys == [r["number"] for r in visible]
    assert {i.key: i.status for p in pages for i in p.items} == {
        r["number"]: INCIDENT_STATUS[r["state"]] for r in visible}
    comments = [c for p in pages for c in p.comments]
    assert sorted(c.external_id for c in comments) == sorted(j["sys_id"] for j in fake.comments_of("incident"))
    for page in pages:
        ids = {i.external_id for i in page.items}
        assert all(c.item_external_id in ids for c in page.comments)  # tied to an item of the same page
        assert not page.failures
    truth = fake.ground_truth("incident")
    assert (len(keys), len(comments)) == (truth["items"], truth["comments"])


@pytest.mark.parametrize("table", ["problem", "change_request"])
def test_other_tables_map_every_state(fake, table):
    source = make_source(fake)
    items = [i for p in source.read(table) for i in p.items]
    assert [i.key for i in items] == [r["number"] for r in fake.visible(table)]
    assert {i.type for i in items} == {TABLES[table].type}
    assert all(i.source_status and not i.source_status.lstrip("-").isdigit() for i in items)
    assert {i.status for i in items} >= {Status.TODO, Status.IN_PROGRESS, Status.DONE}


def test_mapped_fields_people_and_comments(source, fake):
    pages = list(source.read("incident"))
    items = by_key(pages)
    rows = {r["number"]: r for r in fake.visible("incident")}
    untitled = items["INC0010008"]  # empty short_description
    assert untitled.title == "INC0010008 (no short description)"
    assert len(items["INC0010004"].description) > 100_000
    assert any("<script>alert(1)</script>" in i.title for i in items.values())  # kept verbatim, never rendered
    child = items["INC0010014"]
    assert child.parent_key == "INC0010011"
    linked = items["INC0010001"]
    assert [(link.kind, link.target_key[:3]) for link in linked.links] == [("problem", "PRB")]
    for key, item in items.items():
        row = rows[key]
        assert item.labels == ([row["category"].capitalize()] if row["category"] else [])
        assert item.priority == {"1": Priority.URGENT, "2": Priority.HIGH, "3": Priority.MEDIUM,
                                 "4": Priority.LOW, "5": Priority.NONE}[row["priority"]]
        assert (item.closed_at is not None) == bool(row["closed_at"])
        user = fake.record(row["assigned_to"]) if row["assigned_to"] else None
        if user is None:
            assert item.assignee is None
        else:
            assert (item.assignee.external_id, item.assignee.username) == (user["sys_id"], user["user_name"])
            assert item.assignee.email == (user["email"] or None)
            assert item.assignee.display_name == user["name"]
        assert item.reporter is not None and item.reporter.external_id == row["caller_id"]
    comments = [c for p in pages for c in p.comments]
    journal = {j["sys_id"]: j for j in fake.comments_of("incident")}
    for comment in comments:
        entry = journal[comment.external_id]
        assert comment.author.username == entry["sys_created_by"]
        # work notes are for fulfillers only: internal, marked as such rather than by a prefix in the text
        assert (comment.visibility == Visibility.INTERNAL) == (entry["element"] == "work_notes")
        assert "[code]" not in comment.body and "<b>" not in comment.body
    emails = {c.author.username: c.author.email for c in comments}
    assert emails["beth.anglin"] == "beth.anglin@example.com"  # looked up in sys_user, matched by email
    assert all(emails.get(ghost) is None for ghost in GHOST_AUTHORS)


def keyset_windows(fake, table: str) -> list[list[dict]]:
    """The visible rows of each window a keyset read gets: each starts after the last row read."""
    rows, start, windows = fake.ordered(table), 0, []
    while start < len(rows):
        cut = rows[start:start + PAGE]
        window = [r for r in cut if not r["_hidden"]]
        if window:
            windows.append(window)
            start = rows.index(window[-1]) + 1
        else:
            start += PAGE
    return windows


def expected_user_lookups(fake, table: str) -> int:
    """Pages on which some comment author was not yet known from tickets or earlier lookups."""
    reporter = TABLES[table].reporter
    known: set[str] = set()
    lookups = 0
    for window in keyset_windows(fake, table):
        for row in window:
            known |= {fake.record(row[f])["user_name"] for f in ("assigned_to", reporter) if row[f]}
        ids = {r["sys_id"] for r in window}
        authors = {j["sys_created_by"] for j in fake.data["sys_journal_field"] if j["element_id"] in ids}
        lookups += bool(authors - known)
        known |= authors
    return lookups


def test_full_read_uses_the_minimum_number_of_requests(source, fake):
    list(source.read("incident"))
    windows = len(keyset_windows(fake, "incident"))
    assert windows == math.ceil(fake.ground_truth("incident")["total"] / PAGE)  # here as few as offset paging needed
    assert fake.requests["incident"] == windows + 1  # + the empty page that ends the table
    assert fake.requests["sys_journal_field"] == windows  # one bulk journal request per page
    assert fake.requests["sys_user"] == expected_user_lookups(fake, "incident") <= windows
    assert fake.total_requests == windows * 2 + 1 + fake.requests["sys_user"]
    journal_queries = [path for _, path, _ in fake.log if "sys_journal_field" in path]
    assert all("element_idIN" in path for path in journal_queries)


def test_resume_from_a_cursor_yields_exactly_the_rest(source, fake):
    pages = list(source.read("incident"))
    rest = list(make_source(fake).read("incident", cursor=pages[1].cursor))
    assert [i.key for p in rest for i in p.items] == [i.key for p in pages[2:] for i in p.items]
    assert sorted(c.external_id for p in rest for c in p.comments) == sorted(
        c.external_id for p in pages[2:] for c in p.comments)


def test_tickets_edited_during_a_full_read_are_neither_skipped_nor_stale(source, fake):
    """Regression: with offset paging, an edit moved a ticket behind the read; the tickets after
    it slid back into the window already read and were skipped for good (their update times are
    old, so no incremental run would bring them either)."""
    visible = [r["number"] for r in fake.visible("incident")]
    touched: list[str] = []
    fake.after_request("incident", 1, lambda: touched.extend(fake.touch("incident", 6)))
    pages = list(source.read("incident"))
    keys = [i.key for p in pages for i in p.items]
    assert set(keys) == set(visible)  # nothing skipped
    edited_after_reading = set(touched) & {i.key for i in pages[0].items}
    assert len(edited_after_reading) >= 2  # the edit really moved tickets out of a window already read
    assert sorted(k for k, n in Counter(keys).items() if n > 1) == sorted(edited_after_reading)
    latest = {i.key: i for p in pages for i in p.items}  # a re-read ticket's later version wins
    assert all(latest[k].title.endswith("(edited)") and latest[k].status == Status.DONE for k in touched)
    assert keys[-len(touched):] == touched  # read again at the end, in their new order


def test_keyset_windows_repeat_the_since_condition_in_both_groups(source, fake):
    since = datetime(2024, 3, 10, tzinfo=UTC)
    items = [i for p in source.read("incident", since=since) for i in p.items]
    assert [i.key for i in items] == [r["number"] for r in fake.visible("incident")
                                      if r["sys_updated_on"] >= "2024-03-10 00:00:00"]
    paged = [unquote_plus(path) for _, path, _ in fake.log if "/incident?" in path and "^NQ" in unquote_plus(path)]
    assert paged and all(q.count("sys_updated_on>=2024-03-10 00:00:00") == 2 for q in paged)


def test_a_window_hidden_entirely_by_access_rules_does_not_end_the_read(source, fake):
    rows = fake.ordered("incident")
    for row in rows[PAGE:2 * PAGE + 5]:
        row["_hidden"] = True
    after_the_run = [r["number"] for r in rows[2 * PAGE + 5:] if not r["_hidden"]]
    keys = [i.key for p in source.read("incident") for i in p.items]
    assert keys == [r["number"] for r in fake.visible("incident")]
    assert after_the_run and keys[-len(after_the_run):] == after_the_run


def test_an_offset_cursor_from_before_keyset_paging_restarts_the_table(source, fake):
    """Checkpoints written by the offset-paged connector cannot be trusted: re-read, never skip."""
    keys = [i.key for p in source.read("incident", cursor={"offset": 80}) for i in p.items]
    assert keys == [r["number"] for r in fake.visible("incident")]


def test_rows_that_cannot_be_paged_past_stop_the_read_instead_of_looping():
    keyset = Keyset(after=("2024-03-04 08:00:00", "0" * 32))
    with pytest.raises(SourceError, match=r"out of \(sys_updated_on, sys_id\) order"):
        keyset.advance([{"sys_id": "not-a-sys-id", "sys_updated_on": "yesterday"}], None, lambda: 1)
    with pytest.raises(SourceError):  # went backwards
        keyset.advance([{"sys_id": "0" * 32, "sys_updated_on": "2024-03-04 07:59:59"}], None, lambda: 1)


def test_since_yields_only_the_touched_tickets(source, fake):
    latest = max(datetime.strptime(r["sys_updated_on"], FORMAT) for r in fake.data["incident"])
    touched = fake.touch("incident", 5)
    since = (latest + timedelta(seconds=1)).replace(tzinfo=UTC)
    assert source.estimate("incident", since=since) == 5
    items = [i for p in source.read("incident", since=since) for i in p.items]
    assert [i.key for i in items] == touched
    assert all(i.title.endswith("(edited)") and i.status == Status.DONE for i in items)


def test_fetch_rereads_only_the_given_tickets(source, fake):
    wanted = [r["sys_id"] for r in fake.visible("incident")[5:8]]
    pages = list(source.fetch("incident", wanted + ["(no sys_id)"]))
    assert sorted(i.external_id for p in pages for i in p.items) == sorted(wanted)
    assert {c.item_external_id for p in pages for c in p.comments} <= set(wanted)
    assert all(p.cursor is None for p in pages)


# -- full imports through the jobs API, the worker and the store ------------------------------------
def test_import_rerun_and_incremental_run_through_the_store(fake, run_import, engine):
    from store.queries import items as stored_items
    from store.queries import stats

    config = {"instance": fake.url, "username": fake.username, "password": fake.password}
    truth = fake.ground_truth("incident")
    first = run_import("servicenow", ["incident"], config=config)
    assert (first["status"], first["created"], first["failed"]) == ("succeeded", truth["items"], 0), first["error"]
    rows = stored_items(engine, source="servicenow", project="incident", limit=1000)
    assert {r["key"]: r["status"] for r in rows} == {
        r["number"]: INCIDENT_STATUS[r["state"]].value for r in fake.visible("incident")}
    assert stats(engine)["comments"] == truth["comments"]

    again = run_import("servicenow", ["incident"], config=config, incremental=False)
    assert (again["created"], again["skipped"]) == (0, truth["items"])

    touched = fake.touch("incident", 5)
    later = run_import("servicenow", ["incident"], config=config, duplicates="update")
    assert (later["status"], later["created"], later["updated"]) == ("succeeded", 0, 5)
    assert later["processed"] <= 6  # the touched tickets, and at most the one at the high-water mark
    rows = {r["key"]: r for r in stored_items(engine, source="servicenow", project="incident", limit=1000)}
    assert all(rows[k]["title"].endswith("(edited)") and rows[k]["status"] == "done" for k in touched)
    assert len(rows) == truth["items"] and stats(engine)["comments"] == truth["comments"]


# -- rate limits and faults ---------------------------------------------------------------------
def test_429_and_a_503_burst_are_retried_and_counts_stay_exact(source, fake):
    waits = []
    source.set_wait_listener(lambda until, reason: waits.append(reason) if until else None)
    fake.limit_next(r"/api/now/table/incident\?", seconds=1)
    fake.fail_next("sys_journal_field", 503, times=3)
    started = time.monotonic()
    pages = list(source.read("incident"))
    assert time.monotonic() - started >= 0.9  # Retry-After was honoured
    assert [i.key for p in pages for i in p.items] == [r["number"] for r in fake.visible("incident")]
    assert sum(len(p.comments) for p in pages) == fake.ground_truth("incident")["comments"]
    assert fake.injected == {429: 1, 503: 3}
    assert "ServiceNow rate limit (HTTP 429)" in waits and waits.count("ServiceNow answered HTTP 503") == 3


def test_long_rate_limit_stops_with_the_time_to_retry(source, fake, monkeypatch):
    monkeypatch.setenv("IMPORT_MAX_RATE_LIMIT_WAIT", "1")
    source = make_source(fake)  # the policy reads its limits when the source is made
    fake.limit_next(r"/api/now/table/incident\?", seconds=3600)
    with pytest.raises(RateLimitedError) as err:
        list(source.read("incident"))
    until = (datetime.now(UTC) + timedelta(seconds=3600)).astimezone()
    assert re.search(r"rate limited by ServiceNow until \d\d:\d\d", str(err.value))
    assert abs((err.value.until.astimezone() - until).total_seconds()) < 60
    assert f"{err.value.until.astimezone():%H:%M}" in str(err.value)
    assert fake.requests["incident"] == 1  # gave up without hammering the instance


# -- mapping never raises ---------------------------------------------------------------------
_ROWS = FakeServiceNow().api_rows("incident", ticket_fields(TABLES["incident"]), 20)
_json = json_values(text=30, keys=10, leaves=8, allow_nan=True)


@st.composite
def mangled_rows(draw):
    row = dict(draw(st.sampled_from(_ROWS)))
    for name in draw(st.lists(st.sampled_from(sorted(row)), max_size=4)):
        if draw(st.booleans()):
            row.pop(name, None)
        else:
            row[name] = draw(_json | st.fixed_dictionaries({"value": _json, "display_value": _json}))
    return row


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mangled_rows(), _json))
def test_mapping_turns_any_row_into_an_item_or_a_failure(row):
    result = map_ticket("incident", row, "https://acme.service-now.com")
    assert isinstance(result, (WorkItem, ItemFailure))
    if isinstance(result, ItemFailure):
        assert result.reason


def test_unmangled_rows_all_map():
    assert all(isinstance(map_ticket("incident", row, "https://x"), WorkItem) for row in _ROWS)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_rows(), st.sampled_from(sorted(set(ticket_fields(TABLES["incident"])) | {"absent"})))
def test_one_lookup_of_a_field_reads_what_value_display_and_deleted_read(row, name):
    assert _field(row, name) == (value(row, name), display(row, name), _deleted(row, name))


def _shown(stored: str, shown: str | None = None) -> dict[str, str]:
    return {"value": stored, "display_value": stored if shown is None else shown}


def test_a_representative_ticket_maps_to_exactly_this_item():
    """Every branch of the mapping in one row (display values, non-ASCII text, HTML in [code], a
    deleted assignee and parent, a linked problem, an email to normalise): its whole output, so a
    faster mapping cannot change what is stored."""
    row = {
        "sys_id": _shown("a" * 32), "number": _shown("INC0012345"),
        "short_description": _shown("  Écran bloqué 😀 après MAJ  "),
        "description": _shown('Line one\r\n[code]<b>bold</b> <a href="/kb.do">KB</a>[/code]'),
        "state": _shown("2", "In Progress"), "priority": _shown("1", "1 - Critical"),
        "category": _shown("software", "Software"), "sys_created_on": _shown("2024-03-04 08:00:00"),
        "sys_updated_on": _shown("2024-03-05 09:30:15"), "closed_at": _shown(""),
        "assigned_to": _shown("b" * 32, ""), "assigned_to.user_name": _shown(""), "assigned_to.email": _shown(""),
        "caller_id": _shown("c" * 32, "Zoë Ångström"), "caller_id.user_name": _shown("zoë.ångström"),
        "caller_id.email": _shown("Zoe@Example.com "), "parent_incident": _shown("d" * 32, ""),
        "problem_id": _shown("e" * 32, "PRB0040001"), "rfc": _shown(""),
    }
    item = map_ticket("incident", row, "https://acme.service-now.com")
    assert isinstance(item, WorkItem)
    assert item.model_dump(mode="json") == {
        "source": "servicenow", "external_id": "a" * 32, "key": "INC0012345", "project": "incident",
        "title": "Écran bloqué 😀 après MAJ",
        "description": "Line one\n\n\n**bold** [KB](https://acme.service-now.com/kb.do)",
        "type": "incident", "status": "in_progress", "source_status": "In Progress", "state": "In Progress",
        "priority": "urgent", "source_priority": "1 - Critical", "source_type": "incident", "labels": ["Software"],
        "assignee": {"source": "servicenow", "external_id": "(deleted)", "display_name": "unknown (deleted)",
                     "email": None, "username": None, "workspace_key": None},
        "reporter": {"source": "servicenow", "external_id": "c" * 32, "display_name": "Zoë Ångström",
                     "email": "zoe@example.com", "username": "zoë.ångström", "workspace_key": None},
        "created_at": "2024-03-04T08:00:00Z", "updated_at": "2024-03-05T09:30:15Z", "closed_at": None,
        "url": f"https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id={'a' * 32}",
        "parent_key": None, "parent_id": None,
        "links": [{"kind": "problem", "target_key": "PRB0040001", "target_id": "e" * 32}],
        "attachments": [], "visibility": "public", "visible_to": "",
        "notes": [f"the parent (sys_id {'d' * 32}) no longer exists in ServiceNow: not linked"],
        "moved_to_id": None, "moved_from_id": None, "comments_at_source": None,
    }


_NOT_THE_FORM = "is not in ServiceNow's YYYY-MM-DD HH:MM:SS form"


@pytest.mark.parametrize("created,reason", [
    # fromisoformat alone reads this one as 08:00 UTC (a "Z" zone; what follows the NUL is never read)
    ("2024-03-04 08:Z\x00:0+", _NOT_THE_FORM),
    ("٢٠٢٤-٠٣-٠٤ ٠٨:٠٠:٠٠", "Invalid isoformat string"),  # digits, but not ASCII ones
    ("2024-03-04T08:00:00", _NOT_THE_FORM), ("2024-03-04 08:00:00+02:00", _NOT_THE_FORM),
    ("2024-13-04 08:00:00", "month must be in 1..12"),
])
def test_a_ticket_with_a_garbled_creation_time_is_a_failure_saying_why_not_an_item_with_a_wrong_time(created, reason):
    """parse_time's quick check of ServiceNow's time form must refuse what the form's regex refuses,
    not accept what fromisoformat happens to read."""
    row = {"sys_id": _shown("a" * 32), "number": _shown("INC0012345"), "short_description": _shown("Printer"),
           "state": _shown("1", "New"), "sys_created_on": _shown(created),
           "sys_updated_on": _shown("2024-03-05 09:30:15")}
    failure = map_ticket("incident", row, "https://acme.service-now.com")
    assert isinstance(failure, ItemFailure)
    assert failure.key == "INC0012345" and reason in failure.reason
    row["sys_created_on"] = _shown(" 2024-03-04 08:00:00 ")  # padded: still read, as ever
    assert map_ticket("incident", row, "https://x").created_at == datetime(2024, 3, 4, 8, tzinfo=UTC)
