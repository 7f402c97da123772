"""The audit log: who did what to which import, when, with what outcome. Never secrets.

Each event is a row in the store (durable, shared by every machine) and a JSON line in
AUDIT_LOG_PATH (default data/audit.jsonl) for log shippers.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import Engine, select

from .db import data_dir
from .files import private_file
from .jobs import now
from .schema import audit_events

ACTIONS = ("start", "end", "retry", "cancel", "undo", "schedule", "purge",
           "refused")  # refused: a denied cancel/retry/undo


def _log_path() -> Path:
    return Path(os.environ.get("AUDIT_LOG_PATH") or data_dir() / "audit.jsonl")


def record(engine: Engine, action: str, *, actor: str, job_id: str | None = None, source: str | None = None,
           **details) -> None:
    at = now()
    with engine.begin() as conn:
        conn.execute(audit_events.insert().values(at=at, actor=actor, action=action, job_id=job_id,
                                                  source=source, details=details))
    line = {"at": at.isoformat(), "actor": actor, "action": action, "job_id": job_id, "source": source, **details}
    path = _log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        private_file(path)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, default=str) + "\n")
    except OSError:
        pass  # the row in the store is the record; the file is a convenience


def events(engine: Engine, job_id: str | None = None, limit: int = 200) -> list:
    stmt = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
    if job_id:
        stmt = stmt.where(audit_events.c.job_id == job_id)
    with engine.connect() as conn:
        return list(conn.execute(stmt))
