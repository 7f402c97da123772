"""HTML to Markdown, for every HTML-bearing field of every source: one converter, one policy.

Items and comments are stored as Markdown. Sources hand us HTML in places (ServiceNow journal
entries inside `[code]...[/code]` and its HTML fields, JIRA's rendered fields, raw HTML embedded in
GitHub and GitLab bodies if a connector chooses to convert it); flattening that to text lost link
targets, images and list structure. The conversion is `markdownify` (BeautifulSoup's parse, MIT,
maintained), with our policy on top:

- links keep their targets; images become links (`[alt](src)`), since the workspace never loads
  a source's images inline;
- lists (nested), tables (a `|` inside a cell is escaped), headings, emphasis and code
  (`<pre>` as a fenced block) keep their structure;
- safe by construction: `<script>` and `<style>` vanish with their content, a link or image
  whose target is not http(s), mailto or a relative path (`javascript:`, `data:`, `vbscript:`)
  keeps its text but loses its target, and a `<` of the text is escaped, so no tag written in
  the source survives as live HTML in the Markdown.

Use `html_to_markdown` on a field known to be HTML; `looks_like_html` tells plain text apart
cheaply (most journal entries are plain: parsing them would cost CPU for nothing).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from markdownify import MarkdownConverter

# markdownify's type hints cover its public function, not the converter's conversion hooks we override
_Base: Any = MarkdownConverter

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_TAG = re.compile(r"<(?:[A-Za-z][A-Za-z0-9-]*|/[A-Za-z][A-Za-z0-9-]*|!--)[^<]*>?")
_BLANK_LINES = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def safe_url(url: str, base_url: str | None = None) -> str | None:
    """`url` fit for a Markdown link target, or None when it must not be one.

    Relative URLs are resolved against `base_url` when given (a ServiceNow instance, a JIRA
    site). Spaces and parentheses are percent-encoded, so the target cannot end the link early.
    """
    url = _CONTROL.sub("", (url or "").strip())
    if not url:
        return None
    scheme = urlsplit(url).scheme.lower()
    if scheme and scheme not in SAFE_SCHEMES:
        return None
    if not scheme and url.startswith("//"):
        return None  # protocol-relative: would follow whatever the viewer's page uses
    if not scheme and base_url:
        url = urljoin(base_url.rstrip("/") + "/", url)
    return quote(url, safe="/:?#[]@!$&'*+,;=%~.-_")


class _Converter(_Base):
    """markdownify with our link, image, table-cell and escaping policy (see the module)."""

    def __init__(self, base_url: str | None = None, **options: Any):
        super().__init__(heading_style="ATX", bullets="-", newline_style="backslash", **options)
        self.base_url = base_url

    def escape(self, text: str, parent_tags: Any) -> str:
        return super().escape(text, parent_tags).replace("<", "\\<")

    def convert_a(self, el: Any, text: str, parent_tags: Any) -> str:
        target = safe_url(el.get("href") or "", self.base_url)
        if target is None:
            return text
        el["href"] = target
        return super().convert_a(el, text, parent_tags)

    def convert_img(self, el: Any, text: str, parent_tags: Any) -> str:
        target = safe_url(el.attrs.get("src") or "", self.base_url)
        named = target.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] if target else ""
        alt = (el.attrs.get("alt") or "").strip() or named or "image"
        alt = alt.replace("[", "\\[").replace("]", "\\]")
        return f"[{alt}]({target})" if target else f"[image: {alt}]"

    def _cell(self, el: Any, text: str, parent_tags: Any, convert: Any) -> str:
        return convert(self, el, text.replace("|", "\\|"), parent_tags)

    def convert_td(self, el: Any, text: str, parent_tags: Any) -> str:
        return self._cell(el, text, parent_tags, _Base.convert_td)

    def convert_th(self, el: Any, text: str, parent_tags: Any) -> str:
        return self._cell(el, text, parent_tags, _Base.convert_th)


def looks_like_html(text: str) -> bool:
    """True when `text` holds at least one HTML tag (cheap: a regex, no parse)."""
    return "<" in text and _TAG.search(text) is not None


def html_to_markdown(fragment: str, base_url: str | None = None) -> str:
    """Markdown for an HTML fragment (see the module for what is kept and what is dropped).

    `fragment`: HTML text, a whole document or a piece of one; `base_url`: where relative links
    point (None keeps them relative). Returns stripped Markdown, "" for empty input. Never raises
    on malformed HTML: the parser recovers the way browsers do.
    """
    if not fragment or not fragment.strip():
        return ""
    if len(fragment) <= _CACHED_LENGTH:
        return _cached(fragment, base_url)
    return _convert(fragment, base_url)


# Parsing and converting costs about half a millisecond even for a one-line fragment, and journals
# repeat their short HTML (templates, notes written by scripts and integrations), so short fragments
# are converted once per process; long ones are rarely repeated and would only fill the memory.
_CACHED_LENGTH = 2000


def _convert(fragment: str, base_url: str | None) -> str:
    return _BLANK_LINES.sub("\n\n", _Converter(base_url).convert(fragment)).strip()


_cached = lru_cache(maxsize=4096)(_convert)
