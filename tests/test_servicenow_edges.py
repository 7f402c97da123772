"""ServiceNow at the edges an import must survive (issue 13), each the input that once lost data:
rows capped per response, HTML journal entries, work notes, references to deleted records, and a
journal lookup that fails. Through a real worker, the store, and pysnow's session over HTTP."""
from __future__ import annotations

import json
import re
from urllib.parse import unquote_plus

import pytest
from sqlalchemy import select

from jobs import api
from store import jobs as job_store
from store import queries
from store.schema import comments, people, work_items
from tests.fakes.servicenow import FakeServiceNow, sys_id


@pytest.fixture(scope="module")
def _server():
    server = FakeServiceNow(sizes={"incident": 30}, hide_every=0).start()
    yield server
    server.stop()


@pytest.fixture
def fake(_server):
    _server.reset()
    return _server


@pytest.fixture
def config(fake):
    return {"instance": fake.url, "username": fake.username, "password": fake.password}


def _busy(fake) -> dict:
    """The issue's shape: 30 tickets, 89 journal entries, one ticket with 60 of them, written by 40
    people who are not on any ticket (so their sys_user lookup pages too)."""
    fake.data["sys_journal_field"].clear()
    tickets = fake.ordered("incident")
    for n in range(40):
        name = f"agent.{n:02d}"
        user = {"sys_id": sys_id("user", name), "user_name": name, "name": f"Agent {n:02d}",
                "email": f"{name}@example.com"}
        fake.data["sys_user"].append(user)
        fake._index[user["sys_id"]] = user
    for n in range(60):
        fake.add_journal("incident", tickets[0], f"update {n}", author=f"agent.{n % 40:02d}", n=n)
    for n, ticket in enumerate(tickets[1:], start=60):
        fake.add_journal("incident", ticket, f"note {n}", author=f"agent.{n % 40:02d}", n=n)
    return {"tickets": len(tickets), "comments": 89}


def test_rows_capped_at_25_a_response_still_bring_every_comment_and_author(fake, config, run_import, engine):
    """Regression (issue 13, kind 1): 30 tickets, 89 comments, rows capped at 25: the journal lookup
    advanced its offset by the 10,000 it asked for and stored 30 of 89 comments (the busy ticket 1 of
    60), while the job said succeeded."""
    shape = _busy(fake)
    fake.max_rows = 25
    doc = run_import("servicenow", ["incident"], config=config)
    assert (doc["status"], doc["created"], doc["failed"]) == ("succeeded", shape["tickets"], 0), doc["error"]
    assert queries.stats(engine)["comments"] == shape["comments"]
    with engine.connect() as conn:
        authors = set(conn.execute(select(people.c.display_name).join(comments, comments.c.author_id == people.c.id))
                      .scalars())
    assert authors == {f"Agent {n:02d}" for n in range(40)}  # every author looked up, past 25 users too
    journal = [unquote_plus(p) for _, p, _ in fake.log if "/sys_journal_field?" in p]
    assert len(journal) >= 4 and all("sysparm_offset=0" in q for q in journal)  # paged by key, not by offset


def test_html_journal_entries_keep_links_images_and_lists(fake, config, run_import, engine):
    ticket = fake.ordered("incident")[2]
    fake.add_journal("incident", ticket, (
        '[code]<p>See <a href="kb_view.do?sysparm_article=KB0012">KB0012</a> first.</p>'
        '<ol><li>Restart</li><li>Check <b>logs</b></li></ol>'
        '<img src="/sys_attachment.do?sys_id=abc" alt="screenshot"><script>alert(1)</script>[/code]'))
    run_import("servicenow", ["incident"], config=config)
    with engine.connect() as conn:
        bodies = list(conn.execute(select(comments.c.body)).scalars())
    body = next(b for b in bodies if "KB0012" in b)
    assert f"[KB0012]({fake.url}/kb_view.do?sysparm_article=KB0012)" in body  # the link target is kept
    assert "1. Restart\n2. Check **logs**" in body
    assert f"[screenshot]({fake.url}/sys_attachment.do?sys_id=abc)" in body
    assert "alert" not in body and "[code]" not in body and "<p>" not in body


