"""The JIRA connector against a fake JIRA (Cloud and Server) over real HTTP, through the real
`jira` library: what a user sees when testing the connection, previewing and importing."""
from __future__ import annotations

import copy
import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers import make_source
from importers.errors import AuthError, ConfigError, NetworkError, NotFoundError, RateLimitedError
from importers.jira.adf import adf_to_markdown
from importers.jira.mapping import Context, map_or_fail
from importers.jira.wiki import wiki_to_markdown
from importers.model import ItemFailure, Priority, Status, WorkItem
from tests.fakes.jira import SERVER_PAT, STATUSES, FakeJira
from tests.strategies import json_values

from .helpers import hang_up_server

PAGE = 25  # the fakes cap search pages at 25 issues, so 120 issues take 5 pages
SIZE = 120
EXPECTED_STATUS = {  # (JIRA status, resolution) -> what ACGS2 must show, written out independently
    ("Backlog", None): Status.BACKLOG, ("To Do", None): Status.TODO,
    ("In Progress", None): Status.IN_PROGRESS, ("In Review", None): Status.IN_PROGRESS,
    # one category per status (issue 14: "Done" is one workspace state), whatever the resolution
    ("Done", "Done"): Status.DONE, ("Done", "Duplicate"): Status.DONE, ("Won't Do", "Won't Do"): Status.CANCELLED,
}


@pytest.fixture(autouse=True)
def fast_env(monkeypatch):
    monkeypatch.setenv("ALLOW_LOOPBACK_URLS", "1")
    monkeypatch.setenv("IMPORT_RETRY_BASE_SECONDS", "0.01")


@pytest.fixture(params=["cloud", "server"])
def fake(request):
    server = FakeJira(cloud=request.param == "cloud", size=SIZE, page_cap=PAGE, broken=2).start()
    yield server
    server.stop()


@pytest.fixture
def cloud():
    server = FakeJira(cloud=True, size=SIZE, page_cap=PAGE).start()
    yield server
    server.stop()


def config(fake: FakeJira, **overrides) -> dict[str, str]:
    user, token = fake.credentials
    return {"base_url": fake.url, "user_email": user, "api_token": token, **overrides}


@pytest.fixture
def source(fake):
    src = make_source("jira", config(fake))
    yield src
    src.close()


def read_all(src, project="ACME", **kwargs):
    return list(src.read(project, **kwargs))


def expected_requests(fake: FakeJira, project: str = "ACME") -> dict[str, int]:
    """The fewest requests a full read can make: issue pages plus the highest key (asked alongside
    the first page, to cut big projects into key ranges), and comment pages beyond the 20 embedded."""
    truth = fake.ground_truth(project)
    size = truth["items"] + len(truth["failures"])
    extra = sum(math.ceil((n - 20) / 100) for n in truth["comment_counts"].values() if n > 20)
    return {"serverInfo": 1, ("search_jql" if fake.cloud else "search"): math.ceil(size / PAGE) + 1, "comments": extra}


# -- connection ----------------------------------------------------------------------------
def test_check_names_the_account_and_the_deployment(source, fake):
    described = source.check()
    assert described.startswith("Alice Admin (alice@example.com) on " + fake.url)
    assert ("JIRA Cloud" if fake.cloud else "JIRA Server") in described


def test_bad_token_is_an_auth_error_naming_the_setting_without_the_secret(fake):
    src = make_source("jira", config(fake, api_token="wrong-secret-123"))
    with pytest.raises(AuthError) as err:
        src.check()
    assert "JIRA_API_TOKEN" in str(err.value) and "HTTP 401" in str(err.value)
    assert "wrong-secret-123" not in str(err.value) and "\n" not in str(err.value)


def test_server_accepts_a_personal_access_token_without_username():
    with FakeJira(cloud=False, size=5) as fake:
        src = make_source("jira", {"base_url": fake.url, "api_token": SERVER_PAT})
        assert src.check().startswith("Alice Admin")
        assert len(read_all(src)[0].items) == 5


def test_unreachable_url_fails_fast_naming_the_setting():
    closed = FakeJira(size=1).start()
    settings_ = config(closed)
    closed.stop()
    with pytest.raises(NetworkError, match="JIRA_BASE_URL"):
        make_source("jira", settings_).check()


