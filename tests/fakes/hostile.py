"""A hostile look-alike vendor: the real fakes' routes, with chosen answers turned against the client.

`hostile(FakeJira, ...)` (or GitHubFake, FakeGitLab, FakeServiceNow) is that vendor's fake, answering
as the real API does, except that requests whose path matches a pattern given to `trick(...)` get a
hostile answer instead:

- `redirect_to(url)`: a 302 to `url` (RFC 9110 15.4.3: any server may redirect; the clients follow
  Location headers on their own unless told otherwise);
- `drip(body, pause)`: a well-formed answer sent one byte every `pause` seconds;
- `endless(pause)`: a 200 whose JSON body never ends;
- `huge(mb)`: a valid JSON answer of `mb` megabytes;
- `nested(levels, opening)`: `[` (or another opening, such as `{"a":`) `levels` times, never closed: the
  standard library's parser recurses once per level;
- `tiny_values(mb)`: a valid JSON answer of `mb` megabytes of `{},`: few bytes, many values once parsed;
- `bottomless(answer)`: listing pages that bring nothing new yet always name a next page;
- `echo_authorization(shape)`: a 400 whose error text echoes the request's Authorization header, in
  the vendor's error shape: JIRA's `{"errorMessages": [...], "errors": {}}` (Atlassian's REST API
  "Status codes / error responses"), ServiceNow's `{"error": {"message", "detail"}, "status": "failure"}`
  (ServiceNow REST API "REST API error handling"), GitHub's `{"message", "documentation_url"}` and
  GitLab's `{"message": ...}` (their REST API docs on error responses).

`Tarpit` accepts connections and never answers.
`Canary` is a server that only records who called it and what headers it got: the target of
redirects that must never be followed.
"""
from __future__ import annotations

import itertools
import re
import socket
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .server import FakeServer, Request, Response, Stream

Trick = Callable[[Request], Response]
F = TypeVar("F", bound=FakeServer)


def redirect_to(url: str, status: int = 302) -> Trick:
    return lambda request: Response(status, b"", {"Location": url})


def drip(body: bytes = b'{"values": []}', pause: float = 1.0) -> Trick:
    """The body one byte at a time, announced with its real Content-Length (a slow, not a broken, server)."""
    return lambda request: Response(200, Stream(lambda: (body[i:i + 1] for i in range(len(body))), pause, len(body)))


def endless(pause: float = 0.0) -> Trick:
    """`{"issues": [{"x": "xxxx..."}, ...` forever (close-delimited, so only a size cap or deadline ends it)."""
    def pieces():
        yield b'{"issues": ['
        for _ in itertools.count():
            yield b'{"x": "' + b"x" * 16_000 + b'"},'

    return lambda request: Response(200, Stream(pieces, pause))


def huge(mb: int) -> Trick:
    filler = b'"' + b"x" * (1024 * 1024 - 8) + b'",'

    def pieces():
        yield b'{"issues": ['
        for _ in range(mb):
            yield filler
        yield b'"end"]}'

    length = len(b'{"issues": [') + mb * len(filler) + len(b'"end"]}')
    return lambda request: Response(200, Stream(pieces, 0.0, length))


def nested(levels: int = 200_000, opening: bytes = b"[", status: int = 200, charset: str = "") -> Trick:
    """`opening` `levels` times; `charset` names the body's encoding in Content-Type (the body is encoded in it)."""
    body = (opening * levels).decode().encode(charset or "utf-8")
    content_type = f"application/json; charset={charset}" if charset else "application/json"
    return lambda request: Response(status, body, content_type=content_type)


def tiny_values(mb: float) -> Trick:
    """`[{},{},...,{}]` of about `mb` megabytes, announced with its Content-Length."""
    count = int(mb * 1024 * 1024) // 3
    piece = b"{}," * 100_000

    def pieces():
        yield b"["
        left = count
        while left > 0:
            yield piece[:3 * min(left, 100_000)]
            left -= 100_000
        yield b"{}]"

    return lambda request: Response(200, Stream(pieces, 0.0, 1 + 3 * count + 3))


def bottomless(answer: Callable[[int], Response]) -> Trick:
    """`answer(n)` for the n-th matching request (1, 2, ...): a listing page that claims a page after it,
    in the vendor's own paging signal (GitHub's and GitLab's `Link: rel="next"`, JIRA Cloud's
    `nextPageToken` with `isLast: false`, ServiceNow's `X-Total-Count`), new each time, and never ends."""
    counter = itertools.count(1)
    return lambda request: answer(next(counter))


def echo_authorization(shape: str) -> Trick:
    def answer(request: Request) -> Response:
        echoed = f"bad request; you sent Authorization: {request.headers.get('Authorization', '')}"
        echoed += f" PRIVATE-TOKEN: {request.headers.get('PRIVATE-TOKEN', '')}".rstrip(": ")
        body: dict[str, Any] = {
            "jira": {"errorMessages": [echoed], "errors": {}},
            "servicenow": {"error": {"message": echoed, "detail": echoed}, "status": "failure"},
            "github": {"message": echoed, "documentation_url": "https://docs.github.com/rest"},
            "gitlab": {"message": echoed},
        }[shape]
        return Response(400, body)

    return answer


class _Hostile:
    """Mixed into a vendor fake: `trick(pattern, answer, times)` overrides matching requests."""

    _tricks: list[list[Any]]

    def trick(self, pattern: str, answer: Trick, times: int | None = None) -> None:
        """Answer requests whose path (with query) matches `pattern` with `answer`, `times` times (None: always)."""
        self._tricks.append([re.compile(pattern), answer, times])

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        for entry in self._tricks:
            pattern, answer, times = entry
            if pattern.search(raw_path) and (times is None or times > 0):
                if times is not None:
                    entry[2] = times - 1
                self.tricked.append(raw_path)  # type: ignore[attr-defined]
                return answer(Request(method, raw_path.split("?")[0], {}, headers, body))
        return super()._dispatch(method, raw_path, headers, body)  # type: ignore[misc]


def hostile(fake_class: type[F], *args: Any, **kwargs: Any) -> F:
    """An instance of `fake_class` (not started) that also takes `trick(...)`."""
    cls = type(f"Hostile{fake_class.__name__}", (_Hostile, fake_class), {})
    fake = cls(*args, **kwargs)
    fake._tricks = []
    fake.tricked = []
    return fake  # type: ignore[return-value]


class Canary(FakeServer):
    """Answers everything with 200 {} and keeps every request's path and headers."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        self._seen_lock = threading.Lock()
        super().__init__()

    def setup_routes(self) -> None:
        for method in ("GET", "POST"):
            self.route(method, r"/.*", "anything", self._record)

    def _record(self, request: Request) -> Response:
        with self._seen_lock:
            self.seen.append((request.path, dict(request.headers)))
        return Response(200, {})


class Tarpit:
    """Accepts TCP connections on 127.0.0.1 and never answers (nor reads): a vendor URL that swallows requests.
    `accepted` counts the connections taken."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="tarpit", daemon=True)

    @property
    def accepted(self) -> int:
        return len(self._held)

    def start(self) -> Tarpit:
        self._thread.start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # stopped
                return
            self._held.append(connection)

    def stop(self) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()
