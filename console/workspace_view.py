"""The Workspace page's item list and item detail: which item is open, and how it is drawn.

The open item lives in the URL (`?item=<id>`), so a link to an item works and a refresh keeps
it. A row selected in the table opens its item; so does the "Open an item" picker. Vendor text is
drawn through console.safe_markdown, vendor URLs only when they are http(s).
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from importers import source_label
from importers.numbers import whole_number
from jobs.spreadsheet import csv_text
from store import queries

from . import components, safe_markdown
from .safe_markdown import literal

OPEN_KEY = "item"  # query parameter and picker key
CUT = ("title",)  # the item table's columns that may be cut: the item below shows them whole
ITEM_COLUMNS = {  # widths that fit 1280 px beside the sidebar; a longer text wraps (components.table) but the title,
    # whole in the item below, is cut: the table's least loss
    "key": st.column_config.TextColumn("key", width=88),  # "ACME-1234"
    # the widest it can be beside the rest at 1280 px, a project column dropped when the keys name it (review: titles
    # cut to "Design search rank" while status had 175 px: titles are what a demo audience reads)
    "title": st.column_config.TextColumn("title", width=190),
    "status": st.column_config.TextColumn("status", width=175),  # "Selected for Development" (JIRA's own) was cut
    "assignee": st.column_config.TextColumn("assignee", width=135),  # "Katherine Johnson" was cut at "small"
    "priority": st.column_config.TextColumn("priority", width=70),
    "updated_at": components.time_column("updated", width=118),
    "project": st.column_config.TextColumn("project", width="small"),
    "source": st.column_config.TextColumn("source", width="small"),
    "visibility": st.column_config.TextColumn("visibility", width="small"),
}


def items_frame(rows: list[dict]) -> pd.DataFrame:
    """The table's columns, the most useful first (a phone shows the first two or three)."""
    frame = pd.DataFrame(rows, columns=["id", "key", "title", "state", "status", "assignee", "priority",
                                        "updated_at", "project", "source", "visibility", "deleted_at"])
    frame["status"] = [components.item_status(s, c) for s, c in zip(frame["state"], frame["status"], strict=True)]
    frame = frame.drop(columns=["state"])
    frame["status"] = [f"{s} (gone from the source)" if gone is not None and not pd.isna(gone) else s
                       for s, gone in zip(frame["status"], frame["deleted_at"], strict=True)]
    frame = frame.drop(columns=["deleted_at"])
    if set(frame["visibility"].dropna()) <= {"public"}:
        frame = frame.drop(columns=["visibility"])
    frame["priority"] = frame["priority"].map(components.priority)
    frame["source"] = frame["source"].map(source_label)
    for column in ("source", "project"):  # one value on the page: said by the filters, and room for the rest
        if frame[column].nunique() == 1:
            frame = frame.drop(columns=column)
    if "project" in frame.columns and all(str(k).startswith(f"{p}-") for k, p in zip(frame["key"], frame["project"],
                                                                                      strict=True)):
        frame = frame.drop(columns="project")  # "ACME-12" says its project: the title takes the room
    return frame


CSV_COLUMNS = ["source", "project", "key", "title", "state", "status", "priority", "assignee", "reporter",
               "visibility", "created_at", "updated_at", "deleted_at", "url"]
CSV_BATCH = 5_000


def items_csv(engine: Engine, filters: queries.Filters, batch: int = CSV_BATCH) -> str:
    """Every item the filters match (not only the page shown), as CSV with formula-looking cells
    neutralised (jobs/spreadsheet.py): the Workspace's download, read when the button is clicked."""
    rows: list[dict] = []
    while True:
        read = queries.items(engine, source=filters.source, project=filters.project, status=filters.status,
                             state=filters.state, assignee=filters.assignee, text=filters.text,
                             visibility=filters.visibility, deleted=filters.deleted, limit=batch, offset=len(rows))
        rows.extend(read)
        if len(read) < batch:
            return csv_text(rows, CSV_COLUMNS)


def open_item() -> int | None:
    return whole_number(str(st.query_params.get(OPEN_KEY) or ""))


def _open(item_id: int | None) -> None:
    if item_id is None:
        st.query_params.pop(OPEN_KEY, None)
    else:
        st.query_params[OPEN_KEY] = str(item_id)


def follow_selection(ids: list[int], rows: list[int]) -> None:
    """A newly selected row (an index into `ids`, the table's item ids) opens its item. A selection
    kept from an earlier run changes nothing, so the picker's choice is not undone by the table."""
    picked = ids[rows[0]] if rows and rows[0] < len(ids) else None
    if picked is not None and picked != st.session_state.get("selected_row_item"):
        st.session_state["selected_row_item"] = picked
        st.session_state[OPEN_KEY] = picked  # the picker shows it too
        _open(picked)


def item_picker(engine: Engine, rows: list[dict]) -> None:
    """"Open an item": the items of this page by key and title (and the open one, if elsewhere)."""
    labels = {r["id"]: f"{r['key']} · {r['title']}" for r in rows}
    current = open_item()
    if current is not None and current not in labels:
        item = queries.item_detail(engine, current)
        if item is not None:
            labels = {current: f"{item['key']} · {item['title']}", **labels}
    if st.session_state.get(OPEN_KEY) not in labels:
        st.session_state[OPEN_KEY] = current if current in labels else None
    st.selectbox("Open an item", list(labels), key=OPEN_KEY, format_func=lambda i: labels.get(i, str(i)),
                 placeholder="Select a row above, or choose an item here", on_change=_picked)


