"""The GitLab connector against a fake GitLab over real HTTP, through python-gitlab.

Nothing is mocked: the fake answers like gitlab.com (shapes, paging headers, error bodies,
rate-limit headers) and every assertion is about what a user would see: the account named,
the exact items and comments imported, one-line errors naming the setting to fix, the
number of requests a full read costs.
"""
from __future__ import annotations

import json
import re
import socket
import time
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.errors import AuthError, ConfigError, NetworkError, NotFoundError, RateLimitedError, SourceError
from importers.gitlab import GitLabSource
from importers.gitlab.graphql import EPIC, ISSUES_QUERY, NESTED_NOTES, PAGE_SIZE
from importers.gitlab.mapping import map_issue, node_comment, node_item
from importers.model import ItemFailure, WorkItem
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.server import Request
from tests.strategies import json_values

from .helpers import hang_up_server

TOKEN = "glpat-good-token"
PROJECT = "acme/web-app"  # 250 issues: 3 pages of 100


@pytest.fixture
def fake():
    server = FakeGitLab().start()
    yield server
    server.stop()


def make_source(url: str, token: str = TOKEN, on_wait=None, api: str = "auto") -> GitLabSource:
    return GitLabSource({"token": token, "url": url, "api": api}, on_wait=on_wait)


@pytest.fixture(params=["graphql", "rest"])
def api(request):
    """Read tests run over GraphQL (the default) and over REST (servers without GraphQL)."""
    return request.param


@pytest.fixture
def source(fake, api):
    src = make_source(fake.url, api=api)
    yield src
    src.close()


def read_all(src, project=PROJECT, **kwargs):
    pages = list(src.read(project, **kwargs))
    items = {i.key: i for p in pages for i in p.items}
    comments = [c for p in pages for c in p.comments]
    return pages, items, comments


def assert_matches_truth(fake, items, comments, project=PROJECT):
    expected = fake.expected(project)
    assert set(items) == set(expected)
    assert {k: i.status.value for k, i in items.items()} == {k: e["status"] for k, e in expected.items()}
    assert {k: i.external_id for k, i in items.items()} == {k: e["external_id"] for k, e in expected.items()}
    per_item: dict[str, int] = {}
    for c in comments:
        per_item[c.item_external_id] = per_item.get(c.item_external_id, 0) + 1
    assert {k: per_item.get(e["external_id"], 0) for k, e in expected.items()} == \
        {k: e["comments"] for k, e in expected.items()}
    assert len({c.external_id for c in comments}) == len(comments) == fake.ground_truth(project)["comments"]


# -- connection check ----------------------------------------------------------------------
def test_check_names_the_account(source, fake):
    assert source.check() == f"alice (Alice Example) on {fake.url}"


def test_check_with_a_bad_token_names_the_setting_and_hides_the_token(fake):
    src = make_source(fake.url, token="glpat-wrong-secret")
    with pytest.raises(AuthError) as err:
        src.check()
    assert "GITLAB_TOKEN" in str(err.value) and "401" in str(err.value)
    assert "glpat-wrong-secret" not in str(err.value)


def test_missing_token_is_a_config_error():
    with pytest.raises(ConfigError, match="GITLAB_TOKEN"):
        GitLabSource({"url": "https://gitlab.example.com"}).check()


def test_malformed_url_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match="GITLAB_URL") as err:
        make_source("gitlab dot com").check()
    assert "\n" not in str(err.value)


def test_url_without_a_gitlab_api_says_so(fake):
    with pytest.raises(NotFoundError, match="GITLAB_URL"):
        make_source(f"{fake.url}/not-gitlab").check()


def test_unreachable_server_fails_fast_naming_the_url():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkError, match="GITLAB_URL"):
        make_source(f"http://127.0.0.1:{port}").check()


def test_the_connection_test_does_not_retry_a_server_that_hangs_up():
    with hang_up_server() as (url, accepted), pytest.raises(NetworkError, match="GITLAB_URL"):
        make_source(url).check()
    assert len(accepted) == 1  # counted, not timed: one attempt, no backoff


