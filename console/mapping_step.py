"""The wizard's Map step for one project: every source status, priority, type and person, how many items carry
it, and a control to change its target. Draws and collects choices only: what a choice means, the defaults
and the checks are the mapping's own (jobs/mapping.py). Source values are drawn as text, never Markdown.

Widget keys are `map_<project>_<kind>_<row>_<part>`, stable for a mapping (rows are only ever appended).
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from importers import source_label
from importers.errors import ConfigError
from importers.model import Status
from importers.words import counted
from jobs.mapping import CATEGORIES, LEVELS, NAME_MAX, Mapping, Row

from . import components
from .safe_markdown import literal

NEW = "\u2795 New\u2026"  # "➕ New…": the option that reveals a name field
NONE = ""  # no target: "(not a status)" for a label, "choose" for a value that needs one
PEOPLE_SHOWN = 200


def _shown(row: Row, what: str) -> Callable[[str], str]:
    """How a target option reads: itself, or what no target means for this row."""
    empty = f"(not a {what}: a label)" if row.is_label else f"choose a {what}"
    return lambda value: value or empty


def _category(value: str) -> str:
    return Status(value).label if value else "choose a category"


SAMPLED = " (sample)"  # after a count made in the preview's sample, not the whole project (it read "12*")


def _count(mapping: Mapping, row: Row) -> str:
    if row.items is None:
        return "-"
    exact = row.counted in ("source", "dry run") or mapping.sample_is_whole()
    return f"{row.items:,}" + ("" if exact else SAMPLED)


def basis(mapping: Mapping) -> str:
    """Where the counts come from, in words."""
    counted_by = {row.counted for kind in ("statuses", "priorities", "types", "people") for row in mapping.rows(kind)}
    if counted_by == {"source"}:
        return f"Counts: {source_label(mapping.source)}'s own."
    if "dry run" in counted_by:
        return "Counts: exact, from the dry run."
    if mapping.sample_is_whole():
        return f"Counts: exact (the sample read all {counted(mapping.sample, 'items')})."
    return (f"Counts: the source's where it counts; \"(sample)\" marks a count in a sample of "
            f"{counted(mapping.sample, 'items')}, not the whole project (a dry run makes them exact).")


def draw(mapping: Mapping, prefix: str) -> None:
    """The project's values, one row each, in a tab per kind; changes go straight into `mapping`."""
    top = st.container()  # filled last: what is still flagged after this run's choices
    st.caption(basis(mapping))
    kinds = ("statuses", "priorities", "types", "people")
    tabs = st.tabs([f"{kind.capitalize()} ({len(mapping.rows(kind))})" for kind in kinds])
    with tabs[0]:
        _statuses(mapping, prefix)
    with tabs[1]:
        _simple(mapping, "priorities", prefix, list(LEVELS))
    with tabs[2]:
        known = sorted({r.target for r in mapping.types if r.target} | {r.default for r in mapping.types if r.default})
        _simple(mapping, "types", prefix, known, new=True)
    with tabs[3]:
        _people(mapping, prefix)
    if mapping.groups:
        groups = literal(", ".join(mapping.groups[:20]))
        st.caption(f"Assignment groups at the source ({len(mapping.groups)}): {groups}. "
                   "Groups are not imported; tickets keep their assigned person.")
    flagged = mapping.flagged()
    if flagged:
        names = literal(", ".join(row.label or row.source for _, row in flagged))
        one = len(flagged) == 1
        top.warning(f"{counted(len(flagged), 'values')} {'needs' if one else 'need'} a target before the import can "
                    f"start: {names}. {'Its' if one else 'Their'} workflow is beyond what the defaults know: choose a "
                    f"state and its category (or a priority level).",
                    icon=":material/flag:")


def _header(*names: str) -> list:
    cols = st.columns([3, 1, 3, 2])
    for col, name in zip(cols, names, strict=False):
        col.caption(name)
    return cols


def _statuses(mapping: Mapping, prefix: str) -> None:
    _header("Status at the source", "Items", "State in the workspace", "Category")
    for n, row in enumerate(mapping.statuses):
        key = f"{prefix}_statuses_{n}"
        cols = st.columns([3, 1, 3, 2], vertical_alignment="center")
        cols[0].text(("\u2691 " if row.required and not (row.target and row.category) else "") + row.label)
        cols[1].text(_count(mapping, row))
        fixed = {**mapping.states, **{r.target: r.category for r in mapping.statuses
                                      if r is not row and r.target and r.category}}
        states = sorted(set(fixed) | {r.target for r in mapping.statuses if r.target}
                        | {r.default for r in mapping.statuses if r.default})
        options = ([NONE] if row.is_label or not row.target else []) + states + [NEW]
        picked = cols[2].selectbox("State", options, index=options.index(row.target or NONE), key=f"{key}_state",
                                   label_visibility="collapsed", format_func=_shown(row, "status"))
        if picked == NEW:
            picked = cols[2].text_input("New state", key=f"{key}_new", placeholder="name of the new state",
                                        label_visibility="collapsed", max_chars=NAME_MAX["statuses"]).strip()
        category = fixed.get(picked or "")
        if picked and category:
            cols[3].text(_category(category))
        elif picked:
            current = row.category if row.category in CATEGORIES else NONE
            category = cols[3].selectbox("Category", [NONE, *CATEGORIES], index=[NONE, *CATEGORIES].index(current),
                                         key=f"{key}_category", label_visibility="collapsed", format_func=_category)
        _set(cols[2], mapping, "statuses", row.source, picked or None, category or None)
    _more_labels(mapping, "statuses", prefix)


