"""The read in a process of its own (jobs/reader.py), as a user meets it.

A work horse forks a reader that maps pages while the horse writes them. These tests run real
workers (`cli.py worker`, RQ forking the work horse) and real processes: the demo source read at a
fixed pace (so an import is still running when the test acts, whatever the machine's speed), and the
fake ServiceNow over HTTP with the real client library. A reader killed mid-read is replaced by a fresh
one that resumes from the last committed batch, and the import finishes exactly; one killed again and
again fails its part in one line, and a retry finishes the import exactly; a reader stuck before it
starts is given up and the read done in the work horse; a cancelled import leaves no reader behind; a
rate limit met by the reader is shown on the job; a reader whose work horse is killed alone stops at
once, even in the middle of a slow request; IMPORT_READER_PROCESS=0 keeps the read in the work horse.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from functools import lru_cache
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from console.safe_markdown import literal
from importers import outbound
from importers.demo import DemoSource
from jobs import api, tasks
from store.schema import comments, work_items

from .fakes.servicenow import FakeServiceNow
from .helpers import paced, start_worker, wait_for
from .test_ui_pages import page, texts

SIZE = 3_000  # 30 demo pages: a read lasts at least 30 times its paced page


@lru_cache(maxsize=1)
def truth() -> dict[str, int]:
    return DemoSource({"size": str(SIZE)}).ground_truth("ACME")


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _live(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _readers(worker: subprocess.Popen) -> list[int]:
    """Live grandchildren of the worker: the readers its work horse forked."""
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    horses = {pid for pid in pids if _parent(pid) == worker.pid}
    return [pid for pid in pids if _parent(pid) in horses and _live(pid)]


def _stored(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(work_items)).scalar(),
                conn.execute(select(func.count(func.distinct(work_items.c.external_id)))).scalar(),
                conn.execute(select(func.count()).select_from(comments)).scalar())


def _kill_readers(worker: subprocess.Popen, job_id: str, times: int) -> list[int]:
    """Kill the import's reader `times` times: each one once it has read a batch, the next once it has
    replaced the last (the demo's pace keeps each read going far longer than the test takes to act)."""
    killed: list[int] = []
    for _ in range(times):
        wait_for(lambda: api.status(job_id)["processed"] >= 100 * (len(killed) + 1), timeout=60)
        [reader] = wait_for(lambda: [p for p in _readers(worker) if p not in killed], timeout=30)
        os.kill(reader, signal.SIGKILL)
        killed.append(reader)
    return killed


def _finished_exactly(engine, doc: dict) -> None:
    expected = truth()
    assert doc["status"] in ("succeeded", "partial") and doc["processed"] == SIZE, doc
    assert (doc["created"] + doc["updated"], doc["failed"]) == (expected["items"], expected["invalid"]), doc
    assert _stored(engine) == (expected["items"], expected["items"], expected["comments"])


def test_a_killed_reader_is_replaced_and_the_import_finishes_exactly(engine):
    """The OOM killer may pick the reader rather than the work horse: the part goes on by itself from its
    last committed batch, as it would after a lost worker, and says so on the job."""
    job_id = api.start_import("demo", ["ACME"], config={"size": str(SIZE)}, batch_size=100)
    worker = start_worker(paced(0.3))  # 9 s a read at least: kills land mid-read however slow the test runs
    try:
        _kill_readers(worker, job_id, 1)
        assert worker.wait(timeout=120) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    doc = api.status(job_id)
    _finished_exactly(engine, doc)
    assert doc["error"] is None and doc["created"] == truth()["items"], doc
    note = ("the reader process was killed by signal 9 during the read; resumed from the last committed batch "
            "(automatic resume 1 of 2)")
    assert doc["notes"] == [note], doc["notes"]
    assert f":material/info: {literal(note)}" in texts(page("pages/progress.py", job=job_id), "caption")


def test_a_reader_killed_again_and_again_fails_its_part_in_one_line_and_retry_finishes_exactly(engine, run_worker):
    job_id = api.start_import("demo", ["ACME"], config={"size": str(SIZE)}, batch_size=100)
    worker = start_worker(paced(0.3))  # 9 s a read at least: kills land mid-read however slow the test runs
    try:
        _kill_readers(worker, job_id, 3)
        assert worker.wait(timeout=60) == 0  # a burst worker: it ends once the part has ended
    finally:
        if worker.poll() is None:
            worker.kill()
    doc = api.status(job_id)
    assert doc["status"] == "failed", doc
    assert doc["error"] == ("the import's reader process was killed by signal 9 before the read ended; retry the "
                            "import to resume it"), doc["error"]
    assert [n.rsplit(" (", 1)[1] for n in doc["notes"]] == ["automatic resume 1 of 2)", "automatic resume 2 of 2)"]
    assert 300 <= doc["processed"] < SIZE  # what was committed before the kills stays

    api.retry(job_id)
    run_worker()
    _finished_exactly(engine, api.status(job_id))


def _children() -> set[int]:
    """Live child processes of this test process."""
    return {int(p.name) for p in Path("/proc").iterdir()
            if p.name.isdigit() and _parent(int(p.name)) == os.getpid() and _live(int(p.name))}


def test_a_reader_stuck_before_it_starts_is_given_up_and_the_read_done_in_the_work_horse(
        engine, monkeypatch, caplog):
    """A forked child waits for ever on a lock that another thread of its parent held at the fork. Here the
    work horse is this process (it runs the part's task, as RQ's work horse does) and one of its threads
    holds the connection-pool lock of a vendor session across the fork: the reader's first act, dropping
    the HTTP connections it inherited (importers/outbound.py), waits on that lock for ever."""
    monkeypatch.setenv("IMPORT_READER_START_TIMEOUT", "1")
    adapter = outbound.install(requests.Session(), "https://tool.example.com", "a tool", "TOOL_URL")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with adapter.poolmanager.pools.lock:
            held.set()
            release.wait()

    threading.Thread(target=hold, daemon=True).start()
    held.wait()
    before = _children()
    job_id = api.start_import("demo", ["ACME"], config={"size": str(SIZE)}, batch_size=100)
    try:
        with caplog.at_level(logging.WARNING, logger="jobs.reader"):
            tasks.run_part(job_id, "ACME")
    finally:
        release.set()
    _finished_exactly(engine, api.status(job_id))
    assert "was not ready within 1 s (IMPORT_READER_START_TIMEOUT): it was killed" in caplog.text
    assert _children() <= before  # the stuck reader was killed and reaped


def test_a_cancelled_import_leaves_no_reader_behind():
    job_id = api.start_import("demo", ["ACME"], config={"size": str(SIZE)}, batch_size=100)
    worker = start_worker(paced())
    try:
        wait_for(lambda: api.status(job_id)["processed"] >= 200, timeout=60)
        [reader] = wait_for(lambda: _readers(worker), timeout=10)
        api.cancel(job_id)
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert api.status(job_id)["status"] == "cancelled"
    wait_for(lambda: not _live(reader), timeout=10)  # reaped by the work horse, not left reading the source


def test_the_read_stays_in_the_work_horse_when_turned_off(engine):
    job_id = api.start_import("demo", ["ACME"], config={"size": str(SIZE)}, batch_size=100)
    worker = start_worker(paced(IMPORT_READER_PROCESS="0"))
    try:
        wait_for(lambda: api.status(job_id)["processed"] >= 200, timeout=60)
        assert _readers(worker) == []
        assert worker.wait(timeout=120) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    doc = api.status(job_id)
    expected = truth()
    assert (doc["created"], doc["failed"]) == (expected["items"], expected["invalid"]), doc
    assert _stored(engine) == (expected["items"], expected["items"], expected["comments"])


@pytest.fixture
def servicenow():
    server = FakeServiceNow().start()
    yield server
    server.stop()


def test_a_rate_limit_met_by_the_reader_is_shown_on_the_job(servicenow, monkeypatch):
    monkeypatch.setenv("ALLOW_LOOPBACK_URLS", "1")
    truth_sn = servicenow.ground_truth("incident")
    # the journal is read only by the read itself (not by the count before it): the reader meets the 429
    servicenow.fail_next(r"sys_journal_field", 429, headers={"Retry-After": "3"},
                         body={"error": {"message": "Rate limit exceeded"}})
    job_id = api.start_import("servicenow", ["incident"], config={
        "instance": servicenow.url, "username": servicenow.username, "password": servicenow.password})
    worker = start_worker()
    try:
        seen = wait_for(lambda: (d := api.status(job_id))["wait_kind"] and d, timeout=60)
        assert seen["wait_kind"] == "rate_limit" and "ServiceNow rate limit (HTTP 429)" in seen["wait_reason"], seen
        assert worker.wait(timeout=120) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    doc = api.status(job_id)
    assert doc["status"] == "succeeded" and doc["wait_kind"] is None, doc
    assert doc["created"] == truth_sn["items"] and servicenow.injected == {429: 1}


def test_a_reader_whose_work_horse_dies_stops_calling_the_vendor(monkeypatch):
    """The horse killed alone (the OOM killer's choice) while its reader waits on a slow vendor: the reader
    goes with it (parent-death signal) instead of finishing its request and its queued lookups."""
    monkeypatch.setenv("ALLOW_LOOPBACK_URLS", "1")
    slow = FakeServiceNow(sizes={"incident": 3000}, latency=0.2).start()  # 3 pages: the read outlives page 1
    job_id = api.start_import("servicenow", ["incident"], config={
        "instance": slow.url, "username": slow.username, "password": slow.password}, batch_size=100)
    worker = start_worker()
    try:
        wait_for(lambda: api.status(job_id)["processed"] >= 100, timeout=120)
        slow.latency = 40.0  # every request from now on hangs far longer than the test waits
        [reader] = wait_for(lambda: _readers(worker), timeout=10)
        horse = _parent(reader)
        assert horse is not None and _parent(horse) == worker.pid
        os.kill(horse, signal.SIGKILL)
        wait_for(lambda: not _live(reader), timeout=10)
    finally:
        slow.latency = 0.0
        worker.kill()
        worker.wait(timeout=30)
        slow.stop()
