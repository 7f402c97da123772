"""Progress compares the comments read with the count the source gives for the items read (issue 14's
per-project rows): GitHub's `comments`, GitLab's `user_notes_count`, JIRA's comment `total` (tested
with its failing comment read in tests/test_ui_mapping.py); ServiceNow gives no count."""
from __future__ import annotations

import pytest

from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.servicenow import FakeServiceNow

from .test_bounded_reads import _config as github_config


@pytest.fixture(autouse=True)
def loopback(monkeypatch):
    monkeypatch.setenv("ALLOW_LOOPBACK_URLS", "1")


def test_github_and_gitlab_rows_carry_the_sources_comment_count(run_import, monkeypatch):
    repo, project = "acme/web", "acme/web-app"
    with GitHubFake(sizes={repo: 40}, token="ghp_bounded_0123456789") as github:
        truth = len(github.ground_truth(repo)["comments"])
        doc = run_import("github", [repo], config=github_config(github))
    assert truth > 0 and doc["parts"][0]["comments_at_source"] == doc["parts"][0]["comments"] == truth

    monkeypatch.setenv("IMPORT_MAX_COMMENTS_PER_ITEM", "1")  # fewer read than the source has: the rows say so
    with FakeGitLab(projects={project: 40}) as gitlab:
        truth = gitlab.ground_truth(project)["comments"]
        doc = run_import("gitlab", [project], config={"url": gitlab.url, "token": "glpat-good-token"})
    part = doc["parts"][0]
    assert part["comments_at_source"] == truth and part["comments"] < truth


def test_servicenow_gives_no_count_and_the_row_says_none(run_import):
    with FakeServiceNow() as fake:
        doc = run_import("servicenow", ["incident"],
                         config={"instance": fake.url, "username": fake.username, "password": fake.password})
    assert doc["parts"][0]["comments"] > 0 and doc["parts"][0]["comments_at_source"] is None
