"""Tables of the workspace store (SQLAlchemy Core; SQLite or PostgreSQL).

Imported rows are unique by (source, external_id) and remember the job that created them and
the one that last updated them: that is what makes re-runs idempotent and "undo" exact.
Import jobs and their parts are the durable history; Redis only mirrors their progress.

Soft deletes (store/soft_delete.py): an item or comment that no longer exists at the source
keeps its row with `deleted_at` (when a run found it gone) and `deleted_by_job`. Every read
for people (store/queries.py: the Workspace, `cli.py items|stats`, exports, the HTTP API)
hides such rows unless asked for them (`deleted=True` or `None`); `purge` erases them. A row
that reappears at the source is written again with both columns cleared.

References between items are kept by the source's stable id (`parent_id`, `links[].target_id`)
besides the key the source gave at read time, so they survive moves; reads show the current
key of the item the id names (see importers/model.py, `Link`).
"""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

SCHEMA_VERSION = 1
metadata = MetaData()


def _ts(name: str, **kw) -> Column:
    return Column(name, DateTime(timezone=True), **kw)


def _visibility() -> list[Column]:
    """Who may see the row at its source (importers.model.Visibility), and whom when it is named."""
    return [Column("visibility", String(16), nullable=False, server_default="public"),
            Column("visible_to", Text)]


def _counters() -> list[Column]:
    return [Column(name, Integer, nullable=False, default=0)
            for name in ("total", "processed", "created", "updated", "skipped", "failed")]


def _sweep_counters() -> list[Column]:
    """What a catch-up run found beyond the pages it read (added later: server defaults, so
    parts recorded before them read 0). `frozen`: changed items and comments read but kept as
    first imported, because the run said `--duplicates skip`."""
    return [Column(name, Integer, nullable=False, default=0, server_default="0")
            for name in ("deleted_items", "deleted_comments", "frozen")]


def _soft_delete() -> list[Column]:
    return [_ts("deleted_at"), Column("deleted_by_job", String(32))]


# store_id: a random id this store is given when first opened; Redis names (the RQ queue) carry it, so
# installs sharing one Redis never take each other's jobs while every worker of one store shares a queue
schema_info = Table("schema_info", metadata, Column("version", Integer, primary_key=True),
                    Column("store_id", String(32)))

projects = Table(
    "projects", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(32), nullable=False),
    Column("key", String(255), nullable=False),
    Column("name", Text, nullable=False),
    Column("url", Text),
    Column("description", Text, nullable=False, default=""),
    Column("created_by_job", String(32)),
    UniqueConstraint("source", "key", name="uq_projects_source_key"),
)

people = Table(
    "people", metadata,
    Column("id", Integer, primary_key=True),
    Column("match_key", String(320), nullable=False, unique=True),  # email:<addr> or <source>:<id>
    Column("display_name", Text, nullable=False, default=""),
    Column("email", String(320)),
    Column("username", String(255)),
    Column("source_ids", JSON, nullable=False),  # {"jira": "5b10...", "github": "123"}
)

