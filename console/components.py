"""Small drawing helpers shared by the pages, and the console's words for statuses and outcomes.

One word per idea: a job's state is named only through `job_state_label`, a work item's status
(its workflow state's name) only through `item_status`, a finished job's result only through `outcome`, so no page says
"partial" where another says "Finished with failures". Source data is drawn as text (dataframes,
st.text, charts) or through `console.markdown` (sanitised), never as raw Markdown or HTML.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from importers.model import Status
from importers.words import counted
from jobs import dry_run
from jobs.progress import imported, job_state, job_state_label, kept_word

from . import text_fit
from .state import STEPS

BadgeColor = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray", "grey", "primary"]
JOB_STATES: dict[str, tuple[BadgeColor, str]] = {  # job state -> (badge colour, icon); its label: job_state_label
    "queued": ("gray", ":material/schedule:"),
    "running": ("blue", ":material/sync:"),
    "succeeded": ("green", ":material/check_circle:"),
    "partial": ("orange", ":material/warning:"),
    "failed": ("red", ":material/error:"),
    "cancelled": ("gray", ":material/cancel:"),
    "undone": ("gray", ":material/undo:"),
}
AUTH_LABELS = {  # api.sources() auth -> (label, colour)
    "environment": ("Configured from the environment", "green"),
    "saved": ("Saved credentials", "green"),
    "not configured": ("Not configured", "gray"),
    "none needed": ("No credentials needed", "blue"),
}
FINISHED = {"succeeded", "partial", "failed", "cancelled", "undone"}  # undone: finished, its items removed
EMPTY = "-"  # an empty cell or field, on every page and in every table (a dataframe showed "None")


# -- words -----------------------------------------------------------------------------------
# a job's state and its label: jobs.progress.job_state and job_state_label (imported above), the CLI's words too
def item_status(state: str | None, category: str | None = None) -> str:
    """A work item's status as a person reads it, wherever one is shown: its workflow state's name
    ("In Review"), else its category's label ("In progress", never `in_progress`)."""
    if state:
        return state
    if not category:
        return EMPTY
    try:
        return Status(category).label
    except ValueError:
        return category.replace("_", " ").capitalize()


def priority(value: str | None) -> str:
    """An item's priority as a person reads it: "High", and EMPTY for none (never "None")."""
    return EMPTY if not value or value == "none" else value.capitalize()


# One way to write a time on every page, in UTC: "2025-03-04 10:30", with ":SS" where two can fall in one minute (an
# import's start). A sentence names the zone after the time ("2025-03-04 10:30 UTC"), a table once in the column's
# header ("updated (UTC)"), a chart in its axis title. The review found "01 Dec 01:19:49", "2025-01-08" and a chart
# in the browser's local time beside tables in UTC.
STAMP, STAMP_SECONDS = "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"
TABLE_STAMP = "YYYY-MM-DD HH:mm"  # STAMP in a table's DatetimeColumn (moment.js)


def stamp(value: datetime | str | None, seconds: bool = False) -> str:
    """"2025-03-04 10:30" in UTC, the zone said elsewhere (a column's header); EMPTY for none. The store's times are
    UTC (a naive one too)."""
    if value is None or value == "":
        return EMPTY
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{moment.astimezone(UTC) if moment.tzinfo else moment:{STAMP_SECONDS if seconds else STAMP}}"


def when(value: datetime | str | None, seconds: bool = False) -> str:
    """"2025-03-04 10:30 UTC": a time in a sentence, zone named; EMPTY for none."""
    shown = stamp(value, seconds)
    return shown if shown == EMPTY else f"{shown} UTC"


def time_column(label: str, **options) -> ColumnConfig:
    """A table's column of times: STAMP in UTC, the header saying so once ("updated (UTC)")."""
    return st.column_config.DatetimeColumn(f"{label} (UTC)", format=TABLE_STAMP, timezone="UTC", **options)


