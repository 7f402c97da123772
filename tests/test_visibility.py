"""Who may see an item or comment at its source is kept (importers.model.Visibility): stored on
both stores, shown by the workspace reads and the CLI export, hideable by a filter, counted by a
dry run. Connector-specific markers (work notes, JIRA comment visibility) are tested with their
connectors; this file holds the store and query part every connector relies on."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from importers.jira import JiraSource
from importers.model import Comment, Page, Status, Visibility, WorkItem
from store import queries
from store.writer import write_batch

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _item(n: int, visibility: Visibility = Visibility.PUBLIC, visible_to: str = "") -> WorkItem:
    return WorkItem(source="demo", external_id=str(n), key=f"V-{n}", project="V", title=f"item {n}",
                    status=Status.TODO, created_at=WHEN, updated_at=WHEN, visibility=visibility,
                    visible_to=visible_to, notes=["parent V-0 no longer exists at the source"] if n == 3 else [])


def _comment(n: int, item: int, visibility: Visibility = Visibility.PUBLIC, visible_to: str = "") -> Comment:
    return Comment(source="demo", external_id=f"c{n}", item_external_id=str(item), body=f"comment {n}",
                   created_at=WHEN, visibility=visibility, visible_to=visible_to)


PAGE = Page(
    items=[_item(1), _item(2, Visibility.INTERNAL), _item(3, Visibility.RESTRICTED, "security level: Staff")],
    comments=[_comment(1, 1), _comment(2, 1, Visibility.INTERNAL),
              _comment(3, 1, Visibility.RESTRICTED, "role: Developers")],
)


def test_visibility_is_stored_and_filtered_on_both_stores(store_backend, engine):
    with engine.begin() as conn:
        result = write_batch(conn, [PAGE], source="demo", job_id="j1")
    assert (result.internal_items, result.internal_comments) == (2, 2)

    everything = {r["key"]: r for r in queries.items(engine)}
    assert {k: (r["visibility"], r["visible_to"]) for k, r in everything.items()} == {
        "V-1": ("public", None), "V-2": ("internal", None), "V-3": ("restricted", "security level: Staff")}
    assert everything["V-3"]["notes"] == ["parent V-0 no longer exists at the source"]
    assert [r["key"] for r in queries.items(engine, visibility=queries.PUBLIC_ONLY)] == ["V-1"]

    item_id = everything["V-1"]["id"]
    thread = queries.item_detail(engine, item_id)["comments"]
    assert [(c["body"], c["visibility"], c["visible_to"]) for c in thread] == [
        ("comment 1", "public", None), ("comment 2", "internal", None), ("comment 3", "restricted", "role: Developers")]
    public = queries.item_detail(engine, item_id, visibility=queries.PUBLIC_ONLY)["comments"]
    assert [c["body"] for c in public] == ["comment 1"]
    assert queries.item_detail(engine, everything["V-2"]["id"], visibility=queries.PUBLIC_ONLY) is None

    stats = queries.stats(engine)
    assert (stats["internal_items"], stats["internal_comments"]) == (2, 2)
    assert queries.filter_values(engine)["visibility"] == ["internal", "public", "restricted"]


def test_a_dry_run_counts_internal_items_and_comments_and_writes_nothing(engine):
    with engine.begin() as conn:
        result = write_batch(conn, [PAGE], source="demo", job_id="j1", dry_run=True)
    assert (result.created, result.internal_items, result.internal_comments) == (3, 2, 2)
    assert queries.items(engine) == []


def test_the_cli_export_shows_visibility(engine, cli):
    with engine.begin() as conn:
        write_batch(conn, [PAGE], source="demo", job_id="j1")
    rows = json.loads(cli("items", "--json").stdout)
    assert {r["key"]: r["visibility"] for r in rows} == {"V-1": "public", "V-2": "internal", "V-3": "restricted"}


# -- JIRA: comment `visibility` (role or group), JSM's `jsdPublic: false`, issue security levels --
@pytest.mark.parametrize("cloud", [True, False], ids=["cloud", "server"])
def test_jira_restricted_comments_and_issues_are_marked_and_counted_by_a_dry_run(cloud, run_import):
    from tests.fakes.jira import SECURITY_LEVEL, FakeJira, restriction

    with FakeJira(cloud=cloud, size=60) as fake:
        user, secret = fake.credentials
        config = {"base_url": fake.url, "user_email": user, "api_token": secret}
        source = JiraSource(config)
        try:
            pages = list(source.read("ACME"))
        finally:
            source.close()
        issues = {i["id"]: i for i in fake.issues["ACME"] if not i.get("broken")}
        items = {i.external_id: i for p in pages for i in p.items}
        secured = {eid for eid in issues if int(eid) % 13 == 0}
        assert secured and {eid for eid, i in items.items() if i.visibility != Visibility.PUBLIC} == secured
        assert {items[eid].visible_to for eid in secured} == {f"security level: {SECURITY_LEVEL}"}
        expected = {c["id"]: restriction(c) for i in issues.values() for c in i["comments"]}
        seen = {c.external_id: (c.visibility, c.visible_to) for p in pages for c in p.comments}
        assert seen == {cid: ((Visibility.RESTRICTED, f"{r['visibility']['type']}: {r['visibility']['value']}")
                              if "visibility" in r else (Visibility.INTERNAL, "") if r else (Visibility.PUBLIC, ""))
                        for cid, r in expected.items()}
        assert {v for v, _ in seen.values()} == set(Visibility)  # the fake has each kind

        dry = run_import("jira", ["ACME"], config=config, dry_run=True)
        assert (dry["internal_items"], dry["internal_comments"]) == (
            len(secured), sum(1 for r in expected.values() if r))
