"""A count and its noun agree on every page and CLI line (importers/words.counted).

Review: the progress page read "1 items so far" beside a moving bar, and the CLI "1 item(s) failed"."""
from jobs import api
from tests.test_ui_pages import _running, page, texts


def test_one_item_read_so_far_is_one_item_on_the_progress_page():
    job_id = api.start_import("demo", ["ACME"], config={"size": "10"})
    _running(job_id, processed=1, created=1, total=0, phase="items")
    captions = texts(page("pages/progress.py", job=job_id), "caption")
    assert any("1 item so far" in c for c in captions), captions
    assert not [c for c in captions if "1 items" in c]


def test_one_failed_item_is_one_item_in_the_failure_report_and_the_cli(cli):
    run = cli("run", "demo", "--size", "20", "--in-process", env={"DEMO_INVALID_ITEMS": "1"})
    assert "1 item failed: see" in run.stderr and "item(s)" not in run.stderr, run.stderr
    job_id = run.stdout.strip().splitlines()[0]
    at = page("pages/progress.py", job=job_id)
    assert "1 item failed. Each row says which item and why." in texts(at, "caption")


def test_counted_agrees_for_one_many_none_and_unknown():
    from importers.words import counted

    assert [counted(n, "items") for n in (0, 1, 2, 1450, None)] == ["0 items", "1 item", "2 items", "1,450 items",
                                                                    "? items"]
    assert counted(1, "people") == "1 person" and counted(1, "matches", "match") == "1 match"


def test_names_are_listed_as_a_sentence_lists_them():
    from importers.words import listed

    assert [listed(n) for n in ([], ["comments"], ["comments", "attachments"], ["a", "b", "c"])] == [
        "", "comments", "comments and attachments", "a, b and c"]