def job_name(doc: dict) -> str:
    """"GitHub / acme/web, acme/api · 2026-11-29 09:44:07 UTC": what a person calls an import, to the second (two
    runs a minute apart read alike to the minute)."""
    at = f" · {when(doc['created_at'], seconds=True)}" if doc.get("created_at") else ""
    return f"{imported(doc)}{at}"


KEPT_HELP = {"unchanged": "Read again and found unchanged: nothing to write",
             "skipped": "Already in the workspace: kept as first imported (duplicates: skip)"}


def outcome(doc: dict, again: str | None = None) -> tuple[str, str]:
    """(kind, sentence) saying how a finished job ended; kind is success/warning/error/info.

    Counts say what happened to the items read: "50 items read (0 created, 50 skipped
    (already in the workspace))" rather than "50 items imported" when nothing was; a run that updates
    existing items says "50 unchanged" (see kept_word)."""
    state = job_state(doc)
    read = f"{counted(doc['processed'], 'items')} read"
    kept = (f"{doc['skipped']:,} unchanged" if kept_word(doc) == "unchanged"
            else f"{doc['skipped']:,} skipped (already in the workspace)")
    parts = [f"{doc['created']:,} created", f"{doc['updated']:,} updated", kept]
    if doc.get("failed"):
        parts.append(f"{doc['failed']:,} failed")
    counts = f"{read} ({', '.join(parts)})"  # one colon a sentence: "Succeeded: 50 items read (50 created, ...)"
    if state == "undone":
        return "info", f"Undone at {when(doc.get('undone_at'))}: the items this import created were removed."
    if doc.get("dry_run"):
        return dry_outcome(doc, again)
    if state == "succeeded":
        return "success", f"Succeeded: {counts}."
    if state == "partial":
        return "warning", (f"Finished with failures: {counts}. See which items failed and why below, fix the cause, "
                           f"then retry the failed items.")
    if state == "failed":
        return "error", (f"Failed: {counts} before it stopped. Retry resumes from the last committed batch "
                         f"(nothing is imported twice).")
    if state == "cancelled":
        return "info", f"Cancelled: {counts} before it stopped. Retry resumes where it stopped."
    return "info", f"{job_state_label(doc)}: {counts} so far."


def dry_outcome(doc: dict, again: str | None = None) -> tuple[str, str]:
    """`outcome` of a dry run: what an import would do with the items it read, that nothing was written, and for
    one that failed or was cancelled that its counts are partial and what running it again does (`again`; by
    default the progress page's Retry), see jobs/dry_run.py."""
    if dry_run.stopped(doc):
        kind = "error" if doc["status"] == "failed" else "info"
        return kind, dry_run.stopped_outcome(doc, again or dry_run.retry_words(doc))
    read = f"{counted(doc['processed'], 'items')} read ({dry_run.would_be(doc)}). Nothing was written."
    if doc["status"] == "succeeded":
        return "success", f"Dry run succeeded: {read}"
    if doc["status"] == "partial":
        return "warning", (f"Dry run finished with failures: {read} See which items would fail and why below, fix "
                           f"the cause, then retry the failed items to check them again.")
    return "info", f"Dry run {job_state_label(doc).lower()}: {counted(doc['processed'], 'items')} read so far."


ALERTS = {"success": (st.success, ":material/check_circle:"), "warning": (st.warning, ":material/warning:"),
          "error": (st.error, ":material/error:"), "info": (st.info, ":material/info:")}


def outcome_alert(doc: dict, again: str | None = None) -> None:
    kind, sentence = outcome(doc, again)
    draw, icon = ALERTS[kind]
    draw(sentence, icon=":material/undo:" if job_state(doc) == "undone" else icon)


# -- drawing -----------------------------------------------------------------------------------
COUNTERS = ("processed", "created", "updated", "skipped", "failed")
# numbers with thousands separators ("12,345"), narrow enough for a table to fit 1280 px
COUNT_COLUMNS = {name: st.column_config.NumberColumn(name if name != "processed" else "read", format="localized",
                                                     width="small") for name in COUNTERS}


