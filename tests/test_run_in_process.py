"""`cli.py run --in-process`: one process records the job and works it, no worker needed; Ctrl-C cancels
after the current batch and `retry` resumes exactly."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from jobs.queue import worker_count

from .helpers import ROOT, kill_hard, paced, start_worker, wait_for


def test_in_process_run_imports_without_any_worker(cli):
    run = cli("run", "demo", "--size", "300", "--in-process", env={"DEMO_INVALID_ITEMS": "0"})
    assert run.returncode == 0, run.stderr
    job_id = run.stdout.strip()
    assert "300/300 created 300" in run.stderr and "[Succeeded]" in run.stderr
    assert "no worker is running" not in run.stderr and "Traceback" not in run.stderr
    status = json.loads(cli("status", job_id, "--json").stdout)
    assert status["status"] == "succeeded" and status["created"] == 300
    assert json.loads(cli("stats", "--json").stdout)["items"] == 300


def test_in_process_run_reports_failed_items_as_wait_does(cli):
    run = cli("run", "demo", "--size", "300", "--in-process")
    assert run.returncode == 1  # partial: the demo has 3 invalid items
    assert "3 items failed" in run.stderr and "Traceback" not in run.stderr


def test_ctrl_c_cancels_after_the_batch_and_retry_resumes_exactly(cli):
    # paced: 8,000 items take at least 8 s whatever the machine's speed, so the interrupt finds it running
    env = {**os.environ, **paced(0.1)}
    process = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "run", "demo", "--size", "8000",
                                "--in-process"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    job_id = process.stdout.readline().strip()  # type: ignore[union-attr]
    wait_for(lambda: json.loads(cli("status", job_id, "--json").stdout)["processed"] >= 300, timeout=60)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 1, err
    assert "interrupted: the import stopped after its last batch" in err and f"retry {job_id}" in err
    assert "Traceback" not in err
    stopped = json.loads(cli("status", job_id, "--json").stdout)
    assert stopped["status"] == "cancelled" and 0 < stopped["created"] < 8000

    retried = cli("retry", job_id)
    assert retried.returncode == 0 and retried.stdout.strip() == f"{job_id} queued"
    assert retried.stderr.strip() == ("no worker is running for this store: `python cli.py worker --burst` runs the "
                                      "job and exits")
    worker = start_worker({"DEMO_PAGE_DELAY": "0"})
    assert worker.wait(timeout=120) == 0
    done = json.loads(cli("status", job_id, "--json").stdout)
    assert done["status"] == "partial" and done["failed"] == 3  # the demo's 3 invalid items, as a whole read
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["items"] == 8000 - 3


def test_second_ctrl_c_stops_at_once_and_retry_resumes_exactly(cli):
    # a page takes 5 s and Cancel is looked for only after a batch: the second Ctrl-C finds the first page in flight
    env = {**os.environ, **paced(5, IMPORT_CANCEL_POLL="600")}
    process = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "run", "demo", "--size", "8000",
                                "--in-process"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    job_id = process.stdout.readline().strip()  # type: ignore[union-attr]
    status = lambda: json.loads(cli("status", job_id, "--json", env={"IMPORT_HEARTBEAT_TIMEOUT": "2"}).stdout)  # noqa: E731
    wait_for(lambda: status()["status"] == "running", timeout=60)
    process.send_signal(signal.SIGINT)
    wait_for(lambda: status()["cancel_requested"], timeout=60)  # the first was handled
    time.sleep(1.1)  # RQ takes a second signal within a second of the first for the same one
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "stopped at once, mid-batch" in err and f"retry {job_id}" in err and "Traceback" not in err
    assert status()["created"] == 0  # the first batch was never written

    wait_for(lambda: status().get("worker_lost"), timeout=60)
    assert cli("retry", job_id).returncode == 0
    worker = start_worker({"DEMO_PAGE_DELAY": "0"})
    assert worker.wait(timeout=120) == 0
    assert status()["status"] == "partial" and json.loads(cli("stats", "--json").stdout)["items"] == 8000 - 3


def _in_process(*args: str, **env: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "run", *args, "--in-process"], cwd=ROOT,
                               env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()  # type: ignore[union-attr]


def test_ctrl_c_while_another_jobs_part_runs_here_cancels_ours_before_it_starts(cli):
    """A burst worker takes what is queued first: our job, behind another, is cancelled unstarted; the other
    job's part ends as it would have (it is not ours to cancel)."""
    env = {"DEMO_INVALID_ITEMS": "0"}
    ahead = cli("run", "demo", "--project", "ACME", "--size", "3000", env=env).stdout.strip()
    process, job_id = _in_process("demo", "--project", "OPS", "--size", "300", **env, **paced(0.1))
    status = lambda job: json.loads(cli("status", job, "--json").stdout)  # noqa: E731
    wait_for(lambda: status(ahead)["status"] == "running", timeout=60)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    assert "interrupted: the import was cancelled before it started" in err and "Traceback" not in err
    assert (status(job_id)["status"], status(job_id)["processed"]) == ("cancelled", 0)
    assert (status(ahead)["status"], status(ahead)["created"]) == ("succeeded", 3000)


def test_ctrl_c_while_following_a_part_another_worker_took_leaves_it_running(cli):
    """A standing worker took the part first: this command only follows it, and Ctrl-C stops the following,
    as with --wait, in one line."""
    worker = start_worker(paced(0.2), burst=False)
    try:
        wait_for(lambda: worker_count() == 1, timeout=60)  # registered, and so waiting on the queue first
        process, job_id = _in_process("demo", "--size", "3000")
        wait_for(lambda: json.loads(cli("status", job_id, "--json").stdout)["processed"] >= 100, timeout=60)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 1, err
        assert err.strip().splitlines()[-1] == "interrupted: the job goes on in the background", err
        assert "Traceback" not in err
        assert json.loads(cli("status", job_id, "--json").stdout)["status"] == "running"
    finally:
        kill_hard(worker)


@pytest.mark.parametrize("setting, value", [("IMPORT_READER_START_TIMEOUT", "inf"),
                                            ("IMPORT_READER_START_TIMEOUT", "1e9"),
                                            ("IMPORT_READER_START_TIMEOUT", "nan"),
                                            ("IMPORT_MAINTENANCE_INTERVAL", "abc"),
                                            ("IMPORT_MAINTENANCE_INTERVAL", "1.5"),
                                            # int(inf) and waits of inf seconds raised (importers/numbers.py env_number)
                                            ("IMPORT_RETRY_ATTEMPTS", "inf"),
                                            ("IMPORT_CANCEL_POLL", "inf"),
                                            ("IMPORT_HEARTBEAT_INTERVAL", "inf"),
                                            ("IMPORT_HEARTBEAT_INTERVAL", "nan"),
                                            ("IMPORT_NO_WORKER_HINT_SECONDS", "nan")])
def test_an_out_of_range_setting_does_not_fail_the_import(cli, setting, value):
    run = cli("run", "demo", "--size", "200", "--in-process", env={"DEMO_INVALID_ITEMS": "0", setting: value})
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert "200/200 created 200" in run.stderr
