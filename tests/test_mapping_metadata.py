"""Each connector reads its vendor's metadata routes (issue 14) from a fake that answers them as the vendor documents,
workflows beyond the defaults included: what the mapping step lists, the defaults it proposes, the values it flags,
and that a target chosen for such a value reaches the Workspace."""
from __future__ import annotations

from jobs import api
from store import queries
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira


def rows(found, kind: str) -> dict[str, tuple]:
    return {r.source: (r.target, r.category, r.items) for r in found.rows(kind)}


def test_jira_lists_the_workflow_priorities_types_and_assignable_users_with_jql_counts(run_import, engine):
    with FakeJira(size=80, extra_statuses=(("Blocked", "indeterminate", None),)) as fake:
        user, token = fake.credentials
        config = {"base_url": fake.url, "user_email": user, "api_token": token}
        found = api.mapping("jira", "ACME", config)
        statuses = rows(found, "statuses")
        truth = {name: sum(1 for i in fake.issues["ACME"] if i["status"][0] == name) for name in statuses}
        assert statuses["Blocked"] == ("Blocked", "in_progress", truth["Blocked"])  # its own state, JIRA's category
        assert statuses["In Review"][:2] == ("In Review", "in_progress")
        assert {k: v[2] for k, v in statuses.items()} == truth  # counted by JQL, not guessed from a sample
        assert rows(found, "priorities")["Highest"][0] == "urgent" and rows(found, "types")["Sub-task"][0] == "sub-task"
        assert {r.label for r in found.people} >= {"Alice Admin", "Bob Builder", "Dmitri Ivanov"}
        assert found.flagged() == []
        assert fake.requests["project_statuses"] == 1 and fake.requests["assignable"] == 3  # 6 users, 4 a page
        assert fake.requests["priority_search"] == 3  # Cloud pages priorities 2 at a time here
        doc = run_import("jira", ["ACME"], config=config, mappings={"ACME": found})
    assert doc["status"] == "succeeded"
    assert {r["state"] for r in queries.items(engine, source="jira", status="in_progress", limit=1000)} == \
        {"In Progress", "In Review", "Blocked"}


def test_jira_server_lists_priorities_without_paging():
    with FakeJira(cloud=False, size=20) as fake:
        user, token = fake.credentials
        found = api.mapping("jira", "ACME", {"base_url": fake.url, "user_email": user, "api_token": token})
        assert rows(found, "priorities")["Blocker"][0] == "urgent"
        assert fake.requests["priorities"] == 1 and fake.requests["priority_search"] == 0


def test_github_lists_close_reasons_labels_and_assignees_and_a_promoted_label_becomes_a_state(run_import, engine):
    with GitHubFake(sizes={"acme/api": 60}, extra_labels=("status: blocked",)) as fake:
        config = {"token": fake.token, "api_url": fake.url}
        found = api.mapping("github", "acme/api", config)
        statuses = rows(found, "statuses")
        assert statuses["closed:not_planned"][:2] == ("Not planned", "cancelled")
        assert statuses["label:in progress"][:2] == ("in progress", "in_progress")
        assert [(k, r.source) for k, r in found.flagged()] == [("statuses", "label:status: blocked")]
        assert rows(found, "priorities")["label:P1"][0] == "high"
        assert {r.username for r in found.people} >= {"octocat", "ada-l", "mei-chen"}
        ada = found.row("people", "583231")
        assert ada is not None and ada.email == "ada@acme.example"  # the list hides it; the sampled issues show it
        assert fake.requests["labels"] == 1 and fake.requests["assignees"] == 1
        found.set_target("statuses", "label:status: blocked", "Blocked", "in_progress")
        doc = run_import("github", ["acme/api"], config=config, mappings={"acme/api": found})
    assert doc["status"] == "succeeded"
    blocked = queries.items(engine, source="github", state="Blocked", limit=1000)
    assert blocked and all("status: blocked" in r["labels"] for r in blocked)


def test_gitlab_lists_scoped_labels_with_counts_members_and_statistics(run_import, engine):
    with FakeGitLab(projects={"acme/ops": 40}, extra_labels=("workflow::review",)) as fake:
        config = {"token": fake.token, "url": fake.url}
        found = api.mapping("gitlab", "acme/ops", config)
        statuses = rows(found, "statuses")
        opened = sum(1 for i in fake.issues["acme/ops"] if i["state"] == "opened")
        assert statuses["opened"] == ("Open", "todo", opened)  # issues_statistics
        review = sum(1 for i in fake.issues["acme/ops"] if "workflow::review" in i["labels"])
        assert statuses["label:workflow::review"] == ("review", None, review)  # with_counts=true: exact
        assert [(k, r.source) for k, r in found.flagged()] == [("statuses", "label:workflow::review")]
        assert rows(found, "priorities")["label:priority::high"][0] == "high"
        assert len(found.people) == 8 and fake.requests["members"] == 1
        found.set_target("statuses", "label:workflow::review", "In review", "in_progress")
        doc = run_import("gitlab", ["acme/ops"], config=config, mappings={"acme/ops": found})
    assert doc["status"] == "succeeded"
    assert len(queries.items(engine, source="gitlab", state="In review", limit=1000)) == review


def test_servicenow_lists_choice_lists_users_and_groups():
    from tests.fakes.servicenow import FakeServiceNow

    with FakeServiceNow(sizes={"incident": 30}, custom_states={"incident": {"9": "Awaiting Vendor"}}) as fake:
        found = api.mapping("servicenow", "incident",
                            {"instance": fake.url, "username": fake.username, "password": fake.password})
        statuses = rows(found, "statuses")
        assert statuses["On Hold"][:2] == ("On Hold", "in_progress") and statuses["Canceled"][1] == "cancelled"
        assert statuses["Awaiting Vendor"][:2] == ("Awaiting Vendor", None)  # the instance's own state: flagged
        assert rows(found, "priorities")["1 - Critical"][0] == "urgent"
        assert found.groups == ["Database", "Hardware", "Network", "Service Desk"]
        assert {r.label for r in found.people} >= {"Beth Anglin", "Zoë Ångström"}
        assert fake.requests["sys_choice"] == 2 and fake.requests["sys_user_group"] == 1
