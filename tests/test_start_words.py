"""The wizard's Start step names a run's projects as written: a project name is a vendor's text (GitLab's are not
checked), and the incremental note is Markdown (regression: a GitLab project named "[Sign in again](https://...)",
beside one imported before, showed as a live link)."""
from __future__ import annotations

from datetime import UTC, datetime

from markdown_it import MarkdownIt

from console.start_words import incremental_note, mapping_line

HOSTILE = "[Sign in again](https://evil.example/login)"


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


def test_project_names_in_the_incremental_note_are_text_not_links():
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    for since in ({HOSTILE: at}, {HOSTILE: at, "OPS": None}, {"OPS": at, HOSTILE: None}, {HOSTILE: at, "**B**": at}):
        html = _html(incremental_note(since))
        assert "<a " not in html and "<strong>" not in html, html
        assert len(since) == 1 or "Sign in again" in html  # one project goes unnamed: "This project was..."


def test_the_mapping_line_agrees_its_counts():
    # review: the Start step read "Mapping: ACME: 0 value(s) changed from the defaults"
    assert mapping_line({"ACME": 1, "MOBILE": 0}) == ("Mapping: ACME: 1 value changed from the defaults; MOBILE: 0 "
                                                      "values changed from the defaults (saved with the import, used "
                                                      "again by later runs)")
