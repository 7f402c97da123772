"""CLI listings say what they found, also nothing: a user who gets no output cannot tell "none" from "broken"."""
from __future__ import annotations

import cli as cli_module


def test_empty_listings_say_so_in_one_line(cli):
    assert cli("jobs").stdout.startswith("no imports yet: start one with")
    assert cli("items").stdout == "no items\n"
    assert cli("items", "--deleted").stdout == "no deleted items\n"


def test_items_deleted_after_an_import_that_deleted_nothing_says_so(cli, run_import):
    doc = run_import("demo", ["ACME"], config={"size": "30"})
    assert doc["created"] > 0
    assert cli("items", "--deleted").stdout == "no deleted items\n"
    assert cli("items", "--source", "jira").stdout == "no items match these filters\n"
    listed = cli("items").stdout.splitlines()
    assert len(listed) == doc["created"] and all(line.startswith("demo ") for line in listed)


def test_progress_line_says_finishing_and_the_phase_once_every_item_is_processed(run_import):
    # regression: `run --wait` showed "99.9% 24/24" while the last batch was being written
    done = run_import("demo", ["ACME"], config={"size": "24"})
    writing = {**done, "status": "running", "percentage": 99.9, "phase": "writing", "eta_seconds": None}
    line = cli_module._progress_line(writing)
    assert "99.9" not in line and "finishing" in line and line.endswith("[running: writing]")
    reading = {**writing, "processed": 12, "percentage": 50.0, "phase": "items"}
    line = cli_module._progress_line(reading)
    assert " 50.0% 12/" in line and line.endswith("[running: items]")
    line = cli_module._progress_line(done)
    assert line.endswith(f"[{done['status']}]") and "100.0%" in line
