"""Workflow states (issue 14): each import files items under its source's own status names, each state in one of
the five categories, and a store made before states existed reads each item's source status as its state."""
from __future__ import annotations

import json

from sqlalchemy import select, text

from store import queries
from store.db import dispose_all, engine_for
from store.schema import workflow_states
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.fakes.servicenow import STATES as SERVICENOW_STATES
from tests.fakes.servicenow import FakeServiceNow


def states(engine, source: str) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(workflow_states).where(workflow_states.c.source == source))
        return {r.name: r.category for r in rows}


def stored(engine, source: str) -> list[dict]:
    return queries.items(engine, source=source, limit=10_000)


def test_jira_statuses_become_states_of_the_same_name(run_import, engine):
    with FakeJira(size=60) as fake:
        user, token = fake.credentials
        run_import("jira", ["ACME"], config={"base_url": fake.url, "user_email": user, "api_token": token})
    rows = stored(engine, "jira")
    assert {r["state"] for r in rows} == {"Backlog", "To Do", "In Progress", "In Review", "Done", "Won't Do"}
    assert states(engine, "jira") == {"Backlog": "backlog", "To Do": "todo", "In Progress": "in_progress",
                                      "In Review": "in_progress", "Done": "done", "Won't Do": "cancelled"}
    assert all(r["status"] == states(engine, "jira")[r["state"]] for r in rows)  # one category per state


def test_github_open_closed_reasons_and_workflow_labels_become_states(run_import, engine):
    with GitHubFake() as fake:
        run_import("github", ["acme/api"], config={"token": fake.token, "api_url": fake.url})
    found = states(engine, "github")
    assert found == {"Open": "todo", "Closed": "done", "Not planned": "cancelled", "in progress": "in_progress"}
    in_progress = [r for r in stored(engine, "github") if r["state"] == "in progress"]
    assert in_progress and all("in progress" in r["labels"] for r in in_progress)


def test_gitlab_states_and_scoped_workflow_labels_become_states(run_import, engine):
    with FakeGitLab() as fake:
        run_import("gitlab", ["acme/ops"], config={"token": fake.token, "url": fake.url})
    found = states(engine, "gitlab")
    assert found["Open"] == "todo" and found["Closed"] == "done"
    assert found.get("in progress", found.get("doing")) == "in_progress"  # `workflow::in progress` reads "in progress"
    assert set(found) <= {"Open", "Closed", "doing", "in progress", "backlog", "wontfix", "won't do", "duplicate"}
    assert found.get("wontfix", "cancelled") == "cancelled"


def test_servicenow_state_choices_become_states(run_import, engine):
    with FakeServiceNow(sizes={"incident": 60}) as fake:
        run_import("servicenow", ["incident"],
                   config={"instance": fake.url, "username": fake.username, "password": fake.password})
    names = set(SERVICENOW_STATES["incident"].values())
    assert {r["state"] for r in stored(engine, "servicenow")} <= names
    assert states(engine, "servicenow")["On Hold"] == "in_progress"


def test_items_stored_before_states_existed_read_their_source_status(store_backend, run_import):
    """Regression: a store from before issue 14 has no `state` column; its items must not show a blank state."""
    run_import("demo", ["ACME"], config={"size": "12"})
    engine = engine_for()
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE work_items DROP COLUMN state"))
    dispose_all()
    reopened = engine_for()
    rows = queries.items(reopened, source="demo")
    assert rows and all(r["state"] == r["source_status"] for r in rows)
    assert queries.items(reopened, state="Done") == [r for r in rows if r["source_status"] == "Done"]


def test_cli_items_json_carries_state_beside_status(cli, run_import):
    run_import("demo", ["ACME"], config={"size": "30"})
    rows = json.loads(cli("items", "--source", "demo", "--status", "in_progress", "--json").stdout)
    assert rows and {r["status"] for r in rows} == {"in_progress"}
    assert {r["state"] for r in rows} == {"In Progress", "In Review"}
    named = json.loads(cli("items", "--source", "demo", "--state", "In Review", "--json").stdout)
    assert named and {r["state"] for r in named} == {"In Review"}
