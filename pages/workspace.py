"""Workspace: the imported data, filtered, charted, and one item with its comments.

Everything here came from a source, so it is drawn as text (dataframes, st.text, charts):
a title such as `<script>` or a Markdown image stays inert.
"""
import pandas as pd
import streamlit as st

from console import components, signin
from importers.errors import SourceError
from store import queries
from store.db import engine_for

signin.require_sign_in()  # also when Streamlit runs this page without app.py (see console/signin.py)

LIMIT = 500

st.title("Workspace")
try:
    engine = engine_for()
    totals = queries.stats(engine)
    values = queries.filter_values(engine)
except SourceError as exc:
    st.error(str(exc))
    st.stop()

if not totals["items"]:
    st.info("The workspace is empty: nothing has been imported yet. The demo import fills it in about a minute.",
            icon=":material/inbox:")
    st.page_link("pages/import_wizard.py", label="Import data", icon=":material/upload:")
    st.stop()

a, b, c = st.columns(3)
a.metric("Work items", f"{totals['items']:,}")
b.metric("Comments", f"{totals['comments']:,}")
c.metric("People", f"{totals['people']:,}")


def choice(label: str, options: list[str], key: str):
    wanted = st.query_params.get(key)  # e.g. ?source=demo from the progress page
    index = options.index(wanted) + 1 if wanted in options else 0
    picked = st.selectbox(label, ["All"] + options, index=index, key=f"filter_{key}")
    return None if picked == "All" else picked


with st.container(border=True):
    cols = st.columns([1, 1, 1, 1, 2])
    with cols[0]:
        source = choice("Source", values["source"], "source")
    with cols[1]:
        project = choice("Project", values["project"], "project")
    with cols[2]:
        state = choice("Status", values["state"], "state")
    with cols[3]:
        assignee = choice("Assignee", values["assignee"], "assignee")
    with cols[4]:
        text = st.text_input("Search title or key", key="filter_text", placeholder="e.g. checkout or ACME-12")

rows = queries.items(engine, source=source, project=project, state=state, assignee=assignee,
                     text=text.strip() or None, limit=LIMIT)
# a person reads the workflow state's name as the status, its category beside it for grouping
frame = pd.DataFrame(rows, columns=["id", "source", "project", "key", "title", "state", "status", "priority",
                                    "type", "assignee", "reporter", "labels", "created_at", "updated_at"]) \
    .rename(columns={"state": "status", "status": "category"})
frame["labels"] = frame["labels"].map(lambda v: ", ".join(v or []))
st.caption(f"{len(frame):,} item(s) shown" + (f" (the first {LIMIT})" if len(frame) == LIMIT else "")
           + ". Select a row to see the item and its comments.")
if frame.empty:
    st.warning("No item matches these filters.")
selection = st.dataframe(frame.drop(columns=["id"]), hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key="items_table", column_config={
                             "created_at": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD"),
                             "updated_at": st.column_config.DatetimeColumn("updated", format="YYYY-MM-DD"),
                         })

left, right = st.columns(2)
with left:
    by_source = pd.DataFrame(totals["by_source"])
    components.bar_chart(by_source, "source", title="Items by source")
with right:
    by_state = pd.DataFrame(totals["by_state"], columns=["source", "project", "status", "state", "items"])
    by_state = by_state.groupby(["state", "status"], as_index=False)["items"].sum() \
        .rename(columns={"state": "status", "status": "category"})
    components.bar_chart(by_state, "status", color="category", title="Items by status")

st.subheader("Item detail")
picked_rows = selection.selection.rows if selection else []
ids_by_label = dict(zip(frame["source"] + " / " + frame["key"], frame["id"], strict=True))
labels = list(ids_by_label)
default = labels[picked_rows[0]] if picked_rows else None
label = st.selectbox("Item", labels, index=labels.index(default) if default in labels else None,
                     placeholder="Choose an item, or select a row above", key="item")
item_id = ids_by_label.get(label) if label else None
if item_id is not None:
    item = queries.item_detail(engine, int(item_id))
    if item is None:
        st.warning("This item is no longer in the workspace (the import was undone?).")
    else:
        with st.container(border=True):
            st.text(f"{item['key']}  ·  {item['source']} / {item['project']}")
            st.text(item["title"])  # as text: never Markdown or HTML
            meta = st.columns(4)
            meta[0].text(f"Status: {item['state']} ({item['status'].replace('_', ' ')})")
            meta[1].text(f"Priority: {item['priority']}")
            meta[2].text(f"Type: {item['type']}")
            meta[3].text(f"Labels: {', '.join(item['labels'] or []) or '-'}")
            if item.get("url"):
                st.text(f"In the source: {item['url']}")
            st.markdown("**Description**")
            st.code(item["description"] or "(no description)", language=None, wrap_lines=True)
            st.markdown(f"**Comments ({len(item['comments'])})**")
            if not item["comments"]:
                st.caption("No comments.")
            for comment in item["comments"]:
                with st.container(border=True):
                    when = comment["created_at"]
                    st.text(f"{comment['author'] or 'unknown'}  ·  {when:%Y-%m-%d %H:%M}" if when else
                            (comment["author"] or "unknown"))
                    st.code(comment["body"] or "", language=None, wrap_lines=True)
