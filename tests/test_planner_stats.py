"""PostgreSQL plans an import's lookups from statistics of the rows it holds (issue 17, store/planner_stats.py).

A new store's tables start never analyzed and autoanalyze lags a bulk load (this suite's server runs with
autovacuum off): the writer's duplicate lookup was then planned as a walk over every row of the source, filtered
on the ids, and slowed as the store grew (~30 to ~130 ms a batch over 100,000 ServiceNow tickets)."""
from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.usefixtures("postgres_url")

ITEMS = 3000
LOOKUP = "SELECT external_id, id, content_hash, deleted_at FROM {table} WHERE source = %s AND external_id IN ({marks})"


def _stats(engine, table: str) -> tuple[float, str]:
    """(reltuples, the plan of the writer's duplicate lookup for 10 stored ids) of `table`."""
    with engine.connect() as conn:
        reltuples = conn.exec_driver_sql(f"SELECT reltuples FROM pg_class WHERE oid = to_regclass('{table}')").scalar()
        ids = list(conn.exec_driver_sql(f"SELECT external_id FROM {table} ORDER BY id LIMIT 10").scalars())
        plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + LOOKUP.format(table=table, marks=", ".join(["%s"] * 10)),
                                              ("demo", *ids)).scalars())
    return reltuples, plan


def test_after_an_import_postgresql_knows_the_rows_and_looks_ids_up_in_the_unique_index(run_import, engine,
                                                                                         monkeypatch):
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")
    doc = run_import("demo", ["ACME"], config={"size": str(ITEMS)})
    assert doc["status"] == "succeeded" and doc["created"] == ITEMS

    for table in ("work_items", "comments"):
        reltuples, plan = _stats(engine, table)
        # analyzed at each doubling, the last time with at least about half of the rows stored
        assert reltuples >= ITEMS / 4, (table, reltuples)  # -1: never analyzed
        # both columns of the unique (source, external_id) index bound it: ten probes, not a walk over the source
        first = plan.splitlines()[0]
        assert f"uq_{table}_source_external_id" in first, plan
        assert "external_id" in plan.split("Index Cond:")[1].splitlines()[0], plan


def test_an_import_goes_on_while_another_worker_analyzes_the_same_tables(run_import, engine, postgres_url):
    """Another worker's ANALYZE holds SHARE UPDATE EXCLUSIVE on the tables until it ends: an import beside it is
    neither held up (it skips the tables, the other worker's statistics will do) nor failed."""
    raw = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw) as other:
        other.execute("LOCK TABLE work_items, comments IN SHARE UPDATE EXCLUSIVE MODE")  # what its ANALYZE takes
        doc = run_import("demo", ["ACME"], config={"size": "1500"})
        assert doc["status"] in ("succeeded", "partial") and doc["processed"] == 1500, doc
        other.rollback()
    reltuples, _ = _stats(engine, "work_items")
    assert reltuples < 0  # skipped, not waited for: the other worker's ANALYZE fills them


def test_an_import_whose_statistics_cannot_be_gathered_still_succeeds(run_import, engine, monkeypatch):
    """A failing ANALYZE (here an extended statistic whose expression divides by zero, evaluated only when
    statistics are gathered) is logged; the import's batches commit as without it, and the other tables'
    statistics are gathered."""
    monkeypatch.setenv("DEMO_INVALID_ITEMS", "0")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STATISTICS broken ON (1 / (id - id)) FROM work_items")
    doc = run_import("demo", ["ACME"], config={"size": "1500"})
    assert doc["status"] == "succeeded" and doc["created"] == 1500, doc
    assert _stats(engine, "work_items")[0] < 0
    assert _stats(engine, "comments")[0] >= 1500 / 4
