"""Exit codes a script driving a migration reads: `status` and `run --wait` / `--in-process` give one code for a
job's outcome (0 succeeded, 1 failed, partial, cancelled or undone, 3 not ended yet).

Regression: `cli.py status JOB` exited 0 for a failed, partial or cancelled job, so a script polling a weeks-long
migration could not tell it from one that succeeded."""
from __future__ import annotations

import json

import pytest

from jobs import api
from tests.fakes.github import GitHubFake

SUCCEEDED, ENDED_WITHOUT_SUCCESS, NOT_ENDED = 0, 1, 3


@pytest.fixture
def github():
    server = GitHubFake().start()
    yield server
    server.stop()


def _status_codes(cli, job_id: str) -> tuple[int, int]:
    """`status`'s exit code as text and as --json (they are one)."""
    text, data = cli("status", job_id), cli("status", job_id, "--json")
    assert "Traceback" not in text.stderr + data.stderr
    assert json.loads(data.stdout)["job_id"] == job_id
    return text.returncode, data.returncode


def test_status_exits_by_the_jobs_outcome(cli, run_worker, monkeypatch, github):
    partial = api.start_import("demo", ["ACME"], config={"size": "30"})  # the suite's demo fails 3 items a project
    failed = api.start_import("github", ["acme/web"], config={"token": "ghp_not_the_fakes", "api_url": github.url})
    cancelled = api.start_import("demo", ["MOBILE"], config={"size": "30"})
    api.cancel(cancelled)
    run_worker()
    queued = api.start_import("demo", ["OPS"], config={"size": "30"})
    assert _status_codes(cli, queued) == (NOT_ENDED, NOT_ENDED)
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")
    run_worker()
    undone = api.start_import("demo", ["ACME"], config={"size": "40"})
    run_worker()
    api.undo(undone)

    outcomes = {job_id: api.status(job_id)["status"] for job_id in (partial, failed, cancelled, queued, undone)}
    assert list(outcomes.values()) == ["partial", "failed", "cancelled", "succeeded", "undone"]
    assert _status_codes(cli, queued) == (SUCCEEDED, SUCCEEDED)
    for job_id in (partial, failed, cancelled, undone):
        assert _status_codes(cli, job_id) == (ENDED_WITHOUT_SUCCESS, ENDED_WITHOUT_SUCCESS), outcomes[job_id]


@pytest.mark.parametrize("invalid, outcome", [("0", "succeeded"), ("3", "partial")])
def test_run_in_process_and_status_agree(cli, invalid, outcome):
    run = cli("run", "demo", "--project", "OPS", "--size", "30", "--in-process", env={"DEMO_INVALID_ITEMS": invalid})
    job_id = run.stdout.strip()
    assert api.status(job_id)["status"] == outcome
    assert run.returncode == cli("status", job_id).returncode == (SUCCEEDED if outcome == "succeeded" else
                                                                 ENDED_WITHOUT_SUCCESS), run.stderr


def test_the_exit_codes_are_in_the_help(cli):
    for args in ((), ("status",), ("run",)):
        shown = " ".join(cli(*args, "--help").stdout.split())
        assert "3 the job has not ended yet" in shown and "cancelled or undone" in shown, args
