"""Saved mappings per source project, and the workspace's states and people a mapping can target.

A mapping's rules are saved as the JSON its file holds (jobs/mapping.py); `fingerprint` names its targets
and `applied_fingerprint` the targets the project's stored items were last mapped with, so a changed
mapping re-maps them exactly once.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, and_, select, update

from .jobs import now
from .schema import people, value_mappings, workflow_states
from .writer import _insert

PEOPLE_LIMIT = 5000  # people offered as targets; a match by email needs none of them listed


def load(engine: Engine, source: str, project: str) -> dict[str, Any] | None:
    """The rules saved for (source, project), or None."""
    with engine.connect() as conn:
        return conn.execute(select(value_mappings.c.rules).where(and_(
            value_mappings.c.source == source, value_mappings.c.project == project))).scalar()


def saved_by(engine: Engine, source: str, project: str) -> tuple[str, str] | None:
    """(who saved the project's mapping, its fingerprint), or None when none is saved."""
    with engine.connect() as conn:
        row = conn.execute(select(value_mappings.c.saved_by, value_mappings.c.fingerprint).where(and_(
            value_mappings.c.source == source, value_mappings.c.project == project))).first()
    return (row.saved_by, row.fingerprint) if row else None


def save(conn: Connection, source: str, project: str, rules: dict[str, Any], fingerprint: str, actor: str) -> None:
    stmt = _insert(conn, value_mappings).values(source=source, project=project, rules=rules, fingerprint=fingerprint,
                                                saved_by=actor, updated_at=now())
    conn.execute(stmt.on_conflict_do_update(index_elements=["source", "project"], set_={
        "rules": stmt.excluded.rules, "fingerprint": stmt.excluded.fingerprint, "saved_by": stmt.excluded.saved_by,
        "updated_at": stmt.excluded.updated_at}))


def applied(conn: Connection, source: str, project: str) -> str | None:
    """The fingerprint of the mapping the stored items were last mapped with."""
    return conn.execute(select(value_mappings.c.applied_fingerprint).where(and_(
        value_mappings.c.source == source, value_mappings.c.project == project))).scalar()


def mark_applied(conn: Connection, source: str, project: str, rules: dict[str, Any], fingerprint: str) -> None:
    """Record that the project's items now follow `fingerprint` (saving the rules if none were saved)."""
    stmt = _insert(conn, value_mappings).values(source=source, project=project, rules=rules, fingerprint=fingerprint,
                                                applied_fingerprint=fingerprint, saved_by="worker", updated_at=now())
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["source", "project"]))
    conn.execute(update(value_mappings).where(and_(value_mappings.c.source == source,
                                                   value_mappings.c.project == project))
                 .values(applied_fingerprint=fingerprint))


def project_states(engine: Engine, source: str, project: str) -> dict[str, str]:
    """The project's workflow states: name -> category."""
    with engine.connect() as conn:
        rows = conn.execute(select(workflow_states.c.name, workflow_states.c.category).where(and_(
            workflow_states.c.source == source, workflow_states.c.project == project)).order_by(workflow_states.c.id))
        return {r.name: r.category for r in rows}


def workspace_people(engine: Engine, keys: list[str] | None = None) -> dict[str, tuple[str, str | None]]:
    """People in the workspace, match key -> (display name, email): those named by `keys`, else the first
    PEOPLE_LIMIT."""
    stmt = select(people.c.match_key, people.c.display_name, people.c.email)
    stmt = stmt.where(people.c.match_key.in_(keys)) if keys is not None else stmt.order_by(people.c.id).limit(
        PEOPLE_LIMIT)
    with engine.connect() as conn:
        return {r.match_key: (r.display_name, r.email) for r in conn.execute(stmt)}