def test_the_connection_test_does_not_retry_a_server_that_hangs_up():
    with hang_up_server() as (url, accepted), pytest.raises(NetworkError, match="JIRA_BASE_URL"):
        make_source("jira", {"base_url": url, "user_email": "me@acme.example", "api_token": "t"}).check()
    assert len(accepted) == 1  # counted, not timed: one attempt, no backoff


def test_url_that_is_not_jira_is_a_clear_error(fake):
    with pytest.raises(NetworkError, match="does not look like a JIRA site.*JIRA_BASE_URL"):
        make_source("jira", config(fake, base_url=fake.url + "/wiki")).check()


@pytest.mark.parametrize("url", ["ftp://jira.example.com", "not a url", "http://169.254.169.254"])
def test_malformed_url_is_a_config_error_naming_the_setting(url):
    with pytest.raises(ConfigError, match="JIRA_BASE_URL"):
        make_source("jira", {"base_url": url, "user_email": "a@example.com", "api_token": "t"}).check()


def test_missing_token_names_the_env_var():
    with pytest.raises(ConfigError, match="JIRA_API_TOKEN"):
        make_source("jira", {"base_url": "https://acme.atlassian.net", "user_email": "a@example.com"}).check()


def test_default_project_comes_from_the_environment():
    cls = type(make_source("jira", {}))
    assert cls.default_project({"JIRA_DEFAULT_PROJECT": "OPS"}) == "OPS"
    assert cls.default_project({}) is None


# -- projects ------------------------------------------------------------------------------
def test_projects_are_listed_across_pages(source, fake):
    assert [p.key for p in source.projects()] == ["ACME", "OPS", "EMPTY"]
    assert source.project("OPS").name == "Operations"
    if fake.cloud:  # Cloud pages the project list (the fake 2 a page)
        assert fake.requests["project_search"] == 2


def test_unknown_project_is_a_one_line_not_found(source):
    with pytest.raises(NotFoundError, match="'NOPE'"):
        source.project("NOPE")
    with pytest.raises(NotFoundError, match="JIRA_DEFAULT_PROJECT"):
        read_all(source, "NOPE")
    with pytest.raises(NotFoundError):
        source.estimate("NOPE")
    with pytest.raises(ConfigError, match="project keys look like"):
        read_all(source, 'ACME" OR project = "OPS')


def test_empty_project_reads_nothing(source):
    assert read_all(source, "EMPTY") == []
    assert source.estimate("EMPTY") == 0


# -- preview and estimate ------------------------------------------------------------------
def test_preview_is_fast_and_has_the_table_fields(source, fake):
    source.check()
    fake.requests.clear()
    items = source.preview("ACME", limit=15)
    broken = {i["key"] for i in fake.issues["ACME"] if i.get("broken")}
    assert [i.key for i in items] == [f"ACME-{n}" for n in range(1, 16) if f"ACME-{n}" not in broken]
    assert len(items) >= 10
    assert sum(fake.requests.values()) == 1  # one search, no comments or bodies
    first = items[0]
    assert first.title.startswith("Fix checkout flow") and first.created_at.tzinfo is not None
    assert first.updated_at >= first.created_at and first.source_status
    assert any(i.assignee and i.assignee.email for i in items)


def test_estimate_counts_the_project(source, fake):
    assert source.estimate("ACME") == SIZE
    assert source.estimate("OPS") == len(fake.issues["OPS"])


# -- full read -----------------------------------------------------------------------------
def test_full_read_yields_exactly_the_ground_truth(source, fake):
    pages = read_all(source)
    truth = fake.ground_truth("ACME")
    items = [i for p in pages for i in p.items]
    assert len(pages) == math.ceil(SIZE / PAGE) >= 3
    assert sorted(i.key for i in items) == truth["keys"] and len({i.key for i in items}) == len(items)
    assert sorted(f.external_id for p in pages for f in p.failures) == truth["failures"]
    comments = [c for p in pages for c in p.comments]
    assert len(comments) == truth["comments"] and len({c.external_id for c in comments}) == len(comments)
    by_item = {i.external_id: i.key for i in items}
    counted = {key: 0 for key in truth["keys"]}
    for comment in comments:
        counted[by_item[comment.item_external_id]] += 1
    assert counted == truth["comment_counts"]
    for item in items:
        name, _, resolution = truth["statuses"][item.key]
        assert item.source_status == name and item.state == name  # JIRA's own status name is the state
        assert item.status == EXPECTED_STATUS[(name, resolution)], item.key


