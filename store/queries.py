"""Reads of the imported data, for the workspace page, `cli.py items|stats`, exports and the HTTP API.

A person reads an item's workflow state by its name (`state`); `status` is the state's category,
for grouping. Rows stored before states existed read their source status as the state's name.

Every read can be limited to some visibilities (importers.model.Visibility: "public", "internal",
"restricted"): `visibility=None` shows everything, `visibility=PUBLIC_ONLY` hides internal and
restricted items and comments, as a filter's default may choose to.

Soft-deleted items and comments (no longer at their source, see store/soft_delete.py) are hidden
by every read here unless the caller asks: `deleted=False` (the default) shows live rows, `True`
only soft-deleted ones, `None` both. References between items are stored by the source's stable
id and shown with the referenced item's current key (it may have moved since).
"""
from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, Engine, and_, func, or_, select
from sqlalchemy.orm import aliased

from .schema import comments, people, work_items
from .soft_delete import visible

# the state's name; rows older than workflow states: their source status, else the category
state_name = func.coalesce(work_items.c.state, func.nullif(work_items.c.source_status, ""), work_items.c.status)
PUBLIC_ONLY = ("public",)


def _visible(table, visibility: Collection[str] | None):
    """The condition keeping rows of `table` whose visibility is in `visibility` (None: all)."""
    return None if visibility is None else table.c.visibility.in_(list(visibility))


def items(engine: Engine, *, source: str | None = None, project: str | None = None, status: str | None = None,
          state: str | None = None, assignee: str | None = None, text: str | None = None, limit: int = 100,
          offset: int = 0, visibility: Collection[str] | None = None, deleted: bool | None = False) -> list[dict]:
    """Items as dicts, `state` (the name) beside `status` (its category); `status` filters by category,
    `state` by name; `visibility` and `deleted` as in the module docstring. Each row has `deleted_at`
    (None for live items), so a page can mark soft-deleted ones."""
    assignee_p = aliased(people)
    reporter_p = aliased(people)
    stmt = (select(work_items.c.id, work_items.c.source, work_items.c.project, work_items.c.key,
                   work_items.c.title, state_name.label("state"), work_items.c.status, work_items.c.source_status,
                   work_items.c.priority,
                   work_items.c.type, work_items.c.labels, work_items.c.created_at, work_items.c.updated_at,
                   work_items.c.url, work_items.c.external_id, work_items.c.visibility, work_items.c.visible_to,
                   work_items.c.notes, work_items.c.deleted_at,
                   assignee_p.c.display_name.label("assignee"), reporter_p.c.display_name.label("reporter"))
            .outerjoin(assignee_p, assignee_p.c.id == work_items.c.assignee_id)
            .outerjoin(reporter_p, reporter_p.c.id == work_items.c.reporter_id))
    conditions = [visible(work_items, deleted)]
    if source:
        conditions.append(work_items.c.source == source)
    if project:
        conditions.append(work_items.c.project == project)
    if status:
        conditions.append(work_items.c.status == status)
    if state:
        conditions.append(state_name == state)
    if assignee:
        conditions.append(assignee_p.c.display_name == assignee)
    if text:
        like = f"%{text}%"
        conditions.append(or_(work_items.c.title.ilike(like), work_items.c.key.ilike(like)))
    if visibility is not None:
        conditions.append(work_items.c.visibility.in_(list(visibility)))
    stmt = stmt.where(and_(*conditions))
    stmt = stmt.order_by(work_items.c.source, work_items.c.project, work_items.c.id).limit(limit).offset(offset)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(stmt)]


def current_keys(conn: Connection, source: str, external_ids: set[str]) -> dict[str, str]:
    """external id -> the item's key now, for the ids stored in this source (soft-deleted included)."""
    if not external_ids:
        return {}
    rows = conn.execute(select(work_items.c.external_id, work_items.c.key).where(and_(
        work_items.c.source == source, work_items.c.external_id.in_(sorted(external_ids)))))
    return {r.external_id: r.key for r in rows}


