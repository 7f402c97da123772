"""CLI listings say what they found, also nothing: a user who gets no output cannot tell "none" from "broken"."""
from __future__ import annotations

import json
import re
from typing import get_args, get_type_hints

import pytest

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
    assert "99.9" not in line and "finishing" in line and line.endswith("[Running: writing]")
    reading = {**writing, "processed": 12, "percentage": 50.0, "phase": "items"}
    line = cli_module._progress_line(reading)
    assert " 50.0% 12/" in line and line.endswith("[Running: items]")
    line = cli_module._progress_line(done)  # the suite's demo fails 3 items a project: the console's words for it
    assert done["status"] == "partial" and line.endswith("[Finished with failures]") and "100.0%" in line


def test_the_cli_says_a_jobs_state_and_a_workflow_state_in_the_consoles_words(cli, run_import):
    """New-user review: `jobs` said "partial" where the console says "Finished with failures", `retry --help` resumed
    only "a failed job", and `items` and `preview` cut a state to "Selected for Devel"."""
    doc = run_import("demo", ["ACME"], config={"size": "50"})
    assert doc["status"] == "partial"
    [row] = [line for line in cli("jobs").stdout.splitlines() if line.startswith(doc["job_id"])]
    assert " Finished with failures " in row and "partial" not in row, row
    assert json.loads(cli("jobs", "--json").stdout)["jobs"][0]["status"] == "partial"  # scripts read the state
    assert cli("status", doc["job_id"]).stdout.splitlines()[1].endswith("[Finished with failures]")
    retry = " ".join(cli("retry", "--help").stdout.split())
    assert "resume a job that failed, finished with failures or was cancelled" in retry, retry
    listed = cli("items", "--state", "Selected for Development").stdout.splitlines()
    assert listed and all(" Selected for Development " in line for line in listed), listed
    previewed = cli("preview", "demo", "--project", "ACME", "--limit", "50").stdout
    assert " Selected for Development " in previewed, previewed


def _catch_up(run_import):
    """A GitHub import, then a catch-up (duplicates update) after 2 issues were edited and 1 deleted."""
    from tests.fakes.github import GitHubFake

    with GitHubFake(sizes={"acme/web": 12}, pr_every=0) as fake:
        config = {"token": fake.token, "api_url": fake.url}
        first = run_import("github", ["acme/web"], config=config, duplicates="update")
        assert first["status"] == "succeeded", first
        fake.touch("acme/web", 2)
        fake.delete_issue("acme/web", fake.issues["acme/web"][1]["number"])
        later = run_import("github", ["acme/web"], config=config, duplicates="update")
    assert (later["updated"], later["deleted_items"]) == (2, 1), later
    return first, later


def test_jobs_shows_what_a_catch_up_updated_and_found_gone(cli, run_import):
    # review: `jobs` said only "succeeded 3/3 created 0 failed 0" after a catch-up that updated 2 and found 1 gone
    first, later = _catch_up(run_import)
    lines = {line.split()[0]: line for line in cli("jobs").stdout.splitlines()}
    assert " updated 2 failed 0 · 1 item no longer at the source" in lines[later["job_id"]], lines
    assert "updated" not in lines[first["job_id"]] and "no longer" not in lines[first["job_id"]]  # zeros: not shown
    assert "1 item no longer at the source" in cli("status", later["job_id"]).stdout  # the same words


def test_stats_deleted_says_what_each_number_counts(cli, run_import):
    # review: `stats --deleted` printed "people 3", read as "3 people deleted" (people are never deleted)
    _catch_up(run_import)
    out = cli("stats", "--deleted").stdout.splitlines()
    assert out[0].startswith("no longer at the source: deleted items 1  deleted comments ")
    assert "people on them " in out[0] and out[0].endswith("(people are never deleted)")
    assert "acme/web" in out[1] and out[1].endswith(" 1 deleted item")
    assert all(line.endswith(("deleted item", "deleted items")) for line in out[1:]), out
    live = cli("stats").stdout.splitlines()
    assert live[0].startswith("items 11  comments ") and "deleted" not in "\n".join(live)


def test_status_of_a_catch_up_says_unchanged_and_of_duplicates_skip_skipped(cli, run_import):
    # review: a no-change catch-up re-read 3 items and said "skipped 3"
    run_import("demo", ["ACME"], config={"size": "10"}, duplicates="update")
    update = run_import("demo", ["ACME"], config={"size": "10"}, duplicates="update", incremental=False)
    skip = run_import("demo", ["ACME"], config={"size": "10"}, duplicates="skip", incremental=False)
    said = cli("status", update["job_id"]).stdout.splitlines()[1]  # after the job's name
    assert "created 0 updated 0 unchanged 7 failed 3" in said and "skipped" not in said
    assert "created 0 updated 0 skipped 7 failed 3" in cli("status", skip["job_id"]).stdout
    dry = {**update, "dry_run": True}
    assert cli_module._counts(dry) == "dry run: would create 0 update 0 leave 7 unchanged"