def test_full_read_makes_the_fewest_requests(source, fake):
    read_all(source)
    expected = expected_requests(fake)
    counted = {k: fake.requests[k] for k in expected}
    # the fake's log on a mismatch: this once failed under load and was never reproduced (a stray request from
    # elsewhere to a re-bound port is the unconfirmed suspect); the log says which request was extra
    assert counted == expected, fake.log
    assert fake.total_requests == sum(expected.values()), fake.log  # nothing else: no per-issue calls, no old /search


def test_items_carry_people_bodies_links_and_attachments(source, fake):
    items = {i.key: i for p in read_all(source) for i in p.items}
    raw = {i["key"]: i for i in fake.issues["ACME"]}
    assert items["ACME-3"].title.startswith("<script>alert(1)</script>")
    assert "日本語 🚀" in items["ACME-4"].title
    assert len(items["ACME-6"].description) > 50_000  # the very long body, whole
    with_mention = next(k for k, i in raw.items() if i["description"] and i["description"][0][0] == "h" and k in items)
    described = items[with_mention].description
    assert "## Steps" in described and "**hangs**" in described and "[the doc](https://docs.example.com/x)" in described
    assert "@Bob Builder" in described  # Server: [~bob] shown with the display name the issue gives him
    people = [p for i in items.values() for p in (i.assignee, i.reporter) if p]
    assert {p.email for p in people} >= {"alice@example.com", "bob@example.com", None}  # lower-cased, hidden = None
    ids = {p.external_id for p in people}
    assert all(i.startswith("5b10a2844c20") for i in ids) if fake.cloud else all(i.startswith("JIRAUSER") for i in ids)
    assert any(i.assignee is None for i in items.values())
    subtask = next(i for i in items.values() if raw[i.key]["parent"])
    assert subtask.parent_key == raw[subtask.key]["parent"] and subtask.type == "sub-task"
    linked = next(i for i in items.values() if raw[i.key]["links"])
    assert linked.links[0].kind in {"blocks", "blocked_by", "relates"}
    attached = next(i for i in items.values() if raw[i.key]["attachments"])
    assert attached.attachments[0].file_name.endswith(".png") and attached.attachments[0].size > 1000
    assert {i.priority for i in items.values()} >= {Priority.URGENT, Priority.LOW, Priority.NONE}
    assert items["ACME-1"].url == f"{fake.url}/browse/ACME-1"


# -- resume and incremental ----------------------------------------------------------------
def test_resume_from_a_cursor_yields_exactly_the_rest(source, fake):
    pages = read_all(source)
    keys = [i.key for p in pages for i in p.items]
    done = len(pages[0].items) + len(pages[1].items)
    fresh = make_source("jira", config(fake))
    rest = [i.key for p in fresh.read("ACME", cursor=pages[1].cursor) for i in p.items]
    assert rest == keys[done:]


def test_resume_after_the_cloud_page_token_expired_rebuilds_the_query(cloud):
    src = make_source("jira", config(cloud))
    pages = read_all(src)
    cloud.expire_tokens()
    rest = [i.key for p in src.read("ACME", cursor=pages[2].cursor) for i in p.items]
    assert rest == [i.key for p in pages[3:] for i in p.items]
    refused = [path for _, path, status in cloud.log if status == 400]
    assert len(refused) == 1 and "nextPageToken" in refused[0]


@pytest.fixture(params=["cloud", "server"])
def big(request):
    """A project of 1,000 issues in pages of 25: read as several key ranges at once."""
    server = FakeJira(cloud=request.param == "cloud", size=1000, page_cap=PAGE).start()
    yield server
    server.stop()


