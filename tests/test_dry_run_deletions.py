"""A dry run says what its import would find gone from the source, and marks nothing (new-user review: the wizard's
dry run of ACME read at 7 items after 50 said "would create 0, update 0, leave 7 unchanged", and the import then
marked 43 items and their comments deleted). The dry run reads the source's id listing as the import's deletion
sweep does (jobs/sweep.py), follows moved items as it would, and counts what is gone on its own deleted counters.

The fake JIRA (tests/fakes/jira.py) deletes and moves issues as Jira Cloud shows them: a deleted issue leaves the
search results, a moved one answers under its new key (see the fake's docs)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from store.schema import comments, work_items
from tests.fakes.jira import FakeJira
from tests.test_ui_pages import page, texts


def _live(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        items = conn.execute(select(func.count()).select_from(work_items).where(work_items.c.deleted_at.is_(None)))
        notes = conn.execute(select(func.count()).select_from(comments).where(comments.c.deleted_at.is_(None)))
        return items.scalar_one(), notes.scalar_one()


def test_a_dry_run_counts_the_issues_gone_from_jira_and_not_the_moved_one(run_import, engine):
    with FakeJira(size=30, page_cap=10).start() as fake:
        user, token = fake.credentials
        config = {"base_url": fake.url, "user_email": user, "api_token": token}
        run_import("jira", ["ACME"], config=config)
        stored = _live(engine)
        parents = {i["parent"] for i in fake.issues["ACME"]}
        victim, mover = [i for i in fake.issues["ACME"][3:] if i["key"] not in parents][:2]
        gone_comments = len(victim["comments"])
        fake.delete_issue(victim["key"])
        fake.move(mover["key"], "OPS")

        dry = run_import("jira", ["ACME"], config=config, dry_run=True)

        assert dry["status"] == "succeeded"
        assert (dry["deleted_items"], dry["deleted_comments"]) == (1, gone_comments), dry
        assert _live(engine) == stored  # counted, not marked
        shown = texts(page("pages/progress.py", job=dry["job_id"]), "info")
        said = f"{dry['deletions_summary']}: the import would mark them deleted (nothing is marked yet)."
        assert said in shown, shown

        done = run_import("jira", ["ACME"], config=config)
        assert (done["deleted_items"], done["deleted_comments"]) == (1, gone_comments)  # as the dry run said


@pytest.mark.parametrize("deletions, gone", [("mark", "mark {} deleted"), ("purge", "erase {}")])
def test_the_wizards_words_and_the_cli_say_what_a_smaller_demo_would_find_gone(run_import, engine, cli, monkeypatch,
                                                                                 deletions, gone):
    from jobs import dry_run

    monkeypatch.delenv("DEMO_INVALID_ITEMS")
    run_import("demo", ["ACME"], config={"size": "50"})
    items, notes = _live(engine)
    dry = run_import("demo", ["ACME"], config={"size": "7"}, incremental=False, dry_run=True, deletions=deletions)
    with engine.connect() as conn:
        kept = conn.execute(select(func.count()).select_from(comments).join(work_items).where(
            work_items.c.key.in_([f"ACME-{n}" for n in range(1, 8)]))).scalar_one()
    assert (dry["deleted_items"], dry["deleted_comments"]) == (43, notes - kept), dry
    what = f"43 items and {notes - kept} comments"
    assert dry_run.would_do(dry) == \
        f"would create 0, update 0, leave 7 unchanged, and {gone.format(what)} (gone from the source)"
    assert _live(engine) == (items, notes)
    status = cli("status", dry["job_id"]).stdout
    assert f"{what} no longer at the source: the import would {gone.format('them')} (nothing is marked yet)" \
        in status, status
