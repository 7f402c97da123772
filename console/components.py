"""Small drawing helpers shared by the pages. Source data is always drawn as text (dataframes,
st.text, charts), never through Markdown or HTML, so a title like `<script>` or `![x](http://..)`
stays inert."""
from __future__ import annotations

from typing import Literal

import altair as alt
import pandas as pd
import streamlit as st

from .state import STEPS

BadgeColor = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray", "grey", "primary"]
STATUS_LABELS: dict[str, tuple[str, BadgeColor, str]] = {  # job status -> (label, badge colour, icon)
    "queued": ("Queued", "gray", ":material/schedule:"),
    "running": ("Running", "blue", ":material/sync:"),
    "succeeded": ("Succeeded", "green", ":material/check_circle:"),
    "partial": ("Finished with failures", "orange", ":material/warning:"),
    "failed": ("Failed", "red", ":material/error:"),
    "cancelled": ("Cancelled", "gray", ":material/cancel:"),
}
AUTH_LABELS = {  # api.sources() auth -> (label, colour)
    "environment": ("Configured from the environment", "green"),
    "saved": ("Saved credentials", "green"),
    "not configured": ("Not configured", "gray"),
    "none needed": ("No credentials needed", "blue"),
}


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


def status_badge(status: str) -> None:
    label, color, icon = STATUS_LABELS.get(status, (status, "gray", ""))
    st.badge(label, color=color, icon=icon or None)


def preview_frame(items) -> pd.DataFrame:
    """The preview table's columns from WorkItems: `status` is the workflow state's name, `category`
    the group it is filed under."""
    return pd.DataFrame([{
        "key": i.key, "title": i.title, "status": i.state_name, "category": i.status.label,
        "assignee": i.assignee.display_name if i.assignee else None,
        "created": i.created_at, "updated": i.updated_at,
    } for i in items], columns=["key", "title", "status", "category", "assignee", "created", "updated"])


def bar_chart(frame: pd.DataFrame, category: str, value: str = "items", color: str | None = None,
              title: str | None = None, height: int | None = None) -> None:
    """A horizontal bar chart (counts by category), drawn by Vega: labels are text, never HTML."""
    if frame.empty:
        st.caption("Nothing to chart yet.")
        return
    encoding = dict(x=alt.X(f"{value}:Q", title=value),
                    y=alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=160)),
                    tooltip=[category, value])
    if color:
        encoding["color"] = alt.Color(f"{color}:N")
    height = height or max(90, 28 * frame[category].nunique())  # every bar gets room for its label
    chart = alt.Chart(frame, title=title or alt.Undefined).mark_bar().encode(**encoding).properties(height=height)
    st.altair_chart(chart, width="stretch", height=height + 70)  # plus title and axis


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
