"""Workspace: the imported data, filtered, paged newest first, counted per project, and one item
with its comments.

Everything here came from a source: titles and names are drawn as text, descriptions and comments
through console.safe_markdown (no raw HTML, images as links that are never loaded).
"""
import pandas as pd
import streamlit as st

from console import components, signin, workspace_view
from console.safe_markdown import literal
from importers import source_label
from importers.errors import SourceError
from importers.words import counted
from store import queries
from store.db import engine_for

signin.require_sign_in()  # also when Streamlit runs this page without app.py (see console/signin.py)

PAGE_SIZE = 50
ORDERS = {"newest": "Newest first (last updated)", "oldest": "Oldest first", "created": "Newest created first",
          "key": "By project and key"}

st.title("Workspace")
try:
    engine = engine_for()
    values = queries.filter_values(engine)
except SourceError as exc:
    st.error(literal(exc))
    st.stop()

if not values["source"]:
    st.info("The workspace is empty: nothing has been imported yet. The demo import fills it in seconds.",
            icon=":material/inbox:")
    st.page_link("pages/start.py", label="Try the demo import", icon=":material/play_arrow:")
    st.stop()


def choice(label: str, options: list[str], key: str, names=None) -> str | None:
    wanted = st.query_params.get(key)  # e.g. ?source=demo from the progress page
    index = options.index(wanted) + 1 if wanted in options else 0
    picked = st.selectbox(label, [None] + options, index=index, key=f"filter_{key}",
                          format_func=lambda v: "All" if v is None else (names(v) if names else v))
    return picked


with st.container(border=True):
    cols = st.columns([1, 1, 1, 1, 2])
    with cols[0]:
        source = choice("Source", values["source"], "source", source_label)
    if source is not None:  # the other lists: this source's projects, states and people only
        values = {**queries.filter_values(engine, source=source), "source": values["source"]}
    with cols[1]:
        project = choice("Project", values["project"], "project")
    with cols[2]:
        state = choice("Status", values["state"], "state")
    with cols[3]:
        assignee = choice("Assignee", values["assignee"], "assignee")
    with cols[4]:
        text = st.text_input("Search title or key", key="filter_text", placeholder="e.g. checkout or ACME-12")
visibility = None
if len(values["visibility"]) > 1:  # some items are internal or restricted at their source
    shown = st.segmented_control("Visibility at the source", ["All", "Public only"], default="All",
                                 key="filter_visibility") or "All"
    visibility = queries.PUBLIC_ONLY if shown == "Public only" else None
deleted: bool | None
if st.query_params.get("deleted") == "only":  # the Progress page's link to what a catch-up run marked deleted
    st.info("Only the items no longer at the source (deleted there since they were imported).",
            icon=":material/delete:")
    if st.button("Show every item", icon=":material/filter_alt_off:", key="all_items"):
        st.query_params.pop("deleted", None)
        st.rerun()
    deleted = True
else:
    gone = st.toggle("Include items no longer at the source", key="filter_deleted",
                     help="Items deleted at the source since they were imported are kept here, hidden by default")
    deleted = None if gone else False
filters = queries.Filters(source, project, None, assignee, text.strip() or None, state, visibility, deleted)

totals = queries.stats(engine, filters)
with st.container(key="counters_workspace"):
    a, b, c = st.columns(3)
    a.metric("Work items", f"{totals['items']:,}", help="Items matching the filters")
    b.metric("Comments", f"{totals['comments']:,}", help="Comments on these items")
    c.metric("People", f"{totals['people']:,}", help="Assignees, reporters and comment authors of these items")

view = st.segmented_control("View", ["Items", "Per project"], default="Items", key="view",
                            label_visibility="collapsed") or "Items"

if view == "Per project":
    st.caption("Counts per project, to compare with the source after an import.")
    rows = queries.per_project(engine, filters)
    frame = pd.DataFrame(rows, columns=["source", "project", "name", "items", "open", "done", "cancelled", "moved",
                                        "comments", "newest update", "last import"])
    if not frame["moved"].any():  # only a GitLab move leaves an original behind
        frame = frame.drop(columns="moved")
    frame["source"] = frame["source"].map(source_label)
    components.table(frame, column_config={
        **{n: st.column_config.NumberColumn(n, format="localized", width="small")
           for n in ("items", "open", "done", "cancelled", "moved", "comments")},
        "newest update": components.time_column("newest update"),
        "last import": components.time_column("last import"),
    })
else:
    total = totals["items"]
    order_col, page_col = st.columns([2, 1], vertical_alignment="bottom")
    order = order_col.selectbox("Order", list(ORDERS), format_func=ORDERS.get, key="order")
    pages = max(1, -(-total // PAGE_SIZE))
    page = page_col.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key="page")
    first = (page - 1) * PAGE_SIZE
    if total:
        st.caption(f"Items {first + 1:,}-{min(first + PAGE_SIZE, total):,} of {total:,}. Select a row to open "
                   f"the item below.")
    rows = queries.items(engine, source=source, project=project, state=state, assignee=assignee,
                         text=filters.text, visibility=visibility, deleted=filters.deleted, limit=PAGE_SIZE,
                         offset=first, order=order)
    frame = workspace_view.items_frame(rows)
    if frame.empty:
        st.warning("No item matches these filters.")
    # a new key for each page, order and filter: a selection never points at a row of another page
    table_key = f"items_{hash((filters, order, page))}"
    shown = frame.drop(columns=["id"])
    selection = components.table(shown, on_select="rerun", selection_mode="single-row", key=table_key,
                                 column_config=workspace_view.ITEM_COLUMNS, clip=workspace_view.CUT)
    workspace_view.follow_selection([r["id"] for r in rows], selection.selection.rows if selection else [])
    if total:
        st.download_button(f"Download the {counted(total, 'matching items', 'matching item')} (CSV)",
                           lambda: workspace_view.items_csv(engine, filters), file_name="workspace-items.csv",
                           mime="text/csv", icon=":material/download:", key="items_csv")

    st.subheader("Item")
    workspace_view.item_picker(engine, rows)
    workspace_view.item_detail(engine, visibility)

    with st.container(key="charts"):
        left, right = st.columns(2)
        with left:
            by_project = pd.DataFrame(totals["by_project"])
            if not by_project.empty:
                by_project["project"] = by_project["source"].map(source_label) + " / " \
                    + by_project["project"]
            components.bar_chart(by_project, "project", title="Items by project")
        with right:
            # a person reads the workflow state's name as the status, its category as the colour
            by_state = pd.DataFrame(totals["by_state"], columns=["source", "project", "status", "state", "items"])
            by_state = by_state.groupby(["state", "status"], as_index=False)["items"].sum()
            by_state["category"] = [components.item_status(None, c) for c in by_state["status"]]
            by_state["status"] = [components.item_status(s, c) for s, c in zip(by_state["state"],
                                                                                by_state["status"], strict=True)]
            components.bar_chart(by_state, "status", color="category", title="Items by status",
                                 palette=components.CATEGORY_COLORS)