def test_work_notes_are_internal_and_counted_by_preview_dry_run_and_import(fake, config, run_import, engine):
    notes = [j for j in fake.comments_of("incident") if j["element"] == "work_notes"]
    assert notes  # the generated dataset has some
    preview = api.preview("servicenow", "incident", config=config)
    assert (preview.internal_items, preview.internal_comments) == (0, len(notes))
    dry = run_import("servicenow", ["incident"], config=config, dry_run=True)
    assert (dry["internal_items"], dry["internal_comments"]) == (0, len(notes))
    real = run_import("servicenow", ["incident"], config=config)
    assert real["internal_comments"] == len(notes)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(comments.c.external_id, comments.c.visibility)).all())
    assert {eid for eid, v in stored.items() if v == "internal"} == {j["sys_id"] for j in notes}
    public_thread = queries.item_detail(engine, _item_id(engine, notes[0]["element_id"]),
                                        visibility=queries.PUBLIC_ONLY)["comments"]
    assert all(c["visibility"] == "public" for c in public_thread)


def _item_id(engine, external_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(work_items.c.id).where(work_items.c.external_id == external_id)).scalar_one()


def test_references_to_deleted_records_become_no_one_and_no_parent(fake, config, run_import, engine):
    """Regression (kind 6): a deleted user's sys_id became a person named by it, a deleted parent a sys_id key."""
    tickets = fake.ordered("incident")
    busiest = max({t["assigned_to"] for t in tickets} - {""}, key=[t["assigned_to"] for t in tickets].count)
    gone = fake.record(busiest)
    assigned = [t["number"] for t in tickets if t["assigned_to"] == gone["sys_id"]]
    assert assigned
    child = next(t for t in tickets if t.get("parent_incident"))
    parent = fake.record(child["parent_incident"])
    fake.delete(gone["sys_id"])
    fake.delete(parent["sys_id"])
    doc = run_import("servicenow", ["incident"], config=config)
    assert doc["status"] == "succeeded", doc["error"]
    with engine.connect() as conn:
        names = list(conn.execute(select(people.c.display_name)).scalars())
    assert names.count("unknown (deleted)") == 1
    assert not [n for n in names if re.fullmatch(r"[0-9a-f]{32}", n)]
    items = {r["key"]: r for r in queries.items(engine, limit=100)}
    assert all(items[k]["assignee"] == "unknown (deleted)" for k in assigned)
    detail = queries.item_detail(engine, items[child["number"]]["id"])
    assert detail["parent_key"] is None
    assert detail["notes"] == [f"the parent (sys_id {parent['sys_id']}) no longer exists in ServiceNow: not linked"]


def test_a_failing_journal_lookup_keeps_the_tickets_and_retry_reads_only_their_comments(
        fake, config, run_import, run_worker, engine, monkeypatch):
    """Kind 3: the comments of one page could not be read; the job keeps every ticket, ends partial
    saying why, and its retry re-reads only the tickets whose comments are missing."""
    monkeypatch.setenv("IMPORT_RETRY_ATTEMPTS", "2")
    truth = fake.ground_truth("incident")
    fake.fail_next("sys_journal_field", 500, times=2)  # the first journal query, and its one retry
    doc = run_import("servicenow", ["incident"], config=config)
    assert (doc["status"], doc["created"], doc["failed"]) == ("partial", truth["items"], 0)
    assert doc["unread"] == {"comments": truth["items"]}  # 30 tickets: one page, one journal query
    assert doc["error"].startswith("comments of 30 tickets could not be read (ServiceNow kept failing")
    assert "retry reads only what is missing" in doc["error"]
    assert queries.stats(engine)["comments"] == 0

    before = len(fake.log)
    api.retry(doc["job_id"])
    run_worker()
    again = api.status(doc["job_id"])
    assert (again["status"], again["unread"], again["error"]) == ("succeeded", {}, None)
    assert (again["created"], again["processed"]) == (truth["items"], truth["items"])  # counted once
    assert queries.stats(engine)["comments"] == truth["comments"]
    retried = [unquote_plus(p) for _, p, _ in fake.log[before:] if "/incident?" in p]
    assert retried and all("sys_idIN" in q for q in retried)  # only the tickets named by the gaps


def test_a_read_that_fails_keeps_the_pages_it_read(fake, config, run_import, engine):
    """Kind 3, the runner's part: pages read before a fatal error are committed, not dropped with
    the unfinished batch (the default batch of 500 held every page of this table)."""
    # requests to the table: 1 the estimate, 2 the first window, 3 the second: refused
    fake.after_request("incident", 2, lambda: fake.fail_next("/incident", 400, body={
        "error": {"message": "Invalid query", "detail": None}, "status": "failure"}))
    fake.max_rows = 10  # the instance answers 10 rows a response (glide.processor.json.row_limit)
    doc = run_import("servicenow", ["incident"], config=config)
    assert doc["status"] == "failed" and "HTTP 400" in doc["error"]
    assert doc["processed"] == 10 and len(queries.items(engine)) == 10


