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
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

_CODE_BLOCK = re.compile(r"\{(code|noformat)(?=[:}])")  # an opener; its parameters and closer: _block_sub
_PANEL_BLOCK = re.compile(r"\{(panel|quote)(?=[:}])")
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
_LANGUAGE = re.compile(r"[A-Za-z0-9+#.-]+")  # a code block's language as a fence's info string: nothing else
_BACKTICKS = re.compile(r"`+")
EMOTICONS = {  # JIRA's emoticons (Server docs, "Text formatting notation help") -> their emoji
    ":)": "🙂", ":(": "🙁", ":P": "😛", ":D": "😀", ";)": "😉", "(y)": "👍", "(n)": "👎", "(i)": "ℹ️",
    "(/)": "✅", "(x)": "❌", "(!)": "⚠️", "(+)": "➕", "(-)": "➖", "(?)": "❓", "(on)": "💡", "(off)": "🔅",
    "(*)": "⭐", "(*r)": "⭐", "(*g)": "⭐", "(*b)": "⭐", "(*y)": "⭐", "(flag)": "🚩", "(flagoff)": "🏳️",
}
_EMOTICON = re.compile(r"(?<![\w:;/(])(" + "|".join(re.escape(e) for e in
                                                  sorted(EMOTICONS, key=len, reverse=True)) + r")(?!\w)")


class _Paired:
    """Text between an opener and the first closer after it on the same line, found in one pass.

    The same matches as `OPEN(.+?)CLOSE` with re.sub, without its cost: that regex scans to the end of the
    line from every opener that has no closer, so a line of unclosed openers (`*a *a *a ...`) took time
    quadratic in its length (100 KB: 96 s). Here every opener and closer position is listed once (both as
    lookaheads, so overlapping ones count), and each opener takes the first closer at least one character
    after it, found by bisection; openers inside a match are skipped, as re.sub skips them."""

    def __init__(self, opener: str, closer: str, width: int, render: Callable[[str], str]):
        self.opener, self.closer = re.compile(f"(?={opener})"), re.compile(f"(?={closer})")
        self.width, self.render = width, render  # width: the mark's length, at both ends

    def sub(self, line: str, render: Callable[[str], str] | None = None) -> str:
        closers = [m.start() for m in self.closer.finditer(line)]
        if not closers:
            return line
        breaks = [m.start() for m in re.finditer("\n", line)] + [len(line)]
        out, done = [], 0
        for match in self.opener.finditer(line):
            start = match.start()
            if start < done:
                continue
            at = bisect_left(closers, start + self.width + 1)  # the text between is one character or more
            if at == len(closers) or closers[at] > breaks[bisect_left(breaks, start)]:
                continue
            end = closers[at]
            out += [line[done:start], (render or self.render)(line[start + self.width:end])]
            done = end + self.width
        return "".join(out) + line[done:]


def _span(mark: str, before: str, after: str | None = None) -> _Paired:
    """A text effect between two `mark`s that touch the text inside and are not inside a word."""
    m = re.escape(mark)
    after = before if after is None else after
    return _Paired(rf"(?<![\w{m}]){m}(?=[^\s{m}])", rf"(?<=[^\s{m}]){m}(?![\w{m}])", len(mark),
                   lambda text: before + text + after)


