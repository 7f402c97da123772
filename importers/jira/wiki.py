"""JIRA wiki markup (Server/Data Center, API v2) to Markdown, by a small rule set of our own.

Headings, emphasis, monospace, code and noformat blocks, quotes, lists, tables, links, mailto, rules
and line breaks become Markdown; mentions become `@Display Name` for the people the issue names
(reporter, assignee, comment authors), `@name` otherwise; attachments (`[^file]`, `!image.png!`)
become `[attachment: NAME]` references (files stay at the source, listed on the item); colour and
panel markers are dropped, their text (and a panel's title) kept. Anything else stays as typed: no text is lost.

Why not the `jira2markdown` library (a parsing-expression grammar with about 300 test cases, which
converts more constructs faithfully, panel titles and nested markup included): measured here
(0.5.3, pyparsing 3.3.3), it takes about 0.5 s for a typical issue body and about a minute for a
27 KB description, a grammar built per call and tried at every position of the text, which would
turn a 10,000-issue Server import into hours; and a lone `|` line makes it raise. Caching the
grammar and pyparsing's packrat mode made long texts slower still. Revisit with a faster release.
"""
from __future__ import annotations

import re
from typing import Any

_MENTION = re.compile(r"\[~(?:accountid:)?([^\]]+)\]")
_CODE_BLOCK = re.compile(r"\{(code|noformat)(?::([^}]*))?\}\n?(.*?)\n?\{\1\}", re.S)
_QUOTE_BLOCK = re.compile(r"\{quote\}\n?(.*?)\n?\{quote\}", re.S)
_HEADING = re.compile(r"^h([1-6])\.\s+(.*)$")
_LIST = re.compile(r"^\s*([*#]+|-)\s+(.*)$")
_INLINE_RULES = (
    (re.compile(r"\{\{(.+?)\}\}"), None),  # monospace: protected like code
    (_MENTION, None),  # mentions: display names where the issue names the person
    (re.compile(r"\[([^\]|]+)\|([^\]]+)\]"), r"[\1](\2)"),
    (re.compile(r"\[((?:https?|mailto):[^\]]+)\]"), r"<\1>"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"**\1**"),
    (re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"), r"*\1*"),
    (re.compile(r"(?<![\w-])-(?=[^\s-])(.+?)(?<=[^\s-])-(?![\w-])"), r"~~\1~~"),
    (re.compile(r"(?<![\w+])\+(?=\S)(.+?)(?<=\S)\+(?![\w+])"), r"\1"),
    (re.compile(r"\?\?(.+?)\?\?"), r"*\1*"),
    (re.compile(r"!([^!\s|]+)(?:\|[^!]*)?!"), r"[attachment: \1]"),
    (re.compile(r"\[\^([^\]]+)\]"), r"[attachment: \1]"),
    (re.compile(r"\{panel:[^}]*?title=([^|}]+)[^}]*\}"), r"**\1**"),  # a panel's title is content
    (re.compile(r"\{color(?::[^}]*)?\}|\{panel(?::[^}]*)?\}"), ""),
    (re.compile(r"\\\\"), "\n"),
)


def wiki_to_markdown(text: Any, names: dict[str, str] | None = None) -> str:
    """Markdown for JIRA wiki markup; code and monospace content are left untouched. `names`: username,
    user key or account id -> display name, for mentions. TypeError for anything that is not text."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise TypeError(f"expected wiki markup text, got {type(text).__name__}")
    protected: list[str] = []

    def protect(markdown: str) -> str:
        protected.append(markdown)
        return f"\x00{len(protected) - 1}\x00"

    text = text.replace("\r\n", "\n")
    text = _CODE_BLOCK.sub(lambda m: protect(f"```{(m.group(2) or '').split('|')[0]}\n{m.group(3)}\n```"), text)
    text = _QUOTE_BLOCK.sub(lambda m: "\n".join(f"bq. {line}" for line in m.group(1).splitlines()), text)
    lines = [_wiki_line(line, protect, names or {}) for line in text.split("\n")]
    markdown = "\n".join(lines).strip()
    return re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], markdown)


def _wiki_line(line: str, protect, names: dict[str, str]) -> str:
    if line.strip() == "----":
        return "---"
    prefix = ""
    if match := _HEADING.match(line):
        prefix, line = "#" * int(match.group(1)) + " ", match.group(2)
    elif line.startswith("bq. "):
        prefix, line = "> ", line[4:]
    elif match := _LIST.match(line):
        markers, line = match.group(1), match.group(2)
        bullet = "1. " if markers[-1] == "#" else "- "
        prefix = "   " * (len(markers) - 1) + bullet
    elif line.startswith("||") or (line.startswith("|") and line.rstrip().endswith("|")):
        return _wiki_table_row(line)
    for pattern, replacement in _INLINE_RULES:
        if pattern is _MENTION:
            line = pattern.sub(lambda m: protect(f"@{names.get(m.group(1), m.group(1))}"), line)
        elif replacement is None:
            line = pattern.sub(lambda m: protect(f"`{m.group(1)}`"), line)
        else:
            line = pattern.sub(replacement, line)
    return prefix + line


def _wiki_table_row(line: str) -> str:
    header = line.startswith("||")
    cells = [cell.strip() for cell in re.split(r"\|\|?", line.strip())[1:-1]]
    row = "| " + " | ".join(cells) + " |"
    return row + "\n|" + " --- |" * len(cells) if header else row