# -- projects and estimates ----------------------------------------------------------------
def test_projects_are_the_memberships_keyed_by_path(source):
    assert [p.key for p in source.projects()] == ["acme/web-app", "acme/ops", "mobile/ios-app"]
    assert source.project("acme/ops").name == "acme / ops"


def test_unknown_project_is_a_clear_not_found(source):
    with pytest.raises(NotFoundError, match="'nope/missing'"):
        source.project("nope/missing")
    with pytest.raises(NotFoundError, match="'nope/missing'"):
        next(source.read("nope/missing"))


def test_estimate_reads_x_total_with_one_request(source, fake):
    assert source.estimate(PROJECT) == 250
    assert fake.requests["issues"] == 1 and fake.total_requests == 1


def test_estimate_above_ten_thousand_falls_back_to_issue_statistics():
    with FakeGitLab({"big/monorepo": 10_001}) as fake:
        src = make_source(fake.url)
        assert src.estimate("big/monorepo") == 10_001
        assert fake.requests["issues_statistics"] == 1
        src.close()


# -- preview -------------------------------------------------------------------------------
def test_preview_is_one_fast_request_with_the_wizard_fields(source, fake):
    items = source.preview(PROJECT, limit=20)
    assert len(items) == 20 and fake.total_requests == 1
    expected = fake.expected(PROJECT)
    for item in items:
        assert item.title == expected[item.key]["title"]
        assert item.status.value == expected[item.key]["status"]
        assert item.created_at.tzinfo and item.updated_at >= item.created_at
    assert any(i.assignee and i.assignee.display_name for i in items)
    assert any(i.assignee is None for i in items)


# -- full read -----------------------------------------------------------------------------
def test_full_read_yields_ground_truth_with_the_minimum_requests(source, fake, api):
    pages, items, comments = read_all(source)
    truth = fake.ground_truth(PROJECT)
    assert len(pages) == 3 and not any(p.failures for p in pages)
    assert_matches_truth(fake, items, comments)
    if api == "rest":  # one request per 100 issues, one per 100 notes of each issue that has user notes
        assert dict(fake.requests) == {"issues": 3, "notes": truth["note_pages"]}
        assert truth["note_pages"] == truth["with_comments"] + 1  # issue #5 has 130 notes: two pages
    else:  # one request per 100 issues with their first 20 notes; issue #5's other 110 notes take two more
        assert dict(fake.requests) == {"graphql": 3 + 2}
        assert max(fake.graphql.complexities) <= 125  # GitLab refuses more than 250


def test_mapped_fields_keep_what_the_user_wrote(source, fake):
    _, items, comments = read_all(source)
    long_body = items[f"{PROJECT}#3"]
    assert len(long_body.description) == len("Very long body. ") * 12_000
    hostile = [i for i in items.values() if "<script>" in i.title]
    assert hostile and all(i.title.startswith("<script>alert(1)</script>") for i in hostile)
    busy = items[f"{PROJECT}#5"]
    thread = [c for c in comments if c.item_external_id == busy.external_id]
    assert len(thread) == 130 and [c.created_at for c in thread] == sorted(c.created_at for c in thread)
    assert not any(c.body == "changed the description" for c in comments)  # system notes stay out
    closed = [i for i in items.values() if i.source_status == "closed"]
    assert closed and all(i.closed_at for i in closed)
    assert any(label.startswith("milestone::") for i in items.values() for label in i.labels)
    with_files = [i for i in items.values() if i.attachments]
    assert with_files and with_files[0].attachments[0].file_name == "trace.log"


def test_offset_paging_servers_give_the_same_result():
    with FakeGitLab(keyset=False) as fake:
        src = make_source(fake.url, api="rest")
        pages, items, comments = read_all(src)
        assert "page" in pages[0].cursor["next"]
        assert_matches_truth(fake, items, comments)
        assert fake.requests["issues"] == 3
        src.close()


def test_resume_from_a_cursor_yields_exactly_the_rest(source, fake, api):
    first = next(source.read(PROJECT))
    rest = make_source(fake.url, api=api)
    pages, items, comments = read_all(rest, cursor=first.cursor)
    done = {i.key for i in first.items}
    assert len(done) == 100 and not done & set(items)
    assert done | set(items) == set(fake.expected(PROJECT))
    if api == "rest":
        assert pages[-1].cursor == {"project": PROJECT, "next": None}
    else:
        assert pages[-1].cursor["done"] is True
    before = fake.total_requests
    assert list(rest.read(PROJECT, cursor=pages[-1].cursor)) == [] and fake.total_requests == before
    rest.close()


