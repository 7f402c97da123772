"""Pages sent from a reader process to its work horse (jobs/reader.py) come back as the same models.

A reader pickles every page it maps and the work horse writes what it unpickles, so whatever pickling
loses or changes is written to the store: a status read back as a plain string, a time in another zone,
a set of given fields lost (pydantic's `exclude_unset`), one person split into several objects (the
writer finds a person's row by the object, store/writer.py). The models pickle compactly
(`importers.model._Model.__reduce__`); these tests take the pages each real connector maps from its fake
vendor, send them through the pickler the reader's pipe uses, and compare everything a model holds.
"""
from __future__ import annotations

import pickle
from datetime import datetime
from multiprocessing.reduction import ForkingPickler
from typing import Any

import pytest
from pydantic import BaseModel

from importers import source_class
from importers.model import Page, Person, Status, WorkItem
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.fakes.servicenow import FakeServiceNow


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("ALLOW_LOOPBACK_URLS", "1")
    monkeypatch.setenv("IMPORT_RETRY_BASE_SECONDS", "0.01")


def _jira(fake: FakeJira) -> dict[str, str]:
    user, token = fake.credentials
    return {"base_url": fake.url, "user_email": user, "api_token": token}


VENDORS = {  # the fake (with invalid items, hidden rows, pull requests: failures and gaps on pages), its project
    "jira": (lambda: FakeJira(cloud=True, size=150, broken=2), "ACME", _jira),
    "servicenow": (lambda: FakeServiceNow(), "incident",
                   lambda f: {"instance": f.url, "username": f.username, "password": f.password}),
    "github": (lambda: GitHubFake(), "acme/web", lambda f: {"token": f.token, "api_url": f.url}),
    "gitlab": (lambda: FakeGitLab(), "acme/web-app", lambda f: {"token": f.token, "url": f.url}),
}


def read_pages(vendor: str) -> list[Page]:
    make_fake, project, config = VENDORS[vendor]
    with make_fake() as fake:
        source = source_class(vendor)(config(fake))
        try:
            return list(source.read(project, None, None))
        finally:
            source.close()


def sent(page: Page) -> Page:
    """`page` as the work horse receives it: what `Connection.send` writes, read back as `recv` does."""
    kind, received = pickle.loads(ForkingPickler.dumps(("page", page)))
    assert kind == "page"
    return received


def assert_same(before: Any, after: Any, where: str) -> None:
    """Equal values of the same types, all the way down: models field by field with their set fields,
    datetimes with their zone, enums as members (a StrEnum equals its string, so == alone would pass one)."""
    assert type(after) is type(before), f"{where}: {type(before).__name__} came back as {type(after).__name__}"
    if isinstance(before, BaseModel):
        assert list(after.__dict__) == list(before.__dict__), where
        assert type(after.__pydantic_fields_set__) is set and after.model_fields_set == before.model_fields_set, where
        assert (after.__pydantic_extra__, after.__pydantic_private__) == (before.__pydantic_extra__,
                                                                          before.__pydantic_private__), where
        for name, value in before.__dict__.items():
            assert_same(value, after.__dict__[name], f"{where}.{name}")
    elif isinstance(before, (list, tuple)):
        assert len(after) == len(before), where
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            assert_same(b, a, f"{where}[{i}]")
    elif isinstance(before, dict):
        assert list(after) == list(before), where
        for key, value in before.items():
            assert_same(value, after[key], f"{where}[{key!r}]")
    elif isinstance(before, datetime):
        assert after == before and type(after.tzinfo) is type(before.tzinfo), where
        assert after.utcoffset() == before.utcoffset() and after.tzname() == before.tzname(), where
    else:
        assert after == before, where


def people(page: Page) -> list[int]:
    """Which Person object each mention on the page is, numbered in order of first appearance."""
    mentions: list[Person | None] = [p for i in page.items for p in (i.assignee, i.reporter)]
    mentions += [c.author for c in page.comments]
    seen: dict[int, int] = {}
    return [seen.setdefault(id(p), len(seen)) for p in mentions if p is not None]


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_mapped_pages_of_every_vendor_reach_the_work_horse_unchanged(vendor):
    pages = read_pages(vendor)
    assert sum(len(p.items) for p in pages) >= 100 and any(p.comments for p in pages), "a read of some size"
    for n, page in enumerate(pages):
        received = sent(page)
        assert_same(page, received, f"{vendor} page {n}")
        assert received == page
        assert received.model_dump(exclude_unset=True) == page.model_dump(exclude_unset=True)
        assert received.model_dump_json() == page.model_dump_json()
        assert people(received) == people(page), "one person stays one object, as the writer counts on"


def test_a_field_changed_on_a_received_item_is_set_on_that_item_alone():
    """The horse changes received items (importers/limits.py cuts long descriptions): each item keeps a
    set of given fields of its own."""
    pages = [sent(p) for p in read_pages("servicenow")]
    first, second = [i for p in pages for i in p.items if "moved_to_id" not in i.model_fields_set][:2]
    first.moved_to_id = "elsewhere"
    assert "moved_to_id" in first.model_fields_set and "moved_to_id" not in second.model_fields_set
    assert first.model_dump(exclude_unset=True)["moved_to_id"] == "elsewhere"
    assert "moved_to_id" not in second.model_dump(exclude_unset=True)


def test_models_made_by_hand_round_trip_with_only_the_fields_they_were_given():
    item = WorkItem(source="demo", external_id="1", key="D-1", project="D", title="t", status=Status.TODO,
                    created_at=datetime(2024, 1, 1), updated_at=datetime(2024, 1, 2))
    page = Page(items=[item], cursor={"after": "x", "n": [1, None]})
    received = sent(page)
    assert_same(page, received, "page")
    assert received.items[0].model_dump(exclude_unset=True) == item.model_dump(exclude_unset=True)
    assert set(received.model_dump(exclude_unset=True)) == {"items", "cursor"}
