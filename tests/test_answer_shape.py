"""What a vendor's answer may parse into (importers/jsonbody.py `shape_refusal`), judged on its bytes without
parsing them: the depth it finds is the parser's, whatever brackets, quotes and backslashes its strings hold
(a title "[WIP" or "\\"]" must not hide, or invent, a level)."""
from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from importers.jsonbody import shape_refusal

TRICKY = st.text(alphabet='[]{}"\\,: a\n\u00e9', max_size=6)
VALUES = st.recursive(st.none() | st.integers() | TRICKY,
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY, inner, max_size=3),
                      max_leaves=40)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@given(VALUES, st.booleans(), st.integers(1, 8))
def test_the_depth_judged_on_bytes_is_the_parsed_depth(value, ascii_only, limit):
    body = json.dumps([value], ensure_ascii=ascii_only).encode()
    refusal = shape_refusal(body, max_values=10**6, max_depth=limit)
    assert (refusal is not None) == (_depth([value]) > limit), (body, refusal)


def test_an_opening_never_closed_nests_as_deep_as_the_parser_recurses():
    assert shape_refusal(b"[" * 200_000, 10**6) == "nested 200,000 levels deep, over the limit of 128"
    closers_in_a_string = b'["' + b"]" * 300 + b'",' + b"[" * 129  # close nothing
    assert shape_refusal(closers_in_a_string, 10**6) is not None
    assert shape_refusal(b'["\\"' + b"[" * 300 + b'"]', 10**6) is None  # nor openers after an escaped quote open any


def test_values_are_counted_only_past_the_limit_and_exactly_for_tiny_ones():
    body = b"[" + b"{}," * 1000 + b"{}]"
    assert shape_refusal(body, max_values=1000) == "of about 1,002 JSON values"
    assert shape_refusal(body, max_values=1002) is None
    assert shape_refusal(b'"' + b"," * 5000 + b'"', max_values=10) is None  # a string is one value