def test_a_checkpoint_of_another_project_is_refused(source, fake):
    first = next(source.read(PROJECT))
    before = fake.total_requests
    with pytest.raises(ConfigError, match="'acme/ops'"):
        list(source.read("acme/ops", cursor=first.cursor))
    with pytest.raises(ConfigError):
        list(source.read(PROJECT, cursor={"project": PROJECT, "next": "https://evil.example/"}))
    assert fake.total_requests == before


def test_an_empty_project_reads_nothing(api):
    with FakeGitLab({"acme/empty": 0}) as fake:
        src = make_source(fake.url, api=api)
        _, items, comments = read_all(src, project="acme/empty")
        assert not items and not comments and src.estimate("acme/empty") == 0
        src.close()


def test_since_yields_only_the_touched_items(source, fake):
    since = datetime.now(UTC)
    touched = fake.touch(5)
    _, items, _ = read_all(source, since=since)
    assert sorted(items) == sorted(touched)
    expected = fake.expected(PROJECT)
    assert all(i.title.endswith("(edited)") and i.status.value == expected[k]["status"] for k, i in items.items())
    assert source.estimate(PROJECT, since=since) == 5


def test_an_unmappable_issue_is_reported_and_retried(source, fake):
    bad_id = fake.corrupt(PROJECT, 7)
    pages, items, _ = read_all(source)
    failures = [f for p in pages for f in p.failures]
    assert [(f.external_id, f.key) for f in failures] == [(bad_id, f"{PROJECT}#7")]
    assert "title" in failures[0].reason and len(items) == 249
    fake.issues[PROJECT][6]["title"] = "Fixed at the source"
    retried = list(source.fetch(PROJECT, [bad_id]))
    assert [i.title for p in retried for i in p.items] == ["Fixed at the source"]


# -- retries and rate limits ---------------------------------------------------------------
def test_429_and_a_503_burst_are_retried_and_counts_stay_exact(source, fake, api):
    first, burst = (r"/issues\?", r"/notes") if api == "rest" else (r"/api/graphql", r"/api/graphql")
    fake.fail_next(first, 429, headers=fake.rate_limit_headers(0), body="Retry later\n")
    fake.fail_next(burst, 503, times=3)
    _, items, comments = read_all(source)
    assert_matches_truth(fake, items, comments)
    assert fake.injected == {429: 1, 503: 3}
    assert fake.requests["issues"] == 3 + 1 if api == "rest" else fake.requests["graphql"] == 5 + 4


def test_retry_after_is_honoured_and_reported(fake):
    waits = []
    src = make_source(fake.url, on_wait=lambda until, reason: waits.append((until, reason)))
    fake.fail_next(r"/user", 429, headers=fake.rate_limit_headers(1))
    started = time.monotonic()
    assert src.check().startswith("alice")
    assert time.monotonic() - started >= 0.9
    assert waits[0][1] == "GitLab rate limit (HTTP 429)" and waits[-1] == (None, "")
    src.close()


def test_a_long_rate_limit_stops_with_the_time_to_resume(fake, monkeypatch):
    monkeypatch.setenv("IMPORT_MAX_RATE_LIMIT_WAIT", "1")
    src = make_source(fake.url)
    fake.fail_next(r"/api/graphql", 429, headers=fake.rate_limit_headers(3600))
    with pytest.raises(RateLimitedError) as err:
        list(src.read(PROJECT))
    resume = err.value.until.astimezone()
    assert re.fullmatch(r"rate limited by GitLab until \d\d:\d\d; retry the import then", str(err.value))
    assert f"{resume:%H:%M}" in str(err.value) and (err.value.until - datetime.now(UTC)).total_seconds() > 3590
    src.close()


