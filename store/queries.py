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

Every read takes the same filters (`Filters`), so the Workspace's table, headline numbers, charts
and per-project counts always describe the same items.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Engine, Select, and_, case, func, or_, select, union

from .schema import comments, import_jobs, import_parts, people, work_items
from .schema import projects as projects_table
from .soft_delete import visible

# the state's name; rows older than workflow states: their source status, else the category
state_name = func.coalesce(work_items.c.state, func.nullif(work_items.c.source_status, ""), work_items.c.status)
PUBLIC_ONLY = ("public",)
ORDERS = {  # name -> ORDER BY of the item list
    "key": (work_items.c.source, work_items.c.project, work_items.c.id),
    "newest": (work_items.c.updated_at.desc(), work_items.c.id.desc()),  # most recently updated first
    "oldest": (work_items.c.updated_at, work_items.c.id),
    "created": (work_items.c.created_at.desc(), work_items.c.id.desc()),
}
OPEN_STATUSES = ("backlog", "todo", "in_progress")


def _visible(table, visibility: Collection[str] | None):
    """The condition keeping rows of `table` whose visibility is in `visibility` (None: all)."""
    return None if visibility is None else table.c.visibility.in_(list(visibility))


@dataclass(frozen=True)
class Filters:
    """Which items a read covers; None means "any". `status` is a state category, `state` a state's
    name, `text` matches titles and keys (case-insensitive), `visibility` and `deleted` as in the
    module docstring."""

    source: str | None = None
    project: str | None = None
    status: str | None = None
    assignee: str | None = None
    text: str | None = None
    state: str | None = None
    visibility: tuple[str, ...] | None = None
    deleted: bool | None = False  # as in the module docstring: live items only by default

    @property
    def narrowed(self) -> bool:
        """Whether anything but `deleted` limits the items."""
        return any((self.source, self.project, self.status, self.assignee, self.text, self.state,
                    self.visibility is not None))

    def apply(self, stmt: Select, assignee_name=None) -> Select:
        """`stmt` restricted to the matching work items (`assignee_name`: the joined assignee's name column)."""
        conditions = [visible(work_items, self.deleted)]
        if self.source:
            conditions.append(work_items.c.source == self.source)
        if self.project:
            conditions.append(work_items.c.project == self.project)
        if self.status:
            conditions.append(work_items.c.status == self.status)
        if self.state:
            conditions.append(state_name == self.state)
        if self.assignee:
            if assignee_name is None:
                named = select(people.c.id).where(people.c.display_name == self.assignee)
                conditions.append(work_items.c.assignee_id.in_(named))
            else:
                conditions.append(assignee_name == self.assignee)
        if self.text and self.text.strip():
            like = f"%{self.text.strip()}%"
            conditions.append(or_(work_items.c.title.ilike(like), work_items.c.key.ilike(like)))
        if self.visibility is not None:
            conditions.append(_visible(work_items, self.visibility))
        return stmt.where(and_(*conditions))


