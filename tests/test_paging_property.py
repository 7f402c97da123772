"""Every connector's paging loops read exactly the rows the account can see, for random page caps
(rows per response below what was asked) and random hidden rows (access rules), issue 13.

One property, one adapter per connector: an adapter takes Hypothesis' `data`, shapes its fake
(a cap, hidden rows, a page size) and returns what a full read must yield. Add a connector by
writing its adapter and adding it to ADAPTERS; the property and its budget stay shared.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.base import Source
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.fakes.servicenow import FakeServiceNow

EXAMPLES = 12  # per connector: each example is a full read against a fake over HTTP


@dataclass
class Case:
    """A shaped fake's read, and what it must yield (external ids)."""

    source: Source
    project: str
    items: list[str]  # in the order the source promises, or sorted when it promises none
    comments: set[str]
    ordered: bool = True


Adapter = Callable[[st.DataObject], Case]


# -- ServiceNow: rows capped per response (glide.processor.json.row_limit), access rules after the cut --
@pytest.fixture(scope="module")
def servicenow():
    server = FakeServiceNow(sizes={"incident": 45}, hide_every=0).start()
    yield server
    server.stop()


def servicenow_case(fake: FakeServiceNow, data: st.DataObject) -> Case:
    from importers.servicenow import ServiceNowSource

    fake.reset()
    tickets = fake.ordered("incident")
    hidden = data.draw(st.sets(st.integers(0, len(tickets) - 1)), label="hidden tickets")
    for n in hidden:
        tickets[n]["_hidden"] = True
    journal = fake.data["sys_journal_field"]
    for n in data.draw(st.sets(st.integers(0, len(journal) - 1)), label="hidden journal entries"):
        journal[n]["_hidden"] = True
    fake.max_rows = data.draw(st.integers(1, 12), label="rows per response")
    source = ServiceNowSource({"instance": fake.url, "username": fake.username, "password": fake.password})
    source.page_size = data.draw(st.integers(1, 15), label="page size")
    return Case(source, "incident", [r["sys_id"] for r in fake.visible("incident")],
                {j["sys_id"] for j in fake.comments_of("incident")})


# -- JIRA: maxResults capped per page (search and comments), issues hidden by permissions -----------
@pytest.fixture(scope="module")
def jira_cloud():
    server = FakeJira(cloud=True, size=40).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def jira_server():
    server = FakeJira(cloud=False, size=40).start()
    yield server
    server.stop()


def jira_case(fake: FakeJira, data: st.DataObject) -> Case:
    from importers.jira import JiraSource

    issues = fake.issues["ACME"]
    hidden = data.draw(st.sets(st.integers(0, len(issues) - 1)), label="hidden issues")
    for n, issue in enumerate(issues):
        issue["hidden"] = n in hidden
    fake.page_cap = data.draw(st.integers(1, 12), label="issues per page")
    fake.comment_cap = data.draw(st.integers(1, 12), label="comments per page")
    user, secret = fake.credentials
    source = JiraSource({"base_url": fake.url, "user_email": user, "api_token": secret})
    visible = [i for i in issues if not i["hidden"]]
    return Case(source, "ACME", sorted((i["id"] for i in visible), key=int),
                {c["id"] for i in visible for c in i["comments"]}, ordered=False)


# -- GitHub: fewer rows per answer than per_page asks, hidden issues and comments, a comment listing
# deeper than GitHub serves by page number (read in `since` windows) --------------------------------
@pytest.fixture(scope="module")
def github():
    server = GitHubFake(sizes={"acme/web": 60}, pr_every=4).start()
    yield server
    server.stop()


def _hide(rows: list[dict], chosen: set[int]) -> None:
    for n, row in enumerate(rows):
        if n in chosen:
            row["_hidden"] = True
        elif "_hidden" in row:
            del row["_hidden"]


def github_case(fake: GitHubFake, data: st.DataObject) -> Case:
    from importers.github import GitHubSource

    issues, comments = fake.issues["acme/web"], fake.comments["acme/web"]
    _hide(issues, data.draw(st.sets(st.integers(0, len(issues) - 1)), label="hidden issues"))
    _hide(comments, data.draw(st.sets(st.integers(0, len(comments) - 1)), label="hidden comments"))
    fake.page_cap = data.draw(st.integers(1, 12), label="rows per answer")
    # at least 4 pages: a window must hold more than the comments of one second (3 at most in this data)
    fake.comment_page_limit = data.draw(st.integers(4, 40), label="deepest comment page served")
    truth = fake.ground_truth("acme/web")
    return Case(GitHubSource({"token": fake.token, "api_url": fake.url}), "acme/web",
                sorted(truth["ids"], key=int), truth["comments"], ordered=False)


# -- GitLab, over GraphQL and REST: fewer rows per answer than asked (issues, nested and paged notes),
# hidden issues and notes ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gitlab():
    server = FakeGitLab({"acme/web": 40}).start()
    yield server
    server.stop()


def gitlab_case(fake: FakeGitLab, data: st.DataObject, api: str) -> Case:
    from importers.gitlab import GitLabSource

    issues = fake.issues["acme/web"]
    _hide(issues, data.draw(st.sets(st.integers(0, len(issues) - 1)), label="hidden issues"))
    notes = [n for issue in issues for n in fake.notes[("acme/web", issue["iid"])]]
    _hide(notes, data.draw(st.sets(st.integers(0, len(notes) - 1)), label="hidden notes"))
    fake.page_cap = data.draw(st.integers(1, 12), label="rows per answer")
    visible = [i for i in issues if not i.get("_hidden")]
    return Case(GitLabSource({"token": fake.token, "url": fake.url, "api": api}), "acme/web",
                sorted((str(i["id"]) for i in visible), key=int),
                {str(n["id"]) for i in visible for n in fake.notes[("acme/web", i["iid"])]
                 if not n["system"] and not n.get("_hidden")}, ordered=False)


ADAPTERS: dict[str, tuple[str, Callable[..., Case]]] = {  # name -> (its fake's fixture, adapter)
    "servicenow": ("servicenow", servicenow_case),
    "jira-cloud": ("jira_cloud", jira_case),
    "jira-server": ("jira_server", jira_case),
    "github": ("github", github_case),
    "gitlab-graphql": ("gitlab", lambda fake, data: gitlab_case(fake, data, "graphql")),
    "gitlab-rest": ("gitlab", lambda fake, data: gitlab_case(fake, data, "rest")),
}


def _read(case: Case) -> Iterator[tuple[list[str], list[str]]]:
    try:
        for page in case.source.read(case.project):
            assert not page.failures and not page.gaps, (page.failures, page.gaps)
            yield [i.external_id for i in page.items], [c.external_id for c in page.comments]
    finally:
        case.source.close()


@pytest.mark.parametrize("connector", sorted(ADAPTERS))
def test_every_paging_loop_reads_exactly_the_visible_rows(connector, request):
    fixture, adapter = ADAPTERS[connector]
    fake = request.getfixturevalue(fixture)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.data())
    def check(data: st.DataObject) -> None:
        case = adapter(fake, data)
        pages = list(_read(case))
        items = [i for page_items, _ in pages for i in page_items]
        comments = [c for _, page_comments in pages for c in page_comments]
        assert len(items) == len(set(items)), "an item was read twice"
        assert (items if case.ordered else sorted(items, key=_natural)) == case.items
        assert set(comments) == case.comments and len(comments) == len(set(comments))

    check()


def _natural(external_id: str) -> tuple[int, str]:
    return (int(external_id), "") if external_id.isdigit() else (0, external_id)