# -- the mapping never raises ----------------------------------------------------------------
def _graphql_nodes(fake: FakeGitLab, project: str) -> list[dict]:
    """The fake's answer to the import's issue query, without a server: its Issue nodes."""
    variables = {"project": project, "first": PAGE_SIZE, "after": None, "updatedAfter": None, "notes": NESTED_NOTES}
    body = json.dumps({"query": ISSUES_QUERY.replace("EPIC", EPIC), "variables": variables}).encode()
    return json.loads(fake.graphql.answer(Request("POST", "/api/graphql", {}, {}, body)).body)["data"]["project"][
        "issues"]["nodes"]


_fake_for_mapping = FakeGitLab({"g/p": 6})
VALID = _fake_for_mapping.issues["g/p"]
NOTES = [n for (_, iid), notes in _fake_for_mapping.notes.items() for n in notes]
VALID_NODES = _graphql_nodes(_fake_for_mapping, "g/p")
NOTE_NODES = [n for node in VALID_NODES for n in node["notes"]["nodes"]]
JSON = json_values(allow_nan=True)


@st.composite
def mangled(draw, valid: list[dict]):
    issue = dict(draw(st.sampled_from(valid)))
    for field in draw(st.lists(st.sampled_from(sorted(issue)), max_size=4)):
        if draw(st.booleans()):
            issue.pop(field, None)
        else:
            issue[field] = draw(JSON)
    return issue


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=mangled(VALID) | JSON, notes=st.lists(st.sampled_from(NOTES) | JSON, max_size=3))
def test_mapping_any_json_gives_an_item_or_a_failure(raw, notes):
    result, comments = map_issue(raw, "g/p", notes)
    assert isinstance(result, (WorkItem, ItemFailure))
    if isinstance(result, ItemFailure):
        assert result.reason and comments == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(node=mangled(VALID_NODES) | JSON, notes=st.lists(mangled(NOTE_NODES) | JSON, max_size=3))
def test_mapping_any_graphql_node_gives_an_item_or_a_failure(node, notes):
    result, comments = map_issue(node, "g/p", notes, node_item, node_comment)
    assert isinstance(result, (WorkItem, ItemFailure))
    if isinstance(result, ItemFailure):
        assert result.reason and comments == []


def test_mapping_valid_issues_gives_items():
    for raw in VALID:
        result, _ = map_issue(raw, "g/p", [])
        assert isinstance(result, WorkItem), result
    for node in VALID_NODES:
        result, comments = map_issue(node, "g/p", node["notes"]["nodes"], node_item, node_comment)
        assert isinstance(result, WorkItem) and len(comments) == len(node["notes"]["nodes"]), result


# -- through the store and the job runner ----------------------------------------------------
def test_import_rerun_and_incremental_run_through_the_store(fake, run_import, engine):
    from store.queries import items as stored_items
    from store.queries import stats

    config = {"token": TOKEN, "url": fake.url}
    truth, expected = fake.ground_truth(PROJECT), fake.expected(PROJECT)
    first = run_import("gitlab", [PROJECT], config=config)
    assert (first["status"], first["created"], first["failed"]) == ("succeeded", truth["items"], 0), first["error"]
    rows = stored_items(engine, source="gitlab", project=PROJECT, limit=1000)
    assert {r["key"]: r["status"] for r in rows} == {k: e["status"] for k, e in expected.items()}
    assert stats(engine)["comments"] == truth["comments"]

    again = run_import("gitlab", [PROJECT], config=config, incremental=False)
    assert (again["created"], again["skipped"]) == (0, truth["items"])

    touched = fake.touch(5)
    later = run_import("gitlab", [PROJECT], config=config, duplicates="update")
    assert (later["status"], later["created"], later["updated"]) == ("succeeded", 0, 5)
    assert later["processed"] <= 6  # the touched items, and at most the one at the high-water mark
    rows = {r["key"]: r for r in stored_items(engine, source="gitlab", project=PROJECT, limit=1000)}
    assert all(rows[k]["title"].endswith("(edited)") for k in touched) and len(rows) == truth["items"]
    assert stats(engine)["comments"] == truth["comments"]


# -- GraphQL: limits, fallbacks and errors ----------------------------------------------------
def test_a_server_without_graphql_is_read_over_rest_and_says_so():
    with FakeGitLab(graphql=False) as fake:
        src = make_source(fake.url)
        pages, items, comments = read_all(src)
        assert_matches_truth(fake, items, comments)
        assert fake.requests["graphql"] == 1 and fake.requests["issues"] == 3
        notes = [n for p in pages for n in p.notes]
        assert len(notes) == 1 and "no GraphQL API" in notes[0] and "REST" in notes[0]
        src.close()


