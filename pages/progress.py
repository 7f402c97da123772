"""Progress of one import at /progress?job=<id>: live while it runs, a report once it ended.

The job id lives in the URL, so a refresh, a new tab or coming back later shows the job's
current state; the job itself runs on a worker and never depends on this page being open.
Without a job id the page shows the latest import.
"""
import time
from datetime import UTC, datetime

import altair as alt
import pandas as pd
import streamlit as st

from console import components, signin
from console.components import FINISHED
from console.safe_markdown import literal
from importers import source_label, source_noun
from importers.errors import CONSOLE, SourceError
from importers.words import counted
from jobs import api, dry_run
from jobs.progress import kept_word

signin.require_sign_in()  # also when Streamlit runs this page without app.py (see console/signin.py)

MAX_SAMPLES = 300
PHASES = {"estimating": "counting the {noun}", "items": "reading {noun}", "comments": "reading comments",
          "writing": "writing a batch", "retrying": "re-reading the failed {noun}"}

st.title("Import progress")
try:
    job_id = (st.query_params.get("job") or st.session_state.get("started_job") or "").strip()
    latest = False
    if not job_id:
        newest = api.jobs(1)
        job_id, latest = (newest[0]["job_id"], True) if newest else ("", False)
    doc = api.shown_in(api.status(job_id), CONSOLE) if job_id else None  # reasons in the form's words
except SourceError as exc:
    st.error(literal(exc))
    st.page_link("pages/jobs.py", label="All imports", icon=":material/history:")
    st.stop()

if doc is None:
    st.info("No import has run yet. Start one in the wizard, or try the demo from the Start page.",
            icon=":material/info:")
    st.page_link("pages/import_wizard.py", label="Start an import", icon=":material/upload:")
    st.stop()
if st.query_params.get("job") != job_id:
    st.query_params["job"] = job_id  # keep the URL shareable and refresh-proof
if latest:
    st.caption("The latest import. Every import is on the Jobs page.")

actor = signin.current_actor()
samples_key = f"samples_{job_id}"
noun = source_noun(doc["source"])


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


def throughput_chart(samples: list[dict], running: bool, processed: int = 0) -> None:
    """Items a second over time, once there is a rate to draw: while a job waits for a worker or its source
    counts, every rate is 0 and the chart was an empty box with a flat line at "0.000000". Items read and no chart
    yet: the page has not measured enough rates ("fills in once items are read" stood beside 20 items read)."""
    if len(samples) < 3 or not any(s["rate"] for s in samples):
        if running:
            st.caption("The throughput chart fills in once items are read." if not processed else
                       "The throughput chart fills in after a few refreshes: it draws the rate this page measures "
                       "every 2 seconds.")
        return
    frame = pd.DataFrame(samples)
    frame["time"] = pd.to_datetime(frame["t"], unit="s", utc=True)
    # in UTC like every time on the console (Vega draws a time in the browser's zone unless told)
    chart = (alt.Chart(frame).mark_area(line=True, opacity=0.3)
             .encode(x=alt.X("time:T", title="UTC", scale=alt.Scale(type="utc"), axis=alt.Axis(format="%H:%M:%S")),
                     y=alt.Y("rate:Q", title="items / s"),
                     tooltip=[alt.Tooltip("time:T", title="time (UTC)", format="%H:%M:%S", formatType="utc"),
                              alt.Tooltip("rate:Q", format=".0f")])
             .properties(height=180))
    st.altair_chart(chart, width="stretch")


def header(doc: dict) -> None:
    left, right = st.columns([3, 1], vertical_alignment="center")
    with left:
        st.markdown(f"**{literal(components.job_name(doc))}**")
        st.caption(f"Job {doc['job_id']}{'  ·  dry run: nothing is written' if doc['dry_run'] else ''}"
                   f"  ·  started by {literal(doc.get('requested_by') or components.EMPTY)}")
    with right:
        components.status_badge(doc)


def bar(doc: dict) -> None:
    """The bar: a percentage when the total is known, a moving bar and the phase when it is not."""
    if components.job_state(doc) == "undone":
        return
    phase = PHASES.get(doc.get("phase") or "", "").format(noun=noun)
    if not components.total_known(doc):
        components.indeterminate_bar(f"{counted(doc['processed'], noun)} so far; the total is known once "
                                     f"{source_label(doc['source'])} has listed them all"
                                     + (f"  ·  now {phase}" if phase else ""))
        return
    text = f"{doc['percentage']:.1f}%  ·  {doc['processed']:,} / {counted(doc['total'], noun)}"
    if doc["status"] not in FINISHED and phase:
        text += f"  ·  now {phase}"
    st.progress(min(doc["percentage"] / 100, 1.0), text=text)