def test_a_catch_up_run_finds_deleted_tickets_by_a_sys_id_listing_and_links_by_sys_id(
        fake, config, run_import, engine):
    """Issue 12, ServiceNow: deletions arrive as soft deletes through the cheapest complete route,
    `sysparm_fields=sys_id` in pages of 10,000 (one request here), never a re-read of the table."""
    first = run_import("servicenow", ["incident"], config=config)
    assert first["status"] == "succeeded", first["error"]
    tickets = fake.ordered("incident")
    child = next(t for t in tickets if t.get("parent_incident"))
    detail = queries.item_detail(engine, _item_id(engine, child["sys_id"]))
    assert detail["parent_id"] == child["parent_incident"]  # the parent's sys_id, stable across renumbering
    gone = [t for t in tickets if t is not child and t["sys_id"] != child["parent_incident"]][:2]
    journal = sum(1 for j in fake.comments_of("incident") if j["element_id"] in {t["sys_id"] for t in gone})
    for ticket in gone:
        fake.delete(ticket["sys_id"])
    before = len(fake.log)
    later = run_import("servicenow", ["incident"], config=config)
    assert later["status"] == "succeeded", later["error"]
    assert (later["deleted_items"], later["deleted_comments"]) == (2, journal)
    tables = [unquote_plus(p) for _, p, _ in fake.log[before:] if "/incident?" in p]
    listing = [q for q in tables if "sysparm_fields=sys_id&sysparm_limit=10000" in q]
    assert len(listing) == 1  # 28 tickets: one page of the listing
    assert len(tables) <= 3  # the estimate, the (empty) since-read, the listing: no re-read of the table
    assert {r["key"] for r in queries.items(engine, limit=100)} == {t["number"] for t in fake.visible("incident")}


def test_the_instances_own_count_differing_from_the_rows_read_is_said_on_the_job(fake, config, run_import):
    """X-Total-Count counts rows before access rules: 3 hidden tickets are 3 the job must mention."""
    for ticket in fake.ordered("incident")[5:8]:
        ticket["_hidden"] = True
    doc = run_import("servicenow", ["incident"], config=config)
    assert (doc["status"], doc["created"]) == ("succeeded", 27)
    assert doc["notes"] == ["ServiceNow counted 30 tickets in incident, its read returned 27 "
                            "(rows hidden from this account, or changed during the read)"]


def test_the_cli_says_the_jobs_notes_when_the_run_ends(fake, config, cli):
    """`run --wait` / `--in-process` end with the job's notes, as `status` shows them."""
    for ticket in fake.ordered("incident")[5:8]:
        ticket["_hidden"] = True
    env = {"SERVICENOW_INSTANCE": config["instance"], "SERVICENOW_USERNAME": config["username"],
           "SERVICENOW_PASSWORD": config["password"]}
    run = cli("run", "servicenow", "--project", "incident", "--in-process", env=env)
    assert run.returncode == 0, run.stderr
    assert ("note: ServiceNow counted 30 tickets in incident, its read returned 27 (rows hidden from this account, "
            "or changed during the read)") in run.stderr.splitlines()


def test_a_ticket_that_cannot_be_mapped_fails_alone_and_its_retry_brings_its_journal(
        fake, config, run_import, run_worker, engine):
    """A ticket whose mapping fails costs its own comments only: its journal entries are no other
    ticket's comments and no stray entries to report, and the retry of that ticket, once fixed at
    the source, brings them."""
    truth = fake.ground_truth("incident")
    broken = fake.ordered("incident")[3]
    good_created = broken["sys_created_on"]
    broken["sys_created_on"] = "sometime last week"
    own = [j for j in fake.comments_of("incident") if j["element_id"] == broken["sys_id"]]
    assert own  # the fake gives every ticket journal entries: the broken one has some to lose
    doc = run_import("servicenow", ["incident"], config=config)
    assert (doc["status"], doc["created"], doc["failed"]) == ("partial", truth["items"] - 1, 1)
    assert doc["notes"] == []  # its entries are not reported as entries naming no ticket of the read
    assert queries.stats(engine)["comments"] == truth["comments"] - len(own)

    broken["sys_created_on"] = good_created
    api.retry(doc["job_id"])
    run_worker()
    again = api.status(doc["job_id"])
    assert (again["status"], again["created"], again["failed"]) == ("succeeded", truth["items"], 0)
    assert queries.stats(engine)["comments"] == truth["comments"]


