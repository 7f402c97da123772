"""A dry run that fails or is cancelled says so, says what it had read before it stopped, that nothing was written,
and what running it again does: on the progress page, in the wizard, in the CLI and on the Jobs page.

Review: a failed dry run read "Failed: 12 items read: 12 created ... Retry resumes from the last committed batch" on
the progress page, and "Dry run failed: 0 items would fail; the import would create 0 ..." in the wizard when the
source had refused the credentials; a cancelled one quoted its partial counts as what "the import would create"."""
import re

from jobs import api
from tests.fakes.jira import FakeJira
from tests.test_ui_pages import page, texts
from tests.test_ui_wizard import open_demo_wizard

from .helpers import cancelled_part_way

# the demo read a page of 10 items a second, each committed as its own batch, and stopped after 2 s: a dry run that
# fails part of the way through (`IMPORT_PART_TIMEOUT`, the RQ job's backstop), whatever the machine's speed
STOPS_PART_WAY = {"DEMO_PAGE_DELAY": "1", "DEMO_PAGE_SIZE": "10", "IMPORT_BATCH_SIZE": "10",
                  "IMPORT_PART_TIMEOUT": "2"}
WROTE = re.compile(r"\d created|committed|imported twice|the import would create")  # as if it had written


def test_a_dry_run_the_source_refused_says_it_failed_before_reading_and_wrote_nothing(run_import):
    with FakeJira(cloud=True, size=30, page_cap=10).start() as fake:
        user, _ = fake.credentials
        doc = run_import("jira", ["ACME"], config={"base_url": fake.url, "user_email": user,
                                                   "api_token": "wrong-secret-123"}, dry_run=True)
    assert (doc["status"], doc["processed"]) == ("failed", 0), doc

    at = page("pages/progress.py", job=doc["job_id"])
    [said] = texts(at, "error")
    assert said == ("Dry run failed: it stopped before it had read any item. Nothing was written. Retry starts the "
                    "check again."), said
    assert any(t.startswith("Reason: JIRA rejected the credentials (HTTP 401)") for t in texts(at, "text"))


def test_a_dry_run_that_failed_part_way_says_what_it_had_read_in_the_wizard(run_worker, monkeypatch):
    at = open_demo_wizard()
    at.button(key="next_configure").click().run()
    at.button(key="next_map").click().run()
    for name, value in STOPS_PART_WAY.items():
        monkeypatch.setenv(name, value)
    at.button(key="dry_run").click().run()
    run_worker()
    at.run()
    assert not at.exception
    doc = api.status(at.session_state["wizard"].dry_run_job)
    assert doc["status"] == "failed" and 0 < doc["processed"] < 50, doc

    said = [e for e in texts(at, "error") if e.startswith("Dry run failed")]
    assert said == [f"Dry run failed: it had read {doc['processed']} items before it stopped ({doc['created']} would "
                    f"be created, 0 would be updated, 0 would be left unchanged); the rest was not checked. Nothing "
                    f"was written. Start dry run checks everything again from the start."], texts(at, "error")
    assert any(t.startswith("the import part ran longer than IMPORT_PART_TIMEOUT") for t in texts(at, "text"))
    assert not [t for t in texts(at, "warning") + texts(at, "error") if WROTE.search(t)]
    # what will be created is not read off a dry run that read part of the project
    assert not [c for c in texts(at, "caption") if "the dry run (every item read)" in c]


def test_a_cancelled_dry_run_labels_its_counts_partial_and_retry_continues_the_check(run_worker):
    job_id = api.start_import("demo", ["ACME"], config={"size": "6000"}, batch_size=200, dry_run=True)
    doc = cancelled_part_way(job_id, at_least=400)
    assert 0 < doc["processed"] < 6000

    at = page("pages/progress.py", job=job_id)
    [said] = [i for i in texts(at, "info") if i.startswith("Dry run cancelled")]
    assert said.startswith(f"Dry run cancelled: it had read {doc['processed']:,} items before it stopped "
                           f"({doc['created']:,} would be created, 0 would be updated, 0 would be left unchanged"), said
    assert said.endswith("the rest was not checked. Nothing was written. Retry continues the check where it "
                         "stopped; a new dry run starts over."), said
    assert not [t for t in texts(at, "info") if "Retry resumes where it stopped" in t]

    # what the words promise: a retry reads on from the last batch checked, it does not read the project again
    api.retry(job_id)
    run_worker()
    again = api.status(job_id)
    assert (again["status"], again["processed"]) == ("partial", 6000), again  # the suite's demo: 3 invalid items


