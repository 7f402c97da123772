"""The Jobs page's "Import to repeat" says what a re-run of an undone import does.

Review: an undone import was offered like any other, so a user booking it could not tell that its first run brings
back what the undo removed. It stays offered (its projects may be read again, as `cli.py schedule` books them) and
says so, in the choice and in the toast."""
from jobs import api
from tests.test_ui_pages import page

SAID = "undone: its first run imports again the items the undo removed"


def test_an_undone_import_to_repeat_says_its_first_run_brings_back_what_the_undo_removed(run_import, run_worker):
    done = run_import("demo", ["OPS"], config={"size": "10"})
    kept = run_import("demo", ["ACME"], config={"size": "10"})
    api.undo(done["job_id"])
    at = page("pages/jobs.py")
    choice = next(s for s in at.selectbox if s.label == "Import to repeat")
    shown = dict(zip(choice.options, [d["job_id"] for d in api.jobs(100)], strict=False))
    [undone] = [label for label, job in shown.items() if job == done["job_id"]]
    assert undone.endswith(f"({SAID})")
    assert [label for label in choice.options if SAID in label] == [undone]  # the import not undone says nothing
    assert kept["job_id"] in shown.values()
    choice.set_value(done["job_id"])
    next(b for b in at.button if b.label == "Schedule").click().run()
    assert not at.exception and not at.error
    assert any(SAID in str(t.value) for t in at.toast), [t.value for t in at.toast]
    # and that is what a run of it does: the project read again creates the items the undo removed
    again = run_import("demo", ["OPS"], config={"size": "10"})
    assert again["created"] == done["created"] > 0


def test_with_only_dry_runs_the_page_says_why_there_is_nothing_to_repeat(run_import):
    # review (new user): with dry runs only, "Import to repeat" offered "No options to select", with no reason
    run_import("demo", ["ACME"], config={"size": "10"}, dry_run=True)
    at = page("pages/jobs.py")
    assert not at.exception
    assert not [s for s in at.selectbox if s.label == "Import to repeat"]
    said = "Only an import can be repeated: the dry runs here wrote nothing"
    assert any(c.value.startswith(said) for c in at.caption), [c.value for c in at.caption]
