"""The GitHub connector against a fake GitHub over real HTTP, through PyGithub's own requester.

tests/conftest.py sets ALLOW_LOOPBACK_URLS=1 and IMPORT_RETRY_BASE_SECONDS=0.01 for every test.
"""
from __future__ import annotations

import math
import re
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.errors import AuthError, ConfigError, NetworkError, NotFoundError, RateLimitedError
from importers.github import GitHubSource
from importers.github.index import IssueIndex
from importers.github.mapping import map_issue
from importers.github.paging import LinkPaginator, next_link, numbered_pages
from importers.model import ItemFailure, Status, WorkItem
from tests.fakes.github import GitHubFake
from tests.strategies import json_values

from .helpers import hang_up_server

REPO = "acme/web"


@pytest.fixture
def fake():
    server = GitHubFake().start()
    yield server
    server.stop()


def make_source(fake, token=None, url=None, **extra) -> GitHubSource:
    return GitHubSource({"token": token or fake.token, "api_url": url or fake.url, **extra})


@pytest.fixture
def source(fake):
    src = make_source(fake)
    yield src
    src.close()


def expected_status(state: str, reason: str | None, labels: set[str]) -> Status:
    """What a user expects to see for a GitHub issue, stated independently of the mapping table."""
    if state == "closed":
        return Status.CANCELLED if reason == "not_planned" else Status.DONE
    return Status.IN_PROGRESS if "in progress" in labels else Status.TODO


def read_all(pages):
    items, comments, failures, cursors = {}, {}, [], []
    for page in pages:
        items.update({i.key: i for i in page.items})
        comments.update({c.external_id: c for c in page.comments})
        failures.extend(page.failures)
        cursors.append(page.cursor)
    return items, comments, failures, cursors


# -- connection ------------------------------------------------------------------------------
def test_check_names_the_account_reached(source, fake):
    assert source.check() == f"octocat (The Octocat) on {fake.url}"


def test_bad_token_is_an_auth_error_naming_the_setting_without_the_secret(fake):
    src = make_source(fake, token="ghp_wrong_secret_value")
    with pytest.raises(AuthError) as err:
        src.check()
    assert "GITHUB_TOKEN" in str(err.value) and "401" in str(err.value)
    assert "ghp_wrong_secret_value" not in str(err.value)
    assert fake.requests["user"] == 1  # a refused token is not retried


def test_missing_token_is_a_config_error():
    with pytest.raises(ConfigError, match="GITHUB_TOKEN"):
        GitHubSource({"api_url": "http://127.0.0.1:1"}).check()


def test_malformed_url_is_a_config_error_naming_the_setting(fake):
    with pytest.raises(ConfigError, match="GITHUB_API_URL"):
        make_source(fake, url="ftp://github.example").check()


def test_unreachable_url_fails_at_once_naming_the_setting(fake):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NetworkError) as err:
        make_source(fake, url=f"http://127.0.0.1:{port}").check()
    assert "GITHUB_API_URL" in str(err.value) and "\n" not in str(err.value)


def test_the_connection_test_does_not_retry_a_server_that_hangs_up(fake):
    """Counted, not timed: a wrong URL is the likely cause, so one attempt, not minutes of backoff."""
    with hang_up_server() as (url, accepted), pytest.raises(NetworkError, match="GITHUB_API_URL"):
        make_source(fake, url=url).check()
    assert len(accepted) == 1


def test_the_proxy_environment_is_honoured(fake, monkeypatch):
    """A proxy the environment names (HTTP_PROXY) is the one every request goes through, and NO_PROXY
    exempts the host, as requests decides for every source's session."""
    with hang_up_server() as (proxy, accepted):
        monkeypatch.setenv("HTTP_PROXY", proxy)
        with pytest.raises(NetworkError, match="could not be reached"):
            make_source(fake).check()
        assert len(accepted) == 1  # the request went to the proxy, not to GitHub
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        src = make_source(fake)
        assert src.check() == f"octocat (The Octocat) on {fake.url}"
        assert [page.cursor for page in src.read(REPO)][-1] == {"phase": "done", "next": None}
        src.close()
        assert len(accepted) == 1


def test_url_that_is_not_the_api_is_named(fake):
    with pytest.raises(NetworkError, match=r"does not answer like the GitHub API.*GITHUB_API_URL"):
        make_source(fake, url=f"{fake.url}/not-the-api").check()


