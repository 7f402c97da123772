"""The journeys, their guides, and the `?` help panel of each wizard step.

The panel answers three questions where the user is: what this step needs, what goes wrong here
(and the error just met, if any), and which guide section helps; it recommends the guide of the
import's size once that is known, else of the journey the user chose, and ends with a contact
link configured by CONSOLE_CONTACT_URL (https: or mailto:), never a made-up address; without one, the guides'
troubleshooting (and, for an admin, the setting's name).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import streamlit as st

from importers.words import counted

GUIDES_DIR = Path(__file__).resolve().parent.parent / "guides"
CONTACT_ENV = "CONSOLE_CONTACT_URL"
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


@dataclass(frozen=True)
class Said:
    """A line that reads differently for an admin, who runs the console, and for anyone else, who cannot run a
    command or set a variable on the server and needs to know what to ask the admin for."""
    admin: str
    others: str


Line = str | Said


def said(line: Line, admin: bool) -> str:
    if isinstance(line, Said):
        return line.admin if admin else line.others
    return line


@dataclass(frozen=True)
class StepHelp:
    needs: Line  # what this step needs from the user
    problems: tuple[Line, ...]  # what goes wrong here, and what to do
    sections: dict[str, str]  # journey -> the heading of its guide's section that fits this step


_IN_BACKGROUND = ("The import runs in the background: you can leave the page. A repeated import of a project is "
                  "incremental: it reads only what changed since the last one.")
STEP_HELP = {
    "source": StepHelp(
        "Pick where your work is today. Each card says whether its credentials come from the server's "
        "environment, were saved before, or still need entering. Demo needs nothing.",
        (Said("**cannot reach Redis** or the store: the console's services are down; `./start.sh` starts them.",
              "**cannot reach Redis** or the store: the console's services are down; ask whoever runs this console "
              "to start them."),),
        {"pitch": "Before you start (2 minutes)", "pilot": "Before you start",
         "migration": "Preparation checklist (one day)"}),
    "configure": StepHelp(
        "The address of your tool and a read-only token (or user and password for ServiceNow), then "
        "**Test connection**: it names the account it reached. Saved or server credentials are used for "
        "any field you leave empty.",
        ("**rejected the credentials (HTTP 401)**: the token is wrong or expired; make a new one.",
         "**denied access** (HTTP 403): the account lacks read access to the project.",
         "**could not be reached**: check the address; a proxy or VPN is the usual cause.",
         "**not valid** (a URL or an instance name): the message names the field to correct."),
        {"pitch": "Using a real project", "pilot": "Troubleshooting", "migration": "Troubleshooting"}),
    "configure_demo": StepHelp(
        "How much demo data to make, and whether 3 items a project should fail their first read (to see the "
        "failure report and Retry). Demo needs no address or token: it connects by itself.",
        ("**not valid** (a custom size): the message says which sizes are accepted.",),
        {"pitch": "Steps", "pilot": "Before you start", "migration": "Preparation checklist (one day)"}),
    "map": StepHelp(
        "A look at each status, priority, type and person of the project and what it becomes: a status keeps "
        "its name as a workspace state by default, in the category the source gives it. Change any target; "
        "a flagged value (its workflow is beyond the defaults) needs one before the import can start.",
        ("**needs a target**: choose a state and its category, or a priority level, for each flagged value.",
         "**confirm the merge**: two people with different emails would become one; tick the box if they are.",
         "**Could not read the mapping**: the account may not see the project's settings; the message names why."),
        {"pitch": "Steps", "pilot": "Mapping statuses and people", "migration": "Mapping statuses and people"}),
    "preview": StepHelp(
        "Nothing: the preview only reads. Check that statuses, assignees and dates look right; the "
        "estimated total says how long the import takes. A dry run checks every item without writing.",
        ("**Preview failed**: the project may be gone or unreadable for this account: go back and pick another.",
         "**Estimated total** unknown: some tools (GitHub without search) cannot count up front; the import "
         "still runs."),
        {"pitch": "Steps", "pilot": "Steps (about 15 minutes)", "migration": "How long will the import take?"}),
    "start": StepHelp(
        Said("A running worker (`./start.sh` starts one). " + _IN_BACKGROUND,
             "An import worker running on the server (whoever runs this console starts it). " + _IN_BACKGROUND),
        (Said("**Waiting for a worker**: no worker is running; start one with `python cli.py worker`.",
              "**Waiting for a worker**: no worker is running; ask whoever runs this console to start one."),
         Said("**could not start**: Redis or the store cannot be reached, or the credentials cannot be saved "
              "(CREDENTIAL_ENCRYPTION_KEY).",
              "**could not start**: the console's services cannot be reached, or it cannot keep credentials: ask "
              "whoever runs this console to check its services and its encryption key, with the message shown.")),
        {"pitch": "What to expect", "pilot": "Keeping the pilot current",
         "migration": "Bulk import (while people keep working in the old tool)"}),
}


def journey_for_size(size: int | None) -> str | None:
    """pitch under ~100 items, pilot up to ~1,000, migration above; None when the size is unknown."""
    if size is None:
        return None
    if size < PITCH_MAX:
        return "pitch"
    return "pilot" if size <= PILOT_MAX else "migration"


def fitting_journey(size: int | None, journey: str | None) -> str | None:
    """The guide to recommend: by the import's size once known, else the journey the user chose."""
    return journey_for_size(size) or (journey if journey in BY_KEY else None)


