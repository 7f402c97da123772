"""What the fakes keep about their datasets besides the rows: indexes and rendered answers.

A fake serves tens of thousands of rows, so it answers from sorted indexes and items rendered
once rather than re-filtering and re-rendering its whole dataset on every request. Tests edit
rows in place (`fake.issues[...][0]["title"] = ...`) as well as through the fakes' own helpers,
so every row is a `Row`, and any change to any row drops everything cached (`Memo`): one
rule that stays right whoever edits what, at the price of re-rendering after an edit.
"""
from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from .server import Encoded

T = TypeVar("T")
_changes = itertools.count(1)


class Row(dict):
    """A dataset row; creating or changing one moves `Row.version`."""

    version = 0


def _changing(name: str):
    """dict's method `name`, moving `Row.version` once it has run (or failed half-way)."""
    method = getattr(dict, name)

    def changed(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        finally:
            Row.version = next(_changes)  # a fresh value, so racing edits cannot cancel out

    changed.__name__ = name
    return changed


for _name in ("__init__", "__setitem__", "__delitem__", "__ior__", "update", "pop", "popitem", "setdefault", "clear"):
    setattr(Row, _name, _changing(_name))


def rows_removed() -> None:
    """Say that rows left a dataset's lists (a deletion edits no row, so nothing else moves the version)."""
    Row.version = next(_changes)


class Memo:
    """Values computed from rows, kept until any row changes."""

    def __init__(self) -> None:
        self._state: tuple[int, dict[Hashable, Any]] = (-1, {})

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        version, values = self._state
        if version != Row.version:  # read before computing: an edit made meanwhile drops the value
            version, values = Row.version, {}
            self._state = (version, values)
        if key not in values:
            values[key] = compute()
        return values[key]

    def encoded(self, row: Row, *shape: Hashable, render: Callable[[], Any] | None = None) -> Encoded:
        """`row` as JSON (or what `render` makes of it, one rendering per `shape`), encoded once.

        Keyed by the row's identity: safe, since a new row (which may reuse a dead one's id) moves the version."""
        return self.get((id(row), *shape), lambda: Encoded(json.dumps(row if render is None else render()).encode()))