def test_big_project_is_read_in_key_ranges_each_issue_exactly_once(big):
    src = make_source("jira", config(big))
    pages = read_all(src)
    truth = big.ground_truth("ACME")
    keys = [i.key for p in pages for i in p.items]
    assert sorted(keys) == truth["keys"] and len(keys) == len(set(keys))
    assert len([c for p in pages for c in p.comments]) == truth["comments"]
    ranges = pages[-1].cursor["ranges"]
    assert len(ranges) == 4 and all(r["done"] for r in ranges)
    uppers = [r["upto"] for r in ranges]
    numbers = [int(u.split("-")[1]) for u in uppers[:-1]]
    assert uppers[-1] is None and numbers == sorted(numbers)
    searches = big.requests["search_jql" if big.cloud else "search"]
    assert math.ceil(1000 / PAGE) + 1 <= searches <= math.ceil(1000 / PAGE) + 4  # each range may end on a short page


def test_key_ranges_resume_exactly_the_rest_and_read_issues_created_meanwhile(big):
    src = make_source("jira", config(big))
    pages = read_all(src)
    cut = len(pages) // 2
    read = {i.key for p in pages[:cut + 1] for i in p.items}
    created = big._issue(random.Random(3), "ACME", 1000)  # ACME-1001, above every range but the last
    big.issues["ACME"].append(created)
    rest = [i.key for p in make_source("jira", config(big)).read("ACME", cursor=pages[cut].cursor) for i in p.items]
    assert len(rest) == len(set(rest)) and not read & set(rest)
    assert read | set(rest) == set(big.ground_truth("ACME")["keys"]) and created["key"] in rest


def test_since_yields_only_the_touched_items(source, fake):
    since = datetime.now(UTC).replace(second=30, microsecond=0)
    fake.issues["ACME"][1]["updated"] = since - timedelta(seconds=20)  # same minute, but before `since`
    touched = fake.touch(5, at=since + timedelta(seconds=1))
    pages = read_all(source, since=since)
    items = [i for p in pages for i in p.items]
    assert sorted(i.key for i in items) == sorted(touched)
    assert all(i.title.endswith("(edited)") and i.status == Status.IN_PROGRESS for i in items)
    assert source.estimate("ACME", since=since) in (5, 6)  # JQL has minute precision; the read is exact


# -- rate limits and faults ----------------------------------------------------------------
def test_429_and_a_503_burst_are_retried_and_counts_stay_exact(source, fake):
    waits = []
    source.set_wait_listener(lambda until, reason: waits.append(reason))
    fake.answer_next(r"/search", fake.rate_limited_response(1))
    fake.fail_next(r"/comment", 503, times=3)
    fake.fail_next(r"/search", 502, times=1)
    pages = read_all(source)
    truth = fake.ground_truth("ACME")
    assert sorted(i.key for p in pages for i in p.items) == truth["keys"]
    assert sum(len(p.comments) for p in pages) == truth["comments"]
    assert fake.injected == {429: 1, 503: 3, 502: 1}
    assert any("rate limit" in w for w in waits)
    assert fake.total_requests == sum(expected_requests(fake).values()) + 5


def test_a_long_rate_limit_stops_with_the_time_to_retry(fake, monkeypatch):
    monkeypatch.setenv("IMPORT_MAX_RATE_LIMIT_WAIT", "1")
    src = make_source("jira", config(fake))
    fake.answer_next(r"/search", fake.rate_limited_response(600))
    with pytest.raises(RateLimitedError) as err:
        read_all(src)
    assert err.value.until is not None
    assert f"rate limited by JIRA until {err.value.until.astimezone():%H:%M}" in str(err.value)


def test_fetch_rereads_only_the_named_items(source, fake):
    wanted = [i["id"] for i in fake.issues["ACME"][40:43]]
    source.check()
    fake.requests.clear()
    pages = list(source.fetch("ACME", wanted + ["not-an-id"]))
    assert sorted(i.external_id for p in pages for i in p.items) == sorted(wanted)
    assert fake.requests["search_jql" if fake.cloud else "search"] == 1


# -- mapping and markup --------------------------------------------------------------------
JSON = json_values(text=12, leaves=12)


