"""Turns JIRA's two rich-text formats into Markdown, the one format ACGS2 stores.

Cloud (API v3) sends Atlassian Document Format, a JSON tree; Server/Data Center sends wiki
markup. Both converters handle the constructs people actually write (headings, emphasis, code,
lists, links, mentions, quotes, tables); anything else degrades to its plain text, so no
content is lost to a node type we have not met.
"""
from __future__ import annotations

import re
from typing import Any

# -- Atlassian Document Format --------------------------------------------------------------
_MARKS = {"strong": "**", "em": "*", "strike": "~~", "code": "`"}


def adf_to_markdown(doc: Any) -> str:
    """Markdown for an ADF document; None is empty, a plain string passes through."""
    if doc is None:
        return ""
    if isinstance(doc, str):
        return doc
    if not isinstance(doc, dict):
        raise TypeError(f"expected an ADF document, got {type(doc).__name__}")
    return _blocks(doc.get("content")).strip()


def _children(node: dict) -> list:
    content = node.get("content") or []
    if not isinstance(content, list):
        raise TypeError("ADF content is not a list")
    return [child for child in content if isinstance(child, dict)]


def _blocks(nodes: Any, sep: str = "\n\n") -> str:
    parts = (_block(node) for node in (nodes or []) if isinstance(node, dict))
    return sep.join(part for part in parts if part.strip())


def _attrs(node: dict) -> dict:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}


def _block(node: dict) -> str:
    kind = node.get("type")
    if kind == "paragraph":
        return _inline(_children(node))
    if kind == "heading":
        level = min(max(int(_attrs(node).get("level") or 1), 1), 6)
        return f"{'#' * level} {_inline(_children(node))}"
    if kind in ("bulletList", "orderedList"):
        return _list(node, ordered=kind == "orderedList")
    if kind == "codeBlock":
        language = _attrs(node).get("language") or ""
        return f"```{language}\n{_plain(node)}\n```"
    if kind in ("blockquote", "panel"):
        return "\n".join(f"> {line}".rstrip() for line in _blocks(_children(node)).splitlines())
    if kind == "rule":
        return "---"
    if kind == "table":
        return _table(node)
    if kind in ("mediaSingle", "mediaGroup", "media"):
        return ""  # attachments are listed as metadata on the item
    if any(child.get("type") == "text" for child in _children(node)):
        return _inline(_children(node))
    return _blocks(_children(node)) if node.get("content") else _inline([node])


def _list(node: dict, ordered: bool) -> str:
    start = int(_attrs(node).get("order") or 1) if ordered else 1
    lines = []
    for number, item in enumerate(_children(node), start):
        marker = f"{number}. " if ordered else "- "
        body = _blocks(_children(item), sep="\n") or _plain(item)
        first, *rest = body.splitlines() or [""]
        lines.append(marker + first)
        lines.extend(" " * len(marker) + line if line else "" for line in rest)
    return "\n".join(lines)


def _table(node: dict) -> str:
    rows = [[_inline_of_cell(cell) for cell in _children(row)] for row in _children(node)]
    rows = [row for row in rows if row]
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    lines = ["| " + " | ".join(row + [""] * (width - len(row))) + " |" for row in rows]
    lines.insert(1, "|" + " --- |" * width)
    return "\n".join(lines)


def _inline_of_cell(cell: dict) -> str:
    return _blocks(_children(cell), sep=" ").replace("\n", " ").replace("|", "\\|")


def _inline(nodes: list) -> str:
    out = []
    for node in nodes:
        kind = node.get("type")
        attrs = _attrs(node)
        if kind == "text":
            out.append(_marked(str(node.get("text") or ""), node.get("marks")))
        elif kind == "hardBreak":
            out.append("\n")
        elif kind == "mention":
            text = str(attrs.get("text") or attrs.get("id") or "")
            out.append(text if text.startswith("@") else f"@{text}")
        elif kind == "emoji":
            out.append(str(attrs.get("text") or attrs.get("shortName") or ""))
        elif kind in ("inlineCard", "blockCard"):
            out.append(f"<{attrs.get('url')}>" if attrs.get("url") else "")
        elif kind in ("status", "date"):
            out.append(str(attrs.get("text") or attrs.get("timestamp") or ""))
        else:
            out.append(_plain(node))
    return "".join(out)


def _marked(text: str, marks: Any) -> str:
    if not text or not isinstance(marks, list):
        return text
    href = None
    for mark in marks:
        if not isinstance(mark, dict):
            continue
        wrap = _MARKS.get(str(mark.get("type")))
        if wrap:
            text = f"{wrap}{text}{wrap}"
        elif mark.get("type") == "link":
            href = _attrs(mark).get("href")
    return f"[{text}]({href})" if href else text


def _plain(node: dict) -> str:
    """The text inside any node: how unknown node types degrade."""
    if node.get("type") == "text":
        return str(node.get("text") or "")
    return "".join(_plain(child) for child in _children(node))


# -- wiki markup (Server/Data Center) --------------------------------------------------------
_CODE_BLOCK = re.compile(r"\{(code|noformat)(?::([^}]*))?\}\n?(.*?)\n?\{\1\}", re.S)
_QUOTE_BLOCK = re.compile(r"\{quote\}\n?(.*?)\n?\{quote\}", re.S)
_HEADING = re.compile(r"^h([1-6])\.\s+(.*)$")
_LIST = re.compile(r"^\s*([*#]+|-)\s+(.*)$")
_INLINE_RULES = (
    (re.compile(r"\{\{(.+?)\}\}"), None),  # monospace: protected like code
    (re.compile(r"\[~(?:accountid:)?([^\]]+)\]"), r"@\1"),
    (re.compile(r"\[([^\]|]+)\|([^\]]+)\]"), r"[\1](\2)"),
    (re.compile(r"\[((?:https?|mailto):[^\]]+)\]"), r"<\1>"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"**\1**"),
    (re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"), r"*\1*"),
    (re.compile(r"(?<![\w-])-(?=[^\s-])(.+?)(?<=[^\s-])-(?![\w-])"), r"~~\1~~"),
    (re.compile(r"(?<![\w+])\+(?=\S)(.+?)(?<=\S)\+(?![\w+])"), r"\1"),
    (re.compile(r"\?\?(.+?)\?\?"), r"*\1*"),
    (re.compile(r"!([^!\s|]+)(?:\|[^!]*)?!"), r"[attachment: \1]"),
    (re.compile(r"\{color(?::[^}]*)?\}|\{panel(?::[^}]*)?\}"), ""),
    (re.compile(r"\\\\"), "\n"),
)


def wiki_to_markdown(text: Any) -> str:
    """Markdown for JIRA wiki markup; code and monospace content are left untouched."""
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
    lines = [_wiki_line(line, protect) for line in text.split("\n")]
    markdown = "\n".join(lines).strip()
    return re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], markdown)


def _wiki_line(line: str, protect) -> str:
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
        if replacement is None:
            line = pattern.sub(lambda m: protect(f"`{m.group(1)}`"), line)
        else:
            line = pattern.sub(replacement, line)
    return prefix + line


def _wiki_table_row(line: str) -> str:
    header = line.startswith("||")
    cells = [cell.strip() for cell in re.split(r"\|\|?", line.strip())[1:-1]]
    row = "| " + " | ".join(cells) + " |"
    return row + "\n|" + " --- |" * len(cells) if header else row
