"""Vendor JSON bodies parsed with orjson.

A page of 100 JIRA issues in Atlassian Document Format is a few hundred KB of JSON; the
standard library's parser was a quarter of an import's CPU. orjson reads the same bytes
several times faster. A body it refuses (a lone surrogate escape such as "\\ud800", bytes
that are not UTF-8) goes to requests' own parser, so such pages behave exactly as before.
"""
from __future__ import annotations

import json
from typing import Any

import orjson
import requests


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