def test_graphql_required_on_a_server_without_it_names_the_setting_to_change():
    with FakeGitLab(graphql=False) as fake:
        src = make_source(fake.url, api="graphql")
        with pytest.raises(SourceError, match="GITLAB_API=rest") as err:
            list(src.read(PROJECT))
        assert "\n" not in str(err.value)
        src.close()


def test_an_unknown_api_setting_is_a_one_line_config_error(fake):
    with pytest.raises(ConfigError, match="GITLAB_API"):
        list(make_source(fake.url, api="soap").read(PROJECT))


def test_community_edition_without_epics_is_still_read_over_graphql():
    with FakeGitLab(edition="ce") as fake:
        src = make_source(fake.url)
        pages, items, comments = read_all(src)
        assert_matches_truth(fake, items, comments)
        assert not any(i.parent_key for i in items.values())
        assert fake.requests == {"graphql": 1 + 3 + 2}  # one refusal, then without epics
        assert not any(p.notes for p in pages)
        src.close()


def test_graphql_and_rest_map_every_issue_and_note_to_the_same_models(fake):
    """GraphQL nodes are mapped straight to the model (mapping.node_item), REST JSON through `to_item`: the
    same issues and notes give the same items and comments, field for field (epics, moves, confidential
    issues, internal notes, incidents' severities, uploads)."""
    fake.move(PROJECT, 9, "acme/ops")
    moved = next(i for i in fake.issues[PROJECT] if i["iid"] == 9)
    moved["updated_at"] = moved["closed_at"] = moved["closed_at"][:19] + ".000Z"  # GraphQL's Time has no fraction
    over = {}
    for api in ("graphql", "rest"):
        src = make_source(fake.url, api=api)
        _, items, comments = read_all(src)
        src.close()
        over[api] = ({k: i.model_dump() for k, i in items.items()},
                     sorted((c.model_dump() for c in comments), key=lambda c: c["external_id"]))
    assert over["graphql"] == over["rest"]
    items, comments = over["graphql"]
    assert len(items) == 250 and len(comments) == fake.ground_truth(PROJECT)["comments"]
    assert items[f"{PROJECT}#9"]["moved_to_id"] and all(any(i[field] for i in items.values()) for field in (
        "parent_key", "source_priority", "attachments", "assignee", "closed_at"))
    assert {i["visibility"] for i in items.values()} == {c["visibility"] for c in comments} == {"public", "internal"}


def test_a_rejected_token_is_an_auth_error_naming_the_setting(fake):
    src = make_source(fake.url, token="glpat-wrong-secret")
    with pytest.raises(AuthError, match="GITLAB_TOKEN") as err:
        list(src.read(PROJECT))
    assert "glpat-wrong-secret" not in str(err.value)


def test_a_query_over_the_complexity_limit_fails_in_one_line_without_data(fake):
    fake.graphql.max_complexity = 60  # a stricter server than gitlab.com
    with pytest.raises(SourceError, match="complexity of 1[0-9][0-9], which exceeds max complexity of 60") as err:
        list(make_source(fake.url).read(PROJECT))
    assert "\n" not in str(err.value)


def test_an_unknown_project_is_not_found_over_graphql(fake):
    with pytest.raises(NotFoundError, match="'nope/missing'"):
        list(make_source(fake.url).read("nope/missing"))


def test_the_fake_caps_pages_at_100_as_gitlab_does(fake):
    """A `first` above GitLab's maximum page size is cut to 100, with more pages announced."""
    import requests

    def ask(query: str) -> dict:
        return requests.post(f"{fake.url}/api/graphql", json={"query": query}, headers={"PRIVATE-TOKEN": TOKEN},
                             timeout=10).json()

    answer = ask('{ project(fullPath: "acme/web-app") { issues(first: 500) '
                 '{ nodes { iid } pageInfo { hasNextPage } } } }')
    issues = answer["data"]["project"]["issues"]
    assert len(issues["nodes"]) == 100 and issues["pageInfo"]["hasNextPage"] is True
    misspelt = ask('{ project(fullPath: "acme/web-app") { isues { count } } }')
    assert misspelt["errors"][0]["message"] == "Field 'isues' doesn't exist on type 'Project'"