def test_unknown_or_malformed_project_is_a_clear_error(source):
    with pytest.raises(NotFoundError, match="acme/nope"):
        source.project("acme/nope")
    with pytest.raises(NotFoundError, match="acme/nope"):
        source.estimate("acme/nope")
    with pytest.raises(NotFoundError, match="acme/nope"):
        list(source.read("acme/nope"))
    with pytest.raises(ConfigError, match="owner/name"):
        source.read("just-a-name")


def test_projects_are_the_repositories_the_token_sees(source):
    assert [p.key for p in source.projects()] == ["acme/api", "acme/web", "octo/empty"]
    assert source.project(REPO).url == "https://github.com/acme/web"


# -- preview and estimate --------------------------------------------------------------------
def test_preview_is_one_fast_request_with_the_fields_the_console_shows(source, fake):
    items = source.preview(REPO, limit=20)
    assert len(items) == 20 and fake.requests["issues"] == 1
    truth = fake.ground_truth(REPO)["items"]
    for item in items:
        assert item.key in truth  # pull requests are left out
        assert item.type != "pull_request"
        assert item.status == expected_status(*truth[item.key])
        assert item.source_status.split(":")[0] == truth[item.key][0]
        assert item.created_at.tzinfo and item.updated_at >= item.created_at
        assert item.url.startswith("https://github.com/acme/web/issues/")
        assert item.reporter is not None and item.reporter.username
    assert [i.updated_at for i in items] == sorted(i.updated_at for i in items)


def test_estimate_counts_issues_without_pull_requests_in_one_request(source, fake):
    assert source.estimate(REPO) == len(fake.ground_truth(REPO)["items"])
    assert fake.total_requests == fake.requests["search"] == 1


def test_estimate_without_a_search_api_is_unknown_not_an_error(source, fake):
    fake.fail_next(r"/search/issues", 404, body={"message": "Not Found"})  # GHE with search disabled
    assert source.estimate(REPO) is None
    assert fake.requests["repo"] == 1  # told apart from a missing repository by one lookup


# -- full read -------------------------------------------------------------------------------
def test_full_read_yields_exactly_the_ground_truth_in_the_fewest_requests(source, fake):
    truth = fake.ground_truth(REPO)
    items, comments, failures, cursors = read_all(source.read(REPO))
    assert set(items) == set(truth["items"]) and not failures
    assert {k: i.status for k, i in items.items()} == {k: expected_status(*v) for k, v in truth["items"].items()}
    assert set(comments) == truth["comments"]
    assert {c.item_external_id for c in comments.values()} <= truth["ids"]
    issue_pages = math.ceil(truth["listed"] / 100)
    assert issue_pages >= 3 and sum(c["phase"] == "issues" for c in cursors) == issue_pages - 1
    assert fake.requests["issues"] == issue_pages
    assert fake.requests["comments"] == math.ceil(truth["listed_comments"] / 100)
    assert fake.total_requests == fake.requests["issues"] + fake.requests["comments"]
    issue_urls = [path for _, path, _ in fake.log if "/issues?" in path]
    assert not [p for p in issue_urls if re.search(r"[?&]page=", p)]  # never page numbers: 422 from page 100
    assert all("after=" in path for path in issue_urls[1:])
    assert cursors[-1] == {"phase": "done", "next": None}


def test_numbered_comment_pages_arrive_in_order_while_several_are_fetched_at_once():
    """Regression for the benchmark: at 100 ms a request the comment pages, fetched one by one,
    took longer than the issue pages (bench/, README "Benchmarks")."""
    with GitHubFake(sizes={REPO: 600}, pr_every=0, latency=0.1) as slow:
        truth = slow.ground_truth(REPO)
        pages = list(make_source(slow).read(REPO))
        first_comment_page = max(i for i, p in enumerate(pages) if p.items) + 1
        comment_pages = pages[first_comment_page:]
        numbers = [int(re.search(r"[?&]page=(\d+)", p.cursor["next"]).group(1)) for p in comment_pages[:-1]]
        assert numbers == list(range(2, len(comment_pages) + 1))  # in order, each naming the next
        assert comment_pages[-1].cursor == {"phase": "done", "next": None}
        ids = [c.external_id for p in comment_pages for c in p.comments]
        assert len(ids) == len(set(ids)) and set(ids) == truth["comments"]  # every comment, once
        assert slow.requests["comments"] == len(comment_pages) >= 10
        # issue pages come one after another; comment pages several at once (each answer takes 0.1 s)
        assert slow.peak_in_flight >= 2


