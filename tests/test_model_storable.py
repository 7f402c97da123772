"""The storable-text check of every model (importers/model.py `_Model._only_storable_text`).

It used to rebuild every input holding any non-ASCII text; it now rebuilds only inputs holding
NUL or a lone surrogate. These properties hold it to the old function's result, value for value,
on text a vendor may send: accents, emoji, control characters, NUL, lone surrogates, lists of
them (nested too), and values that are not text at all.
"""
from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.model import Comment, WorkItem, _Model

_OLD_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _old_storable(value: Any) -> Any:
    """`_storable` as it was before the fast path (a copy: the reference the new check must equal)."""
    if isinstance(value, str):
        if "\x00" not in value and value.isascii():
            return value
        return _OLD_UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value) \
            if _OLD_UNSTORABLE.search(value) else value
    if isinstance(value, list):
        return [_old_storable(v) for v in value]
    return value


def _old_only_storable_text(data: Any) -> Any:
    """`_Model._only_storable_text` before the fast path: any non-ASCII value rebuilt the whole input."""
    if not isinstance(data, dict):
        return data
    for value in data.values():
        if type(value) is str:
            if value.isascii() and "\x00" not in value:
                continue
        elif type(value) is not list or all(type(v) is not str or (v.isascii() and "\x00" not in v)
                                             for v in value):
            continue
        return {k: _old_storable(v) for k, v in data.items()}
    return data


class _Tagged(str):
    """A str subclass: the inline checks look at exact types, `_storable` at isinstance."""


# Text drawn from every kind of character, plus the ones a store refuses, made frequent.
ANY_CHAR = st.characters(codec=None, blacklist_categories=())  # surrogates (Cs) and controls (Cc) included
HOSTILE = st.sampled_from(["\x00", "\ud800", "\udfff", "\udbff\udc00", "\x01", "\x1b", "\x7f", "\u2028",
                           "é", "ß", "日本", "😀", "👩\u200d💻", "\ufeff", "\ufffd", "a", " "])
TEXT = st.lists(ANY_CHAR | HOSTILE, max_size=12).map("".join)
LEAF = TEXT | TEXT.map(_Tagged) | st.none() | st.integers() | st.booleans() | st.floats(allow_nan=False)
VALUE = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=4), max_leaves=12) | st.dictionaries(TEXT, LEAF,
                                                                                                       max_size=3)
INPUT = st.dictionaries(st.text(max_size=6), VALUE, max_size=6)
MANY = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@MANY
@given(INPUT)
def test_the_fast_check_gives_exactly_what_the_old_one_gave(data):
    before = {k: (list(v) if isinstance(v, list) else v) for k, v in data.items()}
    assert _Model._only_storable_text(data) == _old_only_storable_text(data)
    assert data == before  # the input is never changed in place


@MANY
@given(st.one_of(TEXT, st.lists(TEXT, max_size=3), st.none(), st.integers()))
def test_an_input_that_is_not_a_dict_passes_through(data):
    assert _Model._only_storable_text(data) is data


@MANY
@given(title=TEXT.filter(str.strip), body=TEXT, labels=st.lists(TEXT, max_size=3))
def test_models_built_from_any_text_equal_what_the_old_check_built(title, body, labels):
    raw = {"source": "gitlab", "external_id": "1", "key": "g/p#1", "project": "g/p", "title": title,
           "description": body, "status": "todo", "labels": labels, "created_at": "2024-01-01T00:00:00Z",
           "updated_at": "2024-01-01T00:00:00Z"}
    old = _old_only_storable_text(raw)
    try:
        expected: Any = WorkItem.model_validate(old)
    except ValueError as exc:  # a title only of NUL becomes blank: both refuse it alike
        expected = type(exc)
    try:
        got: Any = WorkItem(**raw)
    except ValueError as exc:
        got = type(exc)
    assert got == expected
    if isinstance(got, WorkItem):
        for text in (got.title, got.description, *got.labels):
            assert "\x00" not in text
            text.encode("utf-8")  # raises on a lone surrogate
    comment = Comment(source="gitlab", external_id="9", item_external_id="1", body=body,
                      created_at="2024-01-01T00:00:00Z")
    assert comment.body == _old_storable(body)


def test_only_text_with_nul_or_a_lone_surrogate_is_rebuilt():
    plain = {"title": "Überweisung 😀 fällig", "labels": ["größe", "日本"]}
    assert _Model._only_storable_text(plain) is plain  # non-ASCII alone: returned as it came
    dirty = {"title": "ok é", "labels": ["a\x00b", "\ud800x"], "body": "fine"}
    assert _Model._only_storable_text(dirty) == {"title": "ok é", "labels": ["ab", "\ufffdx"], "body": "fine"}