# -- visibility and unreadable comments (issue 13) ----------------------------------------------
def test_confidential_issues_and_internal_notes_are_marked_internal(source, fake):
    from importers.model import Visibility

    _, items, comments = read_all(source)
    expected = fake.expected(PROJECT)
    assert {k for k, i in items.items() if i.visibility is Visibility.INTERNAL} == \
        {k for k, e in expected.items() if e["confidential"]} != set()
    internal = {i.key: 0 for i in items.values()}
    by_id = {i.external_id: i for i in items.values()}
    for c in comments:
        if c.visibility is Visibility.INTERNAL:
            internal[by_id[c.item_external_id].key] += 1
    # an internal note is internal; every note of a confidential issue is too
    assert internal == {k: e["comments"] if e["confidential"] else e["internal_notes"] for k, e in expected.items()}
    assert sum(e["internal_notes"] for e in expected.values()) > 0


def test_comments_that_cannot_be_read_keep_their_issue_as_a_gap(source, fake, api):
    """Issue #5's notes answer 404 (the issue was deleted meanwhile): the other issues and #5 itself
    are kept, #5's unread comments are a gap a retry fills."""
    if api == "rest":
        fake.fail_next(r"/issues/5/notes", 404, times=10, body={"message": "404 Issue Not Found"})
    else:  # the notes after the nested 20, #5's follow-up query: GraphQL answers a deleted issue with null
        from tests.fakes.server import Response

        fake.answer_next(r'"iid": "5"', Response(200, {"data": {"project": {"issue": None}}}), times=10,
                         in_body=True)
    pages, items, comments = read_all(source)
    gaps = [g for p in pages for g in p.gaps]
    busy = items[f"{PROJECT}#5"]
    assert len(items) == 250 and not any(p.failures for p in pages)
    assert [(g.stream, g.item_external_id, g.key) for g in gaps] == [("comments", busy.external_id, busy.key)]
    assert "GitLab" in gaps[0].reason and "\n" not in gaps[0].reason
    fake._faults.clear()
    filled = list(source.fill(PROJECT, gaps))
    assert [len([c for p in filled for c in p.comments if c.item_external_id == busy.external_id])] == [130]


def test_the_job_says_when_a_server_without_graphql_was_read_over_rest(run_import, engine):
    from store.queries import stats

    with FakeGitLab({"acme/web": 30}, graphql=False) as fake:
        doc = run_import("gitlab", ["acme/web"], config={"token": TOKEN, "url": fake.url})
        assert (doc["status"], doc["created"], doc["failed"]) == ("succeeded", 30, 0), doc["error"]
        assert len(doc["notes"]) == 1 and "no GraphQL API" in doc["notes"][0] and "REST API" in doc["notes"][0]
        assert stats(engine)["comments"] == fake.ground_truth("acme/web")["comments"]


# -- catch-up runs: the id listing and moves (issue 12) ---------------------------------------------
def test_the_id_listing_names_every_existing_issue_in_a_small_request_per_100(source, fake, api):
    gone = fake.delete(PROJECT, 7)
    before = fake.total_requests
    ids = [i for page in source.item_ids(PROJECT) for i in page]
    expected = {e["external_id"] for e in fake.expected(PROJECT).values()}
    assert len(ids) == len(set(ids)) == 249 and set(ids) == expected and gone not in ids
    # ceil(249 / 100), and over GraphQL one more for the note ids of the 130-note thread past its first 100
    assert fake.total_requests - before == 3 + (api == "graphql")


