"""What the wizard's Start step says of a run's projects: how many items each, and which were imported before (read
incrementally) and which are new. Text for a page, kept here so that pages stay thin."""
from __future__ import annotations

from datetime import datetime

from console import components
from console.safe_markdown import literal
from importers.words import counted


def mapping_line(changed: dict[str, int]) -> str:
    """"Mapping: ACME: 1 value changed from the defaults; MOBILE: 0 values ...": each project's values (states,
    priorities, types, people) the user mapped away from the source's default mapping table. Plain text (st.text)."""
    each = "; ".join(f"{p}: {counted(n, 'values')} changed from the defaults" for p, n in changed.items())
    return f"Mapping: {each} (saved with the import, used again by later runs)"


def items_line(sizes: dict[str, int | None], incremental: bool = False) -> str:
    """"Items: about 100 (ACME 50, MOBILE 50)": every project of the run, not only the one previewed. An incremental
    run reads only what changed: "Items in the project: about 50 (this run reads those updated since its last
    import)" (review: "Items: about 50" beside "this run is incremental", and the run read 1)."""
    known = [n for n in sizes.values() if n is not None]
    label, reads = ("Items in the project", " (this run reads those updated since its last import)") if incremental \
        else ("Items", "")
    if len(sizes) == 1:
        [total] = sizes.values()
        return f"{label}: about {total:,}{reads}" if total is not None \
            else "Items: unknown until the import has read them"
    label, reads = ("Items in the projects", " (this run reads those updated since their last import)") \
        if incremental else ("Items", "")
    each = ", ".join(f"{p} {components.count(n, 'unknown')}" for p, n in sizes.items())
    if len(known) == len(sizes):
        return f"{label}: about {sum(known):,} ({each}){reads}"
    return f"{label}: {each} (unknown until the import has read them)"


def fewer_than_kept(kept: dict[str, int], reading: int) -> str | None:
    """"ACME was last imported at 50 items: reading 7, the import finds the other 43 gone and marks them deleted (a
    dry run counts them first)." for the demo projects of a run (`kept`: project -> the size it was last imported at)
    that a smaller size cuts; None when none is cut. The demo's size is what its projects hold: read smaller, the rest
    is gone from the source (review: the wizard said nothing before 43 items were marked deleted)."""
    cut = {p: n for p, n in kept.items() if n > reading}
    if not cut:
        return None
    each = "; ".join(f"{literal(p)} was last imported at {counted(n, 'items')}: reading {reading:,}, the import finds "
                     f"the other {n - reading:,} gone and marks them deleted" for p, n in cut.items())
    return f"{each} (a dry run in the Preview step counts them first)."


def incremental_note(since: dict[str, datetime | None]) -> str:
    """Which projects of the run were imported before (read since where their last import left off) and which are
    new (read whole): a run of ACME, imported before, and MOBILE, new, said "This project was imported before".
    Markdown (st.info), the names escaped: a GitLab project named "[Sign in again](https://...)" was a live link."""
    since = {literal(p): at for p, at in since.items()}  # a vendor's project names, shown as written
    before = {p: at for p, at in since.items() if at is not None}
    if len(since) == 1:
        [at] = before.values()
        return (f"This project was imported before: this run is incremental. It reads only the items updated since "
                f"{components.when(at)} (where the last import left off), so it is quick, and it creates nothing "
                f"twice.")
    new = [p for p, at in since.items() if at is None]
    each = "; ".join(f"{p} since {components.when(at)}" for p, at in before.items())
    who = "These projects were" if not new else ", ".join(before) + (" was" if len(before) == 1 else " were")
    run = "this run is" if not new else "their run is" if len(before) > 1 else "its run is"
    text = (f"{who} imported before: {run} incremental, reading only the items updated since the last import left "
            f"off ({each}), so it creates nothing twice.")
    if new:
        one = len(new) == 1
        text += f" {', '.join(new)} {'is' if one else 'are'} new: all of {'its' if one else 'their'} items are read."
    return text
