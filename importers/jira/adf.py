"""Atlassian Document Format (Jira Cloud's rich text, API v3) to Markdown, the one format ACGS2 stores.

Every node type and mark of the published ADF schema (@atlaskit/adf-schema, json-schema v1
full.json; https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/) has a rule
here (`NODES`, `MARKS`), and no text is ever dropped: a node type the schema adds later renders as
its text. Choices where Markdown has no equivalent:
- task items are `- [x]` / `- [ ]`, decisions `- Decision:` / `- Undecided:`;
- `date` (a millisecond timestamp) is an ISO date; `status` lozenges `[TEXT]`; `emoji` its character;
- `expand` and `nestedExpand` show their title in bold above their content; `panel` is a quote
  headed by its kind ("Note", "Warning"...), as a panel has no title of its own in ADF;
- media are attachment references (`[attachment: NAME]`; files stay at the source and are
  listed on the item), external media are links; cards (`inlineCard`, `blockCard`, `embedCard`) links;
- `textColor`, `backgroundColor`, `underline` and the layout marks (alignment, indentation,
  breakout, border, annotation, dataConsumer, fragment) render as their plain text;
- extensions (macros) render their body or text, else `[macro: KEY]`.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from importers.jira.wiki import code_fence, code_span

MARKS = {  # mark -> (before, after) around the text; marks not listed here render as plain text
    "strong": ("**", "**"), "em": ("*", "*"), "strike": ("~~", "~~"), "code": ("`", "`"),  # code: widened by _text
    "underline": ("", ""), "textColor": ("", ""), "backgroundColor": ("", ""), "alignment": ("", ""),
    "indentation": ("", ""), "breakout": ("", ""), "border": ("", ""), "annotation": ("", ""),
    "dataConsumer": ("", ""), "fragment": ("", ""),
}
_ORDER = {"code": 0, "strike": 1, "em": 2, "strong": 3, "subsup": 4}  # innermost first; `link` wraps all
PANEL_KINDS = {"info": "Info", "note": "Note", "tip": "Tip", "warning": "Warning", "error": "Error",
               "success": "Success", "custom": "Panel"}


def adf_to_markdown(doc: Any) -> str:
    """Markdown for an ADF document; None is empty, a plain string passes through; TypeError for
    anything else that is not a document (the mapper turns it into the item's failure)."""
    if doc is None:
        return ""
    if isinstance(doc, str):
        return doc
    if not isinstance(doc, dict):
        raise TypeError(f"expected an ADF document, got {type(doc).__name__}")
    return _blocks(_children(doc)).strip()


# -- helpers ---------------------------------------------------------------------------------
def _children(node: dict) -> list[dict]:
    content = node.get("content") or []
    if not isinstance(content, list):
        raise TypeError("ADF content is not a list")
    return [child for child in content if isinstance(child, dict)]


def _attrs(node: dict) -> dict:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}


def _blocks(nodes: list[dict], sep: str = "\n\n") -> str:
    return sep.join(part for part in (_node(n) for n in nodes) if part.strip())


def _inline(nodes: list[dict]) -> str:
    return "".join(_node(n) for n in nodes)


def _content(node: dict) -> str:
    """A node's children as blocks when any child is a block, else as inline text."""
    children = _children(node)
    if any(child.get("type") in BLOCKS for child in children):
        return _blocks(children)
    return _inline(children)


def _prefixed(text: str, prefix: str) -> str:
    return "\n".join(f"{prefix}{line}".rstrip() for line in text.splitlines())


def _text_of(node: dict) -> str:
    """All the text inside a node: how a node type unknown to the schema degrades."""
    if node.get("type") == "text":
        return str(node.get("text") or "")
    own = _attrs(node).get("text")
    return str(own) if isinstance(own, str) and not node.get("content") else "".join(map(_text_of, _children(node)))