def test_a_moved_issue_is_recorded_as_moved_with_a_link_and_its_notes_stored_once(fake, run_import, engine):
    from sqlalchemy import select

    from store.schema import comments as stored_comments
    from store.schema import work_items

    config = {"token": TOKEN, "url": fake.url}
    first = run_import("gitlab", [PROJECT, "acme/ops"], config=config)
    assert first["status"] == "succeeded", first["error"]
    original = next(i for i in fake.issues[PROJECT] if i["iid"] == 5)  # 130 notes
    new_key = fake.move(PROJECT, 5, "acme/ops")
    later = run_import("gitlab", [PROJECT, "acme/ops"], config=config)
    assert later["status"] == "succeeded", later["error"]
    with engine.connect() as conn:
        rows = {r.key: r for r in conn.execute(select(work_items))}
        notes = conn.execute(select(stored_comments.c.item_id, stored_comments.c.deleted_at)).all()
    moved, copy = rows[f"{PROJECT}#5"], rows[new_key]
    assert moved.status == "moved" and moved.moved_to_id == str(copy.external_id) != str(original["id"])
    live = [n for n in notes if n.deleted_at is None]
    assert sum(1 for n in live if n.item_id == copy.id) == 130 and not [n for n in live if n.item_id == moved.id]


def test_a_moved_issue_keeps_its_notes_until_its_new_item_is_stored_and_they_are_never_counted_gone(
        fake, run_import, engine):
    """Regression (issue 12, "Moves counted wrong"): a catch-up of the original's project alone said
    "2 comments no longer at the source" for one deleted note, counting the moved issue's note, which
    GitLab keeps on the closed original (and copies to the new issue), and dropped it from the
    workspace until the other project was imported."""
    from sqlalchemy import select

    from store.queries import item_detail
    from store.schema import comments as stored_comments
    from store.schema import work_items

    config = {"token": TOKEN, "url": fake.url}
    assert run_import("gitlab", [PROJECT, "acme/ops"], config=config)["status"] == "succeeded"
    original = next(i for i in fake.issues[PROJECT] if i["iid"] == 4)
    note = next(n for n in fake.notes[(PROJECT, 4)] if not n["system"])
    assert original["user_notes_count"] == 1 and len(fake.notes[(PROJECT, 4)]) == 2  # and one system note
    other = next(i for i in fake.issues[PROJECT] if i["iid"] != 4 and i["user_notes_count"] > 0)
    thread = fake.notes[(PROJECT, other["iid"])]
    deleted = next(n for n in thread if not n["system"])
    with fake._lock:  # a note deleted at GitLab: its issue is not touched (no after_destroy hook)
        thread.remove(deleted)
        other["user_notes_count"] -= 1
    new_key = fake.move(PROJECT, 4, "acme/ops")

    def state():
        with engine.connect() as conn:
            rows = {r.key: r for r in conn.execute(select(work_items))}
            notes = {n.external_id: n for n in conn.execute(select(stored_comments))}
        return rows, notes

    alone = run_import("gitlab", [PROJECT], config=config)
    assert alone["status"] == "succeeded", alone["error"]
    assert alone["deletions_summary"] == "1 comment no longer at the source"
    rows, notes = state()
    moved = rows[f"{PROJECT}#4"]
    assert moved.status == "moved" and new_key not in rows
    assert notes[str(note["id"])].item_id == moved.id and notes[str(note["id"])].deleted_at is None  # still at GitLab
    assert notes[str(deleted["id"])].deleted_at is not None
    detail = item_detail(engine, moved.id)
    assert detail is not None and len(detail["comments"]) == 1
    assert (detail["moved_to_id"], detail["moved_to_key"], detail["moved_to_item"]) == (
        str(original["moved_to_id"]), None, None)

    again = run_import("gitlab", [PROJECT], config=config)  # the sweep re-checks the kept note: still there
    assert again["status"] == "succeeded" and again["deletions_summary"] is None
    assert state()[1][str(note["id"])].deleted_at is None

    ops = run_import("gitlab", ["acme/ops"], config=config)
    assert ops["status"] == "succeeded" and ops["deletions_summary"] is None, ops
    rows, notes = state()
    copy = rows[new_key]
    assert str(note["id"]) not in notes  # stored once, on the new issue: not a soft delete
    assert [n.deleted_at for n in notes.values() if n.item_id == copy.id] == [None]
    assert not [n for n in notes.values() if n.item_id == moved.id]
    detail = item_detail(engine, moved.id)
    assert detail is not None and (detail["moved_to_key"], detail["moved_to_item"]) == (new_key, copy.id)
    assert detail["comments"] == []
    final = run_import("gitlab", [PROJECT, "acme/ops"], config=config)
    assert final["deletions_summary"] is None and len(state()[1]) == len(notes)

    # parts of both projects written at once (PostgreSQL) can each miss the other's row, leaving the
    # original's note stored: the next catch-up's sweep re-reads that original and the note leaves it
    assert f"{PROJECT}#4" not in fake.touch(1, PROJECT)  # the original leaves the catch-up's high-water read
    assert run_import("gitlab", [PROJECT], config=config)["processed"] == 2  # touched, and #4 at the mark
    with engine.begin() as conn:
        conn.execute(stored_comments.insert().values(
            source="gitlab", external_id=str(note["id"]), item_id=moved.id, body=note["body"],
            created_at=datetime.now(UTC), content_hash="left by a race", visibility="public"))
    assert f"{PROJECT}#4" not in fake.touch(2, PROJECT)
    repaired = run_import("gitlab", [PROJECT], config=config)
    assert repaired["processed"] == 4  # the 2 touched, the last one at the mark, and #4 re-read by the sweep
    assert repaired["status"] == "succeeded" and repaired["deletions_summary"] is None
    assert str(note["id"]) not in state()[1]


