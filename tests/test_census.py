"""The census of a batch (jobs/census.py): what "what will be created" and the mapping step count on.
Counted a value at a time since issue 17; these are the counts the item-at-a-time census gave."""
from __future__ import annotations

from datetime import UTC, datetime

from importers.model import Attachment, Comment, Page, Person, Status, WorkItem
from jobs import census

T = datetime(2026, 1, 5, tzinfo=UTC)


def person(name: str, display: str = "") -> Person:
    return Person(source="t", external_id=name, display_name=display or name, email=f"{name}@example.com")


def item(n: str, **fields) -> WorkItem:
    return WorkItem(source="t", external_id=n, key=f"T-{n}", project="T", title=f"item {n}", created_at=T,
                    updated_at=T, **fields)


def note(n: str, author: Person | None = None) -> Comment:
    return Comment(source="t", external_id=n, item_external_id="1", body=n, created_at=T, author=author)


PAGES = [
    Page(items=[item("1", status=Status.IN_PROGRESS, source_status="Open", labels=["ui", "ui", "db"],
                     assignee=person("ada"), reporter=person("ada", "Ada L."), comments_at_source=2,
                     attachments=[Attachment(file_name="a.png")]),
                item("2", status=Status.DONE, source_status="Open", source_priority="High", type="bug",
                     labels=["ui", ""], assignee=person("bob"), reporter=person("ada"))],
         comments=[note("c1", person("cy")), note("c2")]),
    Page(items=[item("3", status=Status.TODO, state="Backlog")], comments=[note("c3", person("bob", "Robert"))]),
]


def test_a_batch_is_counted_value_by_value():
    """A label twice on an item counts once, a person in both roles one item, empty values not at
    all; a state keeps its first item's category, a person the details first read."""
    found = census.count(PAGES)
    assert found == {
        "items": 3, "comments": 3, "attachments": 1, "comments_at_source": 2,
        "states": {"Open": {"category": "in_progress", "items": 2}, "Backlog": {"category": "todo", "items": 1}},
        "people": {
            "ada": {"name": "Ada L.", "email": "ada@example.com", "key": "email:ada@example.com", "items": 2,
                    "comments": 0},
            "bob": {"name": "bob", "email": "bob@example.com", "key": "email:bob@example.com", "items": 1,
                    "comments": 1},
            "cy": {"name": "cy", "email": "cy@example.com", "key": "email:cy@example.com", "items": 0,
                   "comments": 1}},
        "item_list": [{"key": "T-1", "title": "item 1", "state": "Open", "attachments": 1},
                      {"key": "T-2", "title": "item 2", "state": "Open", "attachments": 0},
                      {"key": "T-3", "title": "item 3", "state": "Backlog", "attachments": 0}],
        "attachment_list": [{"key": "T-1", "attachments": 1, "files": "a.png"}],
        "statuses": {"Open": 2, "label:ui": 2, "label:db": 1, "label:": 1},
        "priorities": {"High": 1, "label:ui": 2, "label:db": 1, "label:": 1},
        "types": {"label:ui": 2, "label:db": 1, "label:": 1},
        "labels": {"ui": 2, "db": 1},
        "kinds": {"task": 2, "bug": 1},
    }
    assert list(found["people"]) == ["ada", "bob", "cy"]  # in reading order


def test_batches_add_up_to_the_census_of_their_pages():
    whole = census.count(PAGES)
    assert census.merge(census.count(PAGES[:1]), census.count(PAGES[1:])) == {**whole, "people": {
        **whole["people"], "bob": {**whole["people"]["bob"], "name": "Robert"}}}  # the newest details kept


def test_an_empty_batch_counts_nothing():
    assert census.count([Page()]) == {"items": 0, "comments": 0, "attachments": 0, "states": {}, "people": {},
                                      "item_list": [], "attachment_list": [], "statuses": {}, "priorities": {},
                                      "types": {}, "labels": {}, "kinds": {}}