def code_span(text: str) -> str:
    """Markdown inline code for any text (CommonMark): a backtick run longer than any inside it, and a space
    inside each end when the text starts or ends with a backtick (or it would join the delimiters)."""
    ticks = "`" * (max(map(len, _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def code_fence(code: str, language: str = "") -> str:
    """A fenced code block that nothing inside can close (CommonMark: the closing fence is at least as long as
    the opening one, so the fence is longer than any backtick run of the code), with the language as its info
    string only when it is a plain name (letters, digits, `+-#.`): any other text there could end the fence."""
    fence = "`" * max(3, max(map(len, _BACKTICKS.findall(code)), default=0) + 1)
    info = language.strip() if _LANGUAGE.fullmatch(language.strip()) else ""
    return f"{fence}{info}\n{code}\n{fence}"


_MONOSPACE = _Paired(r"\{\{", r"\}\}", 2, lambda text: text)  # rendered by _inline: the text is protected
_TEXT_EFFECTS: tuple[tuple[re.Pattern, str] | _Paired, ...] = (
    (re.compile(r"(?<!\S)---(?!\S)"), "—"),
    (re.compile(r"(?<!\S)--(?!\S)"), "–"),
    _span("*", "**"),
    _span("_", "*"),
    _span("-", "~~"),
    _span("+", ""),  # underline: plain text, as in the ADF converter
    _span("^", "<sup>", "</sup>"),
    _span("~", "<sub>", "</sub>"),
    _span("??", "*"),  # citation
    (re.compile(r"\{color(?::[^{}]*)?\}"), ""),  # colour: plain text (no `{` in it: linear time)
    (re.compile(r"\\\\"), "  \n"),
)


class _Protected:
    """Markdown that later rules must not touch (code, links, finished blocks), kept aside behind a
    placeholder; `expand` puts it back."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def __call__(self, markdown: str) -> str:
        self.pieces.append(markdown)
        return f"\x00{len(self.pieces) - 1}\x00"

    def expand(self, markdown: str) -> str:
        while "\x00" in markdown:  # a protected piece may hold protected pieces of its own
            markdown = re.sub(r"\x00(\d+)\x00", lambda m: self.pieces[int(m.group(1))], markdown)
        return markdown


def wiki_to_markdown(text: Any, names: dict[str, str] | None = None) -> str:
    """Markdown for JIRA wiki markup; code and monospace content are left untouched. `names`: username,
    user key or account id -> display name, for mentions. TypeError for anything that is not text."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise TypeError(f"expected wiki markup text, got {type(text).__name__}")
    protect = _Protected()
    markdown = _blocks(text.replace("\r\n", "\n").replace("\x00", ""), protect, names or {})
    markdown = re.sub(r"\n{3,}", "\n\n", markdown)  # code is protected: its blank lines stay
    return protect.expand(markdown).strip()


def _block_sub(text: str, opener: re.Pattern, render: Callable[[str, str | None, str], str]) -> str:
    """Each `{kind:params}body{kind}` of the opener's kinds replaced by render(kind, params, body), as
    re.sub of `\\{(kind)(?::([^}]*))?\\}(.*?)\\{\\1\\}` (re.S) would, in linear time: that regex scans to the
    end of the text from every opener without a closer. Here the next `}` and each kind's next closer are
    searched once and kept: once an opener has no closer after it, no later opener of its kind has one."""
    out: list[str] = []
    done, brace = 0, -1
    closers: dict[str, int] = {}  # kind -> its first closer at or after the last search (len(text): none)
    for match in opener.finditer(text):
        start, kind, head = match.start(), match.group(1), match.end()
        if start < done:
            continue
        params = None
        if text[head] == ":":
            if brace < head:
                brace = text.find("}", head) % (len(text) + 1)  # not found: len(text)
            if brace == len(text):
                break  # no `}` after here: no opener can end
            params, body = text[head + 1:brace], brace + 1
        else:
            body = head + 1
        closer = "{" + kind + "}"
        if closers.get(kind, -1) < body:
            closers[kind] = text.find(closer, body) % (len(text) + 1)
        if closers[kind] == len(text):
            continue
        out += [text[done:start], render(kind, params, text[body:closers[kind]])]
        done = closers[kind] + len(closer)
    return "".join(out) + text[done:]


def _blocks(text: str, protect: _Protected, names: dict[str, str]) -> str:
    def code(kind: str, params: str | None, body: str) -> str:
        first = (params or "").split("|")[0]
        language = first.strip() if kind == "code" and "=" not in first else ""
        return "\n" + protect(code_fence(body.strip("\n"), language)) + "\n"

    def panel(kind: str, params: str | None, body: str) -> str:
        title = re.search(r"(?:^|\|)\s*title\s*=\s*([^|]*)", params or "")
        inner = "\n".join(line.strip() for line in body.strip("\n").split("\n"))
        # expanded before quoting: a code block inside must have `> ` on each of its lines, not on its placeholder
        markdown = protect.expand(_blocks(inner, protect, names)).strip("\n")
        # the title a paragraph of its own: on the next line it would run into the body's first line
        markdown = (f"**{title.group(1).strip()}**\n\n" if title and title.group(1).strip() else "") + markdown
        return "\n" + protect("\n".join(f"> {line}".rstrip() for line in markdown.split("\n"))) + "\n"

    text = _block_sub(text, _CODE_BLOCK, code)
    text = _block_sub(text, _PANEL_BLOCK, panel)
    out: list[str] = []
    table: list[list[str]] = []  # each row's lines (a cell may go on over several lines)
    for line in text.split("\n"):
        if _TABLE_ROW.match(line):
            table.append([line])
            continue
        if table and line.strip() and not table[-1][-1].rstrip().endswith("|"):
            table[-1].append(line.strip())  # a cell that goes on over several lines
            continue
        if table:
            out.extend(_table([" ".join(row) for row in table], protect, names))
            table = []
        if out and out[-1].startswith("> ") and line.strip() and not _QUOTE_LINE.match(line):
            out.append("")  # or Markdown would carry the quote on into this line
        out.append(_line(line, protect, names))
    if table:
        out.extend(_table([" ".join(row) for row in table], protect, names))
    return "\n".join(out)


def _line(line: str, protect: _Protected, names: dict[str, str]) -> str:
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


def _inline(line: str, protect: _Protected, names: dict[str, str]) -> str:
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

    line = _MONOSPACE.sub(line, lambda text: protect(code_span(text)))
    line = _MENTION.sub(mention, line)
    line = _MAILTO.sub(mailto, line)
    line = _ATTACHMENT.sub(lambda m: protect(f"[attachment: {m.group(1)}]"), line)
    line = _LINK.sub(link, line)
    line = _BARE_LINK.sub(lambda m: protect(f"<{'https://' if m.group(1)[:4].lower() == 'www.' else ''}{m.group(1)}>"),
                          line)
    line = _IMAGE.sub(image, line)
    line = _EMOTICON.sub(lambda m: EMOTICONS[m.group(1)], line)
    for effect in _TEXT_EFFECTS:
        line = effect.sub(line) if isinstance(effect, _Paired) else effect[0].sub(effect[1], line)
    return line


def _table(rows: list[str], protect: _Protected, names: dict[str, str]) -> list[str]:
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
