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
from typing import Any

from importers.errors import ConfigError

from .mapping import CATEGORIES, KINDS, LEVELS, NAME_MAX, ONE, Mapping, Row, checked_name

TOP = ("source", "project", *KINDS)
FIELDS = {"statuses": {"source", "target", "category", "items", "flagged"},
          "priorities": {"source", "target", "items", "flagged"},
          "types": {"source", "target", "items"}, "people": {"source", "name", "email", "target", "default", "items"}}


def dumps(mapping: Mapping) -> str:
    """The mapping's rules as JSON text, one row a line (so an error can name the row's line)."""
    return lay_out(mapping.rules())[0]


def lay_out(document: dict[str, Any]) -> tuple[str, dict[int, str]]:
    """A mapping document as `dumps` writes it, one row a line, and line -> where in the document that line stands
    ("project", "statuses", "statuses[2]"): the HTTP API takes documents, not files, so its errors name the place."""
    lines, places = ["{"], {}
    for n, (key, value) in enumerate(document.items()):
        end = "," if n < len(document) - 1 else ""
        places[len(lines) + 1] = key
        if not isinstance(value, list) or not value:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{end}")
            continue
        lines.append(f"  {json.dumps(key)}: [")
        for i, row in enumerate(value):
            places[len(lines) + 1] = f"{key}[{i}]"
            lines.append(f"    {json.dumps(row, ensure_ascii=False)}{',' if i < len(value) - 1 else ''}")
        lines.append(f"  ]{end}")
    lines.append("}")
    return "\n".join(lines) + "\n", places


_SOURCE = re.compile(r'"source"\s*:\s*("(?:[^"\\]|\\.)*")')  # a row's "source": its JSON string


class _Reader:
    def __init__(self, text: str, path: str, base: Mapping, places: dict[int, str] | None = None):
        self.text, self.path, self.base, self.places = text, path, base, places
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.rows: dict[str, tuple[int, dict[Any, int]]] = {}  # kind -> (its list's line, source -> line)

    def fail(self, line: int, message: str) -> ConfigError:
        """`message` after where it applies: the file's line, or the document's place (`lay_out`)."""
        if self.places is None:
            return ConfigError(f"{self.path}, line {line}: {message}")
        place = self.places.get(line)
        return ConfigError(f"{self.path}.{place}: {message}" if place else f"{self.path}: {message}")

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
                raise self.fail(self.line_of_key(key), f"unknown key {key!r}: a mapping has {', '.join(TOP)}")
        base = self.base
        for key, expected in (("source", base.source), ("project", base.project)):
            if data.get(key) != expected:
                given = data.get(key)
                shown = repr(given[:60] + "...") if isinstance(given, str) and len(given) > 60 else repr(given)[:70]
                raise self.fail(self.line_of_key(key), f"this file is for {key} {shown}, not {expected!r}")
        mapping = copy.deepcopy(base)
        for kind in KINDS:
            entries = data.get(kind, [])
            if not isinstance(entries, list):
                raise self.fail(self.line_of_key(kind), f"{kind!r} must be a list of {{source, target}} objects")
            seen: set[str] = set()
            for entry in entries:
                self.entry(mapping, kind, entry)
                if entry["source"] in seen:  # two targets for one value: the last one silently won
                    raise self.fail(self.line_of_row(kind, entry["source"]),
                                    f"{ONE[kind]} {entry['source'][:60]!r} has a second row further on: keep one")
                seen.add(entry["source"])
        self.consistent_states(mapping)
        return mapping

    def entry(self, mapping: Mapping, kind: str, entry: Any) -> None:
        one = ONE[kind]
        if not isinstance(entry, dict) or not isinstance(entry.get("source"), str):
            raise self.fail(self.line_of_row(kind, None), f"each of {kind!r} must be an object with a text 'source'")
        value = entry["source"]
        line = self.line_of_row(kind, value)
        unknown = set(entry) - FIELDS[kind]
        if unknown:
            raise self.fail(line, f"{one} {value!r} has unknown field {sorted(unknown)[0]!r}: use "
                                  f"{', '.join(sorted(FIELDS[kind]))}")
        row = mapping.row(kind, value)
        if row is None and not (value.startswith("label:") and value[6:] in mapping.labels and kind != "people"):
            raise self.fail(line, f"{one} {value!r} is not a{'n' if one[0] in 'aeiou' else ''} {one} of "
                                  f"{mapping.source} project {mapping.project}{self.known(mapping, kind)}")
        target = entry.get("target")
        if target is not None and (not isinstance(target, str) or not target.strip()):
            raise self.fail(line, f"{one} {value!r} has target {target!r}: give a name, or null for none")
        if target is not None and kind in NAME_MAX:
            try:
                entry["target"] = checked_name(kind, target)
            except ConfigError as exc:
                raise self.fail(line, f"{one} {value[:60]!r}: {exc}") from None
        if row is None:  # a label of the project, used as a status, priority or type for the first time
            row = mapping.use_label(kind, value[len("label:"):])
        getattr(self, kind)(mapping, row, entry, line)

    @staticmethod
    def known(mapping: Mapping, kind: str) -> str:
        names = [r.source for r in mapping.rows(kind) if not r.is_label][:12]
        return f" (it has {', '.join(names)})" if names and kind != "people" else ""

    def statuses(self, mapping: Mapping, row: Row, entry: dict, line: int) -> None:
        target, category = entry.get("target"), entry.get("category")
        if category is not None and category not in CATEGORIES:
            raise self.fail(line, f"status {row.source!r} has category {category!r}: use {', '.join(CATEGORIES)}")
        if target is not None and category is None:
            category = mapping.state_categories().get(target)
            if category is None:
                raise self.fail(line, f"status {row.source!r} has target {target!r}, a state {mapping.project} does "
                                      f"not have: give its category ({', '.join(CATEGORIES)})")
        row.target, row.category = target, category if target is not None else None

    def priorities(self, mapping: Mapping, row: Row, entry: dict, line: int) -> None:
        target = entry.get("target")
        if target is not None and target not in LEVELS:
            raise self.fail(line, f"priority {row.source!r} has target {target!r}, which is not a priority level: "
                                  f"use {', '.join(LEVELS)}")
        row.target = target

    def types(self, mapping: Mapping, row: Row, entry: dict, line: int) -> None:
        row.target = entry.get("target")

    def people(self, mapping: Mapping, row: Row, entry: dict, line: int) -> None:
        target = entry.get("target")
        if target is not None and target not in mapping.person_keys():
            raise self.fail(line, f"person {row.label!r} has target {target!r}, which is no person in the workspace "
                                  f"or in this mapping (use email:<address> of one, or {mapping.source}:<id>)")
        row.target = target or row.default

    def consistent_states(self, mapping: Mapping) -> None:
        """One category per state: two rows filing one state under two categories is a mistake to name."""
        seen: dict[str, tuple[str, str]] = {}
        for row in mapping.statuses:
            if row.target and row.category:
                first = seen.setdefault(row.target, (row.category, row.source))
                if first[0] != row.category:
                    raise self.fail(self.line_of_row("statuses", row.source),
                                    f"status {row.source!r} files state {row.target!r} under {row.category}, but "
                                    f"status {first[1]!r} under {first[0]}: a state has one category")


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


def loads(text: str, path: str, base: Mapping, places: dict[int, str] | None = None) -> Mapping:
    """`base` (what the source lists, with the defaults and saved rules) with the file's targets over it.
    Raises ConfigError naming the line (or, given `lay_out`'s `places`, the place) and value of the first
    problem; `base` itself is not changed."""
    return _Reader(text, path, base, places).read()
