"""JIRA wiki markup (Server/Data Center, API v2) to Markdown, by a small rule set of our own.

Headings, emphasis, strikethrough, monospace, code and noformat blocks (a `{code}`'s language kept, its
other parameters not), `{quote}` and `bq.`, panels (a quote headed by the panel's title in bold), nested
and mixed lists, tables (the first row is the header, as Markdown needs one), links, `[mailto:...]`,
rules, dashes, line breaks and the emoticons (`:)`, `(y)`, `(!)`...: their emoji) become Markdown;
superscript and subscript `<sup>`/`<sub>`, as the ADF converter does; mentions (`[~user]`,
`[~accountid:...]`, `[Alias|~user]`) become `@Display Name` for the people the issue names (reporter,
assignee, comment authors), `@name` otherwise; attachments (`[^file]`, `!image.png!`) become
`[attachment: NAME]` references (files stay at the source, listed on the item), an external image
(`!https://...!`) an image of its URL; colour, underline and panel parameters other than the title
are dropped, their text kept. Anything else stays as typed (not backslash-escaped): no text is lost.
Scored against the library's own test expectations by tests/wiki_score.py (see tests/test_wiki_markup.py).

Why not the `jira2markdown` library (a parsing-expression grammar with about 300 test cases, which gets
escaping and a few corner cases right that these rules do not): measured again here (0.5.3, pyparsing 3.3.3,
the latest of both) it takes 350-560 ms for each of the JIRA fake's typical bodies (34-104 characters),
50-115 ms with its grammar built once, and 25-45 s for a 27 KB description (about 1 ms a character,
spread over every element of the grammar, none a hot spot); pyparsing's packrat mode makes that slower
(bounded cache: 80-90 s; unbounded: 145-260 s) and left recursion no faster on short bodies and raises
(KeyError in its memo) on the long one. A lone `|` line still makes it raise (IndexError in a parse
action). Neither a plain-text fast path nor a fallback on its errors brings a marked-up body to a few ms,
so a 10,000-issue Server import would spend hours in it. Revisit with a faster release.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_CODE_BLOCK = re.compile(r"\{(code|noformat)(?::([^}]*))?\}(.*?)\{\1\}", re.S)
_PANEL_BLOCK = re.compile(r"\{(panel|quote)(?::([^}]*))?\}(.*?)\{\1\}", re.S)
_QUOTE_LINE = re.compile(r"^\s*bq\.\s")
_HEADING = re.compile(r"^\s*h([1-6])\.\s+(.*)$")
_LIST = re.compile(r"^\s*([*#]+|-)\s+(.*)$")
_TABLE_ROW = re.compile(r"^\s*\|")
_MENTION = re.compile(r"\[(?:[^\]|\[\n]*\|)?~(?:accountid:)?([^\]|\[\s]+)\]", re.I)
_MAILTO = re.compile(r"\[(?:([^\]|\[\n]*)\|)?mailto:([^\]|\[\s]+)\]", re.I)
_LINK = re.compile(r"\[([^\]|\[\n]+)\|([^\]|\[\s]+)\]")  # no `[` or `|` in either part: linear time
_BARE_LINK = re.compile(r"\[((?:https?|ftp|file)://[^\]|\[\s]+|www\.[^\]|\[\s]+)\]", re.I)
_IMAGE = re.compile(r"(?<![\w!])!([^!\s|]+)(?:\|[^!\n]*)?!")
_ATTACHMENT = re.compile(r"\[\^([^\]\[\n]+)\]")
_MONOSPACE = re.compile(r"\{\{(.+?)\}\}")
EMOTICONS = {  # JIRA's emoticons (Server docs, "Text formatting notation help") -> their emoji
    ":)": "🙂", ":(": "🙁", ":P": "😛", ":D": "😀", ";)": "😉", "(y)": "👍", "(n)": "👎", "(i)": "ℹ️",
    "(/)": "✅", "(x)": "❌", "(!)": "⚠️", "(+)": "➕", "(-)": "➖", "(?)": "❓", "(on)": "💡", "(off)": "🔅",
    "(*)": "⭐", "(*r)": "⭐", "(*g)": "⭐", "(*b)": "⭐", "(*y)": "⭐", "(flag)": "🚩", "(flagoff)": "🏳️",
}
_EMOTICON = re.compile(r"(?<![\w:;/(])(" + "|".join(re.escape(e) for e in
                                                  sorted(EMOTICONS, key=len, reverse=True)) + r")(?!\w)")


def _span(mark: str, before: str, after: str | None = None) -> tuple[re.Pattern, str]:
    """A text effect between two `mark`s that touch the text inside and are not inside a word."""
    m = re.escape(mark)
    return (re.compile(rf"(?<![\w{m}]){m}(?=[^\s{m}])(.+?)(?<=[^\s{m}]){m}(?![\w{m}])"),
            before + r"\1" + (before if after is None else after))


_TEXT_EFFECTS = (
    (re.compile(r"(?<!\S)---(?!\S)"), "—"),
    (re.compile(r"(?<!\S)--(?!\S)"), "–"),
    _span("*", "**"),
    _span("_", "*"),
    _span("-", "~~"),
    _span("+", ""),  # underline: plain text, as in the ADF converter
    _span("^", "<sup>", "</sup>"),
    _span("~", "<sub>", "</sub>"),
    (re.compile(r"(?<![\w?])\?\?(?=[^\s?])(.+?)(?<=[^\s?])\?\?(?![\w?])"), r"*\1*"),  # citation
    (re.compile(r"\{color(?::[^}]*)?\}"), ""),  # colour: plain text
    (re.compile(r"\\\\"), "  \n"),
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

    markdown = _blocks(text.replace("\r\n", "\n").replace("\x00", ""), protect, names or {})
    markdown = re.sub(r"\n{3,}", "\n\n", markdown)  # code is protected: its blank lines stay
    while "\x00" in markdown:  # a protected block may hold protected pieces of its own
        markdown = re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], markdown)
    return markdown.strip()


def _blocks(text: str, protect: Callable[[str], str], names: dict[str, str]) -> str:
    def code(m: re.Match) -> str:
        params = (m.group(2) or "").split("|")
        language = params[0].strip() if m.group(1) == "code" and "=" not in params[0] else ""
        return "\n" + protect(f"```{language}\n{m.group(3).strip(chr(10))}\n```") + "\n"

    def panel(m: re.Match) -> str:
        title = re.search(r"(?:^|\|)\s*title\s*=\s*([^|]*)", m.group(2) or "")
        inner = "\n".join(line.strip() for line in m.group(3).strip("\n").split("\n"))
        body = _blocks(inner, protect, names).strip("\n")
        # the title a paragraph of its own: on the next line it would run into the body's first line
        body = (f"**{title.group(1).strip()}**\n\n" if title and title.group(1).strip() else "") + body
        return "\n" + protect("\n".join(f"> {line}".rstrip() for line in body.split("\n"))) + "\n"

    text = _CODE_BLOCK.sub(code, text)
    text = _PANEL_BLOCK.sub(panel, text)
    out: list[str] = []
    table: list[str] = []
    for line in text.split("\n"):
        if _TABLE_ROW.match(line):
            table.append(line)
            continue
        if table and line.strip() and not table[-1].rstrip().endswith("|"):
            table[-1] += " " + line.strip()  # a cell that goes on over several lines
            continue
        if table:
            out.extend(_table(table, protect, names))
            table = []
        if out and out[-1].startswith("> ") and line.strip() and not _QUOTE_LINE.match(line):
            out.append("")  # or Markdown would carry the quote on into this line
        out.append(_line(line, protect, names))
    if table:
        out.extend(_table(table, protect, names))
    return "\n".join(out)


def _line(line: str, protect: Callable[[str], str], names: dict[str, str]) -> str:
    if line.strip() == "----":
        return "\n---"  # after a blank line: right under text, `---` would make that text a heading
    prefix = ""
    if match := _HEADING.match(line):
        prefix, line = "#" * int(match.group(1)) + " ", match.group(2)
    elif _QUOTE_LINE.match(line):
        prefix, line = "> ", _QUOTE_LINE.sub("", line, count=1)
    elif match := _LIST.match(line):
        markers, line = match.group(1), match.group(2)
        indent = sum(3 if marker == "#" else 2 for marker in markers[:-1])
        prefix = " " * indent + ("1. " if markers[-1] == "#" else "- ")
    return prefix + _inline(line, protect, names)


def _inline(line: str, protect: Callable[[str], str], names: dict[str, str]) -> str:
    def mention(m: re.Match) -> str:
        before = " " if m.start() and m.string[m.start() - 1].isalnum() else ""  # JIRA needs no space there
        after = " " if m.end() < len(m.string) and (m.string[m.end()].isalnum() or m.string[m.end()] == "[") else ""
        return before + protect(f"@{names.get(m.group(1), m.group(1))}") + after

    def mailto(m: re.Match) -> str:
        alias, address = (m.group(1) or "").strip(), m.group(2)
        return protect(f"<{address}>") if alias in ("", address) else f"[{alias}]({protect('mailto:' + address)})"

    def link(m: re.Match) -> str:
        target = m.group(2)
        if "://" not in target and not target.startswith(("www.", "/", "#")):
            return m.group(0)  # not a link JIRA would make: text as typed
        return f"[{m.group(1)}]({protect(target)})"

    def image(m: re.Match) -> str:
        name = m.group(1)
        return protect(f"![{name}]({name})" if "://" in name else f"[attachment: {name}]")

    line = _MONOSPACE.sub(lambda m: protect(f"`{m.group(1)}`"), line)
    line = _MENTION.sub(mention, line)
    line = _MAILTO.sub(mailto, line)
    line = _ATTACHMENT.sub(lambda m: protect(f"[attachment: {m.group(1)}]"), line)
    line = _LINK.sub(link, line)
    line = _BARE_LINK.sub(lambda m: protect(f"<{'https://' if m.group(1)[:4].lower() == 'www.' else ''}{m.group(1)}>"),
                          line)
    line = _IMAGE.sub(image, line)
    line = _EMOTICON.sub(lambda m: EMOTICONS[m.group(1)], line)
    for pattern, replacement in _TEXT_EFFECTS:
        line = pattern.sub(replacement, line)
    return line


def _table(rows: list[str], protect: Callable[[str], str], names: dict[str, str]) -> list[str]:
    """A Markdown table: the first row is its header (Markdown needs one); rows with no text are left out."""
    cells = []
    for row in rows:
        row = _inline(row.strip(), protect, names)  # links and mentions first: their `|` is not a cell's
        row = row.replace("  \n", " ")  # a line break inside a cell
        parts = [cell.strip() for cell in re.split(r"\|\|?", row)[1:]]
        if parts and parts[-1] == "":
            parts.pop()
        if any(parts):
            cells.append(parts)
    if not cells:
        return rows  # pipes with nothing between them: text as typed
    width = max(len(row) for row in cells)
    header = cells[0] + [""] * (width - len(cells[0]))
    lines = ["", "|" + "|".join(header) + "|", "|" + "---|" * width]
    return lines + ["|" + "|".join(row) + "|" for row in cells[1:]] + [""]
