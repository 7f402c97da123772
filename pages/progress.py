"""Progress of one import at /progress?job=<id>: live while it runs, a report once it ended.

The job id lives in the URL, so a refresh, a new tab or coming back later shows the job's
current state; the job itself runs on a worker and never depends on this page being open.
"""
import time
from datetime import UTC, datetime

import altair as alt
import pandas as pd
import streamlit as st

from console import components, signin
from importers.errors import SourceError
from jobs import api

signin.require_sign_in()  # also when Streamlit runs this page without app.py (see console/signin.py)

MAX_SAMPLES = 300
FINISHED = {"succeeded", "partial", "failed", "cancelled"}

job_id = (st.query_params.get("job") or st.session_state.get("started_job") or "").strip()
st.title("Import progress")

if not job_id:
    st.info("No import selected. Start one in the wizard, or open one from the list of imports.",
            icon=":material/info:")
    st.page_link("pages/import_wizard.py", label="Start an import", icon=":material/upload:")
    st.page_link("pages/jobs.py", label="All imports", icon=":material/history:")
    st.stop()
if st.query_params.get("job") != job_id:
    st.query_params["job"] = job_id  # keep the URL shareable and refresh-proof

try:
    doc = api.status(job_id)
except SourceError as exc:
    st.error(str(exc))
    st.page_link("pages/jobs.py", label="All imports", icon=":material/history:")
    st.stop()

actor = signin.current_actor()
samples_key = f"samples_{job_id}"


def record_sample(doc: dict) -> list[dict]:
    """Throughput samples (items/s between two reads), kept in the session for the chart."""
    samples = st.session_state.setdefault(samples_key, [])
    t = time.time()
    if samples:
        last = samples[-1]
        dt = t - last["t"]
        if dt > 0.5 and doc["processed"] >= last["processed"]:
            samples.append({"t": t, "processed": doc["processed"],
                            "rate": (doc["processed"] - last["processed"]) / dt})
    else:
        samples.append({"t": t, "processed": doc["processed"], "rate": doc["items_per_second"] or 0.0})
    del samples[:-MAX_SAMPLES]
    return samples


def throughput_chart(samples: list[dict], running: bool) -> None:
    if len(samples) < 3:
        if running:
            st.caption("The throughput chart fills in while the import runs.")
        return
    frame = pd.DataFrame(samples)
    frame["time"] = pd.to_datetime(frame["t"], unit="s", utc=True)
    chart = (alt.Chart(frame).mark_area(line=True, opacity=0.3)
             .encode(x=alt.X("time:T", title=None, axis=alt.Axis(format="%H:%M:%S")),
                     y=alt.Y("rate:Q", title="items / s"),
                     tooltip=[alt.Tooltip("time:T", format="%H:%M:%S"), alt.Tooltip("rate:Q", format=".0f")])
             .properties(height=180))
    st.altair_chart(chart, width="stretch")


def header(doc: dict) -> None:
    left, right = st.columns([3, 1], vertical_alignment="center")
    with left:
        st.text(f"Job {doc['job_id']}  ·  {doc['source']} / {', '.join(doc['projects'])}"
                f"{'  ·  dry run (nothing is written)' if doc['dry_run'] else ''}")
    with right:
        components.status_badge(doc["status"])


def live_view(doc: dict) -> None:
    header(doc)
    bar_text = f"{doc['percentage']:.1f}%  ·  {doc['processed']:,} / {doc['total']:,} items"
    st.progress(min(doc["percentage"] / 100, 1.0), text=bar_text)
    cols = st.columns(7)
    cols[0].metric("Processed", f"{doc['processed']:,}", help=f"of {doc['total']:,}")
    cols[1].metric("Created", f"{doc['created']:,}")
    cols[2].metric("Updated", f"{doc['updated']:,}")
    cols[3].metric("Skipped", f"{doc['skipped']:,}", help="Already in the workspace, unchanged")
    cols[4].metric("Failed", f"{doc['failed']:,}")
    rate = doc["items_per_second"] or 0.0
    cols[5].metric("Items / s", f"{rate:,.0f}" if rate >= 100 else f"{rate:,.1f}")  # "2,281.5" no longer fits
    cols[6].metric("Time left", components.duration(doc["eta_seconds"]) if doc["status"] not in FINISHED else "-")
    if doc.get("waiting_until"):
        until = datetime.fromisoformat(doc["waiting_until"])
        seconds = max(0, (until - datetime.now(UTC)).total_seconds())
        st.warning(f"Waiting for the source's rate limit: resuming in {components.duration(seconds)}",
                   icon=":material/hourglass_top:")
        if doc.get("wait_reason"):
            st.text(doc["wait_reason"])
    if doc.get("worker_lost"):
        st.error(doc["error"] or "worker lost", icon=":material/heart_broken:")
    elif doc["status"] == "queued":
        st.info("Waiting for a worker to pick the import up. If this lasts, start one with "
                "`python cli.py worker` (./start.sh starts one).", icon=":material/schedule:")
    throughput_chart(record_sample(doc), doc["status"] not in FINISHED)


