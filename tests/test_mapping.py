"""Mapping you can see and steer (issue 14): the mapping file round-trips through the CLI and steers the import, a
bad file is refused with one line naming the value and the line, a re-run with a changed mapping re-files what is
already stored, and values the source's tables cannot place block the start until they have a target."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from importers.errors import ConfigError
from jobs import api
from store import queries
from store.schema import import_jobs, value_mappings

SIZE = {"size": "60"}


def _targets(data: dict) -> dict:
    return {kind: {e["source"]: (e["target"], e.get("category")) for e in data[kind]}
            for kind in ("statuses", "priorities", "types", "people")}


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _by_person(engine) -> dict[str, set[str]]:
    """assignee name -> keys of the items assigned to them."""
    found: dict[str, set[str]] = {}
    for row in queries.items(engine, source="demo", limit=1000):
        found.setdefault(row["assignee"], set()).add(row["key"])
    return found


def test_cli_mapping_file_round_trips_and_steers_the_import(cli, run_worker, engine, tmp_path):
    path = tmp_path / "acme.json"
    exported = cli("mapping", "export", "demo", "--project", "ACME", "--size", "60", "-o", str(path))
    assert exported.returncode == 0, exported.stderr
    data = json.loads(path.read_text())
    assert [e["source"] for e in data["statuses"]][:3] == ["Backlog", "Selected for Development", "To Do"]
    assert len(path.read_text().splitlines()) > 40  # one row a line

    unchanged = cli("mapping", "import", str(path), "--size", "60")
    assert unchanged.returncode == 0 and "0 values differ" in unchanged.stdout, unchanged.stderr
    shown = json.loads(cli("mapping", "show", "demo", "--project", "ACME", "--size", "60", "--json").stdout)
    assert _targets(shown) == _targets(data)

    for entry in data["statuses"]:
        if entry["source"] == "In Review":
            entry["target"], entry["category"] = "In Progress", None  # an existing state: its category follows
        if entry["source"] == "Backlog":
            entry["target"], entry["category"] = "Parked", "backlog"  # a new state
    for entry in data["priorities"]:
        if entry["source"] == "Highest":
            entry["target"] = "high"
    for entry in data["people"]:
        if entry["name"] == "Grace Hopper":
            entry["target"] = "email:ada@acme.example"  # merged into Ada Lovelace
    path.write_text(json.dumps(data, indent=1))
    started = cli("run", "demo", "--project", "ACME", "--size", "60", "--mapping", str(path))
    assert started.returncode == 0, started.stderr
    assert "Grace Hopper <grace@acme.example> is merged into email:ada@acme.example (ada@acme.example)" \
        in started.stderr  # two different emails: said out loud
    run_worker()
    assert api.status(started.stdout.strip())["status"] == "partial"  # the demo's 3 invalid items

    rows = json.loads(cli("items", "--source", "demo", "--limit", "1000", "--json").stdout)
    states = {r["state"]: r["status"] for r in rows}
    assert "In Review" not in states and "Backlog" not in states
    assert states["Parked"] == "backlog" and states["In Progress"] == "in_progress"
    assert "Grace Hopper" not in {r["assignee"] for r in rows}
    assert {r["priority"] for r in rows} <= {"high", "medium", "low", "none"}  # no "urgent" left
    sample = json.loads(cli("preview", "demo", "--project", "ACME", "--json").stdout)["items"]
    assert "In Review" not in {i["state"] for i in sample}  # the preview files items by the saved mapping too
    again = json.loads(cli("mapping", "show", "demo", "--project", "ACME", "--size", "60", "--json").stdout)
    assert _targets(again)["statuses"]["Backlog"] == ("Parked", "backlog")  # saved, and reused by the next run
    assert _targets(again)["people"] == {e["source"]: (e["target"], None) for e in data["people"]}


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("change, expected", [
    (lambda t: _edit(t, '"source": "In Review"', '"source": "In Reveiw"'),
     "status 'In Reveiw' is not a status of demo project ACME"),
    (lambda t: _edit(t, '"target": "urgent"', '"target": "asap"'),
     "priority 'Highest' has target 'asap', which is not a priority level"),
    (lambda t: _edit(t, '"target": "email:grace@acme.example"', '"target": "email:nobody@acme.example"'),
     "person 'Grace Hopper' has target 'email:nobody@acme.example', which is no person"),
    (lambda t: _edit(t, '"target": "Backlog", "category": "backlog"', '"target": "Icebox", "category": null'),
     "status 'Backlog' has target 'Icebox', a state ACME does not have: give its category"),
    (lambda t: _edit(t, '"category": "backlog"', '"category": "later"'),
     "status 'Backlog' has category 'later'"),
    (lambda t: _edit(t, '"target": "In Review", "category": "in_progress"', '"target": "Done", "category": "todo"'),
     "a state has one category"),
    (lambda t: t.replace("},\n", "}\n", 1), "not valid JSON"),
    (lambda t: _edit(t, '"project": "ACME"', '"project": "OPS"'), "this file is for project 'OPS', not 'ACME'"),
    # an attacker's review: a lone surrogate was saved, then failed every import, preview and export of the project
    (lambda t: _edit(t, '"target": "Backlog", "category"', '"target": "\\ud800", "category"'),
     "status 'Backlog': the state name '\\ud800' holds an invisible or control character (U+D800)"),
    (lambda t: _edit(t, '"target": "Done", "category"', '"target": "Done\\u001b[2J", "category"'),
     "status 'Done': the state name 'Done\\x1b[2J' holds an invisible or control character (U+001B)"),
    (lambda t: _edit(t, '"target": "Done", "category"', '"target": "Done\\u200b", "category"'),
     "status 'Done': the state name 'Done\\u200b' holds an invisible or control character (U+200B)"),
    (lambda t: _edit(t, '"target": "Done", "category"', f'"target": "{"S" * 256}", "category"'),
     "status 'Done': the state name 'SSSS"),  # "...is longer than 255 characters" (a column of 255 on PostgreSQL)
    (lambda t: _edit(t, '"target": "bug"', f'"target": "{"b" * 65}"'), "is longer than 64 characters"),
    (lambda t: _edit(t, '{"source": "High", "target": "high"', '{"source": "Highest", "target": "low"}, '
                                                                  '{"source": "High", "target": "high"'),
     "priority 'Highest' has a second row further on: keep one"),  # the last of two rows won without a word
])
def test_a_bad_mapping_file_is_one_line_naming_value_and_line_and_writes_nothing(cli, engine, tmp_path, change,
                                                                                 expected):
    path = tmp_path / "mapping.json"
    assert cli("mapping", "export", "demo", "--project", "ACME", "--size", "60", "-o", str(path)).returncode == 0
    text = change(path.read_text())
    path.write_text(text)
    for command in (("mapping", "import", str(path), "--project", "ACME", "--size", "60"),
                    ("run", "demo", "--project", "ACME", "--size", "60", "--mapping", str(path))):
        result = cli(*command)
        assert result.returncode == 2, result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr, result.stderr
        number = int(lines[0].split(", line ")[1].split(":")[0])
        words = expected.split("'")
        if len(words) > 1 and "JSON" not in expected:  # the line named is the one holding the value
            assert words[1] in text.splitlines()[number - 1] or "project" in expected
    assert _count(engine, value_mappings) == 0 and _count(engine, import_jobs) == 0


def test_a_rerun_with_a_changed_mapping_refiles_the_items_already_stored(run_import, engine):
    first = run_import("demo", ["ACME"], config=SIZE)
    before = queries.items(engine, source="demo", limit=1000)
    grace = _by_person(engine)["Grace Hopper"]
    in_review = {r["key"] for r in before if r["state"] == "In Review"}
    assert first["created"] == 57 and grace and in_review

    steered = api.mapping("demo", "ACME", SIZE)
    steered.set_target("statuses", "In Review", "Code review", "in_progress")
    steered.set_target("people", "u1", "email:ada@acme.example")  # Grace Hopper into Ada Lovelace
    second = run_import("demo", ["ACME"], config=SIZE, mappings={"ACME": steered})
    assert second["created"] == 0  # an incremental run: the items already stored were re-mapped in the store
    assert second["remapped"] >= len(in_review) + len(grace)
    after = {r["key"]: r for r in queries.items(engine, source="demo", limit=1000)}
    assert {k for k, r in after.items() if r["state"] == "Code review"} == in_review
    assert "Grace Hopper" not in _by_person(engine) and grace <= _by_person(engine)["Ada Lovelace"]
    comments = [c["author"] for r in after.values() for c in queries.item_detail(engine, r["id"])["comments"]]
    assert "Grace Hopper" not in comments

    restored = api.mapping("demo", "ACME", SIZE)  # the saved mapping comes back: undo both changes
    assert restored.row("statuses", "In Review").target == "Code review"
    restored.set_target("statuses", "In Review", "In Review", "in_progress")
    restored.set_target("people", "u1", "email:grace@acme.example")
    run_import("demo", ["ACME"], config=SIZE, mappings={"ACME": restored})
    final = queries.items(engine, source="demo", limit=1000)
    assert {r["key"] for r in final if r["state"] == "In Review"} == in_review
    assert _by_person(engine)["Grace Hopper"] == grace


def test_a_rerun_without_a_mapping_reuses_the_saved_one(run_import, engine):
    steered = api.mapping("demo", "ACME", SIZE)
    steered.set_target("statuses", "Won't Do", "Dropped", "cancelled")
    run_import("demo", ["ACME"], config=SIZE, mappings={"ACME": steered})
    run_import("demo", ["ACME"], config={"size": "80"})  # a later, larger run: new items, saved mapping
    states = {r["state"] for r in queries.items(engine, source="demo", limit=1000)}
    assert "Dropped" in states and "Won't Do" not in states


def test_a_schedule_runs_with_the_mapping_saved_for_its_project(run_worker, engine):
    from jobs import tasks

    steered = api.mapping("demo", "OPS")
    steered.set_target("statuses", "Won't Do", "Dropped", "cancelled")
    api.save_mapping(steered)  # as `mapping import` or a wizard run leaves it
    schedule_id = api.schedule("demo", ["OPS"], 2)
    job_id = tasks.run_schedule(schedule_id)  # what the worker runs when the scheduled time comes
    run_worker()
    assert api.status(job_id)["status"] in ("succeeded", "partial")
    assert api.job_mappings(job_id)["OPS"].row("statuses", "Won't Do").target == "Dropped"  # kept with the job
    states = {r["state"] for r in queries.items(engine, source="demo", project="OPS", limit=1000)}
    assert "Dropped" in states and "Won't Do" not in states


def test_values_the_tables_cannot_place_block_the_start_until_they_have_a_target(run_import, engine):
    from tests.fakes.servicenow import FakeServiceNow

    with FakeServiceNow(sizes={"incident": 40}, custom_states={"incident": {"9": "Awaiting Vendor"}}) as fake:
        config = {"instance": fake.url, "username": fake.username, "password": fake.password}
        found = api.mapping("servicenow", "incident", config)
        assert [(k, r.source) for k, r in found.flagged()] == [("statuses", "Awaiting Vendor")]
        with pytest.raises(ConfigError, match="status 'Awaiting Vendor .9.' has no target"):
            api.start_import("servicenow", ["incident"], config=config, mappings={"incident": found})
        assert _count(engine, import_jobs) == 0
        found.set_target("statuses", "Awaiting Vendor", "Awaiting Vendor", "in_progress")
        doc = run_import("servicenow", ["incident"], config=config, mappings={"incident": found})
    assert doc["status"] in ("succeeded", "partial")
    rows = queries.items(engine, source="servicenow", state="Awaiting Vendor", limit=1000)
    assert rows and {r["status"] for r in rows} == {"in_progress"}


def test_a_dry_run_says_exactly_what_will_be_created_and_writes_nothing(run_import, engine, cli):
    run_import("demo", ["OPS"], config=SIZE)  # the demo's people are in the workspace already
    steered = api.mapping("demo", "ACME", SIZE)
    steered.set_target("statuses", "Backlog", "Parked", "backlog")
    doc = run_import("demo", ["ACME"], config=SIZE, dry_run=True, mappings={"ACME": steered})
    forecast = api.job_forecast(doc["job_id"])["ACME"]
    summary = forecast.summary()
    assert (summary["items"], summary["people_new"]) == (57, 0) and summary["comments"] > 0
    assert summary["people_matched"] == summary["people"] > 10  # matched by email to the people OPS brought
    states = {s["name"]: s for s in forecast.states}
    assert states["Parked"] == {"name": "Parked", "category": "backlog", "items": states["Parked"]["items"],
                                "new": True} and "Backlog" not in states  # states are a project's: all new here
    assert queries.items(engine, source="demo", project="ACME") == []  # nothing written
    status = cli("status", doc["job_id"])
    assert "will create, as counted by the dry run (every item read): 57 items" in status.stdout
    counted = api.count_by_dry_run(api.mapping("demo", "ACME", SIZE), doc["job_id"])
    assert counted.row("statuses", "Backlog").counted == "dry run"
    assert sum(r.items or 0 for r in counted.statuses if not r.is_label) == 57


def test_the_cli_forecast_of_a_re_run_creates_none_of_the_items_it_reads_again(run_import, cli):
    run_import("demo", ["OPS"], config=SIZE)
    shown = cli("preview", "demo", "--project", "OPS", "--forecast", env={"DEMO_SIZE": SIZE["size"]})
    assert shown.returncode == 0, shown.stderr
    # it said "will create (...): 60 items" of a project whose items were in the workspace, "kept" as a run with
    # the default policy (update) does not
    # (the demo's 3 invalid items a project were never stored: a re-run would try them again)
    assert "3 items (57 of the 60 read are in the workspace already: updated where they changed)" in shown.stdout, \
        shown.stdout


def test_the_cli_forecast_says_in_words_what_the_preview_cannot_count(cli):
    # review: the wizard's preview showed Comments "?" and Attachments "?"; the CLI's line read "? comments"
    shown = cli("preview", "demo", "--project", "OPS", "--forecast")
    assert shown.returncode == 0, shown.stderr
    assert "(comments and attachments not counted in the preview: a dry run counts them); people " in shown.stdout
    assert "? comments" not in shown.stdout and "? attachments" not in shown.stdout, shown.stdout


def test_the_cli_forecast_says_in_words_an_item_count_the_source_cannot_make(cli, monkeypatch):
    # review: with GitHub's search API off (some Enterprise servers) the line read "will create (...): ? items"
    from tests.fakes.github import GitHubFake

    github = GitHubFake(sizes={"acme/web": 12}, pr_every=0).start()
    try:
        monkeypatch.setenv("GITHUB_TOKEN", github.token)
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        github.fail_next(r"/search/issues", 404, times=50, body={"message": "Not Found"})
        shown = cli("preview", "github", "--project", "acme/web", "--forecast")
    finally:
        github.stop()
    assert shown.returncode == 0, shown.stderr
    assert "estimated total unknown" in shown.stdout, shown.stdout
    assert "12 items: items, comments and attachments not counted in the preview: a dry run counts them; people " \
        in shown.stdout, shown.stdout
    assert "? items" not in shown.stdout


def test_what_will_be_created_lists_the_items_comments_and_attachments_to_look_into(run_import):
    from tests.fakes.jira import FakeJira

    with FakeJira(cloud=True, size=30) as fake:
        user, secret = fake.credentials
        config = {"base_url": fake.url, "user_email": user, "api_token": secret}
        truth = fake.ground_truth("ACME")
        with_files = {i["key"]: [a["filename"] for a in i["attachments"]] for i in fake.issues["ACME"]
                      if i["attachments"] and i["key"] in truth["keys"]}
        assert with_files
        preview = api.preview("jira", "ACME", config, limit=20)
        before = api.forecast(api.mapping("jira", "ACME", config), preview.estimated_total, preview.items)
        assert [e["key"] for e in before.items_list] == [i.key for i in preview.items]  # the sample, as mapped
        assert (before.comments_list, before.attachments_list) == ([], [])  # a dry run reads and lists them

        doc = run_import("jira", ["ACME"], config=config, dry_run=True)
    exact = api.job_forecast(doc["job_id"])["ACME"]
    assert sorted(e["key"] for e in exact.items_list) == truth["keys"]
    assert {e["key"]: e["files"] for e in exact.attachments_list} == {k: ", ".join(f) for k, f in with_files.items()}
    assert sum(e["comments"] for e in exact.comments_list) == exact.summary()["comments"] == truth["comments"]


def test_mapping_show_into_a_reader_that_stops_early_ends_without_a_traceback(engine):
    """Regression: `mapping show demo | head` printed a BrokenPipeError traceback once head had its lines."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, str(root / "cli.py"), "mapping", "show", "demo", "--project", "ACME",
                             "--size", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=root,
                            env=dict(os.environ))
    proc.stdout.close()  # the reader is gone before anything is printed
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and "Traceback" not in stderr, stderr