def item_detail(engine: Engine, item_id: int, visibility: Collection[str] | None = None,
                deleted: bool | None = False) -> dict | None:
    """One item with its comments (None if no such item, or its visibility is filtered out). The item
    is returned even when soft-deleted (the caller asked for it by id: `deleted_at` says so); its
    comments as `deleted` says. `parent_key`, `links[].target_key` and `moved_to_key` are the current
    keys of the items that `parent_id`, `links[].target_id` and `moved_to_id` name, where stored."""
    with engine.connect() as conn:
        stmt = select(work_items, state_name.label("state_name")).where(work_items.c.id == item_id)
        if visibility is not None:
            stmt = stmt.where(_visible(work_items, visibility))
        row = conn.execute(stmt).first()
        if row is None:
            return None
        author = aliased(people)
        stmt = (select(comments.c.body, comments.c.created_at, author.c.display_name.label("author"),
                       comments.c.visibility, comments.c.visible_to, comments.c.deleted_at)
                .outerjoin(author, author.c.id == comments.c.author_id)
                .where(and_(comments.c.item_id == item_id, visible(comments, deleted))))
        if visibility is not None:
            stmt = stmt.where(_visible(comments, visibility))
        thread = conn.execute(stmt.order_by(comments.c.created_at, comments.c.id))
        found = dict(row._mapping)
        found["state"] = found.pop("state_name")
        detail = {**found, "comments": [dict(c._mapping) for c in thread]}
        links = [dict(link) for link in detail["links"] or []]
        named = {i for i in (detail["parent_id"], detail["moved_to_id"], *(li.get("target_id") for li in links)) if i}
        keys = current_keys(conn, detail["source"], named)
    if detail["parent_id"] in keys:
        detail["parent_key"] = keys[detail["parent_id"]]
    for link in links:
        link["target_key"] = keys.get(link.get("target_id") or "", link["target_key"])
    detail["links"] = links
    detail["moved_to_key"] = keys.get(detail["moved_to_id"] or "")
    return detail


def stats(engine: Engine, deleted: bool | None = False) -> dict:
    """Counts of items, comments and people, by source, project, status and state (`deleted` as the
    module docstring says)."""
    shown = visible(work_items, deleted)
    shown_comments = visible(comments, deleted)
    with engine.connect() as conn:
        by = lambda *cols: [dict(r._mapping) for r in conn.execute(  # noqa: E731
            select(*cols, func.count().label("items")).where(shown).group_by(*cols).order_by(*cols))]
        return {
            "items": conn.execute(select(func.count()).select_from(work_items).where(shown)).scalar(),
            "comments": conn.execute(select(func.count()).select_from(comments).where(shown_comments)).scalar(),
            "people": conn.execute(select(func.count()).select_from(people)).scalar(),
            "internal_items": conn.execute(select(func.count()).select_from(work_items)
                                           .where(and_(shown, work_items.c.visibility != "public"))).scalar(),
            "internal_comments": conn.execute(select(func.count()).select_from(comments)
                                              .where(and_(shown_comments, comments.c.visibility != "public"))
                                              ).scalar(),
            "by_source": by(work_items.c.source),
            "by_project": by(work_items.c.source, work_items.c.project),
            "by_status": by(work_items.c.source, work_items.c.status),
            "by_state": by(work_items.c.source, work_items.c.project, work_items.c.status, state_name.label("state")),
        }


def filter_values(engine: Engine, deleted: bool | None = False) -> dict[str, list[str]]:
    """Distinct values for the workspace filters, over the items `deleted` selects."""
    shown = visible(work_items, deleted)
    with engine.connect() as conn:
        values = lambda col: [v for v in conn.execute(  # noqa: E731
            select(col).distinct().where(shown).order_by(col)).scalars() if v]
        assignees = conn.execute(select(people.c.display_name).distinct()
                                 .join(work_items, work_items.c.assignee_id == people.c.id).where(shown)
                                 .order_by(people.c.display_name)).scalars()
        return {"source": values(work_items.c.source), "project": values(work_items.c.project),
                "status": values(work_items.c.status), "state": values(state_name),
                "assignee": [a for a in assignees if a], "visibility": values(work_items.c.visibility)}