def count_columns(word: str = "skipped") -> dict:
    """COUNT_COLUMNS with the `skipped` counter named `word` (see kept_word)."""
    return {**COUNT_COLUMNS, "skipped": st.column_config.NumberColumn(word, format="localized", width="small",
                                                                      help=KEPT_HELP.get(word))}


def table(frame: pd.DataFrame, clip: tuple[str, ...] = (), **options):
    """Every table of the console: the whole width, no index, and an empty cell shown as EMPTY (Streamlit shows
    a missing value as "None", which a user took for a Python leftover). `options` go to st.dataframe.

    A text column given a width is shown whole: when its longest text needs more than one line, every row gets
    the lines it needs (`wrapped_row_height`); only the columns in `clip` may be cut, where the text is whole
    elsewhere (an item's title, in the item below the table)."""
    if "row_height" not in options:
        options["row_height"] = wrapped_row_height(frame, options.get("column_config") or {}, clip)
    return st.dataframe(frame, hide_index=True, width="stretch", placeholder=EMPTY, **options)


def wrapped_row_height(frame: pd.DataFrame, column_config: dict, clip: tuple[str, ...] = ()) -> int | None:
    """The row height that shows the longest text of each text column with a width whole (None: one line does).
    A long import name at 1280 px (GitHub's owner/name, several projects) or a long workflow state was cut."""
    needed = 1
    for name, config in column_config.items():
        if name in clip or name not in frame.columns or not isinstance(config, dict):
            continue
        width = text_fit.column_px(config.get("width"))
        if width is None or (config.get("type_config") or {}).get("type", "text") != "text":
            continue
        cells = (str(v) for v in frame[name] if v is not None and not (isinstance(v, float) and pd.isna(v)))
        for text in cells:  # no further than a row shows (text_fit.MAX_LINES): the rest is cut whatever it holds
            needed = max(needed, text_fit.lines(text, width, most=text_fit.MAX_LINES))
            if needed >= text_fit.MAX_LINES:
                return text_fit.row_height(needed)
    return text_fit.row_height(needed)


def _count(label: str, width: int, help: str | None = None) -> ColumnConfig:
    return st.column_config.NumberColumn(label, format="localized", width=width, help=help)


def parts_table(doc: dict) -> None:
    """A several-project import's projects, one row each, named and sized so that the state and the counters fit
    1280 px (the headers were the fields' own names, "at the source" cut); the comment counts scroll on."""
    frame = pd.DataFrame([{**p, "status": job_state_label(p["status"])} for p in doc["parts"]])
    table(frame, column_config={
        "project": st.column_config.TextColumn("project", width=90),
        "status": st.column_config.TextColumn("status", width=150),
        # what this run reads: the whole project on a first or full run, what changed since on a catch-up ("at
        # the source: 1" beside a project of 50 read as items missing)
        "total": _count("to read", 70, "Items this run reads: all of the project's on a first or full run, those "
                        "changed since the last import on an incremental one"),
        **{name: {**column, "width": 78 if name == "skipped" else 62}
           for name, column in count_columns(kept_word(doc)).items()},
        "deleted_items": _count("gone", 62, "Items no longer at the source, marked deleted"),
        "deleted_comments": _count("comments gone", 115),
        "frozen": _count("kept out", 75, "Changes kept out by duplicates: skip"),
        "comments": _count("comments read", 115),
        "comments_written": _count("comments written", 130),
        "comments_at_source": _count("comments at the source", 165, "What the source says the items read have "
                                     "(ServiceNow gives no count); fewer read means comments hidden from this "
                                     "account, past the per-item limit, or unread"),
        "comments_unread": _count("comments failed", 120, "Items whose comments could not be read: Retry failed "
                                  "items reads them again"),
        "error": st.column_config.TextColumn("error", width="large")})


