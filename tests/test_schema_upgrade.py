"""A store made by an older release opens with the current schema: missing columns and indexes are added and
the rows already stored keep their values (regression: `create_all` only creates missing tables, so a column
added to `schema.py` never reached an existing database)."""
from __future__ import annotations

from sqlalchemy import inspect, text

from store.db import dispose_all, engine_for


def test_an_older_store_gains_new_columns_and_indexes_and_keeps_its_rows(store_backend, engine):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (source, key, name, description, created_by_job) "
                          "VALUES ('jira', 'ACME', 'Acme', '', 'job1')"))
        conn.execute(text("DROP INDEX ix_work_items_created_by_job"))
        conn.execute(text("ALTER TABLE work_items DROP COLUMN updated_by_job"))
        conn.execute(text("ALTER TABLE projects DROP COLUMN created_by_job"))
    dispose_all()

    reopened = engine_for()
    inspector = inspect(reopened)
    assert "updated_by_job" in {c["name"] for c in inspector.get_columns("work_items")}
    assert "created_by_job" in {c["name"] for c in inspector.get_columns("projects")}
    assert "ix_work_items_created_by_job" in {i["name"] for i in inspector.get_indexes("work_items")}
    with reopened.connect() as conn:
        assert conn.execute(text("SELECT key, name, created_by_job FROM projects")).all() == [("ACME", "Acme", None)]
