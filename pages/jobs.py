"""Jobs: every import, newest first, each opening its progress view; scheduled re-runs."""
import pandas as pd
import streamlit as st

from console import components, signin
from importers import source_class
from importers.errors import SourceError
from jobs import api

signin.require_sign_in()  # also when Streamlit runs this page without app.py (see console/signin.py)

st.title("Imports")
try:
    docs = api.jobs(100)
    schedules = api.schedules_list()
except SourceError as exc:
    st.error(str(exc))
    st.stop()

if not docs:
    st.info("No import has run yet.", icon=":material/info:")
    st.page_link("pages/import_wizard.py", label="Start your first import", icon=":material/upload:")
else:
    rows = [{
        "open": f"progress?job={d['job_id']}",
        "started": pd.to_datetime(d["created_at"]),
        "source": d["source"],
        "projects": ", ".join(d["projects"]),
        "status": components.STATUS_LABELS.get(d["status"], (d["status"],))[0]
        + (" (undone)" if d.get("undone_at") else "") + (" (dry run)" if d.get("dry_run") else ""),
        "progress": d["percentage"] / 100,
        "processed": d["processed"], "created": d["created"], "updated": d["updated"],
        "skipped": d["skipped"], "failed": d["failed"], "by": d.get("requested_by"),
    } for d in docs]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
        "open": st.column_config.LinkColumn("job", display_text=r"job=(.*)$", help="Open its progress view"),
        "started": st.column_config.DatetimeColumn("started (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "progress": st.column_config.ProgressColumn("progress", format="percent", min_value=0, max_value=1),
    })
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    labels = {d["job_id"]: f"{d['job_id']}  {d['source']} / {', '.join(d['projects'])}  ({d['status']})"
              for d in docs}
    chosen = left.selectbox("Open an import", list(labels), format_func=labels.get, key="open_job")
    with right:
        st.page_link("pages/progress.py", label="Open its progress", icon=":material/monitoring:",
                     query_params={"job": chosen})

st.subheader("Scheduled re-runs")
st.caption("A scheduled re-run is incremental: each run brings only what changed since the last one.")
if schedules:
    st.dataframe(pd.DataFrame([{
        "source": s["source"], "projects": ", ".join(s["projects"]), "every (hours)": s["every_hours"],
        "next run": pd.to_datetime(s["next_run_at"]), "last job": s["last_job_id"],
    } for s in schedules]), hide_index=True, width="stretch", column_config={
        "next run": st.column_config.DatetimeColumn("next run (UTC)", format="YYYY-MM-DD HH:mm"),
    })
else:
    st.caption("None yet.")

if docs:
    with st.expander("Schedule a re-run of an import"):
        finished = [d for d in docs if not d.get("dry_run")]
        pick = {d["job_id"]: labels[d["job_id"]] for d in finished}
        with st.form("schedule"):
            job = st.selectbox("Import to repeat", list(pick), format_func=pick.get)
            every = st.number_input("Every how many hours", min_value=1, max_value=24 * 30, value=24)
            if st.form_submit_button("Schedule", icon=":material/event_repeat:"):
                d = next(x for x in finished if x["job_id"] == job)
                try:
                    api.schedule(d["source"], d["projects"], int(every), duplicates="update",
                                 actor=signin.current_user() or "console")
                    st.toast(f"{source_class(d['source']).label} re-run scheduled every {int(every)} h.")
                    st.rerun()
                except SourceError as exc:
                    st.error(str(exc))