def attempts_frame(doc: dict) -> pd.DataFrame:
    """One row a run of the job: when, by whom, how it ended and why (a failed run's reason), the job's counters
    at its end."""
    return pd.DataFrame([{
        "attempt": "first run" if a["number"] == 1 else f"retry {a['number'] - 1}",
        "started (UTC)": stamp(a["started_at"], seconds=True),
        "by": a.get("requested_by"),
        "outcome": job_state_label(a["status"]) + (f": {a['error']}" if a.get("error") else ""),
        **{c: a[c] for c in COUNTERS},
    } for a in doc["attempts"]])


def attempts_table(doc: dict) -> None:
    """The attempts of a job, the outcome and its reason wrapped in the widest column: a reason at the end of ten
    columns was cut to a few words at 1280 px."""
    frame = attempts_frame(doc)
    table(frame, column_config={
        "attempt": st.column_config.TextColumn("attempt", width=70),
        "started (UTC)": st.column_config.TextColumn("started (UTC)", width=135),
        "by": st.column_config.TextColumn("by", width=60),
        "outcome": st.column_config.TextColumn("outcome", width=215),  # the rest of 1280 px beside the counters
        **{name: {**column, "width": 78 if name == "skipped" else 62}  # "unchanged", the longest header
           for name, column in count_columns(kept_word(doc)).items()}})


def step_indicator(step: int) -> None:
    """"1 Choose source > 2 Configure > 3 Preview > 4 Start", the current step highlighted."""
    cols = st.columns(len(STEPS))
    for number, (col, name) in enumerate(zip(cols, STEPS, strict=True), start=1):
        with col:
            if number < step:
                st.badge(f"{number}. {name}", icon=":material/check:", color="green", width="stretch")
            elif number == step:
                st.badge(f"{number}. {name}", icon=":material/arrow_forward:", color="primary", width="stretch")
            else:
                st.badge(f"{number}. {name}", color="gray", width="stretch")


def status_badge(doc: dict) -> None:
    color, icon = JOB_STATES.get(job_state(doc), ("gray", ""))
    st.badge(job_state_label(doc), color=color, icon=icon or None)


def preview_frame(items) -> pd.DataFrame:
    """The preview table's columns from WorkItems: `status` is the workflow state's name, `category`
    the group it is filed under, `updated` the time as stored (UTC)."""
    return pd.DataFrame([{
        "key": i.key, "title": i.title, "status": item_status(i.state_name, i.status.value),
        "category": item_status(None, i.status.value),
        "assignee": i.assignee.display_name if i.assignee else None, "updated": i.updated_at,
    } for i in items], columns=["key", "title", "status", "category", "assignee", "updated"])


# the preview's columns at 1280 px beside the sidebar, each date and name whole ("2025-01-06 09:0" was cut when the
# table shared the row with its chart; "Selected for Development" in the status). The title wraps onto the lines it
# needs (`table`): a preview's items are not in the Workspace yet, and a title cut at 95 px ("Harden login pa") left
# an analyst checking the sample nothing to read; the created time made room for it (the item shows it once imported)
PREVIEW_COLUMNS = {
    "key": st.column_config.TextColumn("key", width=85),
    "title": st.column_config.TextColumn("title", width=200),
    "status": st.column_config.TextColumn("status", width=172),
    "category": st.column_config.TextColumn("category", width=90),
    "assignee": st.column_config.TextColumn("assignee", width=133),
    "updated": time_column("updated", width=118),
}


# one colour per status category on every chart, whichever categories a chart happens to show
CATEGORY_COLORS = {Status.BACKLOG.label: "#9aa5b1", Status.TODO.label: "#5b8def", Status.IN_PROGRESS.label: "#f2a33a",
                   Status.DONE.label: "#2fa36b", Status.CANCELLED.label: "#c75450", Status.MOVED.label: "#b39ddb"}