def test_a_re_run_forecasts_no_new_items_and_says_the_stored_ones_are_updated(run_import):
    """Regression: "What will be created: Items 50" on a re-run where all 50 items were in the workspace."""
    first = run_import("demo", ["ACME"], config=SIZE)
    stored = first["created"]
    preview = api.preview("demo", "ACME", SIZE)
    before = api.forecast(api.mapping("demo", "ACME", SIZE), preview.estimated_total, preview.items, "update")
    summary = before.summary()
    assert (summary["items_new"], summary["items_existing"]) == (preview.estimated_total - stored, stored)
    assert before.existing_outcome() == "updated where they changed"
    dry = run_import("demo", ["ACME"], config=SIZE, dry_run=True, duplicates="update", incremental=False)
    exact = api.job_forecast(dry["job_id"])["ACME"].summary()
    assert exact["items_new"] == dry["created"] == 0  # the failing items are not stored: none of the rest is new
    assert exact["items_existing"] == dry["updated"] + dry["skipped"] == stored
    fresh = api.forecast(api.mapping("demo", "OPS", SIZE), 40, (), "skip")
    assert fresh.summary()["items_new"] == 40 and fresh.existing_outcome() == "kept as they are"


@pytest.mark.parametrize("text, expected", [
    ('{"source": "demo", "project": "ACME", "project": "OPS"}', "the key 'project' appears twice in one object"),
    ('{"source": "demo", "project": "ACME", "statuses": ' + "[" * 100_000 + "]" * 100_000 + "}",
     "nested too deeply to be a mapping"),
])
def test_a_mapping_file_that_json_reads_some_way_is_refused_in_one_line(cli, engine, tmp_path, text, expected):
    # an attacker's review: json kept the last of two keys (a file seen as ACME's was saved for OPS), and a deeply
    # nested file was a RecursionError traceback
    path = tmp_path / "mapping.json"
    path.write_text(text)
    result = cli("mapping", "import", str(path), "--size", "60")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
    assert _count(engine, value_mappings) == 0


