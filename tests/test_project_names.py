"""One project is one part, named as the source spells it: vendors take project names in any case (JIRA keys,
GitHub's owner/name, GitLab's paths), so two spellings of one name are one project.

Regression: `run jira --project acme --project ACME` made two parts reading the same 30 issues side by side (60/60,
"unchanged 30"), and a part named `acme` stored its issues under ACME, so its catch-up mark, sweep and mapping were
looked up under a name no item carried."""
from __future__ import annotations

import json

import pytest

from importers.errors import ConfigError
from jobs import api
from jobs.launch import project_names
from tests.fakes.github import GitHubFake
from tests.fakes.jira import FakeJira
from tests.helpers import asgi_post


@pytest.fixture
def jira(monkeypatch):
    server = FakeJira(cloud=True, size=30).start()
    user, token = server.credentials
    for name, value in (("JIRA_BASE_URL", server.url), ("JIRA_USER_EMAIL", user), ("JIRA_API_TOKEN", token)):
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


def test_two_spellings_of_a_jira_key_are_one_part_named_as_jira_spells_it(cli, jira):
    run = cli("run", "jira", "--project", "acme", "--project", "ACME", "--in-process")
    assert run.returncode == 0, run.stderr
    doc = api.status(run.stdout.strip())
    assert doc["projects"] == ["ACME"] and [p["project"] for p in doc["parts"]] == ["ACME"]
    assert (doc["processed"], doc["created"]) == (30, 30)

    again = cli("run", "jira", "--project", "Acme", "--in-process")  # the same project: a catch-up, from its mark
    later = api.status(again.stdout.strip())
    assert later["projects"] == ["ACME"] and later["created"] == 0 and later["processed"] < 30
    assert json.loads(cli("preview", "jira", "--project", "acme", "--json").stdout)["already_imported"] == 30


@pytest.mark.parametrize("source, given, spelled", [
    ("jira", [" acme", "ACME", "Ops"], ["ACME", "OPS"]),  # JIRA keys are upper case
    ("demo", ["ops", "OPS", "acme"], ["OPS", "ACME"]),  # a fixed list: its own spelling
    ("servicenow", ["Incident", "incident"], ["incident"]),  # table names: lowercase system names
    ("github", ["acme/web", "ACME/Web"], ["acme/web"]),  # the first spelling: GitHub's own costs a request
    ("gitlab", ["Group/Sub/Proj", "group/sub/proj"], ["Group/Sub/Proj"]),
])
def test_an_import_names_each_project_once_as_the_source_spells_it(source, given, spelled):
    assert project_names(source, given) == spelled


def test_a_misspelt_name_is_still_refused_as_typed():
    with pytest.raises(ConfigError, match="Demo has no project 'opz'"):
        api.start_import("demo", ["opz"])


def test_the_cli_and_the_http_api_start_one_part_for_two_spellings(cli, engine):
    from store import api_tokens

    shown = cli("run", "demo", "--project", "ops", "--project", "OPS", "--size", "10")
    assert shown.returncode == 0, shown.stderr
    assert api.status(shown.stdout.strip())["projects"] == ["OPS"]

    github = GitHubFake().start()
    try:
        status, answer = asgi_post("/import/github/execute", {
            "projects": ["acme/web", "Acme/Web"], "config": {"token": github.token, "api_url": github.url}},
            api_tokens.create(engine, "ci-bot", created_by="alice"))
    finally:
        github.stop()
    assert status == 202, answer
    assert api.status(answer["job_id"])["projects"] == ["acme/web"]


def test_a_later_import_spelled_another_way_joins_the_project_the_workspace_holds(cli, monkeypatch):
    """GitHub takes `Acme/Web` for `acme/web`: a second import typed so re-read everything and renamed every item
    (`Acme/Web#1`), and the next run of `acme/web` moved some back, one repository split in two projects."""
    github = GitHubFake(sizes={"acme/web": 12}, pr_every=0).start()
    try:
        monkeypatch.setenv("GITHUB_TOKEN", github.token)
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        first = cli("run", "github", "--project", "acme/web", "--in-process")
        assert first.returncode == 0, first.stderr
        assert project_names("github", ["ACME/Web", "gitlab/other"]) == ["acme/web", "gitlab/other"]
        again = cli("run", "github", "--project", "Acme/WEB", "--in-process")
        assert again.returncode == 0, again.stderr
        doc = api.status(again.stdout.strip())
        assert doc["projects"] == ["acme/web"] and doc["created"] == 0  # a catch-up of the project stored
        shown = json.loads(cli("preview", "github", "--project", "ACME/WEB", "--json").stdout)
        assert shown["already_imported"] == 12 and all(i["key"].startswith("acme/web#") for i in shown["items"])
        assert cli("undo", first.stdout.strip()).returncode == 0  # no item left: its first import's spelling holds
        assert project_names("github", ["Acme/WEB"]) == ["acme/web"]
    finally:
        github.stop()