def test_pages_numbered_by_a_last_link_are_listed_and_cursor_pages_are_not():
    base = "https://api.github.com/repositories/1/issues/comments"
    assert numbered_pages(f"{base}?per_page=100&page=2", f"{base}?per_page=100&page=4") == \
        [f"{base}?per_page=100&page={n}" for n in (2, 3, 4)]
    assert numbered_pages(f"{base}?after=Y3Vyc29y", None) == []
    assert numbered_pages(f"{base}?page=2&since=a", f"{base}?page=4&since=b") == []
    assert numbered_pages(f"{base}?page=5", f"{base}?page=4") == []


def test_people_keep_ids_usernames_and_emails_where_github_shows_them(source):
    items, comments, _, _ = read_all(source.read(REPO))
    people = [p for i in items.values() for p in (i.assignee, i.reporter) if p]
    people += [c.author for c in comments.values() if c.author]
    by_login = {p.username: p for p in people}
    assert by_login["ada-l"].email == "ada@acme.example" and by_login["ada-l"].external_id == "583231"
    assert by_login["octocat"].email is None and by_login["octocat"].display_name == "The Octocat"
    assert by_login["grace-h"].display_name == "grace-h"
    assert any(i.assignee is None for i in items.values())
    assert any(label.startswith("milestone:") for i in items.values() for label in i.labels)


def test_pull_requests_and_their_comments_come_along_when_asked(fake):
    src = make_source(fake, include_pull_requests="true")
    items, comments, _, _ = read_all(src.read(REPO))
    truth = fake.ground_truth(REPO)
    assert len(items) == truth["listed"]
    assert {i.type for i in items.values() if i.url and "/pull/" in i.url} == {"pull_request"}
    assert len(comments) == truth["listed_comments"]
    assert src.estimate(REPO) == truth["listed"]


def test_an_unmappable_issue_becomes_a_failure_and_the_page_goes_on(source, fake):
    fake.corrupt(REPO, 7, created_at="yesterday")
    fake.corrupt(REPO, 8, title="   ")
    items, comments, failures, _ = read_all(source.read(REPO))
    truth = fake.ground_truth(REPO)
    assert {f.key for f in failures} == truth["failures"] == {"acme/web#7", "acme/web#8"}
    assert all("created_at" in f.reason or "title" in f.reason for f in failures)
    assert set(items) == set(truth["items"]) and set(comments) == truth["comments"]


def test_empty_repository_reads_nothing(source):
    items, comments, failures, _ = read_all(source.read("octo/empty"))
    assert not items and not comments and not failures
    assert source.estimate("octo/empty") == 0


# -- resume and incremental ------------------------------------------------------------------
@pytest.mark.parametrize("stop_after", [1, 4])  # inside the issue phase; inside the comment phase
def test_resume_from_a_cursor_yields_exactly_the_rest(fake, stop_after):
    pages = list(make_source(fake).read(REPO))
    full_read_requests = fake.total_requests
    rest = pages[stop_after:]
    resumed = list(make_source(fake).read(REPO, cursor=pages[stop_after - 1].cursor))
    assert fake.total_requests - full_read_requests <= full_read_requests  # a resume never costs more
    assert [p.cursor for p in resumed] == [p.cursor for p in rest]
    assert [i.key for p in resumed for i in p.items] == [i.key for p in rest for i in p.items]
    assert [c.external_id for p in resumed for c in p.comments] == [c.external_id for p in rest for c in p.comments]


def test_a_finished_cursor_reads_nothing_and_a_foreign_one_is_refused(source, fake):
    assert list(source.read(REPO, cursor={"phase": "done", "next": None})) == []
    with pytest.raises(NetworkError, match="outside GITHUB_API_URL"):
        list(source.read(REPO, cursor={"phase": "issues", "next": "https://evil.example/repos/acme/web/issues"}))
    with pytest.raises(ConfigError):
        list(source.read(REPO, cursor={"phase": "elsewhere"}))
    assert fake.total_requests == 0


def test_since_reads_only_the_touched_issues(source, fake):
    since, touched = fake.touch(REPO, 5)
    assert source.estimate(REPO, since=since) == 5
    items, comments, failures, _ = read_all(source.read(REPO, since=since))
    assert sorted(items) == sorted(touched) and not failures
    truth = fake.ground_truth(REPO)["items"]
    assert all(items[k].title.startswith("Edited: ") for k in touched)
    assert all(items[k].status == expected_status(*truth[k]) for k in touched)
    assert fake.requests["issues"] == 1


