"""Link-header pagination, as GitHub does it, kept apart from HTTP so it is tested on its own.

GitHub pages with `Link: <...>; rel="next"` URLs. Since 2025 issue listings answer 422 from
page 100 on and carry opaque `after=` cursors instead, so we never build page numbers: we
follow the next URL the server gave. Cursors store that URL relative to the API base, so a
stored cursor cannot point the importer at another host, and a GHE base path is kept.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import NetworkError, SourceError
from ..numbers import whole_number


class DeepPageRefused(SourceError):
    """HTTP 422 for a page number past the listing's depth limit ("use cursor based pagination")."""


_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([^";]+)"?')


def link(headers: Mapping[str, str] | None, rel: str) -> str | None:
    """The URL of a response's Link header with relation `rel` ("next", "last"), or None."""
    value = {str(k).lower(): v for k, v in (headers or {}).items()}.get("link") or ""
    for url, rels in _LINK.findall(value):
        if rel in rels.split():
            return url
    return None


def next_link(headers: Mapping[str, str] | None) -> str | None:
    """The rel="next" URL of a response's Link header, or None on the last page."""
    return link(headers, "next")


def numbered_pages(next_url: str | None, last_url: str | None) -> list[str]:
    """Every page from `next_url` to `last_url` when the two differ only in `page=` (GitHub's
    page-numbered listings, such as a repository's comments), so they can be fetched at once;
    [] for cursor-paged listings, whose pages only the previous answer can name."""
    if not next_url or not last_url:
        return []
    nxt, last = urlsplit(next_url), urlsplit(last_url)
    nxt_query, last_query = parse_qsl(nxt.query), parse_qsl(last.query)
    first, final = whole_number(dict(nxt_query).get("page", "")), whole_number(dict(last_query).get("page", ""))
    same = [(k, v) for k, v in nxt_query if k != "page"] == [(k, v) for k, v in last_query if k != "page"]
    if (nxt.scheme, nxt.netloc, nxt.path) != (last.scheme, last.netloc, last.path) or not same \
            or first is None or final is None or not 0 <= final - first <= 100_000:
        return []
    base = next_url.split("?", 1)[0]
    return [f"{base}?{urlencode([(k, page if k == 'page' else v) for k, v in nxt_query])}"
            for page in range(first, final + 1)]


class LinkPaginator:
    """Follows next links from a first path; refuses loops and links that leave the API."""

    def __init__(self, base_url: str, first: str):
        self.base_url = base_url.rstrip("/")
        self.current: str | None = self.relative(first)
        self._seen: set[str] = set()

    def relative(self, url: str) -> str:
        """`url` as a path under the API base (what cursors store and the requester accepts)."""
        if url.startswith(self.base_url + "/"):
            url = url[len(self.base_url):]
        if not url.startswith("/") or url.startswith("//"):
            raise NetworkError(f"GitHub sent a page link outside GITHUB_API_URL ({url[:80]!r}); stopping the read")
        return url

    def has_more(self) -> bool:
        return self.current is not None

    def advance(self, headers: Mapping[str, str] | None) -> str | None:
        """Move to the page after the one just read; returns the new current path or None."""
        if self.current is not None:
            self._seen.add(self.current)
        url = next_link(headers)
        self.current = self.relative(url) if url else None
        if self.current in self._seen:
            raise NetworkError(f"GitHub sent the same page link twice ({self.current[:80]}); stopping the read")
        return self.current
