"""The wizard's state in st.session_state: one dict, created once, reset when an import starts.

Typed secrets live here only while the wizard needs them (connection test, preview, start) and
are dropped the moment the job is started: the job carries an encrypted reference instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

KEY = "wizard"
STEPS = ("Choose source", "Configure", "Map", "Preview", "Start")
CHOOSE, CONFIGURE, MAP, PREVIEW, START = range(1, len(STEPS) + 1)


@dataclass
class Wizard:
    step: int = 1  # 1..5, index into STEPS + 1
    source: str | None = None
    journey: str | None = None  # pitch / pilot / migration when arriving from a journey card
    config: dict[str, str] = field(default_factory=dict)  # what the user typed, secrets included
    account: str | None = None  # what the last successful connection test reached
    check_error: str | None = None
    dropped: tuple[str, ...] = ()  # secrets typed and dropped by the last failed test: their fields ask again
    saved_note: str | None = None
    project: str | None = None  # the project previewed (one of `projects`)
    projects: list[str] = field(default_factory=list)  # every project this run imports
    mappings: dict[str, Any] = field(default_factory=dict)  # project -> jobs.mapping.Mapping, for mapping_key
    mapping_key: tuple | None = None
    mapping_errors: dict[str, str] = field(default_factory=dict)  # project -> why its mapping could not be read
    merges_confirmed: bool = False  # people with different emails merged: said yes to in the Map step
    duplicates: str = "update"  # a re-run applies what changed; "skip" freezes the first import
    since: str | None = None  # ISO date, "only items updated since"
    preview: Any = None  # jobs.api.Preview for (source, project, since) of preview_key
    preview_key: tuple | None = None
    preview_error: str | None = None
    dry_run_job: str | None = None
    form_generation: int = 0  # bumped after each connection test: the credential form starts afresh

    @property
    def connected(self) -> bool:
        return self.account is not None

    @property
    def size(self) -> int | None:
        """The import's size as far as we know it: the preview's estimate, else the source's count, else the demo
        size the run reads (for "as imported before", the size the project was last imported at)."""
        if self.preview is not None and self.preview.estimated_total is not None:
            return self.preview.estimated_total
        counted = self.mappings.get(self.project) if self.project else None
        if counted is not None and counted.source_total() is not None:  # the Map step: the source counted them
            return counted.source_total()
        if self.source == "demo":
            from importers.demo import parse_size
            from importers.errors import SourceError

            if not self.config.get("size"):  # "as imported before": the size the project was imported at, which
                return self.project_sizes().get(self.project) if self.project else None  # this run reads
            try:
                return parse_size(self.config["size"])
            except SourceError:
                return None
        return None

    def project_sizes(self) -> dict[str, int | None]:
        """Per project of this run, its items as far as we know them (None: not known until the import reads
        them): the preview's estimate for the project previewed, the source's count in the Map step, and for the
        demo the size chosen or the size the project was imported at. The Start step's "Items: about 50" was the
        previewed project's alone in a run of several."""
        sizes: dict[str, int | None] = {}
        kept: dict[str, dict[str, str]] | None = None
        for project in self.projects:
            counted = self.mappings.get(project)
            if project == self.project and self.preview is not None and self.preview.estimated_total is not None:
                sizes[project] = self.preview.estimated_total
            elif counted is not None and counted.source_total() is not None:
                sizes[project] = counted.source_total()
            elif self.source == "demo":
                from importers.demo import parse_size
                from importers.errors import SourceError

                if kept is None:
                    from jobs import api

                    kept = {} if self.config.get("size") else api.kept_by_project("demo")
                try:
                    sizes[project] = parse_size(self.config.get("size") or kept.get(project, {}).get("size"))
                except SourceError:
                    sizes[project] = None
            else:
                sizes[project] = None
        return sizes

    def choose(self, source: str) -> None:
        if source != self.source:
            self.config, self.account, self.check_error, self.saved_note, self.dropped = {}, None, None, None, ()
            self.project, self.preview, self.preview_key, self.preview_error = None, None, None, None
            self.projects, self.mappings, self.mapping_key, self.mapping_errors = [], {}, None, {}
            self.dry_run_job = None
        self.source = source
        self.step = 2

    def forget_connection(self) -> None:
        self.account, self.preview, self.preview_key, self.preview_error = None, None, None, None
        self.mapping_key = None

    def blockers(self) -> list[str]:
        """Why the import cannot start yet (the Map step's choices), one line each; empty when it can."""
        found = [f"{project}: its mapping could not be read" for project in self.mapping_errors]
        for project, mapping in self.mappings.items():
            found += [f"{project}: {row.label or row.source} needs a target" for _, row in mapping.flagged()]
            if mapping.merges_to_confirm() and not self.merges_confirmed:
                found.append(f"{project}: confirm the merge of people with different emails")
        return found


def wizard() -> Wizard:
    if KEY not in st.session_state:
        st.session_state[KEY] = Wizard()
    return st.session_state[KEY]


def reset() -> Wizard:
    """A fresh wizard: secrets, preview and choices forgotten."""
    st.session_state[KEY] = Wizard()
    forget_widgets("cred_", "map_")
    return st.session_state[KEY]


def forget_widgets(*prefixes: str) -> None:
    """Drop the widget state of keys starting with `prefixes` (a new form, a re-read mapping)."""
    for name in [k for k in st.session_state if str(k).startswith(prefixes)]:
        del st.session_state[name]


def begin(journey: str | None, demo: bool) -> Wizard:
    """A fresh wizard with a journey's defaults; on the demo source (configure step) when `demo`."""
    from .help import BY_KEY

    wizard = reset()
    chosen = BY_KEY.get(journey or "pitch", BY_KEY["pitch"])
    wizard.journey = journey
    wizard.duplicates = chosen.duplicates
    if demo:
        from jobs import api

        wizard.choose("demo")
        if not api.kept_by_project("demo"):  # else "as imported before": the journey's size would cut them
            wizard.config["size"] = chosen.demo_size
    return wizard