# -- inline nodes ----------------------------------------------------------------------------
def _text(node: dict) -> str:
    text = str(node.get("text") or "")
    marks = [m for m in node.get("marks") or [] if isinstance(m, dict)] if isinstance(node.get("marks"), list) else []
    if not text or not marks:
        return text
    href = None
    for mark in sorted(marks, key=lambda m: _ORDER.get(str(m.get("type")), 9)):
        kind = str(mark.get("type"))
        if kind == "link":
            href = _attrs(mark).get("href")
        elif kind == "code":
            text = code_span(text)  # a backtick inside must not end it
        elif kind == "subsup":
            tag = "sup" if _attrs(mark).get("type") == "sup" else "sub"
            text = f"<{tag}>{text}</{tag}>"
        else:
            before, after = MARKS.get(kind, ("", ""))
            text = f"{before}{text}{after}"
    return f"[{text}]({href})" if href else text


def _mention(node: dict) -> str:
    attrs = _attrs(node)
    text = str(attrs.get("text") or attrs.get("id") or "")
    return text if text.startswith("@") else f"@{text}"


def _emoji(node: dict) -> str:
    attrs = _attrs(node)
    return str(attrs.get("text") or attrs.get("shortName") or "")


def _date(node: dict) -> str:
    """ADF dates are UTC midnights in milliseconds since the epoch, sent as a string."""
    stamp = _attrs(node).get("timestamp")
    try:
        return datetime.fromtimestamp(int(str(stamp)) / 1000, tz=UTC).date().isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        return str(stamp or "")


def _status(node: dict) -> str:
    text = str(_attrs(node).get("text") or "")
    return f"[{text}]" if text else ""


def _card(node: dict) -> str:
    attrs = _attrs(node)
    url = attrs.get("url")
    if url:
        return f"<{url}>"
    data = attrs.get("data")
    name, link = (data.get("name"), data.get("url")) if isinstance(data, dict) else (None, None)
    return f"[{name or link}]({link})" if link else str(name or "")


def _media(node: dict) -> str:
    attrs = _attrs(node)
    name = attrs.get("alt") or attrs.get("id") or "file"
    if attrs.get("type") == "external" and attrs.get("url"):
        return f"[{attrs.get('alt') or attrs['url']}]({attrs['url']})"
    return f"[attachment: {name}]"


def _extension(node: dict) -> str:
    attrs = _attrs(node)
    body = _content(node) if node.get("content") else str(attrs.get("text") or "")
    return body if body.strip() else f"[macro: {attrs.get('extensionKey') or node.get('type')}]"


# -- block nodes -----------------------------------------------------------------------------
def _heading(node: dict) -> str:
    try:
        level = min(max(int(_attrs(node).get("level") or 1), 1), 6)
    except (TypeError, ValueError, OverflowError):  # Infinity is a JSON number the stdlib parser reads
        level = 1
    return f"{'#' * level} {_inline(_children(node))}"


def _list(node: dict) -> str:
    ordered = node.get("type") == "orderedList"
    try:
        number = int(_attrs(node).get("order") or 1) if ordered else 1
    except (TypeError, ValueError, OverflowError):
        number = 1
    lines = []
    for item in _children(node):
        marker = f"{number}. " if ordered else "- "
        number += 1
        body = _blocks(_children(item), sep="\n") if item.get("type") == "listItem" else _node(item)
        first, *rest = body.splitlines() or [""]
        lines.append(marker + first)
        lines.extend(" " * len(marker) + line if line else "" for line in rest)
    return "\n".join(lines)


def _task_list(node: dict) -> str:
    lines = []
    for item in _children(node):
        if item.get("type") == "taskList":  # a nested list of tasks
            lines.append(_prefixed(_task_list(item), "  "))
            continue
        done = "x" if _attrs(item).get("state") == "DONE" else " "
        first, *rest = _content(item).splitlines() or [""]
        lines.append(f"- [{done}] {first}")
        lines.extend(f"      {line}" for line in rest)
    return "\n".join(lines)


def _decision_list(node: dict) -> str:
    lines = []
    for item in _children(node):
        label = "Decision" if _attrs(item).get("state", "DECIDED") == "DECIDED" else "Undecided"
        lines.append(f"- {label}: {_content(item)}")
    return "\n".join(lines)