def _picked() -> None:
    _open(st.session_state.get(OPEN_KEY))


NEVER_RESOLVE = (".example", ".invalid")  # names reserved never to resolve (RFC 2606): the demo's items' own


def _safe_url(url: str | None) -> str | None:
    """`url` when a browser can open it: http(s), and not on a name that never resolves (review: "Open in Demo" led
    to a DNS error page mid-pitch)."""
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or host.endswith(NEVER_RESOLVE) or host in {"example", "invalid"}:
        return None
    return url


def moved_to(item: dict) -> None:
    """Where a moved original went (`moved_to_id`: a source that keeps the original as its own
    record, GitLab): its new item's current key, with a button that opens it when it is in the
    workspace; otherwise the source's id, since the store knows no key for it yet. Sources whose
    moves keep one item (a JIRA move, a GitHub transfer) set no `moved_to_id`: nothing to show."""
    if not item.get("moved_to_id"):
        return
    source = source_label(item["source"])
    target = item.get("moved_to_item")
    if target is not None:
        st.info(f"Moved to {literal(item['moved_to_key'])} (in the workspace).", icon=":material/arrow_forward:")
        st.button(f"Open {literal(item['moved_to_key'])}", key="open_moved_to", icon=":material/arrow_forward:",
                  on_click=_open_moved_to, args=(target,))
    elif item.get("moved_to_key"):
        st.info(f"Moved to {literal(item['moved_to_key'])} (no longer at the source).", icon=":material/arrow_forward:")
    else:
        st.info(f"Moved to another project ({source} issue id {literal(item['moved_to_id'])}), not in the "
                f"workspace: import that project to bring it here, or open this one in {source} to follow it.",
                icon=":material/arrow_forward:")


def _open_moved_to(item_id: int) -> None:
    st.session_state[OPEN_KEY] = item_id  # the picker shows it too
    _open(item_id)


def item_detail(engine: Engine, visibility: tuple[str, ...] | None = None) -> None:
    item_id = open_item()
    if item_id is None:
        st.caption("No item open.")
        return
    item = queries.item_detail(engine, item_id, visibility)
    if item is None:
        st.warning("This item is no longer in the workspace (the import that created it was undone).")
        return
    with st.container(border=True, key="item_detail"):
        st.caption(f"{literal(item['key'])}  ·  {source_label(item['source'])} / {literal(item['project'])}")
        st.text(item["title"])  # as text: never Markdown or HTML
        meta = st.columns(4)
        status, category = components.item_status(item["state"], item["status"]), components.item_status(
            None, item["status"])
        meta[0].text(f"Status: {status}" + ("" if status.lower() == category.lower() else f" ({category})"))
        meta[1].text(f"Priority: {components.priority(item['priority'])}")
        meta[2].text(f"Type: {item['type']}")
        meta[3].text(f"Labels: {', '.join(item['labels'] or []) or components.EMPTY}")
        people = st.columns(4)
        people[0].html(safe_markdown.person("Assignee", item["assignee"] or "unassigned"))
        people[1].html(safe_markdown.person("Reporter", item["reporter"] or components.EMPTY))
        people[2].text(f"Created: {components.when(item['created_at'])}")
        people[3].text(f"Updated: {components.when(item['updated_at'])}")
        moved_to(item)
        if item.get("deleted_at"):
            st.warning(f"No longer at the source since {components.when(item['deleted_at'])} (kept here, hidden by "
                       f"default).", icon=":material/delete:")
        if item.get("visibility") and item["visibility"] != "public":
            st.warning(f"{item['visibility'].capitalize()} at the source"
                       + (f": {literal(item['visible_to'])}" if item.get("visible_to") else ""), icon=":material/lock:")
        url = _safe_url(item.get("url"))
        if url:
            st.link_button(f"Open in {source_label(item['source'])}", url, icon=":material/open_in_new:")
        raw = st.toggle("Show the raw text", key="raw_text", help="The description and comments exactly as the "
                        "source sent them, without Markdown formatting")
        st.markdown("**Description**")
        if raw:
            st.code(item["description"] or "(no description)", language=None, wrap_lines=True)
        else:
            st.html(safe_markdown.block(item["description"], "No description."))
        st.markdown(f"**Comments ({len(item['comments'])})**")
        if not item["comments"]:
            st.caption(f"No comments here: they are on {literal(item['moved_to_key'])}, where the move copied them."
                       if item.get("moved_to_item") else "No comments.")
        for comment in item["comments"]:
            when = components.when(comment["created_at"])  # review: no "UTC" here, unlike every other time
            if comment.get("visibility") and comment["visibility"] != "public":
                when += f" · {comment['visibility']}" + (f" ({comment['visible_to']})" if comment.get("visible_to")
                                                         else "")
            if raw:
                st.html(safe_markdown.comment_head(comment["author"], when))
                st.code(comment["body"] or "", language=None, wrap_lines=True)
            else:
                st.html(safe_markdown.comment(comment["author"], when, comment["body"]))
