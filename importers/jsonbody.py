"""Vendor JSON bodies: parsed with orjson, and bounded in what they may parse into.

A page of 100 JIRA issues in Atlassian Document Format is a few hundred KB of JSON; the
standard library's parser was a quarter of an import's CPU. orjson reads the same bytes
several times faster. A body it refuses (a lone surrogate escape such as "\\ud800", bytes
that are not UTF-8) goes to requests' own parser, so such pages behave exactly as before.

The byte cap (importers/outbound.py) does not bound what a body parses into: 60 MB of `[{},{},...`
is 20 million dicts, gigabytes of memory, and `[` x 200,000 is a RecursionError in the standard
library's parser, which the vendor libraries (jira, pysnow, PyGithub, python-gitlab) all call on
their own. `shape_refusal` judges a body's bytes before anyone parses it, in C (bytes.count,
translate, replace, one regex and a running sum), so the adapter refuses such an answer for every caller.
"""
from __future__ import annotations

import array
import itertools
import json
import re
from typing import Any

import orjson
import requests

MAX_DEPTH = 128  # levels of [ and {: a JIRA v3 page (issues > fields > ADF lists in panels) is under 30
BYTES_PER_VALUE = 32  # a body may hold one JSON value per 32 bytes of the size cap (2 million for 64 MB)

_STARTS_JSON = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*+[\[{]")  # only an array or object nests or holds many values
_STRING = re.compile(rb'"[^"]*+"')
_NOT_MARK = bytes(b for b in range(256) if b not in b'"[]{}')
_AS_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1, -1 as signed bytes


def parse(response: requests.Response) -> Any:
    """The response's JSON; ValueError when it is not JSON, as `response.json()` raises."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()


def loads(text: str) -> Any:
    """A JSON text already decoded (PyGithub hands bodies over as str), parsed by orjson; one it refuses
    goes to the standard library's parser, so such a body parses, or fails, exactly as before."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def shape_refusal(body: bytes, max_values: int, max_depth: int = MAX_DEPTH) -> str | None:
    """Why `body` (UTF-8 or another ASCII-transparent encoding) may not be parsed, in words that follow
    "sent an answer ...", or None. Nothing is parsed: values are counted by commas and brackets (those inside
    strings count too, so the count errs high; keys are not counted)."""
    if not _STARTS_JSON.match(body):
        return None  # a scalar, or not JSON: parsers stop at once
    if len(body) > max_values:  # a body shorter than the limit cannot hold more values than it has bytes
        # one value, and one more per comma and per array or object that is not empty
        values = 1 + body.count(b",") + body.count(b"[") + body.count(b"{") - body.count(b"[]") - body.count(b"{}")
        if values > max_values:
            return f"of about {values:,} JSON values"
    if len(body) > max_depth and (depth := _depth(body)) > max_depth:
        return f"nested {depth:,} levels deep, over the limit of {max_depth}"
    return None


def _depth(body: bytes) -> int:
    """How many arrays and objects the deepest point of `body` lies inside. Strings go first (a title "[WIP"
    holds no array): with escaped backslashes and quotes gone every quote opens or closes one, so after
    dropping all but quotes and brackets, adjacent quotes hold nothing and go, then the strings left (those
    holding brackets). Each bracket left is a step of +1 or -1, and the depth their deepest running sum.
    All in C and linear: about 1 ms for a 460 KB JIRA page (a regex over its strings took 15)."""
    plain = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = plain.translate(_AS_STEPS, _NOT_MARK).replace(b'""', b"")
    steps = _STRING.sub(b"", marks).replace(b'"', b"")  # a quote left alone opened a string never closed
    return max(itertools.accumulate(array.array("b", steps)), default=0)
