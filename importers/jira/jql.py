"""JQL helpers that need no HTTP: string literals, and the search's refusal of a page token.

Kept apart from client.py, which imports the `jira` library: `cli.py run jira` checks settings
and builds queries without loading it (the worker loads it before it forks).
"""
from __future__ import annotations

from ..errors import SourceError


class PageTokenRefused(SourceError):
    """Cloud no longer accepts a nextPageToken (they expire); the caller rebuilds the query."""


def jql_string(value: str) -> str:
    """A JQL string literal: quotes and backslashes escaped, so input cannot extend the query."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
