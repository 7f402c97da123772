"""The audit log: every import's start, end, retry, cancel and undo, as a JSON line in AUDIT_LOG_PATH
and as a row in the store, saying who, when, which source and projects, counts and outcome;
never a secret.
"""
from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jobs import api
from store.audit import events
from tests.fakes.github import GitHubFake

TOKEN = "ghp_audit_secret_0123456789abcdef"


def _lines() -> list[dict]:
    return [json.loads(line) for line in Path(os.environ["AUDIT_LOG_PATH"]).read_text().splitlines()]


def test_start_end_retry_undo_are_recorded_with_who_what_counts_and_outcome(run_worker, engine, monkeypatch):
    before = datetime.now(UTC) - timedelta(seconds=1)
    job_id = api.start_import("demo", ["ACME", "OPS"], config={"size": "100"}, requested_by="alice")
    run_worker()
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")  # the source was fixed: the retry imports the failed items
    api.retry(job_id, actor=api.Actor("bob", admin=True))
    run_worker()
    from store.queries import stats

    comments_before = stats(engine)["comments"]
    api.undo(job_id, actor=api.Actor("carol", admin=True))

    lines = _lines()
    assert [(e["action"], e["actor"]) for e in lines] == [
        ("start", "alice"), ("end", "worker"), ("retry", "bob"), ("end", "worker"), ("undo", "carol")]
    assert all(e["job_id"] == job_id and e["source"] == "demo" and e["projects"] == ["ACME", "OPS"] for e in lines)
    assert all(before <= datetime.fromisoformat(e["at"]) <= datetime.now(UTC) for e in lines)
    first_end, second_end = lines[1], lines[3]
    assert first_end["outcome"] == "partial" and first_end["counts"] == {
        "total": 200, "processed": 200, "created": 194, "updated": 0, "skipped": 0, "failed": 6}
    assert lines[2]["failed_items"] == 6
    assert second_end["outcome"] == "succeeded" and second_end["counts"]["created"] == 200
    assert (lines[4]["items_removed"], lines[4]["comments_removed"]) == (200, comments_before) and comments_before

    rows = list(reversed(events(engine, job_id)))  # the same events, durably in the store
    assert [(r.action, r.actor, r.source) for r in rows] == [(e["action"], e["actor"], e["source"]) for e in lines]
    assert rows[1].details["counts"] == first_end["counts"] and rows[4].details["items_removed"] == 200


def test_cancel_through_the_cli_records_the_user_and_the_outcome(cli, run_worker):
    job_id = api.start_import("demo", ["MOBILE"], config={"size": "2000"}, requested_by="erin")
    cancelled = cli("cancel", job_id, env={"USER": "dana"})
    assert cancelled.returncode == 0, cancelled.stderr
    run_worker()

    cancel = next(e for e in _lines() if e["action"] == "cancel")
    assert (cancel["actor"], cancel["job_id"], cancel["source"], cancel["projects"]) == \
        ("dana", job_id, "demo", ["MOBILE"])
    assert api.status(job_id)["status"] == "cancelled"

    undone = cli("undo", job_id, env={"USER": "dana"})
    assert undone.returncode == 0 and (_lines()[-1]["action"], _lines()[-1]["actor"]) == ("undo", "dana")


def test_a_failed_import_with_typed_secrets_is_audited_without_them(run_worker, engine):
    with GitHubFake(sizes={"acme/web": 10}, token="the-right-token") as fake:
        job_id = api.start_import("github", ["acme/web"], config={"api_url": fake.url, "token": TOKEN},
                                  requested_by="frank")
        run_worker()

    end = [e for e in _lines() if e["action"] == "end"][-1]
    assert end["outcome"] == "failed" and "rejected the credentials" in end["error"]
    text = Path(os.environ["AUDIT_LOG_PATH"]).read_text()
    assert TOKEN not in text and "the-right-token" not in text
    assert all(TOKEN not in json.dumps(r.details) for r in events(engine, job_id))
