"""The GitHub mapping's fast paths give what the slow ones gave: times parsed by fromisoformat map to the
model pydantic made of the text (or fail as it failed), issue numbers read without the regex are the
regex's, and the comment walk's last second found from a page's end is the one a walk of the page finds."""
from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from importers.github.comments import _last_second
from importers.github.mapping import _ISSUE_URL, _time, issue_number
from importers.model import Comment
from importers.numbers import whole_number

TIMES = ["2024-01-31T12:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-02-29T00:00:00Z",
         "2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T23:59:60Z", "0000-01-01T00:00:00Z",
         "2024-13-01T00:00:00Z", "2024-W01-1T00:00:00Z", "20240101T000000.00Z", "2024-01-01T00:00.00Z",
         "2024-01-01 00:00:00Z", "2024-01-01T00:00:00z", "２024-01-01T00:00:00Z", "2024-01-01T00:00:00+01:00",
         "2024-01-01T0a:00:00Z", "", None, 1706702400]


def _dumped(created_at: object) -> str:
    try:
        return Comment(source="github", external_id="1", item_external_id="2", created_at=created_at).model_dump_json()
    except ValidationError as exc:
        return str(exc)


@pytest.mark.parametrize("text", TIMES)
def test_a_time_maps_as_its_text_did(text):
    assert _dumped(_time(text)) == _dumped(text)


def test_only_githubs_own_spelling_is_parsed_ahead():
    assert _time("2024-01-31T12:00:00Z") == datetime(2024, 1, 31, 12, tzinfo=UTC)
    for text in ("2024-02-30T00:00:00Z", "2024-W01-1T00:00:00Z", "2024-01-01 00:00:00Z"):
        assert _time(text) is text


def _regex_number(url):
    """The regex's answer, its digits read as every number from outside is (ASCII only: "١٢" is no issue number)."""
    match = _ISSUE_URL.search(url) if isinstance(url, str) else None
    return whole_number(match.group(2)) if match else None


@pytest.mark.parametrize("url", [
    "https://api.github.com/repos/acme/web/issues/12", "/repos/a/b/issues/007", "/repos/a/b/issues/12\n",
    "/repos/a/b/issues/١٢", "/repos/a/issues/12", "/repos//b/issues/12", "/repos/a/b/c/issues/12",
    "/x/repos/a/b/issues/1/issues/2", "/repos/a/b/issues/", "/repos/a/b/issues/12/", "repos/a/b/issues/1", None, 12])
def test_an_issue_number_is_the_regexs(url):
    assert issue_number(url) == _regex_number(url)


def _walked(comments, last_update, at_last):
    at_last = set(at_last)
    for comment in comments:
        updated = comment.get("updated_at") if isinstance(comment, dict) else None
        if isinstance(updated, str) and updated != last_update:
            last_update, at_last = updated, set()
        if isinstance(comment, dict):
            at_last.add(comment.get("id"))
    return last_update, at_last


def test_the_last_second_is_the_walks():
    rng = random.Random(17)
    for _ in range(20_000):
        comments: list = []
        for _ in range(rng.randint(0, 8)):
            if rng.random() < 0.05:
                comments.append(rng.choice([None, 3, "x", []]))
                continue
            comment: dict = {"id": rng.randint(0, 20)}
            if rng.random() < 0.9:
                comment["updated_at"] = rng.choice(["a", "b", "c", None, 5])
            comments.append(comment)
        last_update = rng.choice([None, "a", "b", "c"])
        at_last = {rng.randint(0, 20) for _ in range(rng.randint(0, 3))}
        assert _last_second(comments, last_update, set(at_last)) == _walked(comments, last_update, at_last)