def _sample_issues() -> list[dict]:
    with FakeJira(cloud=True, size=12) as cloud_fake, FakeJira(cloud=False, size=12) as server_fake:
        return [f._issue_json(i, v, ["*all"]) for f, v in ((cloud_fake, "3"), (server_fake, "2"))
                for i in f.issues["ACME"][:12:3]]


SAMPLES = _sample_issues()


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for n, v in enumerate(value):
            yield from _paths(v, prefix + (n,))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mangled_issue_json_maps_or_fails_but_never_raises(data):
    issue = copy.deepcopy(data.draw(st.sampled_from(SAMPLES)))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(list(_paths(issue))[1:]))
        parent = issue
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = data.draw(JSON)
    ctx = Context(base_url="https://x.atlassian.net", cloud=data.draw(st.booleans()))
    result = map_or_fail(issue, data.draw(st.lists(JSON, max_size=2)), ctx)
    assert isinstance(result, ItemFailure) or isinstance(result[0], WorkItem)
    if isinstance(result, ItemFailure):
        assert result.reason


@given(JSON)
def test_arbitrary_json_maps_or_fails_but_never_raises(value):
    result = map_or_fail(value, [], Context(base_url="https://x", cloud=True))
    assert isinstance(result, ItemFailure) and result.reason


def test_unmappable_issue_reports_which_field():
    issue = copy.deepcopy(SAMPLES[0])
    del issue["fields"]["created"]
    result = map_or_fail(issue, [], Context(base_url="https://x", cloud=True))
    assert isinstance(result, ItemFailure) and result.key == issue["key"] and "'created'" in result.reason


@pytest.mark.parametrize("wiki, markdown", [
    ("h2. Steps", "## Steps"),
    ("*bold* and _italic_ and -gone-", "**bold** and *italic* and ~~gone~~"),
    ("run {{make *all*}} now", "run `make *all*` now"),
    ("{code:python}\nx = *1*\n{code}", "```python\nx = *1*\n```"),
    ("* one\n** two\n# first", "- one\n  - two\n1. first"),
    ("see [the doc|https://a.example/x_y_z] or [https://b.example]", "see [the doc](https://a.example/x_y_z) or <https://b.example>"),
    ("thanks [~alice] and [~accountid:5b10]", "thanks @alice and @5b10"),
    ("bq. quoted\n----", "> quoted\n\n---"),
    ("{panel:title=Setup}\nrun *it*\n{panel}", "> **Setup**\n>\n> run **it**"),  # panel titles kept
    ("[mailto:ops@acme.example] {color:red}urgent{color}", "<ops@acme.example> urgent"),  # colour: plain
    ("see [^trace.log] and !shot.png|thumbnail!", "see [attachment: trace.log] and [attachment: shot.png]"),
    ("thanks [~bob] and [~stranger]", "thanks @Bob Builder and @stranger"),  # names the issue knows
    ("a well-known x - y", "a well-known x - y"),
])
def test_wiki_markup_becomes_markdown(wiki, markdown):
    assert wiki_to_markdown(wiki, {"bob": "Bob Builder"}) == markdown


def _doc(*content):
    return {"type": "doc", "version": 1, "content": list(content)}


def _p(*nodes):
    return {"type": "paragraph", "content": list(nodes)}


def _t(text, *marks, **attrs):
    node = {"type": "text", "text": text}
    if marks:
        node["marks"] = [{"type": m, **({"attrs": attrs} if m == "link" else {})} for m in marks]
    return node


