"""Cancel, retry and undo belong to the user who started an import and to admins (issue 11, finding 9:
under company sign-in any signed-in user could undo, cancel or retry anyone's import). Refusals are audited."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jobs import api
from jobs.access import Actor, PermissionDenied


def _audit() -> list[dict]:
    return [json.loads(line) for line in Path(os.environ["AUDIT_LOG_PATH"]).read_text().splitlines()]


@pytest.fixture
def alices_import(run_worker):
    job_id = api.start_import("demo", ["ACME"], config={"size": "40"}, requested_by="alice@acme.com")
    run_worker()
    return job_id


def test_another_user_cannot_undo_cancel_or_retry_and_each_refusal_is_audited(alices_import, engine):
    bob = Actor("bob@acme.com")
    for action in (api.undo, api.retry, api.cancel):
        with pytest.raises(PermissionDenied) as refused:
            action(alices_import, actor=bob)
        message = str(refused.value)
        assert "\n" not in message and "alice@acme.com or an admin" in message and "bob@acme.com" in message
    doc = api.status(alices_import)
    assert doc["status"] == "partial" and not doc["undone_at"]  # nothing changed
    refusals = [e for e in _audit() if e["action"] == "refused"]
    assert [(e["actor"], e["attempted"], e["job_id"]) for e in refusals] == [
        ("bob@acme.com", "undo", alices_import), ("bob@acme.com", "retry", alices_import),
        ("bob@acme.com", "cancel", alices_import)]


def test_the_starter_and_a_configured_admin_may(alices_import, monkeypatch):
    assert api.undo(alices_import, actor=Actor("Alice@acme.com"))["undone_at"]  # names compare case-insensitively
    other = api.start_import("demo", ["OPS"], config={"size": "40"}, requested_by="alice@acme.com")
    with pytest.raises(PermissionDenied):
        api.cancel(other, actor="carol@acme.com")  # a bare name is not an admin...
    monkeypatch.setenv("CONSOLE_ADMINS", "dave@acme.com, carol@acme.com")
    assert api.cancel(other, actor="carol@acme.com")["status"] == "cancelled"  # ...unless CONSOLE_ADMINS lists it


def test_the_cli_acts_as_the_machines_admin(alices_import, cli):
    done = cli("undo", alices_import, env={"USER": "root"})
    assert done.returncode == 0, done.stderr
    assert api.status(alices_import)["undone_at"]
    assert _audit()[-1]["action"] == "undo" and _audit()[-1]["actor"] == "root"