def test_a_deleted_note_is_found_by_the_recheck_though_its_issue_did_not_change(source, fake):
    """GitLab touches an issue when a note is saved, not when one is deleted (note.rb: after_save
    :touch_noteable), so a catch-up run's changed-issue read cannot see the deletion; the recheck can."""
    notes = fake.notes[(PROJECT, 5)]
    gone, kept = notes[3], notes[4]
    notes.remove(gone)
    before = fake.total_requests
    pages = list(source.recheck_comments(PROJECT, [str(gone["id"]), str(kept["id"])]))
    assert [c.external_id for p in pages for c in p.comments] == [str(kept["id"])]
    assert list(source.recheck_comments(PROJECT, [str(kept["id"])])) and fake.total_requests - before <= 160


def test_the_preview_counts_confidential_issues_in_one_request(fake):
    src = make_source(fake.url)
    before = fake.total_requests
    counts = src.internal_counts(PROJECT)
    assert counts == {"items": sum(1 for e in fake.expected(PROJECT).values() if e["confidential"])} != {"items": 0}
    assert fake.total_requests - before == 1
    src.close()


def test_the_sweep_walks_issue_ids_with_their_note_ids_and_rechecks_notes_without_a_request(fake):
    """Over GraphQL the id listing carries each issue's note ids (100 issues a request, a long
    thread paged on alone), so the deleted-note check costs nothing more: a 100,000-issue catch-up
    sent 2,005 requests (the listing, then every issue's notes read again) and now sends ~1,005."""
    src = make_source(fake.url, api="graphql")
    notes = [n for n in fake.notes[(PROJECT, 5)] if not n["system"]]
    assert len(notes) > 100  # the long thread: its second page of note ids is one more request
    gone, kept = notes[115], notes[2]
    fake.notes[(PROJECT, 5)].remove(gone)
    before = fake.total_requests
    ids = [i for page in src.item_ids(PROJECT) for i in page]
    assert len(ids) == len(fake.issues[PROJECT]) == 250
    assert fake.total_requests - before == 3 + 1
    pages = list(src.recheck_comments(PROJECT, [str(gone["id"]), str(kept["id"])]))
    assert [i for p in pages for i in p.comments_present] == [str(kept["id"])]
    assert fake.total_requests - before == 4
    src.close()


def test_a_walk_that_did_not_finish_is_never_taken_for_deleted_notes(fake):
    """Note ids from a listing that stopped early would make every later thread look deleted: the
    recheck then reads the notes again instead (correct, as costly as a read)."""
    src = make_source(fake.url, api="graphql")
    walk = src.item_ids(PROJECT)
    next(walk)
    walk.close()
    kept = next(n for n in fake.notes[(PROJECT, 5)] if not n["system"])
    before = fake.total_requests
    pages = list(src.recheck_comments(PROJECT, [str(kept["id"])]))
    assert [c.external_id for p in pages for c in p.comments] == [str(kept["id"])]
    assert fake.total_requests - before >= 3
    src.close()
