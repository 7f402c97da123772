"""Each import part's census (jobs/census.py), kept in the part's row and advanced inside each batch's
transaction, so it always describes exactly the batches committed."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, and_, select, update

from .schema import import_parts


def advance(conn: Connection, job_id: str, project: str, batch: dict[str, Any],
            merge: Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]]) -> None:
    """Add a batch's census to the part's (in the caller's transaction; the part row is locked by then)."""
    of_part = and_(import_parts.c.job_id == job_id, import_parts.c.project == project)
    known = conn.execute(select(import_parts.c.census).where(of_part)).scalar()
    conn.execute(update(import_parts).where(of_part).values(census=merge(known, batch)))


def of_job(engine: Engine, job_id: str) -> dict[str, dict[str, Any]]:
    """project -> the census of that part (parts that have read nothing yet are absent)."""
    with engine.connect() as conn:
        rows = conn.execute(select(import_parts.c.project, import_parts.c.census)
                            .where(import_parts.c.job_id == job_id).order_by(import_parts.c.id))
        return {r.project: r.census for r in rows if r.census}