def test_a_mapping_given_to_an_import_is_audited_on_every_path(run_import, engine):
    # an attacker's review: `mapping import` recorded a "mapping" event; the wizard's and the API's saves did not
    steered = api.mapping("demo", "ACME", SIZE)
    steered.set_target("statuses", "In Review", "In Progress")
    with pytest.raises(ConfigError, match="holds an invisible or control character"):
        steered.set_target("statuses", "Done", "Done\u202e")
    assert steered.row("statuses", "Done").target == "Done"  # a refused name leaves the row as it was
    doc = run_import("demo", ["ACME"], config=SIZE, mappings={"ACME": steered}, requested_by="alice@acme.com")
    events = [json.loads(line) for line in Path(os.environ["AUDIT_LOG_PATH"]).read_text().splitlines()]
    [saved] = [e for e in events if e["action"] == "mapping"]
    assert (saved["actor"], saved["job_id"], saved["projects"], saved["changed"]) == (
        "alice@acme.com", doc["job_id"], ["ACME"], 1)


def _document_with(change) -> dict:
    from jobs import mapping_file

    document = json.loads(mapping_file.dumps(api.mapping("demo", "ACME", SIZE)))
    change(document)
    return document


def _nested(depth: int) -> list:
    deep: list = []
    for _ in range(depth):
        deep = [deep]
    return deep