def test_a_ticket_with_an_id_no_instance_sends_fails_alone_and_spoils_no_journal_query(
        fake, config, run_import, engine):
    """A ticket whose sys_id is 70,000 characters fails its mapping alone: had its id gone into the journal
    query of its window, the URL would have been refused (414) and the 29 other tickets' comments lost. A
    ticket with an id of another form than ServiceNow's 32 hex digits that maps brings its comments."""
    truth = fake.ground_truth("incident")
    broken, odd = fake.ordered("incident")[5], fake.ordered("incident")[7]
    own = len([j for j in fake.comments_of("incident") if j["element_id"] == broken["sys_id"]])
    fake.add_journal("incident", odd, "written on the ticket with the legacy id")
    truth = fake.ground_truth("incident")
    for entry in fake.data["sys_journal_field"]:
        if entry["element_id"] == odd["sys_id"]:
            entry["element_id"] = "legacy-0007"
    odd["sys_id"] = "legacy-0007"
    broken["sys_id"] = "f" * 70_000
    doc = run_import("servicenow", ["incident"], config=config)
    assert (doc["status"], doc["created"], doc["failed"]) == ("partial", truth["items"] - 1, 1)
    assert doc["unread"] == {}
    assert queries.stats(engine)["comments"] == truth["comments"] - own  # legacy-0007's included


def _rename(fake, ticket: dict, new_id: str) -> None:
    """Give a ticket (and its journal entries) another sys_id, as an instance would send it."""
    for entry in fake.data["sys_journal_field"]:
        if entry["element_id"] == ticket["sys_id"]:
            entry["element_id"] = new_id
    ticket["sys_id"] = new_id


def test_a_sys_id_holding_query_syntax_stays_a_value_and_one_with_a_comma_is_a_gap(fake, config, run_import, engine):
    """A hostile or broken instance may send ids holding encoded-query syntax. "^NQ" in an id went into the
    journal query unescaped and opened an OR group of its own: the journal lookup paged wrong and 25 of the 30
    comments were lost. Doubled, "^^", it is one literal value. A comma splits an IN list whatever is done, so
    that ticket's journal is a gap the job reports, never an empty list taken as complete (the job said
    "succeeded")."""
    commented = {j["element_id"] for j in fake.comments_of("incident")}
    caret, comma = [t for t in fake.ordered("incident") if t["sys_id"] in commented][2:4]
    caret_own = [j for j in fake.comments_of("incident") if j["element_id"] == caret["sys_id"]]
    comma_own = [j for j in fake.comments_of("incident") if j["element_id"] == comma["sys_id"]]
    assert caret_own and comma_own
    truth = fake.ground_truth("incident")
    _rename(fake, caret, "legacy^NQname=incident")
    _rename(fake, comma, "legacy,0009")

    doc = run_import("servicenow", ["incident"], config=config)

    assert (doc["created"], doc["failed"], doc["status"]) == (truth["items"], 0, "partial")
    assert doc["notes"] == []  # no entries of tickets outside the window, no count that differs from the read
    assert doc["unread"] == {"comments": 1}
    [gap] = job_store.gaps(engine, doc["job_id"])
    assert (gap.item_external_id, gap.reason) == ("legacy,0009", f"{comma['number']}: its sys_id 'legacy,0009' holds "
                                                  "a comma, which a ServiceNow query by id cannot carry: its comments "
                                                  "and work notes were not read")
    assert queries.stats(engine)["comments"] == truth["comments"] - len(comma_own)
    with engine.connect() as conn:
        stored = {r.external_id for r in conn.execute(select(comments.c.external_id))}
    assert {j["sys_id"] for j in caret_own} <= stored  # the ticket with "^NQ" in its id brought its own comments


def test_text_from_the_source_never_reaches_the_terminal_as_control_sequences(fake, config, run_import, cli):
    """A ticket titled with terminal escapes (OSC 52 writes the clipboard, CSI 2 J clears the screen): `items` showed
    them raw, so a terminal acted on them. Shown as text now; the JSON output escapes them as JSON does."""
    fake.ordered("incident")[0]["short_description"] = "Printer \x1b]52;c;ZXZpbA==\x07\x1b[2J on fire"
    run_import("servicenow", ["incident"], config=config)
    listed = cli("items", "--source", "servicenow", "--limit", "100")
    assert listed.returncode == 0 and "\x1b" not in listed.stdout and "\x07" not in listed.stdout
    assert "Printer \\x1b]52;c;ZXZpbA==\\x07\\x1b[2J on fire"[:18] in listed.stdout
    as_json = json.loads(cli("items", "--source", "servicenow", "--json", "--limit", "100").stdout)
    assert "Printer \x1b]52;c;ZXZpbA==\x07\x1b[2J on fire" in {r["title"] for r in as_json}  # the data itself intact