def counters(doc: dict) -> None:
    running = doc["status"] not in FINISHED
    with st.container(key="counters"):
        cols = st.columns(7)
        total = f"of {components.count(doc['total'])}" if doc["total"] is not None else "the total is not known yet"
        cols[0].metric("Processed", f"{doc['processed']:,}", help=total)
        # a dry run wrote nothing: its counters are what the import would do (review: "Created 1,450" on a dry run
        # read as written, the subtitle alone saying otherwise)
        dry = bool(doc.get("dry_run"))
        cols[1].metric("Would create" if dry else "Created", f"{doc['created']:,}")
        cols[2].metric("Would update" if dry else "Updated", f"{doc['updated']:,}")
        word = kept_word(doc)
        cols[3].metric(word.capitalize(), f"{doc['skipped']:,}", help=components.KEPT_HELP[word])
        cols[4].metric("Failed", f"{doc['failed']:,}")
        rate = doc["items_per_second"] or 0.0
        cols[5].metric("Items / s", f"{rate:,.0f}" if rate >= 100 else f"{rate:,.1f}")  # "2,281.5" would not fit
        # never "0s" while work goes on: no estimate until the total is known and the rate measured ("?" fits
        # the column at 1280 px where "unknown" was cut to "unk...")
        eta = doc["eta_seconds"] if running else None
        cols[6].metric("Time left", components.duration(eta) if eta else ("?" if running else "-"),
                       help="Not known until the total is counted and the rate measured" if running and not eta
                       else None)


def deletions(doc: dict) -> None:
    """What a catch-up run found gone from the source, and where to see those items."""
    if not doc.get("deletions_summary"):
        return
    if doc.get("dry_run"):
        st.info(f"{doc['deletions_summary']}: the import would {dry_run.gone_verb(doc)} (nothing is marked yet).",
                icon=":material/delete:")
        return
    if doc.get("deletions") == "purge":
        st.info(f"{doc['deletions_summary']}: erased from the workspace.", icon=":material/delete_forever:")
        return
    st.info(f"{doc['deletions_summary']}: marked deleted. They stay in the workspace, hidden unless asked for.",
            icon=":material/delete:")
    st.page_link("pages/workspace.py", label="See the items no longer at the source", icon=":material/delete:",
                 query_params={"source": doc["source"], "deleted": "only",
                               **({"project": doc["projects"][0]} if len(doc["projects"]) == 1 else {})})


def waiting(doc: dict) -> None:
    if not doc.get("waiting_until"):
        return
    until = datetime.fromisoformat(doc["waiting_until"])
    seconds = components.duration(max(0, (until - datetime.now(UTC)).total_seconds()))
    tool = source_label(doc["source"])
    if doc.get("wait_kind") == "rate_limit":
        st.warning(f"Waiting for {tool}'s rate limit: resuming in {seconds}.", icon=":material/hourglass_top:")
    else:
        st.warning(f"{tool} did not answer as expected: retrying in {seconds}.", icon=":material/sync_problem:")
    if doc.get("wait_reason"):
        st.text(doc["wait_reason"])


def notes(doc: dict) -> None:
    """What the import said about itself: a reader process it replaced, the source's count differing from its read."""
    for note in doc.get("notes") or []:
        st.caption(f":material/info: {literal(note)}")


def live_view(doc: dict) -> None:
    header(doc)
    bar(doc)
    waiting(doc)
    if doc.get("worker_lost"):
        st.error(literal(doc["error"] or "worker lost"), icon=":material/heart_broken:")
    elif doc["status"] == "queued":
        st.info("Waiting for a worker to pick the import up. If this lasts, " + (
                "start one with `python cli.py worker` (./start.sh starts one)." if actor.admin
                else "ask whoever runs this console to start an import worker."), icon=":material/schedule:")
    counters(doc)
    notes(doc)
    projects(doc)
    throughput_chart(record_sample(doc), doc["status"] not in FINISHED, doc["processed"])


def projects(doc: dict) -> None:
    """One row a project of a several-project import: read, written and failed against the source's count."""
    if len(doc["parts"]) < 2:
        return
    st.markdown("**Projects**")
    components.parts_table(doc)


started_running = doc["status"] not in FINISHED


