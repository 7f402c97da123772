"""ServiceNow catch-up runs (issue 12): a deleted journal entry is found, though its ticket did not change.

Against the fake instance (tests/fakes/servicenow.py) through pysnow's session, on a real worker."""
from __future__ import annotations

import math
from urllib.parse import unquote_plus

import pytest
from sqlalchemy import select

from store.schema import comments
from tests.fakes.servicenow import FakeServiceNow


@pytest.fixture
def fake():
    server = FakeServiceNow(sizes={"incident": 30}, hide_every=0).start()
    yield server
    server.stop()


@pytest.fixture
def config(fake):
    return {"instance": fake.url, "username": fake.username, "password": fake.password}


def test_a_deleted_journal_entry_is_soft_deleted_without_re_reading_its_ticket(fake, config, run_import, engine):
    """Deleting a sys_journal_field row writes no other record: the ticket's sys_updated_on stays, so
    only the recheck (the table's journal ids, `sysparm_fields=sys_id`, 10,000 a request) finds it;
    the rest stay live."""
    first = run_import("servicenow", ["incident"], config=config)
    assert first["status"] == "succeeded", first["error"]
    journal = fake.comments_of("incident")
    newest = max(fake.ordered("incident"), key=lambda t: t["sys_updated_on"])  # the since-read's boundary
    deleted = next(j for j in journal if j["element_id"] != newest["sys_id"])
    kept = [j["sys_id"] for j in journal if j is not deleted]
    ticket = next(t for t in fake.ordered("incident") if t["sys_id"] == deleted["element_id"])
    stamp = ticket["sys_updated_on"]
    fake.delete(deleted["sys_id"])
    assert ticket["sys_updated_on"] == stamp
    before = len(fake.log)

    later = run_import("servicenow", ["incident"], config=config)

    assert later["status"] == "succeeded", later["error"]
    assert (later["deleted_comments"], later["deleted_items"]) == (1, 0), later
    with engine.connect() as conn:
        rows = dict(conn.execute(select(comments.c.external_id, comments.c.deleted_at)).all())
    assert rows[deleted["sys_id"]] is not None
    assert all(rows[eid] is None for eid in kept)
    journal_reads = [unquote_plus(p) for _, p, _ in fake.log[before:] if "sys_journal_field" in p]
    assert len([p for p in journal_reads if "sysparm_fields=sys_id&" in p]) == math.ceil(len(journal) / 10_000)
    assert not [p for p in journal_reads if ticket["sys_id"] in p]  # its ticket's journal was not re-read