def _moved_first(document: dict, key: str, value) -> None:
    """`key` set to `value` and moved to the front of the document (a place found by searching the text named the
    first row whose `source` came first)."""
    rest = {k: v for k, v in document.items() if k != key}
    document.clear()
    document.update({key: value, **rest})


@pytest.mark.parametrize("change, expected", [
    (lambda d: d.update(bogus=1), "mappings[0].bogus: unknown key 'bogus'"),
    (lambda d: (d["statuses"][0].update(bogus=2), d.update(bogus=1)), "mappings[0].bogus: unknown key 'bogus'"),
    (lambda d: d["statuses"][2].update(target="Done\u200b"), "mappings[0].statuses[2]: status 'To Do': the state "
                                                               "name 'Done\\u200b' holds an invisible"),
    (lambda d: d["statuses"].append({"source": "Blokced", "target": "Done"}),
     "mappings[0].statuses[7]: status 'Blokced' is not a status of demo project ACME"),
    (lambda d: (d["statuses"][0].update(items={"source": "Blokced"}),
                d["statuses"].append({"source": "Blokced", "target": "Done"})),
     "mappings[0].statuses[7]: status 'Blokced' is not a status"),  # a search of the text found row 0's "source"
    (lambda d: d["statuses"].insert(3, "To Do"), "mappings[0].statuses[3]: each of 'statuses' must be an object"),
    (lambda d: d["priorities"].insert(1, {"source": "Highest", "target": "urgent", "flagged": False}),
     "mappings[0].priorities[0]: priority 'Highest' has a second row further on"),
    (lambda d: d.update(types={"source": "Bug"}), "mappings[0].types: 'types' must be a list"),
    (lambda d: d["statuses"][4].update(target="Done", category="todo"),
     "mappings[0].statuses[5]: status 'Done' files state 'Done' under done, but status 'In Review' under todo"),
    (lambda d: _moved_first(d, "source", "jira"), "mappings[0].source: this file is for source 'jira', not 'demo'"),
    (lambda d: d.pop("source"), "mappings[0].source: this file is for source None, not 'demo'"),
    (lambda d: d.update(statuses=_nested(100_000)), "mappings[0]: nested too deeply to be a mapping"),
    # an attacker's review: a megabyte of project name or row value came back whole in the error
    (lambda d: d.update(project="x" * 400_000), "mappings[0].project: Demo: 'xxxxxxxx"),
    (lambda d: d["statuses"].append({"source": "y" * 100_000, "target": "Done"}), "mappings[0].statuses[7]: status "
                                                                                   "'yyyyyyyy"),
    (lambda d: d.update(project="ZED"), "mappings[0].project: Demo has no project 'ZED' to import"),
    (lambda d: d.pop("project"), 'mappings[0].project: the document names no project: add "project"'),
])
def test_a_mapping_document_given_to_the_http_api_is_refused_naming_its_place(engine, change, expected):
    # the API took documents as one line of JSON, so every refusal said "mappings[0], line 1"
    with pytest.raises(ConfigError) as refused:
        api.mappings_from_documents("demo", [_document_with(change)], SIZE)
    said = str(refused.value)
    assert said.startswith(expected) and "line" not in said and len(said) < 400, said
    assert refused.value.field == said.split(": ", 1)[0]  # the HTTP API's detail.field names the place too
    assert _count(engine, value_mappings) == 0