started_running = doc["status"] not in FINISHED


@st.fragment(run_every="2s" if started_running else None)
def live() -> None:
    current = api.status(job_id) if started_running else doc
    live_view(current)
    if started_running:
        if current["status"] in FINISHED:
            st.rerun()  # the whole page: the report appears and the refresh stops
        if st.button("Cancel import", icon=":material/stop_circle:", key="cancel"):
            try:
                api.cancel(job_id, actor=actor)
                st.toast("Cancelling: the import stops after its current batch.")
            except SourceError as exc:
                st.error(str(exc))


live()
if started_running:
    st.caption("This page refreshes every 2 seconds. You can leave it: the import goes on, and this address "
               "shows it again later.")
    st.stop()

# -- the job has ended: its report and what can be done next ---------------------------------
status = doc["status"]
if doc.get("undone_at"):
    st.info(f"This import was undone at {doc['undone_at'][:19].replace('T', ' ')} UTC: the items it created were "
            f"removed.", icon=":material/undo:")
elif status == "succeeded":
    what = "checked (dry run, nothing written)" if doc["dry_run"] else "imported"
    st.success(f"Done: {doc['processed']:,} items {what}, {doc['created']:,} created, {doc['updated']:,} updated, "
               f"{doc['skipped']:,} skipped.", icon=":material/check_circle:")
elif status == "partial":
    st.warning(f"Finished with {doc['failed']:,} failed item(s); everything else was imported. "
               f"See which and why below, fix the cause, then retry the failed items.", icon=":material/warning:")
elif status == "failed":
    st.error("The import stopped. Retry resumes from the last committed batch (nothing is imported twice).",
             icon=":material/error:")
    if doc.get("error"):
        st.text(f"Reason: {doc['error']}")
elif status == "cancelled":
    st.info("The import was cancelled. Retry resumes where it stopped.", icon=":material/cancel:")

actions = st.columns(4)
if status in ("failed", "cancelled", "partial") and not doc.get("undone_at"):
    label = "Retry failed items" if status == "partial" else "Retry"
    if actions[0].button(label, type="primary", icon=":material/replay:", key="retry"):
        try:
            api.retry(job_id, actor=actor)
            st.session_state.pop(samples_key, None)
            st.rerun()
        except SourceError as exc:
            st.error(str(exc))
if not doc["dry_run"] and not doc.get("undone_at"):
    actions[1].page_link("pages/workspace.py", label="See the data in Workspace", icon=":material/table_view:",
                         query_params={"source": doc["source"]})
actions[2].page_link("pages/import_wizard.py", label="New import", icon=":material/upload:")
actions[3].page_link("pages/jobs.py", label="All imports", icon=":material/history:")

if doc["failed"]:
    st.subheader("Failure report")
    failures = api.failures(job_id, limit=1000)
    st.caption(f"{doc['failed']:,} item(s) failed. Each row says which item and why.")
    st.dataframe(pd.DataFrame(failures, columns=["project", "key", "external_id", "reason"]), hide_index=True,
                 width="stretch")
    st.download_button("Download the failure report (CSV)", api.failures_csv(job_id),
                       file_name=f"import-{job_id}-failures.csv", mime="text/csv", icon=":material/download:")

if not doc["dry_run"] and not doc.get("undone_at") and doc["created"]:
    with st.expander("Undo this import"):
        st.write(f"Removes the {doc['created']:,} item(s) this import created, with their comments. Items it only "
                 f"updated stay as they are.")
        sure = st.checkbox("Yes, remove the items this import created", key="undo_confirm")
        if st.button("Undo this import", disabled=not sure, icon=":material/undo:", key="undo"):
            try:
                result = api.undo(job_id, actor=actor)
                st.toast(f"Removed {result['items_removed']:,} items.")
                st.rerun()
            except SourceError as exc:
                st.error(str(exc))

if len(doc["parts"]) > 1:
    st.subheader("Projects")
    st.dataframe(pd.DataFrame(doc["parts"]), hide_index=True, width="stretch")
