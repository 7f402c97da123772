"""A count and its noun agree on every page and CLI line (importers/words.counted).

Review: the progress page read "1 items so far" beside a moving bar, and the CLI "1 item(s) failed"."""
import json
import os

from cryptography.fernet import Fernet

from jobs import api
from store import credentials
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


def test_the_cli_says_one_changed_value_and_one_credential_in_the_singular(cli, engine, tmp_path):
    # review: `mapping import` read "1 value(s) differ from the defaults", `rotate-key` "re-encrypted 1 credential(s)"
    path = tmp_path / "acme.json"
    assert cli("mapping", "export", "demo", "--project", "ACME", "--size", "60", "-o", str(path)).returncode == 0
    data = json.loads(path.read_text())
    for entry in data["priorities"]:
        if entry["source"] == "Highest":
            entry["target"] = "high"
    path.write_text(json.dumps(data))
    saved = cli("mapping", "import", str(path), "--size", "60")
    assert saved.returncode == 0, saved.stderr
    assert "saved the mapping of demo ACME: 1 value differs from the defaults" in saved.stdout, saved.stdout

    credentials.put(engine, "jira", {"api_token": "tok-DO-NOT-LEAK-1234567890"})
    first = Fernet.generate_key().decode()
    rotated = cli("rotate-key", env={"CREDENTIAL_ENCRYPTION_KEY": f"{first},{os.environ['CREDENTIAL_ENCRYPTION_KEY']}"})
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.strip() == "re-encrypted 1 credential with the first key", rotated.stdout


def test_a_job_note_says_one_ticket_and_one_journal_entry_in_the_singular(run_import):
    # review: a table of one ticket the account cannot see read "ServiceNow counted 1 tickets in incident", and a
    # journal of one hidden entry "counted 1 journal entries of these tickets"
    from tests.fakes.servicenow import FakeServiceNow

    with FakeServiceNow(sizes={"incident": 1}, hide_every=0) as fake:
        fake.ordered("incident")[0]["_hidden"] = True
        config = {"instance": fake.url, "username": fake.username, "password": fake.password}
        doc = run_import("servicenow", ["incident"], config=config)
    assert doc["notes"] == ["ServiceNow counted 1 ticket in incident, its read returned 0 (rows hidden from this "
                            "account, or changed during the read)"], doc["notes"]

    with FakeServiceNow(sizes={"incident": 4}, hide_every=0) as fake:
        entry = fake.data["sys_journal_field"][0]
        entry["_hidden"] = True
        fake.data["sys_journal_field"] = [entry]  # the one entry of these tickets, hidden from the account
        config = {"instance": fake.url, "username": fake.username, "password": fake.password}
        doc = run_import("servicenow", ["incident"], config=config)
    assert "ServiceNow counted 1 journal entry of these tickets, 0 could be read (the rest hidden from this " \
        "account)" in doc["notes"], doc["notes"]


def test_the_demo_check_says_one_item_for_a_project_kept_at_one():
    # review: a project imported at size 1 read "as imported before: ACME 1 items" (the noun followed the whole list)
    from importers.demo import DemoSource

    said = DemoSource({}).check_kept({"ACME": {"size": "1"}, "OPS": {"size": "300"}})
    assert "as imported before: ACME 1 item, OPS 300 items; a new project" in said, said


def test_the_wizards_size_choice_says_one_item_for_a_project_kept_at_one(cli):
    # review (new user): the Configure step offered "As imported before: ACME 1 items (new projects: Small)"
    from streamlit.testing.v1 import AppTest

    from tests.test_ui_wizard import APP

    assert cli("run", "demo", "--project", "ACME", "--size", "1", "--in-process",
               env={"DEMO_INVALID_ITEMS": "0"}).returncode == 0
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.button(key="start_pitch").click().run()
    [size] = [r for r in at.radio if r.key.endswith("_size")]
    assert size.value == "kept"
    shown = size.proto.options  # what the radio shows: its format_func applied
    assert "As imported before: ACME 1 item (new projects: Small)" in shown, shown