# -- retries and rate limits -----------------------------------------------------------------
def test_rate_limits_and_a_503_burst_are_retried_and_counts_stay_exact(source, fake):
    waits = []
    source.set_wait_listener(lambda until, reason: waits.append(reason))
    fake.fail_next(r"/issues\?", 503, times=3)
    fake.answer_next(r"after=", fake.rate_limited_response(reset_in=0.2))
    fake.answer_next(r"/issues/comments", fake.secondary_limit_response(retry_after=0))
    fake.answer_next(r"page=3", fake.rate_limited_response(reset_in=0.2))
    truth = fake.ground_truth(REPO)
    items, comments, failures, _ = read_all(source.read(REPO))
    assert set(items) == set(truth["items"]) and set(comments) == truth["comments"] and not failures
    assert fake.injected == {503: 3, 403: 3}
    assert fake.requests["issues"] == math.ceil(truth["listed"] / 100) + 4
    assert sum("rate limit" in w for w in waits) == 3 and sum("503" in w for w in waits) == 3


def test_a_long_rate_limit_stops_with_the_time_to_retry(source, fake, monkeypatch):
    monkeypatch.setenv("IMPORT_MAX_RATE_LIMIT_WAIT", "1")
    src = make_source(fake)
    fake.answer_next(r"/issues", fake.rate_limited_response(reset_in=3600))
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as err:
        list(src.read(REPO))
    until = (datetime.now(UTC) + timedelta(seconds=3600)).astimezone()
    assert str(err.value).startswith("rate limited by GitHub until ")
    assert abs(err.value.until.astimezone() - until) < timedelta(seconds=5)
    assert f"{err.value.until.astimezone():%H:%M}" in str(err.value)
    assert time.monotonic() - started < 60  # it did not wait the hour


# -- pagination and mapping without HTTP -----------------------------------------------------
def test_next_link_is_read_from_the_link_header():
    header = {"Link": '<https://api.github.com/repositories/1/issues?after=abc>; rel="next", '
                      '<https://api.github.com/repositories/1/issues?before=xyz>; rel="prev"'}
    assert next_link(header) == "https://api.github.com/repositories/1/issues?after=abc"
    assert next_link({"link": '<https://x/a?page=9>; rel="last"'}) is None
    assert next_link({}) is None


def test_paginator_keeps_the_ghe_prefix_and_refuses_loops_and_other_hosts():
    pager = LinkPaginator("https://ghe.example/api/v3", "/repos/a/b/issues")
    page = {"Link": '<https://ghe.example/api/v3/repositories/9/issues?after=c1>; rel="next"'}
    assert pager.advance(page) == "/repositories/9/issues?after=c1"  # the requester adds /api/v3 back
    with pytest.raises(NetworkError, match="same page link twice"):
        pager.advance(page)
    with pytest.raises(NetworkError, match="outside GITHUB_API_URL"):
        pager.advance({"Link": '<https://elsewhere.example/x?after=c2>; rel="next"'})
    assert pager.advance({}) is None and not pager.has_more()


def test_issue_index_joins_comments_only_to_imported_issues():
    index = IssueIndex()
    index.add(3, 1_000_003)
    index.add(5_000_000, 42)
    assert index.get(3) == "1000003" and index.get(5_000_000) == "42"
    assert index.get(4) is None and index.get(10**9) is None and index.get(None) is None


VALID_ISSUE = GitHubFake(sizes={REPO: 3}, pr_every=0).issues[REPO][0]


JSON = json_values()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=JSON, mangled=st.dictionaries(st.sampled_from(sorted(VALID_ISSUE)), JSON, max_size=4),
       dropped=st.sets(st.sampled_from(sorted(VALID_ISSUE)), max_size=3))
def test_any_issue_json_maps_or_fails_but_never_raises(raw, mangled, dropped):
    assert isinstance(map_issue(raw, REPO), (WorkItem, ItemFailure))
    issue = {k: v for k, v in {**VALID_ISSUE, **mangled}.items() if k not in dropped}
    result = map_issue(issue, REPO)
    assert isinstance(result, (WorkItem, ItemFailure))
    if isinstance(result, ItemFailure):
        assert result.reason.startswith("GitHub issue could not be mapped")


