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
    only the recheck (`sys_idIN`, 150 entries a request) can find it; the rest stay live."""
    first = run_import("servicenow", ["incident"], config=config)
    assert first["status"] == "succeeded", first["error"]
    journal = fake.comments_of("incident")
    deleted, kept = journal[0], [j["sys_id"] for j in journal[1:]]
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
    checks = [p for _, p, _ in fake.log[before:] if "sys_journal_field" in p and "sys_idIN" in unquote_plus(p)]
    assert len(checks) == math.ceil(len(journal) / 150)
