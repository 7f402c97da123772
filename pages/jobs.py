"""Jobs: every import, newest first, named by source, projects and time; selecting one opens its
progress view. Scheduled re-runs below."""
import pandas as pd
import streamlit as st

from console import components, signin
from console.safe_markdown import literal
from importers.errors import CONSOLE, SourceError
from jobs import api, dry_run
from jobs.progress import imported, kept_word

signin.require_sign_in()  # also when Streamlit runs this page without app.py (see console/signin.py)

st.title("Jobs")  # the navigation's word
try:
    docs = [api.shown_in(doc, CONSOLE) for doc in api.jobs(100)]
    schedules = api.schedules_list()
except SourceError as exc:
    st.error(literal(exc))
    st.stop()


STOP_PICK = "stop_schedule_pick"
# what a re-run of an undone import does: the undo's import marks no catch-up point, so the first run reads from the
# import before it (or everything) and creates again the items the undo removed
UNDONE_RERUN = "undone: its first run imports again the items the undo removed"


def table_name(doc: dict) -> str:
    """"2026-11-29 09:44:07 · GitHub / acme/web" (the column says UTC): the time first, in the same place on every
    row, then what was imported, wrapped onto more lines where it is long (components.table)."""
    at = f"{components.stamp(doc['created_at'], seconds=True)} · " if doc.get("created_at") else ""
    return f"{at}{imported(doc)}"


# widths that fit 1280 px beside the sidebar with every column shown ("gone" too): a header or a six-digit count
# and the cell's padding; the status fits "Finished with failures" on one line, the name takes the rest (a long one
# wraps: components.table)
NUMBER_WIDTH = 62
NUMBER_WIDTHS = {"updated": 66, "skipped": 83, "failed": 58}  # "unchanged" the longest header
GONE_WIDTH = 56
STATUS_WIDTH = 165
NAME_WIDTH = 290  # with no "gone" column; with one, GONE_WIDTH less


def status_text(doc: dict) -> str:
    """"Succeeded · dry run · 2 attempts": the state now first, then what tells the row apart. A dry run's counters
    are what it would have written; each attempt's outcome is on the progress view (the earlier outcomes, spelled
    out here, were cut at 1280 px)."""
    attempts = len(doc.get("attempts") or [])
    return " · ".join([components.job_state_label(doc)] + ["dry run"] * bool(doc.get("dry_run"))
                      + [f"{attempts} attempts"] * (attempts > 1))


def open_job(job_id: str) -> None:
    # a fresh table next time: a selection kept in the session would open this job again on coming back
    st.session_state["jobs_table_generation"] = st.session_state.get("jobs_table_generation", 0) + 1
    st.switch_page("pages/progress.py", query_params={"job": job_id})


if not docs:
    st.info("No import has run yet.", icon=":material/info:")
    st.page_link("pages/import_wizard.py", label="Start your first import", icon=":material/upload:")
else:
    st.caption("Newest first. Select an import to open its progress view and report.")
    with st.container(key="wide_only_jobs"):
        frame = pd.DataFrame([{
            "import": table_name(d),
            "status": status_text(d),
            **{c: d[c] for c in components.COUNTERS},  # who started it: on its progress view
            "gone": d.get("deleted_items") or 0,
        } for d in docs])
        # "skipped" only when every job listed kept changes out (duplicates: skip); a catch-up's are "unchanged"
        kept_header = "skipped" if all(kept_word(d) == "skipped" for d in docs) else "unchanged"
        if not frame["gone"].any():  # a column of zeros is noise, and at 1280 px it pushes "failed" off the table
            frame = frame.drop(columns="gone")
        picked = components.table(frame, on_select="rerun", selection_mode="single-row",
                                  key=f"jobs_table_{st.session_state.get('jobs_table_generation', 0)}", column_config={
            "import": st.column_config.TextColumn("import (UTC)", width=NAME_WIDTH - GONE_WIDTH * ("gone" in frame)),
            "status": st.column_config.TextColumn("status", width=STATUS_WIDTH, help="The state now first. A dry "
                                                  "run's counts are what it would write: it wrote nothing (a "
                                                  "failed or cancelled one's, of the items it read before it "
                                                  "stopped)"),
            **{name: {**column, "width": NUMBER_WIDTHS.get(name, NUMBER_WIDTH)}
               for name, column in components.count_columns(kept_header).items()},
            "gone": st.column_config.NumberColumn(
                "gone", format="localized", width=GONE_WIDTH,
                help="Items no longer at the source, found by this run and marked deleted"),
        })
        if picked and picked.selection.rows:
            open_job(docs[picked.selection.rows[0]]["job_id"])
    with st.container(key="narrow_only_jobs"):  # a phone: one card an import, everything readable
        for d in docs[:30]:
            with st.container(border=True):
                st.page_link("pages/progress.py", label=literal(components.job_name(d)), icon=":material/monitoring:",
                             query_params={"job": d["job_id"]})
                components.status_badge(d)
                writes = (f"{dry_run.counts_label(d)}: would create {d['created']:,} · update {d['updated']:,}"
                          if d.get("dry_run")
                          else f"{d['created']:,} created · {d['updated']:,} updated · {d['skipped']:,} "
                               f"{kept_word(d)}")
                st.caption(f"{d['processed']:,} read · {writes} · {d['failed']:,} failed" + (
                               f" · {d['deletions_summary']}" if d.get("deletions_summary") else "") + (
                               f" · {len(d['attempts'])} attempts" if len(d.get("attempts") or []) > 1 else ""))

