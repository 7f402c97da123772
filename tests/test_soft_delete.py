"""Soft deletes, comment joins and stable references in the store (issue 12), on SQLite and PostgreSQL.

The writer alone, with the pages a connector would send: what a user then sees in the workspace
queries, what `purge` erases, and what comes back when the source has it again.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from importers.model import Comment, Link, Page, Status, WorkItem
from store import queries, soft_delete
from store.schema import comments
from store.writer import SKIP, write_batch

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def item(n: int, title: str = "", **extra) -> WorkItem:
    return WorkItem(source="t", external_id=str(n), key=f"T-{n}", project="T", title=title or f"item {n}",
                    status=Status.TODO, created_at=WHEN, updated_at=WHEN + timedelta(minutes=n), **extra)


def note(cid: str, item_id: str = "", body: str = "hello", key: str | None = None) -> Comment:
    return Comment(source="t", external_id=cid, item_external_id=item_id, item_key=key, body=body, created_at=WHEN)


def write(engine, *pages: Page, job: str = "j1", **options):
    with engine.begin() as conn:
        return write_batch(conn, list(pages), source="t", job_id=job, **options)


def bodies(engine, deleted: bool | None = False) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(comments.c.external_id, comments.c.body)
                            .where(soft_delete.visible(comments, deleted)))
        return {r.external_id: r.body for r in rows}


def test_a_comment_edited_on_an_item_not_read_in_this_run_is_applied_by_key(store_backend, engine):
    """Regression: the edited GitHub comment of an unchanged issue was dropped, because the
    repo-wide comment listing could only join it to issues read in the same run."""
    write(engine, Page(items=[item(1)], comments=[note("c1", "1", "first text")]))
    later = write(engine, Page(comments=[note("c1", body="edited text", key="T-1")]), job="j2")
    assert bodies(engine) == {"c1": "edited text"} and later.comments_written == 1


def test_skip_freezes_the_first_import_and_counts_what_it_kept_out(store_backend, engine):
    write(engine, Page(items=[item(1), item(2)], comments=[note("c1", "1", "v1")]))
    frozen = write(engine, Page(items=[item(1, "renamed"), item(2)], comments=[note("c1", "1", "v2")]),
                   job="j2", policy=SKIP)
    assert (frozen.updated, frozen.skipped, frozen.frozen) == (0, 2, 2)  # one item and one comment kept out
    assert [r["title"] for r in queries.items(engine)] == ["item 1", "item 2"] and bodies(engine) == {"c1": "v1"}


def test_a_reread_items_complete_comment_list_soft_deletes_the_missing_comment(store_backend, engine):
    """Regression: a comment deleted in JIRA (a pasted password) survived even a full re-read."""
    write(engine, Page(items=[item(1)], comments=[note("c1", "1"), note("c2", "1", "password: hunter2")],
                       comments_complete=True))
    again = write(engine, Page(items=[item(1)], comments=[note("c1", "1")], comments_complete=True), job="j2")
    assert again.deleted_comments == 1
    assert bodies(engine) == {"c1": "hello"} and bodies(engine, deleted=True) == {"c2": "password: hunter2"}
    detail = queries.item_detail(engine, queries.items(engine)[0]["id"])
    assert [c["body"] for c in detail["comments"]] == ["hello"]
    assert queries.stats(engine)["comments"] == 1 and queries.stats(engine, deleted=True)["comments"] == 1

    with engine.begin() as conn:
        assert soft_delete.purge(conn, source="t") == (0, 1)
    assert bodies(engine, deleted=None) == {"c1": "hello"}  # erased for good; the live one stays


def test_comment_lists_are_authoritative_only_when_the_page_says_so(store_backend, engine):
    write(engine, Page(items=[item(1)], comments=[note("c1", "1"), note("c2", "1")], comments_complete=True))
    write(engine, Page(items=[item(1, "edited")]), job="j2")  # e.g. GitHub: issue pages carry no comments
    write(engine, Page(items=[item(1)], comments=[note("c1", "1")]), job="j3", deletions="ignore")
    write(engine, Page(items=[item(1)], comments=[note("c1", "1")], comments_complete=True), job="j4",
          deletions="ignore")
    assert set(bodies(engine)) == {"c1", "c2"}


def test_soft_deleted_items_are_hidden_from_every_read_and_revived_when_they_come_back(store_backend, engine):
    write(engine, Page(items=[item(1), item(2)], comments=[note("c1", "2")]))
    with engine.begin() as conn:
        assert soft_delete.mark_items(conn, "t", ["2"], "j2") == (1, 1)
        assert soft_delete.mark_items(conn, "t", ["2"], "j3") == (0, 0)  # the first run that saw it gone keeps it
    assert [r["key"] for r in queries.items(engine)] == ["T-1"]
    gone = queries.items(engine, deleted=True)
    assert [(r["key"], r["deleted_at"] is not None) for r in gone] == [("T-2", True)]
    assert queries.stats(engine)["items"] == 1 and queries.stats(engine)["comments"] == 0
    assert queries.stats(engine, deleted=True)["by_project"] == [{"source": "t", "project": "T", "items": 1}]

    back = write(engine, Page(items=[item(2)], comments=[note("c1", "2")]), job="j4")  # restored at the source
    assert back.updated == 1 and [r["key"] for r in queries.items(engine)] == ["T-1", "T-2"]
    assert bodies(engine) == {"c1": "hello"}


def test_references_are_shown_with_the_current_key_of_the_item_their_id_names(store_backend, engine):
    """A JIRA issue moved to another project keeps its id and gets a new key: its sub-task and the
    issues linking to it must show the new key, not the one stored when they were last read."""
    write(engine, Page(items=[item(1), item(2, parent_key="T-1", parent_id="1",
                                             links=[Link(kind="blocks", target_key="T-1", target_id="1")])]))
    moved = item(1).model_copy(update={"key": "OPS-7", "project": "OPS"})
    write(engine, Page(items=[moved]), job="j2")
    child = next(r for r in queries.items(engine) if r["key"] == "T-2")
    detail = queries.item_detail(engine, child["id"])
    assert detail["parent_key"] == "OPS-7" and detail["links"][0]["target_key"] == "OPS-7"


def test_purge_is_for_admins_erases_only_soft_deletes_and_is_audited(engine, cli):
    from jobs import api
    from jobs.access import Actor, PermissionDenied
    from store.audit import events

    write(engine, Page(items=[item(1), item(2)], comments=[note("c1", "2", "secret"), note("c2", "1")]))
    with engine.begin() as conn:
        soft_delete.mark_items(conn, "t", ["2"], "j2")
    try:
        api.purge(actor=Actor("mallory"))
        raise AssertionError("a non-admin purged")
    except PermissionDenied as exc:
        assert "only an admin" in str(exc)
    refused = cli("purge")
    assert refused.returncode == 2 and "--yes" in refused.stderr and "Traceback" not in refused.stderr
    done = cli("purge", "--source", "t", "--yes")
    assert done.returncode == 2 and "unknown source 't'" in done.stderr  # a typo is not "nothing to purge"

    assert api.purge(actor=Actor("alice", admin=True)) == {"items": 1, "comments": 1}
    assert [r["key"] for r in queries.items(engine, deleted=None)] == ["T-1"]
    assert bodies(engine, None) == {"c2": "hello"}
    actions = [(e.action, e.actor, e.details.get("items_erased")) for e in events(engine)][:2]
    assert actions == [("purge", "alice", 1), ("refused", "mallory", None)]