def bar_chart(frame: pd.DataFrame, category: str, value: str = "items", color: str | None = None,
              title: str | None = None, height: int | None = None,
              palette: dict[str, str] | None = None) -> None:
    """A horizontal bar chart (counts by category), drawn by Vega: labels are text, never HTML. `color` names
    the column bars are coloured by, `palette` its value -> colour (e.g. CATEGORY_COLORS)."""
    if frame.empty:
        st.caption("Nothing to chart.")
        return
    encoding = dict(x=alt.X(f"{value}:Q", title=value, axis=alt.Axis(format=",d", tickMinStep=1)),
                    y=alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=160)),
                    tooltip=[category, alt.Tooltip(f"{value}:Q", format=",")])
    if color:
        scale = alt.Scale(domain=list(palette), range=list(palette.values())) if palette else alt.Undefined
        encoding["color"] = alt.Color(f"{color}:N", scale=scale)
    height = height or max(90, 28 * frame[category].nunique())  # every bar gets room for its label
    chart = alt.Chart(frame, title=title or alt.Undefined).mark_bar().encode(**encoding).properties(height=height)
    st.altair_chart(chart, width="stretch", height=height + 70)  # plus title and axis


def count(value: int | None, unknown: str = "?") -> str:
    """"12,345", or `unknown` for a progress field not known yet (a queued job's `total`, see jobs/progress.py)."""
    return unknown if value is None else f"{value:,}"


def total_known(doc: dict) -> bool:
    """Whether a progress document has a total to show a percentage of: both `total` and `percentage` are
    None while the source has not counted (a queued job has a percentage of 0 and no total yet)."""
    return doc.get("total") is not None and doc.get("percentage") is not None


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


# -- layout for both screen sizes ----------------------------------------------------------------
# Keyed containers (Streamlit gives them the class st-key-<key>) that CSS adapts to the screen, by
# the key's start: "counters..." keeps three metrics a row on a phone instead of one under another;
# "wide_only..." and "narrow_only..." hold two renderings of one list (a table at 1280 px, cards at 390 px).
PAGE_CSS = """<style>
@keyframes acgs2-slide { 0% { left: -35%; } 100% { left: 100%; } }
.acgs2-indeterminate { position: relative; height: 0.5rem; margin: 0.5rem 0 0.25rem; border-radius: 0.25rem;
  overflow: hidden; background: #dde2ee; }
.acgs2-indeterminate > div { position: absolute; top: 0; bottom: 0; width: 35%; border-radius: 0.25rem;
  background: #3b5bdb; animation: acgs2-slide 1.4s ease-in-out infinite; }
.acgs2-md { font-size: 0.95rem; line-height: 1.5; overflow-wrap: anywhere; }
.acgs2-md pre { background: #f4f6fb; padding: 0.5rem 0.75rem; border-radius: 0.4rem; overflow-x: auto; }
.acgs2-md code { background: #f4f6fb; padding: 0 0.2rem; border-radius: 0.2rem; }
.acgs2-md table { border-collapse: collapse; }
.acgs2-md th, .acgs2-md td { border: 1px solid #dde2ee; padding: 0.2rem 0.5rem; }
.acgs2-comment { border: 1px solid #dde2ee; border-radius: 0.5rem; padding: 0.5rem 0.75rem; margin-bottom: 0.5rem; }
.acgs2-comment-head { font-size: 0.85rem; color: #5c6478; margin-bottom: 0.25rem; }
.acgs2-author { font-weight: 600; color: #1c2233; }
@media (max-width: 640px) {
  [class*="st-key-counters"] [data-testid="stColumn"] { min-width: calc(33% - 1rem) !important;
    flex: 1 1 calc(33% - 1rem) !important; }
  [class*="st-key-counters"] [data-testid="stMetricValue"] { font-size: 1.5rem; }
  [class*="st-key-wide_only"] { display: none; }
}
@media (min-width: 641px) { [class*="st-key-narrow_only"] { display: none; } }
</style>"""


def page_style() -> None:
    """The console's few layout rules (see PAGE_CSS); every page calls it through app.py."""
    st.html(PAGE_CSS)


def indeterminate_bar(text: str) -> None:
    """A moving bar for work whose total is not known yet, with what is being done as its caption."""
    st.html('<div class="acgs2-indeterminate" role="progressbar" aria-label="in progress, total not known yet">'
            '<div></div></div>')
    st.caption(text)
