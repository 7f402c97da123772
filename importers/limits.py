"""Per-item limits: how much of one item a vendor can make us store.

A vendor controls how long a description is and how many comments an item has; one item with a
million comments once became a 190 MB store with no word said. Past IMPORT_MAX_COMMENTS_PER_ITEM
(5,000) an item's further comments are not imported, and a description or comment longer than
IMPORT_MAX_BODY_KB (1,024 KB) is cut. Nothing is dropped silently: the item carries a note, and
the job report lists each item whose comments were cut.

The runner applies `ItemLimits` to every page of every source. Where a source pages one item's
comments on their own (JIRA's issue comments, GitLab's issue notes over REST and GraphQL), the
connector stops asking once it holds more than the limit (`enough_comments`), so the million
comments are not read either; the one past the limit tells the runner to say so. ServiceNow's
journal and GitHub's repository-wide comment listing cover many items a request and are read
whole (each request bounded by importers/outbound.py).
"""
from __future__ import annotations

from collections import Counter

from .model import Comment, Page
from .numbers import env_whole
from .words import counted

COMMENTS_ENV = "IMPORT_MAX_COMMENTS_PER_ITEM"
BODY_ENV = "IMPORT_MAX_BODY_KB"


def max_comments() -> int:
    """Comments imported per item at most (IMPORT_MAX_COMMENTS_PER_ITEM, 5,000)."""
    return env_whole(COMMENTS_ENV, 5000, low=1)


def enough_comments(count: int) -> bool:
    """Whether a reader holding `count` of one item's comments can stop paging them: it has one more
    than the runner keeps, which is what makes the runner note the cut."""
    return count > max_comments()


def max_body_chars() -> int:
    """Characters of one description or comment body at most (IMPORT_MAX_BODY_KB x 1,024)."""
    return env_whole(BODY_ENV, 1024, low=1) * 1024


def _cut(text: str, limit: int) -> str:
    return text[:limit] + f"\n\n[cut: {len(text) - limit:,} more characters were not imported ({BODY_ENV})]"


class ItemLimits:
    """Applies the limits to the pages of one read, counting each item's comments across pages."""

    def __init__(self) -> None:
        self.comments = max_comments()
        self.body = max_body_chars()
        self._seen: Counter[str] = Counter()
        self._noted: set[str] = set()
        self._keys: dict[str, str] = {}  # external id -> key: a source may list comments pages after their items

    def apply(self, page: Page) -> Page:
        """`page` with long bodies cut and comments past the per-item limit left out, each said in notes."""
        for item in page.items:
            self._keys[item.external_id] = item.key
            if len(item.description) > self.body:
                item.description = _cut(item.description, self.body)
                item.notes.append(f"description cut at {self.body // 1024:,} KB ({BODY_ENV})")
        kept: list[Comment] = []
        for comment in page.comments:
            owner = comment.item_external_id
            self._seen[owner] += 1
            if self._seen[owner] > self.comments:
                if owner not in self._noted:
                    self._noted.add(owner)
                    key = self._keys.get(owner) or owner
                    page.notes.append(f"{key}: only its first {counted(self.comments, 'comments')} were imported "
                                      f"({COMMENTS_ENV})")
                continue
            if len(comment.body) > self.body:
                comment.body = _cut(comment.body, self.body)
            kept.append(comment)
        page.comments = kept
        return page
