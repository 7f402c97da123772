"""The journeys, their guides, and the `?` help panel shown on every wizard step."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

GUIDES_DIR = Path(__file__).resolve().parent.parent / "guides"
DEFAULT_SUPPORT_EMAIL = "support@acgs2.example"
PITCH_MAX = 100  # under this many items: a pitch
PILOT_MAX = 1_000  # up to this many: a pilot; more: a migration


@dataclass(frozen=True)
class Journey:
    key: str  # also the guide's file name and ?guide= value
    title: str
    icon: str
    summary: str
    fits: str  # the size it fits, in words
    demo_size: str  # the demo size the wizard suggests for it
    duplicates: str  # the duplicate policy the wizard suggests


JOURNEYS = (
    Journey("pitch", "Pitch", ":material/rocket_launch:",
            "Explore ACGS2 in minutes with the demo data or a small real project, then tour the workspace.",
            "under ~100 items", "small", "update"),
    Journey("pilot", "Pilot", ":material/group:",
            "Bring one project for a small team, re-run it as the source changes, and judge the pilot.",
            "up to ~1,000 items", "medium", "update"),
    Journey("migration", "Full migration", ":material/move_up:",
            "Move every project in batches, act on failure reports, cut over and catch the last changes.",
            "more than ~1,000 items", "medium", "update"),
)
BY_KEY = {j.key: j for j in JOURNEYS}


def journey_for_size(size: int | None) -> str:
    """pitch under ~100 items, pilot up to ~1,000, migration above; pitch when the size is unknown."""
    if size is None or size < PITCH_MAX:
        return "pitch"
    return "pilot" if size <= PILOT_MAX else "migration"


def guide_text(key: str) -> str:
    path = GUIDES_DIR / f"{key}.md"
    return path.read_text(encoding="utf-8") if key in BY_KEY and path.exists() else ""


def support_email() -> str:
    return (os.environ.get("SUPPORT_EMAIL") or "").strip() or DEFAULT_SUPPORT_EMAIL


def help_button(size: int | None, where: str) -> None:
    """The `?` popover: the three guides, the one fitting `size` highlighted, and Contact us."""
    fitting = journey_for_size(size)
    with st.popover("?", help="Guides and support", key=f"help_{where}"):
        st.markdown("**Which guide fits?**")
        size_text = f"about {size:,} items" if size is not None else "a size not known yet"
        st.caption(f"This import: {size_text}.")
        for journey in JOURNEYS:
            label = f"{journey.title} guide ({journey.fits})"
            if journey.key == fitting:
                with st.container(border=True):
                    st.success(f"Recommended for this import: {journey.title}", icon=":material/star:")
                    st.page_link("pages/guides.py", label=label, icon=journey.icon,
                                 query_params={"guide": journey.key})
            else:
                st.page_link("pages/guides.py", label=label, icon=journey.icon, query_params={"guide": journey.key})
        st.divider()
        st.markdown(f"Stuck? [Contact us](mailto:{support_email()}) ({support_email()})")
