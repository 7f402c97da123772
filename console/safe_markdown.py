"""Markdown from a vendor (descriptions, comments) turned into HTML that is safe to show.

Anyone who can write an issue at the source writes what the Workspace shows, so:
- raw HTML in the text is never HTML: markdown-it-py runs with `html` off and escapes it as text;
- images become links ("image: <alt>") and are never loaded, so opening an item cannot call a
  URL planted in it (a tracking pixel, a request to an internal address);
- the result passes nh3 (the Ammonia sanitiser) with a small allow-list of tags and attributes,
  links limited to http, https and mailto, opening in a new tab without a referrer.
A parser plus a sanitiser, not regular expressions: both are maintained against real attacks.

`literal` is for the other direction: a short text (a project name, a vendor's error message, a group name)
put into a Streamlit call that renders Markdown (st.markdown, st.caption, st.error and its kin, page_link
labels), which must show as the text it is, never as a link, an image, an :icon: or $math$. An error of the core
(a SourceError) is shown in the console's words, never the CLI's (`python cli.py jobs`, JIRA_API_TOKEN).
"""
from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from importers.errors import CONSOLE, SourceError

TAGS = {"p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a",
        "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "div", "span", "bdi"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"},
              "div": {"class"}, "span": {"class"}}
URL_SCHEMES = {"http", "https", "mailto"}

# what can make Markdown (Streamlit's: GFM, directives, math) act rather than show: links and images ([ ] <), a
# `:red[...]` directive or a `:material/...:` icon, bare autolinks (://, www., @), code, emphasis, headings, math
_ACTIVE = re.compile(r"([\\`*\[\]<>#|$~])|:(?=//|material/)|(?<![A-Za-z0-9])(www)\.|@", re.IGNORECASE)

_LIST_MARKER = re.compile(r"^(\d*)([-+]|(?<=\d)[.)])")  # "- x", "+ x", "12. x", "3) x" at the start


def _escaped(match: re.Match) -> str:
    if match.group(2):
        return f"{match.group(2)}\\."
    return "\\" + match.group(0)


def literal(text: object) -> str:
    """`text` (a vendor's or a user's) as Markdown that Streamlit shows as written, on one line: every mark that could
    make a link, an image, an autolink, an icon, code, emphasis or math is backslash-escaped; line breaks become
    spaces, and a list marker at its start is escaped too. A SourceError reads as the console says it (`shown_in`):
    `str()` is the CLI's line, whose advice names commands and variables a console user has no use for."""
    said = text.shown_in(CONSOLE) if isinstance(text, SourceError) else str(text)
    flat = _ACTIVE.sub(_escaped, " ".join(said.split()))
    return _LIST_MARKER.sub(r"\1\\\2", flat)


_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"])


def _image_to_link(image: Token) -> list[Token]:
    """An image token as a link to the image: what it shows is text, nothing is fetched."""
    src = str(image.attrGet("src") or "")
    alt = "".join(child.content for child in image.children or []) or image.content
    opening = Token("link_open", "a", 1, attrs={"href": src})
    text = Token("text", "", 0, content=f"image: {alt}" if alt else f"image: {src}")
    return [opening, text, Token("link_close", "a", -1)]


def _without_images(tokens: list[Token]) -> list[Token]:
    for token in tokens:
        if token.children:
            children: list[Token] = []
            for child in token.children:
                children.extend(_image_to_link(child) if child.type == "image" else [child])
            token.children = children
    return tokens


def to_html(text: str | None) -> str:
    """Sanitised HTML for Markdown `text` (empty input gives an empty string)."""
    if not text or not text.strip():
        return ""
    rendered = _parser.renderer.render(_without_images(_parser.parse(text)), _parser.options, {})
    return nh3.clean(rendered, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow", set_tag_attribute_values={"a": {"target": "_blank"}},
                     strip_comments=True)


def block(text: str | None, empty: str = "") -> str:
    """`to_html(text)` in the console's Markdown box (class acgs2-md), or `empty` as escaped text."""
    body = to_html(text) or f"<p><em>{html.escape(empty)}</em></p>"
    return f'<div class="acgs2-md">{body}</div>'


def person(label: str, name: str) -> str:
    """"Assignee: <name>", the name escaped and in <bdi>: a right-to-left name, or one carrying direction overrides,
    cannot reorder the line. The isolation is markup: Unicode's isolate characters (U+2068, U+2069) came along
    invisibly when a name was copied."""
    return f'<div class="acgs2-person">{html.escape(label)}: <bdi>{html.escape(name)}</bdi></div>'


def comment_head(author: str | None, when: str) -> str:
    """A comment's author, isolated in <bdi> (a right-to-left name cannot reorder the date after it), and its date."""
    return (f'<div class="acgs2-comment-head"><bdi class="acgs2-author">{html.escape(author or "unknown")}</bdi>'
            f' <span class="acgs2-date">· {html.escape(when)}</span></div>')


def comment(author: str | None, when: str, text: str | None) -> str:
    """A comment: its head (comment_head) and its body as `block`."""
    return f'<div class="acgs2-comment">{comment_head(author, when)}{block(text, "(empty comment)")}</div>'