def test_human_output_writes_numbers_with_separators_and_times_with_their_zone(cli, run_import):
    # review: "1500/1500" and "would create 1450" beside "1,450", and "2026-11-30T21:33:31" without a zone
    from jobs import api

    dry = run_import("demo", ["ACME"], config={"size": "1200"}, dry_run=True)
    api.schedule("demo", ["ACME"], 6)
    line = cli("status", dry["job_id"]).stdout.splitlines()[1]  # after the job's name
    assert f" 1,200/1,200 dry run: would create {dry['created']:,} update 0 " in line, line
    listed = cli("jobs").stdout.splitlines()
    assert re.search(r"  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC  demo ", listed[0]), listed[0]
    assert f"1,200/1,200 dry run: would create {dry['created']:,} failed 3" in listed[0], listed[0]
    assert re.search(r", next run \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, booked by ", listed[1]), listed[1]
    document = json.loads(cli("jobs", "--json").stdout)["jobs"][0]  # --json: plain numbers, ISO-8601 times
    assert (document["processed"], document["created_at"]) == (1200, dry["created_at"])


BAD_COUNTS = [  # (command, the bad value, the range the error names)
    (("items", "--limit"), "-1", "1 to 10,000,000"),  # SQLite listed every item, PostgreSQL failed with a traceback
    (("items", "--limit"), "0", "1 to 10,000,000"),
    (("items", "--limit"), "99999999999999999999", "1 to 10,000,000"),  # past 2**63: the driver's OverflowError
    (("items", "--limit"), "1_0", "1 to 10,000,000"),  # int() reads 10
    (("items", "--limit"), "\u0663", "1 to 10,000,000"),  # an Arabic-Indic 3, which int() reads too
    (("items", "--limit"), "9" * 5000, "1 to 10,000,000"),  # int() refuses 4,301 digits or more (ValueError)
    (("jobs", "--limit"), "-1", "1 to 500"),
    (("jobs", "--limit"), "501", "1 to 500"),
    (("preview", "demo", "--limit"), "-1", "1 to 200"),  # showed all but the last sample item
    (("preview", "demo", "--limit"), "201", "1 to 200"),
    (("schedule", "demo", "--project", "OPS", "--every"), "0", "1 to 8,760"),
    (("schedule", "demo", "--project", "OPS", "--every"), "99999999999", "1 to 8,760"),  # overflowed the scheduler
    (("schedule", "demo", "--project", "OPS", "--every"), "5.0", "1 to 8,760"),
]


@pytest.mark.parametrize(("args", "value", "words"), BAD_COUNTS,
                         ids=lambda v: v[:12] if isinstance(v, str) else v[0])
def test_a_count_out_of_range_is_refused_before_anything_runs(args, value, words, cli, store_backend):
    # on both stores: PostgreSQL's LIMIT -1 was an SQL error
    from jobs import api

    result = cli(*args, value)
    err = result.stderr.strip().splitlines()
    assert result.returncode == 2 and result.stdout == "", result
    assert "Traceback" not in result.stderr
    assert f"{args[-1]}: must be a whole number from {words}, not {value[:20]!r}" in err[-1], err
    assert api.schedules_list() == []  # nothing booked


def test_the_cli_takes_the_same_counts_as_the_http_api_and_the_core():
    """One range a count, whichever way a user gives it (restapi's models are what the API enforces)."""
    from jobs import api
    from restapi import endpoints
    from restapi.models import PreviewRequest

    def upper(metadata) -> int:
        return next(m.le for m in metadata if getattr(m, "le", None) is not None)

    assert upper(PreviewRequest.model_fields["limit"].metadata) == cli_module.PREVIEW_MAX
    jobs_limit = get_type_hints(endpoints.jobs, include_extras=True)["limit"]
    assert upper(get_args(jobs_limit)[1].metadata) == cli_module.JOBS_MAX
    assert api.MAX_EVERY_HOURS == cli_module.EVERY_MAX


@pytest.mark.parametrize("every", [0, -3, 8761, 99999999999])
def test_the_core_refuses_a_schedule_interval_out_of_range_and_books_nothing(every):
    from importers.errors import ConfigError
    from jobs import api

    with pytest.raises(ConfigError, match=f"^--every must be from 1 to 8,760 hours \\(a year\\), not {every:,}$"):
        api.schedule("demo", ["OPS"], every)
    assert api.schedules_list() == []
