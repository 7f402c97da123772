"""Keeps PostgreSQL's planner statistics in step with an import's bulk load.

PostgreSQL plans a query from its tables' statistics, which only ANALYZE (or autovacuum's
autoanalyze) gathers. A new store's tables start never analyzed, and autoanalyze lags a bulk load:
it wakes once a naptime (a minute), waits until a tenth of the table changed, and some servers run
with autovacuum off. Without statistics the writer's duplicate lookup (`source = ? AND external_id
IN (...)`) was planned as a walk over every row of the source through another index, filtered on
the ids: its cost grew with the table, about 2.5x from the first to the last batch of a 100,000-ticket
import (README, "PostgreSQL at 100,000"). The same holds for the comments, the key lookups and the
deletion sweep's queries.

So after each committed batch, a table the writer fills is analyzed once it holds twice the pages
its last analysis saw (the first time at MIN_PAGES): the first batch into a new store, then at each
doubling, 6 times for work_items over 100,000 items. Bulk loaders such as pg_restore analyze after
loading too. Each analysis samples 3,000 rows (SAMPLE_TARGET): enough to see that a source has one
row per external id, and a tenth of the time a default 30,000-row sample of the items' texts takes
(about 1 s at 30,000 items); autovacuum's own analyses, when it runs, keep their fuller samples until the
table doubles again.

Many workers on many machines share one database: each ANALYZE runs in a transaction of its own,
one table at a time, with SKIP_LOCKED. ANALYZE takes SHARE UPDATE EXCLUSIVE, which
conflicts with another ANALYZE of the table (not with inserts): a table another worker is analyzing
is skipped, never waited for, so holding one lock at a time and waiting for none, two workers cannot
deadlock. A failed refresh is logged and the import goes on: it only ever costs speed. SQLite is
left alone (its lookups do not slow down as the store grows).
"""
from __future__ import annotations

import logging

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

TABLES = ("work_items", "comments", "people", "labels", "workflow_states")  # what write_batch writes
MIN_PAGES = 8  # 64 KB: below it a wrong plan costs next to nothing
SAMPLE_TARGET = 10  # default_statistics_target of these analyses: 300 x 10 rows sampled

# Pages a table had when this process last asked for its analysis, by (database URL, table): a
# skipped or refused ANALYZE (another worker's was running; a role that does not own the table) is
# not asked for again before the next doubling.
_asked: dict[tuple[str, str], int] = {}

_SIZES = text("SELECT c.relname, c.relpages, c.reltuples, "
              "pg_relation_size(c.oid) / current_setting('block_size')::int AS pages "
              "FROM pg_class c WHERE c.oid IN (SELECT to_regclass(t) FROM unnest(CAST(:tables AS text[])) t)")


def keep_current(engine: Engine, tables: tuple[str, ...] = TABLES) -> list[str]:
    """Analyze those of `tables` that grew to twice what their statistics saw; returns their names
    (those another worker was analyzing are among them: skipped, its statistics will do)."""
    if engine.dialect.name != "postgresql":
        return []
    url = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            sizes = conn.execute(_SIZES, {"tables": list(tables)}).all()
    except SQLAlchemyError as exc:
        _failed("the store", exc)
        return []
    analyzed: list[str] = []
    for name, relpages, reltuples, pages in sizes:
        seen = max(relpages if reltuples >= 0 else 0, _asked.get((url, name), 0))
        if pages < max(2 * seen, MIN_PAGES):
            continue
        _asked[(url, name)] = pages
        try:
            with engine.begin() as conn:  # its one lock is released at once
                conn.exec_driver_sql(f"SET LOCAL default_statistics_target = {SAMPLE_TARGET}")
                conn.exec_driver_sql(f'ANALYZE (SKIP_LOCKED) "{name}"')
        except SQLAlchemyError as exc:
            _failed(name, exc)
            continue
        analyzed.append(name)
    return analyzed


def _failed(what: str, exc: SQLAlchemyError) -> None:
    log.warning("could not refresh the planner statistics of %s (the import goes on): %s", what,
                str(getattr(exc, "orig", exc)).strip()[:200])