def test_a_dry_run_that_read_everything_says_would_be_created_not_created(run_import):
    doc = run_import("demo", ["ACME"], config={"size": "20"}, dry_run=True)
    at = page("pages/progress.py", job=doc["job_id"])
    [said] = texts(at, "warning")
    assert said.startswith("Dry run finished with failures: 20 items read (17 would be created, 0 would be updated, "
                           "0 would be left unchanged, 3 would fail). Nothing was written."), said
    assert "17 created" not in said


def test_the_cli_and_the_jobs_page_say_a_stopped_dry_runs_counts_are_partial(cli):
    # review: `run --wait` and `status` of a failed dry run printed its partial counts as "dry run: would create 10"
    # and what it would create as "will create (the dry run (every item read)): 10 items"
    run = cli("run", "demo", "--size", "50", "--dry-run", "--in-process", env=STOPS_PART_WAY)
    job_id = run.stdout.split()[0]
    doc = api.status(job_id)
    assert doc["status"] == "failed" and 0 < doc["processed"] < 50, doc
    said = (f"Dry run failed: it had read {doc['processed']} items before it stopped ({doc['created']} would be "
            f"created, 0 would be updated, 0 would be left unchanged); the rest was not checked. Nothing was written. "
            f"`python cli.py retry {job_id}` continues the check where it stopped; a new dry run starts over.")
    assert said in run.stderr.splitlines(), run.stderr

    status = cli("status", job_id).stdout
    assert said in status.splitlines(), status
    assert f"dry run, stopped early: would create {doc['created']}" in status, status
    assert (f"will create, as counted by the {doc['processed']} items the dry run read before it stopped, not the "
            f"whole project:" in status and "every item read" not in status), status
    assert f"dry run, stopped early: would create {doc['created']}" in cli("jobs").stdout

    cards = texts(page("pages/jobs.py"), "caption")  # a phone's card of each import
    assert any(c.startswith(f"{doc['processed']} read · dry run, stopped early: would create {doc['created']} · ")
               for c in cards), cards


def test_a_dry_runs_mapping_is_not_said_to_be_saved(run_import, engine):
    # review: a dry run's progress page read "ACME: each source value and its target (saved for the project's later
    # runs)", though a dry run saves no mapping: a later `cli.py run` of the project ran on the defaults
    from store import mappings as mapping_store

    steered = api.mapping("demo", "ACME", {"size": "20"})
    steered.set_target("statuses", "Won't Do", "Dropped", "cancelled")
    doc = run_import("demo", ["ACME"], config={"size": "20"}, dry_run=True, mappings={"ACME": steered})
    assert mapping_store.load(engine, "demo", "ACME") is None  # nothing saved, as nothing written

    at = page("pages/progress.py", job=doc["job_id"])
    assert [e.label for e in at.expander if e.label.startswith("The mapping")] == ["The mapping this dry run used"]
    said = [c for c in texts(at, "caption") if c.startswith("ACME: each source value")]
    assert said == ["ACME: each source value and its target (a dry run saves no mapping: the import you start with "
                    "it keeps it for the project's later runs)"], said


def test_undo_of_a_dry_run_is_refused_and_its_retry_stays(run_worker, cli):
    # review: `cli.py undo` of a cancelled dry run printed "removed 0 items and 0 comments", its progress page then read
    # "Undone at ...: the items this import created were removed." and Retry, which the page had just said continues
    # the check, was refused ("was undone: start a new import instead")
    job_id = api.start_import("demo", ["ACME"], config={"size": "6000"}, batch_size=200, dry_run=True)
    cancelled_part_way(job_id, at_least=400)
    refused = cli("undo", job_id)
    said = "was a dry run, which wrote nothing: there is nothing to undo"
    assert refused.returncode != 0 and said in refused.stderr, (refused.stdout, refused.stderr)
    assert api.status(job_id)["status"] == "cancelled" and not api.status(job_id)["undone_at"]
    api.retry(job_id)
    run_worker()
    assert api.status(job_id)["processed"] == 6000


def test_a_dry_run_that_stopped_after_reading_every_item_does_not_say_the_rest_was_unchecked():
    # review: a dry run that had read every item and then stopped (a timeout in its failed-items pass) said "the rest
    # was not checked", though nothing was left to read
    from jobs import dry_run

    doc = {"status": "failed", "dry_run": True, "processed": 50, "total": 50, "created": 47, "updated": 0,
           "skipped": 0, "failed": 3, "duplicates": "update"}
    assert dry_run.stopped_outcome(doc, "Retry continues the check.") == (
        "Dry run failed: it had read all 50 items (47 would be created, 0 would be updated, 0 would be left "
        "unchanged, 3 would fail) but did not end. Nothing was written. Retry continues the check.")
    part_way = {**doc, "processed": 20}
    assert "the rest was not checked" in dry_run.stopped_outcome(part_way, "")