def test_a_user_named_by_a_list_fails_its_issue_naming_the_field_and_others_share_one_person():
    # people are validated once and shared (importers.model People); a value that cannot be looked up (a list)
    # still fails as validation words it, not "unhashable type"
    user = {**VALID_ISSUE["user"], "name": ["Ada", "Lovelace"]}
    result = map_issue({**VALID_ISSUE, "user": user}, REPO)
    assert isinstance(result, ItemFailure) and "display_name" in result.reason and "unhashable" not in result.reason
    first, second = map_issue(VALID_ISSUE, REPO), map_issue({**VALID_ISSUE, "number": 99}, REPO)
    assert isinstance(first, WorkItem) and isinstance(second, WorkItem)
    assert first.reporter is second.reporter and first.reporter.external_id == str(VALID_ISSUE["user"]["id"])


# -- through the store and the job runner ----------------------------------------------------
def test_import_rerun_and_incremental_run_through_the_store(fake, run_import, engine):
    from store.queries import items as stored_items
    from store.queries import stats

    config = {"token": fake.token, "api_url": fake.url}
    truth = fake.ground_truth(REPO)
    first = run_import("github", [REPO], config=config)
    assert (first["status"], first["created"], first["failed"]) == ("succeeded", len(truth["items"]), 0), first
    rows = stored_items(engine, source="github", project=REPO, limit=1000)
    assert {r["key"]: r["status"] for r in rows} == {k: expected_status(*v).value for k, v in truth["items"].items()}
    assert stats(engine)["comments"] == len(truth["comments"])

    again = run_import("github", [REPO], config=config, incremental=False)
    assert (again["created"], again["skipped"]) == (0, len(truth["items"]))
    assert stats(engine)["comments"] == len(truth["comments"])

    _, touched = fake.touch(REPO, 5)
    later = run_import("github", [REPO], config=config, duplicates="update")
    assert (later["status"], later["created"], later["updated"]) == ("succeeded", 0, 5), later
    assert later["processed"] <= 6  # the touched issues, and at most the one at the high-water mark
    rows = {r["key"]: r for r in stored_items(engine, source="github", project=REPO, limit=1000)}
    assert len(rows) == len(truth["items"]) and all(rows[k]["title"].startswith("Edited: ") for k in touched)
    truth = fake.ground_truth(REPO)["items"]
    assert all(rows[k]["status"] == expected_status(*truth[k]).value for k in touched)
    assert stats(engine)["comments"] == len(fake.ground_truth(REPO)["comments"])


# -- deep pages of the comment listing (issue 13) -------------------------------------------------
def _comment_pages_asked(fake) -> list[int]:
    return [int(m.group(1)) if (m := re.search(r"[?&]page=(\d+)", path)) else 1
            for _, path, _ in fake.log if "/issues/comments" in path]


def test_comments_past_the_listings_depth_limit_are_read_in_since_windows(run_import, engine):
    """Regression: the comment listing was read by page number and GitHub answers 422 past its depth
    limit, so such a repository could not be imported (0 items, 0 comments, and retry failed the same)."""
    from store.queries import stats

    with GitHubFake(sizes={REPO: 600}, comment_page_limit=3) as deep:
        truth = deep.ground_truth(REPO)
        assert truth["listed_comments"] > 3 * 100  # deeper than the fake serves by page number
        doc = run_import("github", [REPO], config={"token": deep.token, "api_url": deep.url})
        assert (doc["status"], doc["created"], doc["failed"]) == ("succeeded", len(truth["items"]), 0), doc["error"]
        assert stats(engine)["comments"] == len(truth["comments"])
        refused = [p for p in _comment_pages_asked(deep) if p > 3]
        assert 0 < len(refused) <= 8  # only the first window asks past the limit (8 pages at once), later ones stop


def test_a_long_comment_listing_moves_forward_by_since_without_losing_or_repeating_a_comment():
    with GitHubFake(sizes={REPO: 2_000}, pr_every=0) as big:
        truth = big.ground_truth(REPO)
        assert truth["listed_comments"] > 30 * 100  # more than one window of 30 pages
        src = make_source(big)
        pages = list(src.read(REPO))
        ids = [c.external_id for p in pages for c in p.comments]
        assert len(ids) == len(set(ids)) and set(ids) == truth["comments"]
        assert max(_comment_pages_asked(big)) <= 30 and not any(p.gaps for p in pages)
        windows = [path for _, path, _ in big.log if "/issues/comments" in path and "since=" in path
                   and not re.search(r"[?&]page=", path)]
        assert len(windows) >= 1  # a second window started from the last update read
        src.close()