@pytest.mark.parametrize("adf, markdown", [
    (_doc({"type": "heading", "attrs": {"level": 3}, "content": [_t("Title")]}), "### Title"),
    (_doc(_p(_t("b", "strong"), _t(" "), _t("i", "em"), _t(" "), _t("c", "code"))), "**b** *i* `c`"),
    (_doc(_p(_t("doc", "link", href="https://x.example"))), "[doc](https://x.example)"),
    (_doc(_p({"type": "mention", "attrs": {"id": "5b1", "text": "@Bob"}}, _t(" hi"))), "@Bob hi"),
    (_doc({"type": "bulletList", "content": [{"type": "listItem", "content": [_p(_t("a"))]},
                                             {"type": "listItem", "content": [_p(_t("b"))]}]}), "- a\n- b"),
    (_doc({"type": "orderedList", "content": [{"type": "listItem", "content": [_p(_t("a"))]}]}), "1. a"),
    (_doc({"type": "codeBlock", "attrs": {"language": "sql"}, "content": [_t("select 1")]}), "```sql\nselect 1\n```"),
    (_doc(_p(_t("one")), _p(_t("two"))), "one\n\ntwo"),
    (_doc({"type": "expand", "content": [_p(_t("hidden "), {"type": "unknownInline", "content": [_t("text")]})]}),
     "hidden text"),
    (None, ""),
])
def test_adf_becomes_markdown(adf, markdown):
    assert adf_to_markdown(adf) == markdown


def test_status_mapping_table_covers_every_fake_status():
    assert {(name, res) for name, _, res in STATUSES} == set(EXPECTED_STATUS)


# -- through the store and RQ --------------------------------------------------------------
def test_import_rerun_and_incremental_run_through_the_store(fake, run_import, engine):
    from store.queries import items as stored_items
    from store.queries import stats

    truth = fake.ground_truth("ACME")
    first = run_import("jira", ["ACME"], config=config(fake))
    assert (first["status"], first["created"], first["failed"]) == ("partial", truth["items"], 2), first
    rows = {r["key"]: r for r in stored_items(engine, source="jira", project="ACME", limit=1000)}
    assert sorted(rows) == truth["keys"]
    assert all(rows[k]["status"] == EXPECTED_STATUS[(n, res)].value for k, (n, _, res) in truth["statuses"].items())
    assert stats(engine)["comments"] == truth["comments"]

    again = run_import("jira", ["ACME"], config=config(fake), incremental=False)
    assert (again["created"], again["skipped"]) == (0, truth["items"]), again
    assert stats(engine)["comments"] == truth["comments"]

    touched = [k for k in fake.touch(6) if k in truth["keys"]]
    later = run_import("jira", ["ACME"], config=config(fake), duplicates="update")
    assert (later["created"], later["updated"]) == (0, len(touched)) and len(touched) >= 5, later
    rows = {r["key"]: r for r in stored_items(engine, source="jira", project="ACME", limit=1000)}
    assert len(rows) == truth["items"]
    assert all(rows[k]["title"].endswith("(edited)") and rows[k]["status"] == "in_progress" for k in touched)
    assert stats(engine)["comments"] == truth["comments"]


@pytest.mark.parametrize("since, expected", [
    (datetime(2025, 11, 2, 5, 30, tzinfo=UTC), 'updated >= "2025/11/02 00:30"'),  # 01:30 EDT, repeated at 01:30 EST
    (datetime(2025, 11, 2, 6, 30, tzinfo=UTC), 'updated >= "2025/11/02 00:30"'),  # 01:30 EST, the repeat
    (datetime(2025, 11, 2, 7, 30, tzinfo=UTC), 'updated >= "2025/11/02 02:30"'),  # after the fall-back: as it is
    (datetime(2025, 7, 1, 12, 0, tzinfo=UTC), 'updated >= "2025/07/01 08:00"'),
])
def test_a_since_in_the_hour_the_fall_back_repeats_starts_an_hour_early(cloud, since, expected):
    # a review: JQL takes wall times in the user's zone; 01:30 on the day New York falls back is two instants, and
    # JIRA reading the later one started the catch-up an hour late, after edits it then never read
    src = make_source("jira", config(cloud))
    try:
        assert src.client.jql_since(since) == expected
    finally:
        src.close()


def test_a_since_in_a_two_hour_fall_back_starts_two_hours_early():
    # a review: Antarctica/Troll falls back two hours (+02 to +00): an hour back still named a repeated wall time
    troll = FakeJira(cloud=True, size=SIZE, page_cap=PAGE, time_zone="Antarctica/Troll").start()
    src = make_source("jira", config(troll))
    try:
        assert src.client.jql_since(datetime(2025, 10, 26, 0, 30, tzinfo=UTC)) == 'updated >= "2025/10/26 00:30"'
    finally:
        src.close()
        troll.stop()
