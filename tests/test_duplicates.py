"""Re-runs never duplicate: skip creates nothing, update merges only what changed."""
from sqlalchemy import func, select

from store.schema import comments, work_items


def _items(engine):
    with engine.connect() as conn:
        return {r.external_id: (r.id, r.title, r.created_by_job, r.updated_by_job)
                for r in conn.execute(select(work_items))}


def test_rerun_with_skip_creates_nothing(store_backend, run_import, engine):
    first = run_import("demo", ["ACME"], config={"size": "600"})
    second = run_import("demo", ["ACME"], config={"size": "600"}, incremental=False, duplicates="skip")

    assert first["created"] == 597 and first["failed"] == 3
    assert second["created"] == 0 and second["updated"] == 0
    assert second["skipped"] == 597 and second["failed"] == 3
    assert len(_items(engine)) == 597


def test_rerun_with_update_merges_changed_items_and_keeps_local_ids(store_backend, run_import, engine, monkeypatch):
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")
    first = run_import("demo", ["ACME"], config={"size": "700"})
    before = _items(engine)
    with engine.connect() as conn:
        comment_count = conn.execute(select(func.count()).select_from(comments)).scalar()

    monkeypatch.setenv("DEMO_REVISION", "2")  # the source changes every 7th item
    second = run_import("demo", ["ACME"], config={"size": "700"}, duplicates="update", incremental=False)

    changed = [i for i in range(700) if i % 7 == 2]
    assert second["created"] == 0
    assert second["updated"] == len(changed) == 100
    assert second["skipped"] == 600
    after = _items(engine)
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}  # local ids kept
    revised = after[f"acme-{changed[0] + 1}"]
    assert revised[1].endswith("(revised r2)") and revised[2] == first["job_id"] and revised[3] == second["job_id"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(comments)).scalar() == comment_count


def test_repeated_import_brings_only_what_changed_since_the_last_success(run_import, monkeypatch):
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")
    run_import("demo", ["ACME"], config={"size": "350"})
    monkeypatch.setenv("DEMO_REVISION", "3")

    again = run_import("demo", ["ACME"], config={"size": "350"}, duplicates="update")

    assert again["since"] is None and again["updated"] == 50
    assert again["processed"] <= 51  # the changed items, plus at most the last one seen before


def test_a_run_that_applies_changes_applies_those_a_skip_run_kept_out(run_import, engine):
    # a correctness review: the skip run's mark passed the edits it froze, so the update run after it read only
    # the newest of three edited tickets, and the other two stayed as first imported for good
    from tests.fakes.servicenow import FakeServiceNow

    fake = FakeServiceNow(sizes={"incident": 30}, hide_every=0).start()
    try:
        settings = {"instance": fake.url, "username": fake.username, "password": fake.password}
        run_import("servicenow", ["incident"], config=settings)
        edited = fake.touch("incident", 3)  # a second apart
        kept_out = run_import("servicenow", ["incident"], config=settings, duplicates="skip")
        assert kept_out["frozen"] == 3, kept_out
        applied = run_import("servicenow", ["incident"], config=settings)
        assert applied["updated"] == 3, applied
        [note] = applied["notes"]  # the job says why it reads more than the last import did
        assert note.endswith(f"passing over the mark of job {kept_out['job_id']} (it kept changes out: duplicates "
                             f"skip)"), note
        with engine.connect() as conn:
            titles = dict(conn.execute(select(work_items.c.key, work_items.c.title)).all())
        assert all(titles[number].endswith("(edited)") for number in edited)
    finally:
        fake.stop()


def test_an_update_run_still_re_reads_what_a_skip_run_left_unread_and_the_wizard_says_where_it_starts(
        run_import, engine, monkeypatch):
    # a review: passing over the skip run's mark also dropped the items it left unread (an issue whose comments
    # failed): the update run said "succeeded" with 5 comments missing; the wizard showed the skip run's start
    from jobs import api
    from store import jobs as job_store
    from store import queries
    from tests.fakes.jira import FakeJira

    monkeypatch.setenv("IMPORT_RETRY_ATTEMPTS", "2")
    fake = FakeJira(cloud=True, size=12).start()
    try:
        user, secret = fake.credentials
        settings = {"base_url": fake.url, "user_email": user, "api_token": secret}
        heavy = fake.issues["ACME"][3]  # 25 comments: more than a search embeds, so fetched on their own
        run_import("jira", ["ACME"], config=settings)
        with engine.begin() as conn:  # as if the first import had failed this issue: the next sweep reads it
            ids = select(work_items.c.id).where(work_items.c.key == heavy["key"])
            conn.execute(comments.delete().where(comments.c.item_id.in_(ids)))
            conn.execute(work_items.delete().where(work_items.c.key == heavy["key"]))
        fake.fail_next(f"/issue/{heavy['key']}/comment", 500, times=2)
        kept_out = run_import("jira", ["ACME"], config=settings, duplicates="skip")
        assert kept_out["status"] == "partial", kept_out
        assert api.incremental_since("jira", ["ACME"], "update") == {
            "ACME": job_store.catch_up_point(engine, "jira", "ACME", "update").since}
        applied = run_import("jira", ["ACME"], config=settings)
        assert applied["status"] == "succeeded", applied
        assert queries.stats(engine)["comments"] == fake.ground_truth("ACME")["comments"]
    finally:
        fake.stop()