@st.fragment(run_every="2s")
def live() -> None:
    """The running job, redrawn every 2 s from one fresh progress document."""
    current = api.shown_in(api.status(job_id), CONSOLE)
    if current["status"] in FINISHED or current.get("undone_at"):
        # the whole page, before drawing anything: the badge and the body then come from one document
        # (a finished badge above a running bar and a Cancel button otherwise, see test_ui_pages)
        st.rerun()
    live_view(current)
    if st.button("Cancel import", icon=":material/stop_circle:", key="cancel"):
        try:
            api.cancel(job_id, actor=actor)
            st.toast("Cancelling: the import stops after its current batch.")
        except SourceError as exc:
            st.error(literal(exc))


if started_running:
    live()
    st.caption("This page refreshes every 2 seconds. You can leave it: the import goes on, and this address "
               "shows it again later.")
    st.stop()

# -- the job has ended: its outcome first, then the numbers, then what can be done ----------------
header(doc)
components.outcome_alert(doc)
if doc["status"] == "failed" and doc.get("error"):
    st.text(f"Reason: {doc['error']}")

state = components.job_state(doc)
can_retry = state in ("failed", "cancelled", "partial")
can_browse = not doc["dry_run"] and state != "undone"
actions = iter(st.columns(2 + can_retry + can_browse, vertical_alignment="center"))
if can_retry:
    label = "Retry failed items" if state == "partial" else "Retry"
    if next(actions).button(label, type="primary", icon=":material/replay:", key="retry"):
        try:
            api.retry(job_id, actor=actor)
            st.session_state.pop(samples_key, None)
            st.rerun()
        except SourceError as exc:
            st.error(literal(exc))
if can_browse:
    next(actions).page_link("pages/workspace.py", label="See the data in Workspace", icon=":material/table_view:",
                            query_params={"source": doc["source"]})
next(actions).page_link("pages/import_wizard.py", label="New import", icon=":material/upload:")
next(actions).page_link("pages/jobs.py", label="All imports", icon=":material/history:")

bar(doc)
counters(doc)
notes(doc)
deletions(doc)

if doc["failed"] and state != "undone":
    st.subheader("Failure report")
    failures = api.failures(job_id, limit=1000)
    st.caption(f"{counted(doc['failed'], 'items')} failed. Each row says which item and why.")
    components.table(pd.DataFrame(failures, columns=["project", "key", "external_id", "reason"]), column_config={
        "project": st.column_config.TextColumn("project", width=100),
        "key": st.column_config.TextColumn("key", width=100),
        "external_id": st.column_config.TextColumn("id at the source", width=120),
        "reason": st.column_config.TextColumn("reason", width=480)})  # the rest of 1280 px
    st.download_button("Download the failure report (CSV)", api.failures_csv(job_id),
                       file_name=f"import-{job_id}-failures.csv", mime="text/csv", icon=":material/download:")

if len(doc.get("attempts") or []) > 1:
    st.subheader("Attempts")
    st.caption("Every run of this import, the first and each retry, with how it ended and why. Counts are the "
               "import's totals when that run ended: a retry's row holds what the runs before it did too.")
    components.attempts_table(doc)

if not doc["dry_run"] and state != "undone" and doc["created"]:
    with st.expander("Undo this import"):
        st.write(f"Removes the {counted(doc['created'], 'items')} this import created, with their comments. "
                 f"Items it only updated stay as they are.")
        sure = st.checkbox("Yes, remove the items this import created", key="undo_confirm")
        if st.button("Undo this import", disabled=not sure, icon=":material/undo:", key="undo"):
            try:
                result = api.undo(job_id, actor=actor)
                st.toast(f"Removed {counted(result['items_removed'], 'items')}.")
                st.rerun()
            except SourceError as exc:
                st.error(literal(exc))

projects(doc)
used = api.job_mappings(job_id)
if used:
    # a dry run saves no mapping (jobs/launch.start_import): the import started with it does
    kept = ("a dry run saves no mapping: the import you start with it keeps it for the project's later runs"
            if doc["dry_run"] else "saved for the project's later runs")
    with st.expander("The mapping this dry run used" if doc["dry_run"] else "The mapping this import used"):
        for project, mapping in used.items():
            st.caption(f"{literal(project)}: each source value and its target ({kept})")
            components.table(pd.DataFrame(
                [{"kind": kind, "at the source": r.label, "target": r.target, "category": r.category,
                  "items": r.items} for kind in ("statuses", "priorities", "types", "people")
                 for r in mapping.rows(kind)]))