def _set(place, mapping: Mapping, kind: str, source: str, target: str | None, category: str | None = None) -> None:
    """`Mapping.set_target`, its refusal of a name (an invisible or control character) shown under the field, the
    row left as it was."""
    try:
        mapping.set_target(kind, source, target, category)
    except ConfigError as exc:
        place.error(literal(exc), icon=":material/error:")


def _simple(mapping: Mapping, kind: str, prefix: str, targets: list[str], new: bool = False) -> None:
    _header(f"{'Priority' if kind == 'priorities' else 'Type'} at the source", "Items", "In the workspace")
    for n, row in enumerate(mapping.rows(kind)):
        key = f"{prefix}_{kind}_{n}"
        cols = st.columns([3, 1, 3, 2], vertical_alignment="center")
        cols[0].text(("\u2691 " if row.required and not row.target and kind == "priorities" else "") + row.label)
        cols[1].text(_count(mapping, row))
        options = ([NONE] if row.is_label or not row.target else []) + targets + ([NEW] if new else [])
        if row.target and row.target not in options:
            options.insert(0, row.target)
        what = "priority" if kind == "priorities" else "type"
        picked = cols[2].selectbox("Target", options, index=options.index(row.target or NONE), key=f"{key}_target",
                                   label_visibility="collapsed", format_func=_shown(row, what))
        if picked == NEW:
            picked = cols[2].text_input("New type", key=f"{key}_new", placeholder="name of the new type",
                                        label_visibility="collapsed", max_chars=NAME_MAX["types"]).strip()
        _set(cols[2], mapping, kind, row.source, picked or None)
    _more_labels(mapping, kind, prefix)


def _more_labels(mapping: Mapping, kind: str, prefix: str) -> None:
    """Labels of the project not yet used as this kind, to promote one (a workflow kept in labels)."""
    used = {r.source[len("label:"):] for r in mapping.rows(kind) if r.is_label}
    spare = [name for name in mapping.labels if name not in used]
    if not spare:
        return
    with st.expander(f"A label that stands for one of the {kind}"):
        picked = st.selectbox("Label", [NONE, *spare], key=f"{prefix}_{kind}_promote",
                              format_func=lambda v: v or "choose a label")
        if picked and st.button("Add it", key=f"{prefix}_{kind}_promote_add"):
            mapping.use_label(kind, picked)
            st.rerun()


def _people(mapping: Mapping, prefix: str) -> None:
    keys = mapping.person_keys()
    rows = sorted(mapping.people, key=lambda r: -(r.items or 0))[:PEOPLE_SHOWN]
    if len(mapping.people) > PEOPLE_SHOWN:
        st.caption(f"The {PEOPLE_SHOWN} people with the most items are shown; `python cli.py mapping export` lists "
                   f"all {len(mapping.people):,}.")
    _header("Person at the source", "Items", "In the workspace")
    for row in rows:
        n = mapping.people.index(row)
        cols = st.columns([3, 1, 5], vertical_alignment="center")
        cols[0].text(f"{row.label} <{row.email}>" if row.email else row.label)
        cols[1].text(_count(mapping, row))
        own = f"{mapping.source}:{row.source}"
        others = [r.default for r in mapping.people if r is not row and r.default]
        others += [k for k in mapping.workspace_people if k not in others and k not in (row.default, own)]
        options = [row.default or own] + ([own] if row.email and own != row.default else []) + others

        def describe(key: str, row: Row = row, own: str = own) -> str:
            name, email = keys.get(key, (key, None))
            if key == row.default:
                return "Same person: " + ("matched by email, in the workspace" if key in mapping.workspace_people
                                          else "matched by email" if key.startswith("email:") else "new")
            if key == own:
                return "A person of their own (not matched by email)"
            where = " (in the workspace)" if key in mapping.workspace_people else ""
            return f"Merge with {name}" + (f" <{email}>" if email else "") + where

        current = row.target if row.target in options else options[0]
        picked = cols[2].selectbox("Person", options, index=options.index(current), key=f"{prefix}_people_{n}_target",
                                   label_visibility="collapsed", format_func=describe)
        mapping.set_target("people", row.source, picked)


def confirm_merges(mappings: dict[str, Mapping]) -> bool | None:
    """Ask before people with two different emails become one; None when no such merge is chosen."""
    merges = [(project, found) for project, mapping in mappings.items() for found in mapping.merges_to_confirm()]
    if not merges:
        return None
    table = pd.DataFrame([{"project": project, "person": row.label, "email": row.email,
                           "merged into": target.removeprefix("email:"), "their email": email}
                          for project, (row, target, email) in merges])
    st.warning("These people would be merged although their emails differ. Their items and comments will show "
               "one person.", icon=":material/group:")
    components.table(table)
    return st.checkbox("Yes, merge them", key="map_confirm_merges")
