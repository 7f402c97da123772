"""A mapping as a file: written one row a line, read back against what the source lists.

Reading never half-applies a file: every row is checked first, and the first problem is one line naming
the file's line and the value (`mapping.json, line 7: status 'Blokced' is not a status of jira project
ACME`), raised as a ConfigError, so the CLI exits 2 and nothing is saved or started.
"""
from __future__ import annotations

import bisect
import copy
import json
import re
from collections.abc import Callable
from typing import Any

from importers.errors import ConfigError

from .mapping import CATEGORIES, KINDS, LEVELS, NAME_MAX, ONE, Mapping, Row, checked_name

TOP = ("source", "project", *KINDS)
FIELDS = {"statuses": {"source", "target", "category", "items", "flagged"},
          "priorities": {"source", "target", "items", "flagged"},
          "types": {"source", "target", "items"}, "people": {"source", "name", "email", "target", "default", "items"}}


def dumps(mapping: Mapping) -> str:
    """The mapping's rules as JSON text, one row a line (so an error can name the row's line)."""
    rules = mapping.rules()
    lines = ["{", f'  "source": {json.dumps(rules["source"])},', f'  "project": {json.dumps(rules["project"])},']
    for n, kind in enumerate(KINDS):
        rows = rules[kind]
        end = "," if n < len(KINDS) - 1 else ""
        if not rows:
            lines.append(f'  "{kind}": []{end}')
            continue
        lines.append(f'  "{kind}": [')
        lines += [f"    {json.dumps(row, ensure_ascii=False)}{',' if i < len(rows) - 1 else ''}"
                  for i, row in enumerate(rows)]
        lines.append(f"  ]{end}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _shown(value: Any) -> str:
    """A value as an error quotes it: its repr, cut to 60 characters (a hostile file or body may hold megabytes)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


_SOURCE = re.compile(r'"source"\s*:\s*("(?:[^"\\]|\\.)*")')  # a row's "source": its JSON string


_KEY_PLACE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # a key that can stand in a place such as `mappings[0].bogus`


class _Reader:
    """Reads a file (its problems named by line) or, with `document`, a JSON object the HTTP API took (named by
    place, `mappings[0].statuses[2]`: such a body has no lines a client would count)."""

    def __init__(self, text: str, path: str, base: Mapping, document: bool = False):
        self.text, self.path, self.base, self.document = text, path, base, document
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.rows: dict[str, tuple[int, dict[Any, int]]] = {}  # kind -> (its list's line, source -> line)
        self.indexes: dict[str, dict[str, int]] = {}  # kind -> source -> its row's index in the file

    def fail(self, place: str, line: Callable[[], int], message: str) -> ConfigError:
        """`message` after where it applies: `place` in a document, else the line `line()` finds in the file."""
        if not self.document:
            return ConfigError(f"{self.path}, line {line()}: {message}")
        where = f"{self.path}.{place}" if place else self.path
        return ConfigError(f"{where}: {message}", field=where)

    def fail_at_key(self, key: str, message: str) -> ConfigError:
        return self.fail(key if _KEY_PLACE.fullmatch(key) else "", lambda: self.line_of_key(key), message)

    def fail_at_row(self, kind: str, index: int | None, value: Any, message: str) -> ConfigError:
        return self.fail(kind if index is None else f"{kind}[{index}]", lambda: self.line_of_row(kind, value), message)

    def line_at(self, offset: int) -> int:
        return bisect.bisect_left(self.newlines, offset) + 1

    def line_of_key(self, key: str, start: int = 0) -> int:
        found = re.compile(rf'"{re.escape(key)}"\s*:').search(self.text, start)
        return self.line_at(found.start()) if found else 1

    def line_of_row(self, kind: str, value: Any) -> int:
        """The line of the first row of `kind` whose source is `value`, else the line of the kind's list. The
        rows' lines are found in one pass a kind (a search a row, from the list's start, was quadratic: 12 s of
        CPU for a 1 MiB request body of 30,000 rows)."""
        if kind not in self.rows:
            section = re.compile(rf'"{kind}"\s*:').search(self.text)
            start = section.start() if section else 0
            lines: dict[Any, int] = {}
            for found in _SOURCE.finditer(self.text, start):
                try:
                    lines.setdefault(json.loads(found.group(1)), self.line_at(found.start()))
                except ValueError:  # not a JSON string after all (the file parsed, so this is rare)
                    continue
            self.rows[kind] = (self.line_at(start), lines)
        at, lines = self.rows[kind]
        return lines.get(value, at) if isinstance(value, str) else at

    def read(self) -> Mapping:
        data = parse(self.text, self.path)
        for key in data:
            if key not in TOP:
                raise self.fail_at_key(key, f"unknown key {_shown(key)}: a mapping has {', '.join(TOP)}")
        base = self.base
        for key, expected in (("source", base.source), ("project", base.project)):
            given = data.get(key)
            if (given.strip() if isinstance(given, str) else given) != expected:
                raise self.fail_at_key(key, f"this file is for {key} {_shown(given)}, not {expected!r}")
        mapping = copy.deepcopy(base)
        for kind in KINDS:
            entries = data.get(kind, [])
            if not isinstance(entries, list):
                raise self.fail_at_key(kind, f"{kind!r} must be a list of {{source, target}} objects")
            seen = self.indexes.setdefault(kind, {})
            for index, entry in enumerate(entries):
                self.entry(mapping, kind, index, entry)
                if entry["source"] in seen:  # two targets for one value: the last one silently won
                    raise self.fail_at_row(kind, seen[entry["source"]], entry["source"],
                                           f"{ONE[kind]} {_shown(entry['source'])} has a second row further on: "
                                           "keep one")
                seen[entry["source"]] = index
        self.consistent_states(mapping)
        return mapping

    def entry(self, mapping: Mapping, kind: str, index: int, entry: Any) -> None:
        one = ONE[kind]
        if not isinstance(entry, dict) or not isinstance(entry.get("source"), str):
            raise self.fail_at_row(kind, index, None, f"each of {kind!r} must be an object with a text 'source'")
        value = entry["source"]

        def refused(message: str) -> ConfigError:
            return self.fail_at_row(kind, index, value, message)

        unknown = set(entry) - FIELDS[kind]
        if unknown:
            raise refused(f"{one} {_shown(value)} has unknown field {_shown(sorted(unknown)[0])}: use "
                          f"{', '.join(sorted(FIELDS[kind]))}")
        row = mapping.row(kind, value)
        if row is None and not (value.startswith("label:") and value[6:] in mapping.labels and kind != "people"):
            raise refused(f"{one} {_shown(value)} is not a{'n' if one[0] in 'aeiou' else ''} {one} of "
                          f"{mapping.source} project {mapping.project}{self.known(mapping, kind)}")
        target = entry.get("target")
        if target is not None and (not isinstance(target, str) or not target.strip()):
            raise refused(f"{one} {_shown(value)} has target {_shown(target)}: give a name, or null for none")
        if target is not None and kind in NAME_MAX:
            try:
                entry["target"] = checked_name(kind, target)
            except ConfigError as exc:
                raise refused(f"{one} {_shown(value)}: {exc}") from None
        if row is None:  # a label of the project, used as a status, priority or type for the first time
            row = mapping.use_label(kind, value[len("label:"):])
        getattr(self, kind)(mapping, row, entry, refused)

    @staticmethod
    def known(mapping: Mapping, kind: str) -> str:
        names = [r.source for r in mapping.rows(kind) if not r.is_label][:12]
        return f" (it has {', '.join(names)})" if names and kind != "people" else ""

    def statuses(self, mapping: Mapping, row: Row, entry: dict, refused: Callable[[str], ConfigError]) -> None:
        target, category = entry.get("target"), entry.get("category")
        if category is not None and category not in CATEGORIES:
            raise refused(f"status {row.source!r} has category {_shown(category)}: use {', '.join(CATEGORIES)}")
        if target is not None and category is None:
            category = mapping.state_categories().get(target)
            if category is None:
                raise refused(f"status {row.source!r} has target {target!r}, a state {mapping.project} does not "
                              f"have: give its category ({', '.join(CATEGORIES)})")
        row.target, row.category = target, category if target is not None else None

    def priorities(self, mapping: Mapping, row: Row, entry: dict, refused: Callable[[str], ConfigError]) -> None:
        target = entry.get("target")
        if target is not None and target not in LEVELS:
            raise refused(f"priority {row.source!r} has target {_shown(target)}, which is not a priority level: "
                          f"use {', '.join(LEVELS)}")
        row.target = target

    def types(self, mapping: Mapping, row: Row, entry: dict, refused: Callable[[str], ConfigError]) -> None:
        row.target = entry.get("target")

    def people(self, mapping: Mapping, row: Row, entry: dict, refused: Callable[[str], ConfigError]) -> None:
        target = entry.get("target")
        if target is not None and target not in mapping.person_keys():
            raise refused(f"person {row.label!r} has target {_shown(target)}, which is no person in the workspace "
                          f"or in this mapping (use email:<address> of one, or {mapping.source}:<id>)")
        row.target = target or row.default

    def consistent_states(self, mapping: Mapping) -> None:
        """One category per state: two rows filing one state under two categories is a mistake to name (the row
        the file gives, where only one of the two is in it: the other keeps its saved or default target)."""
        seen: dict[str, tuple[str, str]] = {}
        given = self.indexes.get("statuses", {})
        for row in mapping.statuses:
            if row.target and row.category:
                first = seen.setdefault(row.target, (row.category, row.source))
                if first[0] != row.category:
                    named = row.source if row.source in given or first[1] not in given else first[1]
                    raise self.fail_at_row("statuses", given.get(named), named,
                                           f"status {row.source!r} files state {row.target!r} under {row.category}, "
                                           f"but status {first[1]!r} under {first[0]}: a state has one category")


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object of the file, refusing a key given twice (json keeps the last silently: a file saying "project":
    "ACME" first and "OPS" after was saved for OPS)."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def parse(text: str, path: str) -> dict[str, Any]:
    """The file's JSON object; ConfigError naming the line when it is not one."""
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a mapping (rows are objects in lists, two levels "
                          f"down)") from None
    except _DuplicateKey as exc:
        raise ConfigError(f"{path}: the key {exc.key[:60]!r} appears twice in one object: keep one") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}, line 1: a mapping file is a JSON object with source, project, statuses, "
                          "priorities, types and people")
    return data


def loads(text: str, path: str, base: Mapping, document: bool = False) -> Mapping:
    """`base` (what the source lists, with the defaults and saved rules) with the file's targets over it.
    Raises ConfigError naming the line (a `document`, the HTTP API's: the place) and value of the first
    problem; `base` itself is not changed."""
    return _Reader(text, path, base, document).read()