def _code_block(node: dict) -> str:
    """A fence nothing in the code can close, the language only when it is a plain name."""
    return code_fence("".join(map(_text_of, _children(node))), str(_attrs(node).get("language") or ""))


def _panel(node: dict) -> str:
    kind = PANEL_KINDS.get(str(_attrs(node).get("panelType") or "info"), "Panel")
    return _prefixed(f"**{kind}**\n{_blocks(_children(node), sep=chr(10) * 2)}", "> ")


def _expand(node: dict) -> str:
    title = str(_attrs(node).get("title") or "").strip()
    body = _blocks(_children(node))
    return f"**{title}**\n\n{body}" if title else body


def _table(node: dict) -> str:
    rows = [[_cell(cell) for cell in _children(row)] for row in _children(node)]
    rows = [row for row in rows if row]
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    lines = ["| " + " | ".join(row + [""] * (width - len(row))) + " |" for row in rows]
    lines.insert(1, "|" + " --- |" * width)
    return "\n".join(lines)


def _cell(cell: dict) -> str:
    return _blocks(_children(cell), sep=" ").replace("\n", " ").replace("|", "\\|")


def _media_single(node: dict) -> str:
    return "\n".join(part for part in (_node(c) for c in _children(node)) if part)


NODES: dict[str, Callable[[dict], str]] = {
    # top level and blocks
    "doc": lambda n: _blocks(_children(n)),
    "paragraph": lambda n: _inline(_children(n)),
    "heading": _heading,
    "bulletList": _list,
    "orderedList": _list,
    "listItem": lambda n: _blocks(_children(n), sep="\n"),
    "taskList": _task_list,
    "taskItem": lambda n: _task_list({"content": [n]}),
    "blockTaskItem": lambda n: _task_list({"content": [n]}),
    "decisionList": _decision_list,
    "decisionItem": lambda n: _decision_list({"content": [n]}),
    "codeBlock": _code_block,
    "blockquote": lambda n: _prefixed(_blocks(_children(n)), "> "),
    "panel": _panel,
    "rule": lambda n: "---",
    "expand": _expand,
    "nestedExpand": _expand,
    "table": _table,
    "tableRow": lambda n: " | ".join(_cell(c) for c in _children(n)),
    "tableHeader": _cell,
    "tableCell": _cell,
    "layoutSection": lambda n: _blocks(_children(n)),
    "layoutColumn": lambda n: _blocks(_children(n)),
    "mediaSingle": _media_single,
    "mediaGroup": lambda n: " ".join(_node(c) for c in _children(n)),
    "caption": lambda n: _inline(_children(n)),
    "blockCard": _card,
    "embedCard": _card,
    "extension": _extension,
    "bodiedExtension": _extension,
    "multiBodiedExtension": _extension,
    "extensionFrame": lambda n: _blocks(_children(n)),
    "syncBlock": lambda n: _content(n),
    "bodiedSyncBlock": lambda n: _content(n),
    # inline
    "text": _text,
    "hardBreak": lambda n: "\n",
    "mention": _mention,
    "emoji": _emoji,
    "date": _date,
    "status": _status,
    "inlineCard": _card,
    "media": _media,
    "mediaInline": _media,
    "inlineExtension": _extension,
    "placeholder": lambda n: str(_attrs(n).get("text") or ""),
}
BLOCKS = {"paragraph", "heading", "bulletList", "orderedList", "taskList", "decisionList", "codeBlock", "blockquote",
          "panel", "rule", "expand", "nestedExpand", "table", "layoutSection", "mediaSingle", "mediaGroup",
          "blockCard", "embedCard", "extension", "bodiedExtension", "multiBodiedExtension", "bodiedSyncBlock",
          "syncBlock", "blockTaskItem", "extensionFrame", "layoutColumn", "decisionItem", "taskItem"}


def _node(node: dict) -> str:
    render = NODES.get(str(node.get("type")))
    if render is None:  # a node type the schema adds later: its text, never nothing
        return _content(node) if node.get("content") else _text_of(node)
    return render(node)