st.subheader("Scheduled re-runs")
st.caption("A scheduled re-run is incremental: each run brings only what changed since the last one. A worker "
           "starts each run when it is due.")
if schedules:
    components.table(pd.DataFrame([{
        "import": imported(s),
        "every (hours)": s["every_hours"],
        "next run": pd.to_datetime(s["next_run_at"]), "booked by": s["booked_by"],
        # a link to its progress view, relative so that a console served under a path prefix keeps it; none before
        # its first run
        "last job": f"progress?job={s['last_job_id']}" if s["last_job_id"] else None, "schedule": s["id"],
    } for s in schedules]), column_config={
        "next run": components.time_column("next run"),
        "last job": st.column_config.LinkColumn("last job", display_text=r"job=([0-9a-f]+)",
                                                help="Open the progress view of the schedule's last run "
                                                     f"({components.EMPTY}: it has not run yet)"),
    })
    with st.expander("Stop a scheduled re-run"):
        what = {s["id"]: f"{imported(s)}, every {s['every_hours']} h" for s in schedules}
        when = {s["id"]: components.when(s["next_run_at"]) for s in schedules}
        # What this browser picked, read before the widget: a schedule stopped elsewhere since the page was drawn
        # is no option any more, and the selectbox would fall back to the first one left and stop that instead.
        chosen = st.session_state.get(STOP_PICK)
        with st.form("stop_schedule"):
            stop = st.selectbox("Scheduled re-run", list(what), format_func=lambda i: f"{what[i]} (next {when[i]}, "
                                                                                    f"schedule {i})", key=STOP_PICK)
            st.caption("No run of it starts after this (one still queued is cancelled); a run already going on is "
                       "stopped from its progress view.")
            if st.form_submit_button("Stop it", icon=":material/event_busy:"):
                target = chosen or stop
                try:
                    api.stop_schedule(target, actor=signin.current_actor())
                    st.toast(literal(f"Stopped: {what[target]} (schedule {target})."))
                    st.rerun()
                except SourceError as exc:
                    st.error(literal(exc))
else:  # there may have been some, stopped since
    st.caption("No scheduled re-run is active.")

if docs:
    with st.expander("Schedule a re-run of an import"):
        finished = [d for d in docs if not d.get("dry_run")]
        # an undone import may be repeated (its projects read again, as `cli.py schedule` books them), but its
        # first run then brings back what the undo removed: the choice says so, not only the toast afterwards
        pick = {d["job_id"]: components.job_name(d) + (f" ({UNDONE_RERUN})" if d.get("undone_at") else "")
                for d in finished}
        if not pick:  # dry runs only: the choice read "No options to select", and Schedule booked nothing
            st.caption("Only an import can be repeated: the dry runs here wrote nothing, and a schedule's runs would "
                       "write. Start an import first.")
        else:
            with st.form("schedule", enter_to_submit=False):  # Enter after typing the hours booked one at once
                job = st.selectbox("Import to repeat", list(pick), format_func=pick.get)
                every = st.number_input("Every how many hours", min_value=1, max_value=api.MAX_EVERY_HOURS, value=24)
                st.caption("Each run reads the same projects with the same settings and policies (duplicates, "
                           "deletions) as the import it repeats.")
                if st.form_submit_button("Schedule", icon=":material/event_repeat:"):
                    try:
                        booked = api.schedule_job(job, int(every), actor=signin.current_actor())
                        d = next(x for x in finished if x["job_id"] == job)
                        again = f"; {UNDONE_RERUN}" if d.get("undone_at") else ""
                        st.toast(literal(f"{imported(d)} re-runs every {int(every)} h (schedule {booked})"
                                         f"{again}."))
                        st.rerun()
                    except SourceError as exc:
                        st.error(literal(exc))
