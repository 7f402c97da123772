"""The CLI as a script would use it: exit codes, one-line errors, JSON output."""
import json

import pytest

from .conftest import free_port
from .helpers import kill_hard, start_worker


@pytest.fixture
def worker():
    """A long-running worker process, as `./start.sh` runs one."""
    process = start_worker(burst=False)
    yield process
    kill_hard(process)


def _one_line_error(result, *words):
    err = result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert len(err.splitlines()) == 1, err
    for word in words:
        assert word in err, err


def test_run_wait_status_and_stats(cli, worker):
    run = cli("run", "demo", "--size", "300", "--wait")
    assert run.returncode == 1  # partial: the demo has 3 invalid items
    job_id = run.stdout.strip()
    assert "3 items failed" in run.stderr

    status = json.loads(cli("status", job_id, "--json").stdout)
    assert status["status"] == "partial" and status["created"] == 297

    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["items"] == 297 and stats["by_project"] == [{"source": "demo", "project": "ACME", "items": 297}]
    items = json.loads(cli("items", "--source", "demo", "--limit", "5", "--json").stdout)
    assert len(items) == 5 and items[0]["key"] == "ACME-1"
    assert job_id in cli("jobs").stdout


def test_successful_run_exits_zero(cli):
    worker = start_worker({"DEMO_INVALID_ITEMS": "0"}, burst=False)  # the source's data has no invalid items
    try:
        run = cli("run", "demo", "--size", "40", "--wait")
    finally:
        kill_hard(worker)
    assert run.returncode == 0, run.stderr
    assert "40/40 created 40" in run.stderr


def test_preview_json_has_at_least_ten_rows(cli):
    result = cli("preview", "demo", "--project", "OPS", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 0
    assert len(data["items"]) >= 10 and data["estimated_total"] == 50
    assert set(data["items"][0]) == {"key", "title", "state", "status", "assignee", "created", "updated"}
    assert {i["state"] for i in data["items"]} <= {"Backlog", "Selected for Development", "To Do", "In Progress",
                                                   "In Review", "Done", "Won't Do"}


def test_sources_lists_every_tool(cli):
    out = cli("sources").stdout
    for name in ("jira", "servicenow", "github", "gitlab", "demo"):
        assert name in out


@pytest.mark.parametrize("args, words", [
    (("run", "trello"), ("unknown source", "trello", "jira")),
    (("check", "nosuch"), ("unknown source",)),
    (("run", "demo", "--since", "last tuesday"), ("--since", "ISO-8601")),
    (("run", "demo", "--since", "2999-01-01"), ("--since", "future")),
    (("status", "0000000000000000"), ("no import job", "cli.py jobs")),
    (("retry", "0000000000000000"), ("no import job",)),
    (("run", "demo", "--size", "huge"), ("demo size", "small, medium, large")),
    (("preview", "demo", "--project", "NOPE"), ("no project", "ACME")),
])
def test_bad_input_exits_2_with_one_line(cli, args, words):
    result = cli(*args)
    assert result.returncode == 2
    _one_line_error(result, *words)


def test_unreachable_redis_is_one_line(cli):
    result = cli("run", "demo", env={"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    assert result.returncode == 2
    _one_line_error(result, "cannot reach Redis", "REDIS_URL")


def test_bad_database_url_is_one_line(cli):
    result = cli("stats", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 2
    _one_line_error(result, "DATABASE_URL")


@pytest.mark.parametrize("kind", ["a text file", "a folder", "under /proc"])
def test_a_sqlite_store_that_cannot_be_opened_is_one_line(cli, tmp_path, kind):
    """Each once gave a 100-line traceback (the file check raised OSError; SQLite's DatabaseError was not an
    OperationalError) instead of the message naming DATABASE_URL."""
    target = {"a text file": tmp_path / "notes.db", "a folder": tmp_path, "under /proc": "/proc/x.db"}[kind]
    if kind == "a text file":
        (tmp_path / "notes.db").write_text("my notes, not a database\n" * 100)
    result = cli("run", "demo", "--in-process", env={"DATABASE_URL": f"sqlite:///{target}"})
    assert result.returncode == 2
    _one_line_error(result, "cannot open the workspace database", "check DATABASE_URL")
    if kind == "a text file":
        assert (tmp_path / "notes.db").read_text().startswith("my notes")  # nothing written over it


def test_every_command_is_documented_in_the_readme():
    from pathlib import Path

    from cli import build_parser

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    commands = build_parser()._subparsers._group_actions[0].choices
    missing = [name for name in commands if f"cli.py {name}" not in readme]
    assert not missing, f"undocumented CLI commands: {missing}"