def test_comments_all_updated_in_one_second_stop_clearly_instead_of_looping():
    with GitHubFake(sizes={REPO: 600}, pr_every=0, comment_page_limit=2) as fake:
        for comment in fake.comments[REPO]:
            comment["updated_at"] = "2024-06-01T00:00:00Z"  # a bulk edit: 3 pages share one second
        src = make_source(fake)
        pages = list(src.read(REPO))
        gaps = [g for p in pages for g in p.gaps]
        assert len({i.key for p in pages for i in p.items}) == 600  # the issues are kept
        assert len(gaps) == 1 and "within one second" in gaps[0].reason and gaps[0].resume["phase"] == "comments"
        src.close()


def test_a_comment_listing_that_breaks_off_keeps_the_issues_and_a_retry_reads_the_rest(fake):
    truth = fake.ground_truth(REPO)
    fake.fail_next(r"/issues/comments\?.*page=2", 500, times=50)  # the server keeps failing on page 2
    src = make_source(fake)
    pages = list(src.read(REPO))
    gaps = [g for p in pages for g in p.gaps]
    read = {c.external_id for p in pages for c in p.comments}
    assert len({i.key for p in pages for i in p.items}) == len(truth["items"])
    assert len(gaps) == 1 and gaps[0].item_external_id == "" and "page=2" in gaps[0].resume["next"]
    assert 0 < len(read) < len(truth["comments"])
    fake._faults.clear()
    before = len(fake.log)
    filled = [c for p in src.fill(REPO, gaps) for c in p.comments]
    pulls = {str(c["id"]) for c in fake.comments[REPO]
             if any(i["number"] == int(c["issue_url"].rsplit("/", 1)[1]) and "pull_request" in i
                    for i in fake.issues[REPO])}
    rest = {c.external_id for c in filled} - pulls  # joined by key: the writer finds no pull request, drops them
    assert read | rest == truth["comments"] and all(c.item_key.startswith(f"{REPO}#") for c in filled)
    assert not [p for _, p, _ in fake.log[before:] if re.search(r"/issues\?", p)]  # no issue page re-read
    src.close()


def test_the_id_listing_names_every_existing_issue_in_one_graphql_walk(source, fake):
    """Issue 12: the deletion sweep's id listing over GraphQL: the issues (not pull requests), 100 a
    request with their comment ids nested, no REST page."""
    truth = fake.ground_truth(REPO)
    issues = [i for i in fake.issues[REPO] if "pull_request" not in i]
    ids = [i for page in source.item_ids(REPO) for i in page]
    assert len(ids) == len(set(ids)) and set(ids) == truth["ids"]
    assert dict(fake.requests) == {"graphql": math.ceil(len(issues) / 100)}


def test_the_id_listing_falls_back_to_the_rest_issue_pages_without_graphql(source, fake):
    """A server answering 404 for its GraphQL URL: the REST issue listing, issue pages only."""
    fake.graphql_available = False
    truth = fake.ground_truth(REPO)
    ids = [i for page in source.item_ids(REPO) for i in page]
    assert len(ids) == len(set(ids)) and set(ids) == truth["ids"]
    assert dict(fake.requests) == {"graphql": 1, "issues": math.ceil(truth["listed"] / 100)}


def test_a_comment_edited_on_an_unchanged_issue_reaches_the_workspace(fake, run_import, engine):
    """Regression (issue 12): the catch-up run received the edited comment from the repository-wide
    listing (`since=`) and dropped it, because its issue was not in this run's issue listing."""
    from sqlalchemy import select

    from store.schema import comments as stored_comments

    config = {"token": fake.token, "api_url": fake.url}
    first = run_import("github", [REPO], config=config)
    assert first["status"] == "succeeded", first["error"]
    issue_numbers = {i["number"] for i in fake.issues[REPO] if "pull_request" not in i}
    comment = next(c for c in fake.comments[REPO] if int(c["issue_url"].rsplit("/", 1)[1]) in issue_numbers)
    with fake._data:
        fake._clock += timedelta(days=1)
        comment.update(body="Edited after the first import", updated_at=fake._clock.strftime("%Y-%m-%dT%H:%M:%SZ"))
    later = run_import("github", [REPO], config=config)  # the issue itself did not change
    assert later["status"] == "succeeded", later["error"]
    with engine.connect() as conn:
        body = conn.execute(select(stored_comments.c.body).where(
            stored_comments.c.external_id == str(comment["id"]))).scalar()
    assert body == "Edited after the first import"