def test_two_mapping_documents_for_one_project_are_refused_and_a_padded_project_is_read_as_itself(engine):
    steered = _document_with(lambda d: d["statuses"][2].update(target="Done", category="done"))
    with pytest.raises(ConfigError, match=r"^mappings\[1\]: a second mapping for project ACME \(mappings\[0\] is "
                                          r"one\): keep one$"):
        api.mappings_from_documents("demo", [steered, _document_with(lambda d: None)], SIZE)  # the last one won
    padded = api.mappings_from_documents("demo", [{**steered, "project": "  ACME "}], SIZE)
    assert list(padded) == ["ACME"] and padded["ACME"].row("statuses", "To Do").target == "Done"


def test_mapping_show_says_when_its_sample_read_the_whole_project(cli, monkeypatch):
    # review: a project of exactly the sample's size (100) read "counted ... in a sample of 100 items"
    monkeypatch.delenv("DEMO_INVALID_ITEMS")  # the demo as shipped: every item is read
    for size, said in (("100", "else in all 100 items;"), ("101", "else in a sample of 100 items;")):
        result = cli("mapping", "show", "demo", "--project", "ACME", "--size", size)
        assert result.returncode == 0 and said in result.stdout.splitlines()[0], (result.stdout, result.stderr)


# review: the mapping asked the source's count of every project (452336e: only to say whether its sample read it
# whole), one more request a project of the Map step; on GitHub a search, whose own limit (30 a minute) a Map step of
# a few dozen repositories exhausts, and a refused count then failed the project's mapping (or held it until the
# limit's reset); JIRA, which counts every value, was asked its total again
def test_the_mapping_stands_without_the_sources_count_and_asks_none_it_has(engine):
    from tests.fakes.github import GitHubFake
    from tests.fakes.jira import FakeJira

    with FakeJira(size=30) as jira:
        user, token = jira.credentials
        found = api.mapping("jira", "ACME", {"base_url": jira.url, "user_email": user, "api_token": token})
        counted = [row for kind in ("statuses", "priorities", "types") for row in found.rows(kind)
                   if row.counted == "source"]  # a count a value: the project's own would be one more
        assert found.sample_is_whole() and jira.requests["approximate_count"] == len(counted), jira.requests
    with GitHubFake(sizes={"acme/web": 30}) as github:
        github.answer_next("/search/issues", github.rate_limited_response(reset_in=3600), times=10)
        found = api.mapping("github", "acme/web", {"api_url": github.url, "token": "ghp_fake_token_0123456789"})
        assert found.sample and not found.sample_is_whole()  # not known: a sample, as before the count was asked
