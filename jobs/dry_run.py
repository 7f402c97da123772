"""What a dry run says of how it ended, one way on the progress page, in the wizard and in the CLI.

A dry run writes nothing: its counters are what an import WOULD do with the items it read. One that failed or was
cancelled read only part of the project, so its counts are partial, and nothing was committed. The review found a
failed dry run reading "Failed: 12 items read: 12 created ... Retry resumes from the last committed batch" and, in
the wizard, "Dry run failed: 0 items would fail; the import would create 0" when the source had refused the
credentials. Retry of a dry run does continue its check where it stopped (the part keeps its read position, as an
import's does: jobs/runner.py records the cursor of every batch it checks); a new dry run starts over.
"""
from __future__ import annotations

from importers.words import counted

from .progress import gone_counts, kept_word

STOPPED = ("failed", "cancelled")  # a dry run in these states stopped before it had read every item


def stopped(doc: dict) -> bool:
    """Whether `doc` (a progress document) is a dry run that failed or was cancelled: its counts are partial."""
    return bool(doc.get("dry_run")) and doc.get("status") in STOPPED


def would_be(doc: dict) -> str:
    """"149 would be created, 0 would be updated, 0 would be left unchanged, 1 would fail": a dry run's counters as
    what an import would do with the items it read (skipped for `--duplicates skip`, unchanged for update)."""
    kept = "left unchanged" if kept_word(doc) == "unchanged" else "skipped (already in the workspace)"
    parts = [f"{doc['created']:,} would be created", f"{doc['updated']:,} would be updated",
             f"{doc['skipped']:,} would be {kept}"]
    if doc.get("failed"):
        parts.append(f"{doc['failed']:,} would fail")
    return ", ".join(parts)


def would_do(doc: dict) -> str:
    """"would create 47, update 0, leave 0 unchanged" (or "skip 0"), and "mark 43 items and 51 comments deleted (gone
    from the source)" where it found some (`gone_verb`): what the import would do, as the wizard says it of a dry
    run that read every item."""
    kept = (f"leave {doc['skipped']:,} unchanged" if kept_word(doc) == "unchanged"
            else f"skip {doc['skipped']:,}")
    what = gone_counts(doc.get("deleted_items") or 0, doc.get("deleted_comments") or 0)
    gone = f", and {gone_verb(doc, what)} (gone from the source)" if what else ""
    return f"would create {doc['created']:,}, update {doc['updated']:,}, {kept}{gone}"


def gone_verb(doc: dict, what: str = "them") -> str:
    """What the import does with `what` it finds gone from the source: "erase them" (deletions purge) or "mark them
    deleted"."""
    return f"erase {what}" if doc.get("deletions") == "purge" else f"mark {what} deleted"


def counts_label(doc: dict) -> str:
    """"dry run" before a dry run's would-be counts, "dry run, stopped early" when they are partial."""
    return "dry run, stopped early" if stopped(doc) else "dry run"


def stopped_outcome(doc: dict, again: str) -> str:
    """"Dry run failed: it had read 150 items before it stopped (149 would be created, ...); the rest was not
    checked. Nothing was written." and `again`, what running it again does where the sentence is shown (the
    progress page's Retry, the wizard's Start dry run, `cli.py retry`)."""
    state = doc["status"]
    if doc["processed"] and doc.get("total") is not None and doc["processed"] >= doc["total"]:
        # every item was read, then it stopped (a timeout in the failed-items pass): nothing is left unread
        checked = f"it had read all {counted(doc['processed'], 'items')} ({would_be(doc)}) but did not end"
    elif doc["processed"]:
        checked = (f"it had read {counted(doc['processed'], 'items')} before it stopped ({would_be(doc)}); "
                   f"the rest was not checked")
    else:
        checked = "it stopped before it had read any item"
    return f"Dry run {state}: {checked}. Nothing was written. {again}"


def retry_words(doc: dict, retry: str = "Retry") -> str:
    """What `retry` (the progress page's button, `cli.py retry ID`) does to a stopped dry run: it continues the
    check from the last batch checked (none read: from the start), while a new dry run starts over."""
    if not doc["processed"]:
        return f"{retry} starts the check again."
    return f"{retry} continues the check where it stopped; a new dry run starts over."


START_OVER = "Start dry run checks everything again from the start."  # the wizard's button: a new dry run
