"""A repository's comment listing, read forward in `since` windows, never by deep page numbers.

`/repos/{o}/{r}/issues/comments` is numbered by page and has no cursor, but GitHub refuses deep
page numbers with HTTP 422 ("Pagination with the page parameter is not supported for large
datasets"; singer-io/tap-github#61 met it at page 1,334 of this very listing, and issue listings
refuse page 100 since 2025). So the listing is read sorted by update time in windows: one `since`,
its pages up to WINDOW_PAGES (all but the first fetched several at once, their numbers known
from the first answer's `last` link, each through a client of its own: PyGithub's requester is not
thread-safe), then a new window from the update time of the last comment read. `since` is
inclusive, so the comments of that second come again: they are dropped by id. A 422 inside a
window ends that window early, and later windows stop at the depth GitHub served. A window that
cannot move past its own `since` (more than a window of comments updated within one second)
stops with a clear error instead of looping.

Sorted by update, a comment edited during the read moves to the end and is read again, never skipped.
"""
from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import NetworkError
from ..numbers import whole_number
from .paging import DeepPageRefused, LinkPaginator, link, numbered_pages
from .settings import COMMENT_WORKERS, WINDOW_PAGES

if TYPE_CHECKING:
    from .client import GitHubClient

Fetch = Callable[["GitHubClient", str], tuple[dict[str, str], list]]


def window_start(path: str, since: str) -> str:
    """`path` with `since` set and no page number: the first page of a new window."""
    base, _, query = path.partition("?")
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in ("since", "page")]
    return f"{base}?{urlencode([*params, ('since', since)])}"


def page_number(path: str) -> int:
    number = whole_number(dict(parse_qsl(urlsplit(path).query)).get("page", "1"))
    return 1 if number is None else number


def _last_second(comments: list, last_update: str | None, at_last: set) -> tuple[str | None, set]:
    """(the last update time read, the ids read at it) after `comments`, from those before them.

    The listing is sorted by update, so a page usually ends in a short run of comments of one second
    after one of an earlier second: those are found from the end. Any other page (its comments all of
    one second, or an odd comment in the run) is walked whole, comment by comment."""
    if comments and type(comments[-1]) is dict:
        last = comments[-1].get("updated_at")
        if type(last) is str:
            ids = []
            for position in range(len(comments) - 1, -1, -1):
                comment = comments[position]
                if type(comment) is not dict:
                    break
                updated = comment.get("updated_at")
                if updated == last:
                    ids.append(comment.get("id"))
                    continue
                if isinstance(updated, str):  # a comment of an earlier second
                    return last, set(ids)
                break
    for comment in comments:
        updated = comment.get("updated_at") if isinstance(comment, dict) else None
        if isinstance(updated, str) and updated != last_update:
            last_update, at_last = updated, set()
        if isinstance(comment, dict):
            at_last.add(comment.get("id"))
    return last_update, at_last


class CommentWalk:
    """(comments of one page, the cursor path of the page after it or None) in listing order."""

    def __init__(self, client: GitHubClient, make_client: Callable[[], GitHubClient], fetch: Fetch, what: str):
        self.client = client
        self.make_client = make_client
        self.fetch = fetch
        self.what = what
        self._clients: queue.Queue = queue.Queue()
        self.depth = WINDOW_PAGES  # lowered to the deepest page served once GitHub refuses one

    def pages(self, first: str) -> Iterator[tuple[list, str | None]]:
        path: str | None = first
        seen: set = set()  # ids already yielded whose update time is this window's `since`
        pool = ThreadPoolExecutor(COMMENT_WORKERS, thread_name_prefix="github-comments")
        try:
            while path is not None:
                since = dict(parse_qsl(urlsplit(path).query)).get("since")
                last_update, at_last = since, set(seen)  # the last update time read, and the ids read at it
                goes_on = False
                for data, following, goes_on in self._window(path, pool):
                    fresh = [c for c in data if not (isinstance(c, dict) and c.get("id") in seen
                                                     and c.get("updated_at") == since)] if seen else data
                    last_update, at_last = _last_second(fresh, last_update, at_last)
                    if following is None and goes_on:  # the window ends: the next starts at the last update
                        if last_update is None or (last_update == since and page_number(path) == 1):
                            raise NetworkError(f"GitHub lists more comments updated within one second than "
                                               f"{WINDOW_PAGES} pages hold for {self.what}; stopping the read")
                        following = window_start(path, last_update)
                    yield fresh, following
                path, seen = (window_start(path, last_update), at_last) if goes_on and last_update else (None, set())
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            while not self._clients.empty():
                self._clients.get().close()

    def _window(self, first: str, pool: ThreadPoolExecutor) -> Iterator[tuple[list, str | None, bool]]:
        """The pages of one window: (data, the next page's path within the window or None at its end,
        whether the listing goes on after the window)."""
        paginator = LinkPaginator(self.client.base_url, first)
        headers, data = self.fetch(self.client, paginator.relative(first))
        following = paginator.advance(headers)
        if following is None:
            yield data, None, False
            return
        limit = max(self.depth, page_number(first))
        numbered = [paginator.relative(url) for url in numbered_pages(link(headers, "next"), link(headers, "last"))]
        pages = [p for p in numbered if page_number(p) <= limit] or ([following] if page_number(following) <= limit
                                                                     else [])
        if not pages:
            yield data, None, True
            return
        pages[0] = following  # the server's own spelling of the next page
        yield data, following, True
        pending: deque[Future] = deque(pool.submit(self._fetch, p) for p in pages[:COMMENT_WORKERS])
        for position in range(len(pages)):
            try:
                headers, data = pending.popleft().result()
            except DeepPageRefused:  # the server's depth limit is below ours: this window ends early
                for future in pending:
                    future.cancel()
                self.depth = max(page_number(pages[position]) - 1, 1)  # and later windows stop before it
                yield [], None, True
                return
            if position + COMMENT_WORKERS < len(pages):
                pending.append(pool.submit(self._fetch, pages[position + COMMENT_WORKERS]))
            if position + 1 < len(pages):
                yield data, pages[position + 1], True
                continue
            # the window's last page: the listing goes on if it links further (pages past the
            # window, or comments written while we read)
            yield data, None, link(headers, "next") is not None

    def _fetch(self, path: str) -> tuple[dict[str, str], list]:
        try:
            client = self._clients.get_nowait()
        except queue.Empty:
            client = self.make_client()
        try:
            return self.fetch(client, path)
        finally:
            self._clients.put(client)