work_items = Table(
    "work_items", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("key", String(255), nullable=False),
    Column("project", String(255), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("type", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # the state's category (importers.model.Status)
    Column("source_status", String(255), nullable=False, default=""),
    Column("state", String(255)),  # the workflow state's name; NULL (rows older than states): source_status
    Column("priority", String(16), nullable=False),
    # the source's own values, so a changed mapping re-maps stored items without reading the source again
    Column("source_priority", String(255)),
    Column("source_type", String(255)),
    Column("assignee_source_id", String(255)),
    Column("reporter_source_id", String(255)),
    Column("labels", JSON, nullable=False),
    Column("assignee_id", Integer, ForeignKey("people.id")),
    Column("reporter_id", Integer, ForeignKey("people.id")),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    _ts("closed_at"),
    Column("url", Text),
    Column("parent_key", String(255)),
    Column("parent_id", String(255)),  # the parent's external id: survives the parent's moves
    Column("moved_to_id", String(255)),  # a moved original (GitLab): the external id of the item it became
    Column("links", JSON, nullable=False),
    Column("attachments", JSON, nullable=False),
    Column("content_hash", String(40), nullable=False),
    Column("created_by_job", String(32)),
    Column("updated_by_job", String(32)),
    *_visibility(),
    Column("notes", JSON),  # what the import could not carry over faithfully (WorkItem.notes)
    *_soft_delete(),
    UniqueConstraint("source", "external_id", name="uq_work_items_source_external_id"),
    Index("ix_work_items_source_project", "source", "project"),
    Index("ix_work_items_source_key", "source", "key"),  # comments that name their item by key
    Index("ix_work_items_created_by_job", "created_by_job"),
    Index("ix_work_items_source_moved_to", "source", "moved_to_id"),  # a new item finds the original it copies
)

comments = Table(
    "comments", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("item_id", Integer, ForeignKey("work_items.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", Integer, ForeignKey("people.id")),
    Column("author_source_id", String(255)),  # the author's id at the source (see work_items)
    Column("body", Text, nullable=False, default=""),
    _ts("created_at", nullable=False),
    Column("content_hash", String(40), nullable=False),
    Column("created_by_job", String(32)),
    Column("updated_by_job", String(32)),
    *_visibility(),
    *_soft_delete(),
    UniqueConstraint("source", "external_id", name="uq_comments_source_external_id"),
    Index("ix_comments_item_id", "item_id"),
    Index("ix_comments_created_by_job", "created_by_job"),
)

labels = Table(
    "labels", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(32), nullable=False),
    Column("project", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    UniqueConstraint("source", "project", "name", name="uq_labels"),
)

# Each workspace project's named workflow states, each in one of the five categories; a state is
# made when an item first lands in it, and moves category when a mapping says so.
workflow_states = Table(
    "workflow_states", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(32), nullable=False),
    Column("project", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("category", String(16), nullable=False),
    UniqueConstraint("source", "project", "name", name="uq_workflow_states"),
)

# The mapping a user saved for one source project (source values -> states, priorities, types,
# people); each job keeps the rules it ran with in its options. `applied_fingerprint` names the
# rules the stored items were last mapped with, so a changed mapping re-maps them once.
value_mappings = Table(
    "value_mappings", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(32), nullable=False),
    Column("project", String(255), nullable=False),
    Column("rules", JSON, nullable=False),
    Column("fingerprint", String(40), nullable=False),
    Column("applied_fingerprint", String(40)),
    Column("saved_by", String(255), nullable=False, default="cli"),
    _ts("updated_at", nullable=False),
    UniqueConstraint("source", "project", name="uq_value_mappings"),
)

import_jobs = Table(
    "import_jobs", metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("projects", JSON, nullable=False),
    Column("options", JSON, nullable=False),  # duplicates, since, dry_run, public config: never secrets
    Column("credential_id", String(32)),  # reference into `credentials`, resolved by the worker
    Column("requested_by", String(255), nullable=False, default="cli"),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("retry_failures", Boolean, nullable=False, default=False),
    Column("schedule_id", String(32)),
    _ts("created_at", nullable=False),
    _ts("started_at"),
    _ts("finished_at"),
    _ts("undone_at"),
    Index("ix_import_jobs_created_at", "created_at"),
)

import_parts = Table(
    "import_parts", metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", String(32), ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("project", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("cursor", JSON),  # the source's cursor after the last committed batch
    Column("done_reading", Boolean, nullable=False, default=False),
    Column("high_water", DateTime(timezone=True)),  # newest updated_at seen: next incremental run's "since"
    *_counters(),
    *_sweep_counters(),
    Column("error", Text),
    Column("lease", String(64)),  # which worker run owns the part; a batch commits only under its lease
    _ts("heartbeat_at"),
    _ts("started_at"),
    _ts("finished_at"),
    _ts("waiting_until"),
    Column("wait_reason", Text),
    # items and comments read that are not public (counted by dry runs too), and what the job says
    # about the read (a source's own count differing from the rows it returned)
    Column("internal_items", Integer, nullable=False, server_default=text("0")),
    Column("internal_comments", Integer, nullable=False, server_default=text("0")),
    Column("notes", JSON),
    Column("wait_kind", String(16)),  # why it waits: "rate_limit" (the vendor's limit) or "retry" (an error)
    Column("phase", String(16)),  # what the part does now: estimating, items, comments, writing, retrying
    Column("census", JSON),  # what the part read, by value (jobs/census.py): "what will be created"
    UniqueConstraint("job_id", "project", name="uq_import_parts"),
)

# Every run of a job, the first and each retry, with how it ended: a retry that succeeds does not
# erase the failure before it. Counters are the job's totals when the attempt ended.
import_attempts = Table(
    "import_attempts", metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", String(32), ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),  # 1 for the first run, 2 for the first retry...
    Column("requested_by", String(255), nullable=False, default="cli"),
    _ts("started_at", nullable=False),
    _ts("finished_at"),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    *_counters(),
    UniqueConstraint("job_id", "number", name="uq_import_attempts"),
)

import_failures = Table(
    "import_failures", metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", String(32), ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("project", String(255), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("key", String(255), nullable=False, default=""),
    Column("reason", Text, nullable=False),
    _ts("created_at", nullable=False),
    UniqueConstraint("job_id", "external_id", name="uq_import_failures"),
)

# What a job could not read of an item's secondary data (comments, attachments, people) while it kept
# the item (importers.model.StreamGap); a retry re-reads exactly these and deletes them as it does.
import_gaps = Table(
    "import_gaps", metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", String(32), ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("project", String(255), nullable=False),
    Column("stream", String(32), nullable=False),
    Column("item_external_id", String(255), nullable=False, default=""),  # "" for a project-wide listing
    Column("key", String(255), nullable=False, default=""),
    Column("reason", Text, nullable=False),
    Column("resume", JSON),  # where a project-wide listing resumes
    _ts("created_at", nullable=False),
    UniqueConstraint("job_id", "project", "stream", "item_external_id", name="uq_import_gaps"),
)

credentials = Table(
    "credentials", metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("saved", Boolean, nullable=False, default=False),  # shown as "saved credentials" for the source
    Column("ciphertext", Text, nullable=False),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
)

schedules = Table(
    "schedules", metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("projects", JSON, nullable=False),
    Column("options", JSON, nullable=False),
    Column("credential_id", String(32)),
    Column("every_hours", Integer, nullable=False),
    _ts("next_run_at", nullable=False),
    Column("last_job_id", String(32)),
    Column("enabled", Boolean, nullable=False, default=True),  # False: stopped (kept for the audit trail)
    _ts("created_at", nullable=False),
    Column("created_by", String(255)),  # who booked it: they or an admin may stop it (None: booked before this column)
)

audit_events = Table(
    "audit_events", metadata,
    Column("id", Integer, primary_key=True),
    _ts("at", nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(32), nullable=False),
    Column("job_id", String(32)),
    Column("source", String(32)),
    Column("details", JSON, nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 hex of the token: never the token
    Column("prefix", String(16), nullable=False),  # the token's first characters, to recognise it in a list
    Column("created_by", String(255), nullable=False),
    _ts("created_at", nullable=False),
    _ts("last_used_at"),
    _ts("revoked_at"),
)