def items(engine: Engine, *, source: str | None = None, project: str | None = None, status: str | None = None,
          state: str | None = None, assignee: str | None = None, text: str | None = None, limit: int = 100,
          offset: int = 0, visibility: Collection[str] | None = None, deleted: bool | None = False,
          order: str = "key") -> list[dict]:
    """Items as dicts, `state` (the name) beside `status` (its category), with `assignee` and `reporter`
    names; `status` filters by category, `state` by name; `visibility` and `deleted` as in the module
    docstring. Each row has `deleted_at` (None for live items), so a page can mark soft-deleted ones.
    `order`: one of ORDERS ("key" by default, as `cli.py items` lists; the console uses "newest")."""
    assignee_p = people.alias()
    reporter_p = people.alias()
    stmt = (select(work_items.c.id, work_items.c.source, work_items.c.project, work_items.c.key,
                   work_items.c.title, state_name.label("state"), work_items.c.status, work_items.c.source_status,
                   work_items.c.priority,
                   work_items.c.type, work_items.c.labels, work_items.c.created_at, work_items.c.updated_at,
                   work_items.c.url, work_items.c.external_id, work_items.c.visibility, work_items.c.visible_to,
                   work_items.c.notes, work_items.c.deleted_at,
                   assignee_p.c.display_name.label("assignee"), reporter_p.c.display_name.label("reporter"))
            .outerjoin(assignee_p, assignee_p.c.id == work_items.c.assignee_id)
            .outerjoin(reporter_p, reporter_p.c.id == work_items.c.reporter_id))
    filters = Filters(source, project, status, assignee, text, state,
                      tuple(visibility) if visibility is not None else None, deleted)
    # a search for "ACME-3" lists ACME-3 first, then ACME-30... in the chosen order
    exact = [case((func.lower(work_items.c.key) == text.strip().lower(), 0), else_=1)] if text else []
    stmt = (filters.apply(stmt, assignee_p.c.display_name).order_by(*exact, *ORDERS[order])
            .limit(limit).offset(offset))
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
    keys of the items that `parent_id`, `links[].target_id` and `moved_to_id` name, where stored, and
    `moved_to_item` the row id of a moved original's new item while it is stored live (else None);
    `assignee` and `reporter` are names, each comment {body, created_at, author, visibility, visible_to,
    deleted_at}, oldest first."""
    assignee_p, reporter_p = people.alias(), people.alias()
    with engine.connect() as conn:
        stmt = (select(work_items, state_name.label("state_name"), assignee_p.c.display_name.label("assignee"),
                       reporter_p.c.display_name.label("reporter"))
                .outerjoin(assignee_p, assignee_p.c.id == work_items.c.assignee_id)
                .outerjoin(reporter_p, reporter_p.c.id == work_items.c.reporter_id)
                .where(work_items.c.id == item_id))
        if visibility is not None:
            stmt = stmt.where(_visible(work_items, visibility))
        row = conn.execute(stmt).first()
        if row is None:
            return None
        author = people.alias()
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
        moved_to_item = conn.execute(select(work_items.c.id).where(and_(
            work_items.c.source == detail["source"], work_items.c.external_id == detail["moved_to_id"],
            visible(work_items)))).scalar() if detail["moved_to_id"] else None
    if detail["parent_id"] in keys:
        detail["parent_key"] = keys[detail["parent_id"]]
    for link in links:
        link["target_key"] = keys.get(link.get("target_id") or "", link["target_key"])
    detail["links"] = links
    detail["moved_to_key"] = keys.get(detail["moved_to_id"] or "")
    detail["moved_to_item"] = moved_to_item
    return detail


def stats(engine: Engine, filters: Filters | None = None, deleted: bool | None = False) -> dict:
    """Headline counts of the matching items (`filters`, else every item `deleted` selects): items,
    their comments, the people on them (assignees, reporters, comment authors), the non-public
    ones, and item counts by source, project, status (category) and state."""
    filters = filters or Filters(deleted=deleted)
    matching = filters.apply(select(work_items.c.id)).scalar_subquery()
    # comments: those `deleted` selects, on the matching items when anything narrows them
    on_items: ColumnElement[bool] = visible(comments, filters.deleted)
    if filters.narrowed:
        on_items = and_(on_items, comments.c.item_id.in_(matching))
    if filters.visibility is not None:
        on_items = and_(on_items, _visible(comments, filters.visibility))
    with engine.connect() as conn:
        def by(*cols) -> list[dict]:
            stmt = filters.apply(select(*cols, func.count().label("items")).select_from(work_items))
            return [dict(r._mapping) for r in conn.execute(stmt.group_by(*cols).order_by(*cols))]

        def count_of(stmt) -> int:
            return conn.execute(stmt).scalar() or 0

        people_ids = union(
            filters.apply(select(work_items.c.assignee_id.label("pid"))),
            filters.apply(select(work_items.c.reporter_id.label("pid"))),
            select(comments.c.author_id.label("pid")).where(on_items),
        ).subquery()
        return {
            "items": count_of(filters.apply(select(func.count()).select_from(work_items))),
            "comments": count_of(select(func.count()).select_from(comments).where(on_items)),
            "people": count_of(select(func.count()).select_from(people_ids).where(people_ids.c.pid.is_not(None))),
            "internal_items": count_of(filters.apply(select(func.count()).select_from(work_items)
                                                     .where(work_items.c.visibility != "public"))),
            "internal_comments": count_of(select(func.count()).select_from(comments)
                                          .where(on_items, comments.c.visibility != "public")),
            "by_source": by(work_items.c.source),
            "by_project": by(work_items.c.source, work_items.c.project),
            "by_status": by(work_items.c.source, work_items.c.status),
            "by_state": by(work_items.c.source, work_items.c.project, work_items.c.status, state_name.label("state")),
        }


def per_project(engine: Engine, filters: Filters = Filters()) -> list[dict]:
    """One row a (source, project) of the matching items: its name, items, open, done, cancelled and moved items (the
    four add up to the items: review, "50 items, 37 open, 7 done" left 6 unaccounted for), comments, the newest
    update, and when it was last imported, to compare with the source."""
    per_item_comments = (select(comments.c.item_id, func.count().label("n")).group_by(comments.c.item_id)
                         .subquery())
    stmt = filters.apply(
        select(work_items.c.source, work_items.c.project,
               func.count().label("items"),
               func.sum(case((work_items.c.status.in_(OPEN_STATUSES), 1), else_=0)).label("open"),
               func.sum(case((work_items.c.status == "done", 1), else_=0)).label("done"),
               func.sum(case((work_items.c.status == "cancelled", 1), else_=0)).label("cancelled"),
               func.sum(case((work_items.c.status == "moved", 1), else_=0)).label("moved"),
               func.coalesce(func.sum(per_item_comments.c.n), 0).label("comments"),
               func.max(work_items.c.updated_at).label("newest update"))
        .select_from(work_items.outerjoin(per_item_comments, per_item_comments.c.item_id == work_items.c.id)))
    stmt = stmt.group_by(work_items.c.source, work_items.c.project).order_by(work_items.c.source,
                                                                           work_items.c.project)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
        names = {(r.source, r.key): r.name for r in conn.execute(select(projects_table.c.source,
                                                                        projects_table.c.key,
                                                                        projects_table.c.name))}
        last = {(r.source, r.project): r.at for r in conn.execute(
            select(import_jobs.c.source, import_parts.c.project, func.max(import_jobs.c.created_at).label("at"))
            .join(import_jobs, import_jobs.c.id == import_parts.c.job_id)
            .group_by(import_jobs.c.source, import_parts.c.project))}
    return [{"source": r["source"], "project": r["project"], "name": names.get((r["source"], r["project"]), ""),
             "items": r["items"], "open": r["open"], "done": r["done"], "cancelled": r["cancelled"],
             "moved": r["moved"], "comments": r["comments"],
             "newest update": r["newest update"], "last import": last.get((r["source"], r["project"]))}
            for r in rows]


def _distinct_sources(engine: Engine, shown: ColumnElement[bool]) -> list[str]:
    with engine.connect() as conn:
        return [v for v in conn.execute(select(work_items.c.source).distinct().where(shown)
                                        .order_by(work_items.c.source)).scalars() if v]


def filter_values(engine: Engine, deleted: bool | None = False, source: str | None = None) -> dict[str, list[str]]:
    """Distinct values for the workspace filters, over the items `deleted` selects; every source's names under
    "source", the other lists only `source`'s when given (JIRA's states while Source is JIRA)."""
    shown = visible(work_items, deleted)
    sources = _distinct_sources(engine, shown)
    if source is not None:
        shown = and_(shown, work_items.c.source == source)
    with engine.connect() as conn:
        values = lambda col: [v for v in conn.execute(  # noqa: E731
            select(col).distinct().where(shown).order_by(col)).scalars() if v]
        assignees = conn.execute(select(people.c.display_name).distinct()
                                 .join(work_items, work_items.c.assignee_id == people.c.id).where(shown)
                                 .order_by(people.c.display_name)).scalars()
        return {"source": sources, "project": values(work_items.c.project),
                "status": values(work_items.c.status), "state": values(state_name),
                "assignee": [a for a in assignees if a], "visibility": values(work_items.c.visibility)}


def project_spellings(engine: Engine, source: str) -> dict[str, str]:
    """The source's projects in the workspace by their lower-case name -> the spelling most of its items carry
    (soft-deleted ones too), else the spelling of its first import (a project with no item stored). Vendors that
    compare project names without case (GitHub's owner/name, GitLab's paths) take `Acme/Web` for `acme/web`: a
    later import typed another way must join the project stored, not start a second one (jobs/launch.py
    `spelled`). A read of the (source, project) index and of the jobs' parts."""
    found: dict[str, tuple[int, str]] = {}
    with engine.connect() as conn:
        for project, count in conn.execute(select(work_items.c.project, func.count()).where(
                work_items.c.source == source).group_by(work_items.c.project)):
            lower = project.lower()
            if lower not in found or count > found[lower][0]:
                found[lower] = (count, project)
        first: dict[str, str] = {}  # a project imported with no item left (none yet, all undone or purged)
        for (project,) in conn.execute(select(import_parts.c.project).join(
                import_jobs, import_jobs.c.id == import_parts.c.job_id).where(import_jobs.c.source == source)
                .order_by(import_jobs.c.created_at)):
            first.setdefault(project.lower(), project)
    return {**first, **{lower: spelling for lower, (_, spelling) in found.items()}}