def guide_text(key: str) -> str:
    path = GUIDES_DIR / f"{key}.md"
    return path.read_text(encoding="utf-8") if key in BY_KEY and path.exists() else ""


def slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


def guide_section(key: str, wanted: str) -> tuple[str, str] | None:
    """(heading, body) of the `## ` section of guide `key` whose slug is `wanted`, or None."""
    for chunk in re.split(r"(?m)^## ", guide_text(key))[1:]:
        heading, _, body = chunk.partition("\n")
        if slug(heading) == wanted:
            return heading.strip(), body.strip()
    return None


def contact_url() -> str | None:
    """CONSOLE_CONTACT_URL when it is an https:, http: or mailto: address, else None (not shown)."""
    value = (os.environ.get(CONTACT_ENV) or "").strip()
    parts = urlsplit(value)
    if parts.scheme in ("https", "http") and parts.netloc or parts.scheme == "mailto" and parts.path:
        return value
    return None


def contact_line(admin: bool) -> None:
    """Where to turn when stuck: the contact link, else the guides' troubleshooting; only an admin, who can set it,
    reads the setting's name (a user read "Your team asks you: set CONSOLE_CONTACT_URL" as garble)."""
    url = contact_url()
    if url:
        st.markdown(f"Stuck? [Contact us]({url})")
        return
    if admin:
        st.caption("Stuck? Each guide's **Troubleshooting** section lists the usual causes and their fixes.")
        st.caption(f"No contact link is shown here: set {CONTACT_ENV} (an https: or mailto: address) to give the "
                   "console's users one.")
    else:
        st.caption("Stuck? Each guide's **Troubleshooting** section lists the usual causes and their fixes; for "
                   "anything else, ask whoever runs this console.")


def size_line(size: int | None, journey: str | None) -> str:
    """What the recommendation below it rests on: the import's size, else the journey chosen, else how to pick."""
    if size is not None:
        return f"This import: about {counted(size, 'items')}."
    if journey in BY_KEY:
        return (f"This import's size is not counted yet: the guide of your journey, "
                f"{BY_KEY[journey].title.lower()}, is recommended.")
    return ("This import's size is not counted yet: pick the guide that fits it, " +
            ", ".join(f"{j.title.lower()} {j.fits}" for j in JOURNEYS) + ".")


def help_button(step: str, size: int | None, journey: str | None, error: str | None = None,
                admin: bool = True) -> None:
    """The `?` popover of wizard step `step` (a STEP_HELP key), in an admin's words or, for anyone else, saying
    what to ask the admin for (a command or a variable name was their only instruction)."""
    info = STEP_HELP[step]
    fitting = fitting_journey(size, journey)
    # the help icon is the "?" (a popover labelled just "?" never opens in the browser, Streamlit 1.67)
    with st.popover("", icon=":material/help:", help="Help for this step", key=f"help_{step}"):
        st.markdown("**What this step needs**")
        st.markdown(said(info.needs, admin))
        if error:
            st.markdown("**The error you met here**")
            st.text(error)
        st.markdown("**What can go wrong here**")
        st.markdown("\n".join(f"- {said(line, admin)}" for line in info.problems))
        st.markdown("**Guides**")
        st.caption(size_line(size, journey))
        for j in JOURNEYS:
            section = info.sections[j.key]
            label = f"{j.title} guide: {section}"
            params = {"guide": j.key, "section": slug(section)}
            if j.key == fitting:
                with st.container(border=True):
                    st.success(f"Recommended for this import: {j.title}", icon=":material/star:")
                    st.page_link("pages/guides.py", label=label, icon=j.icon, query_params=params)
            else:
                st.page_link("pages/guides.py", label=label, icon=j.icon, query_params=params)
        st.divider()
        contact_line(admin)
