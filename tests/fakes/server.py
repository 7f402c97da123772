"""A small threaded HTTP server that the per-vendor fakes build on.

Each fake registers routes (method + path regex -> handler) and serves a generated dataset the
way the real API does. This base adds what every fake needs: a free port on 127.0.0.1, an
optional per-request latency, request counters, scripted faults (the next N matching requests
answer 429/5xx/garbage) and random fault injection at given rates, all deterministic by seed.
"""
from __future__ import annotations

import json
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _Server(ThreadingHTTPServer):
    """The stdlib's threaded server, quiet when a client hangs up. A reset while reading the next request
    on a kept-alive connection (a worker killed mid-import, a reader process that leaves at once) is what
    a vendor's server sees every day; the stdlib printed it as a traceback into the test output."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class Encoded(bytes):
    """JSON text encoded once (an item rendered from the dataset and cached), spliced in by `dumps`."""


def dumps(value: Any) -> bytes:
    """`json.dumps(value)`, with the Encoded parts of its dicts and lists spliced in as they are."""
    if isinstance(value, Encoded):
        return value
    if isinstance(value, dict):
        return b"{" + b", ".join(json.dumps(k).encode() + b": " + dumps(v) for k, v in value.items()) + b"}"
    if isinstance(value, list):
        return b"[" + b", ".join(map(dumps, value)) + b"]"
    return json.dumps(value).encode()


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode() if self.body is not None else b""


@dataclass
class Stream:
    """A body sent piece by piece: `chunks()` yields bytes, `pause` seconds between pieces (a slow or
    endless answer). `length` is the Content-Length announced; None sends it close-delimited."""

    chunks: Callable[[], Any]
    pause: float = 0.0
    length: int | None = None


Handler = Callable[..., Response]


@dataclass
class Fault:
    """A scripted answer for the next `times` requests whose path matches `pattern` (or whose body
    does, with `in_body`: GraphQL requests differ in their body only)."""

    pattern: str
    response: Response
    times: int = 1
    in_body: bool = False


class FakeServer:
    """Base for fake vendor APIs. Subclasses call `self.route(...)` in `setup_routes`."""

    def __init__(self, latency: float = 0.0, rate_5xx: float = 0.0, rate_429: float = 0.0, seed: int = 1):
        self.latency = latency
        self.rate_5xx = rate_5xx
        self.rate_429 = rate_429
        self._rng = random.Random(seed)
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()  # route name -> count
        self.log: list[tuple[str, str, int]] = []  # (method, path?query, status)
        self.authorizations: list[str] = []  # each request's Authorization header ("" without one), in order
        self.injected: Counter[int] = Counter()  # status -> injected count
        self._in_flight = 0
        self.peak_in_flight = 0  # most requests answered at once: concurrency shown by count, not by time
        self._after: dict[tuple[str, int], Callable[[], Any]] = {}  # (route, n) -> a change made once it is answered
        self._server: ThreadingHTTPServer | None = None
        self.setup_routes()

    # -- for subclasses ------------------------------------------------------------------
    def setup_routes(self) -> None:
        raise NotImplementedError

    def route(self, method: str, pattern: str, name: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(f"^{pattern}$"), name, handler))

    def after_answer(self, route: str, n: int, action: Callable[[], Any]) -> None:
        """Run `action` once the n-th request of `route` (a route's name) has been answered and before its answer
        is sent: a change at the source in the middle of a read, at an exact point of it."""
        with self._lock:
            self._after[(route, n)] = action

    def rate_limited_response(self) -> Response:
        """What this vendor answers when it rate-limits; fakes override for their headers."""
        return Response(429, {"message": "rate limited"}, {"Retry-After": "1"})

    # -- for tests -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://127.0.0.1:{port}"

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def fail_next(self, pattern: str, status: int, times: int = 1, headers: dict | None = None,
                  body: Any = None, in_body: bool = False) -> None:
        response = Response(status, body if body is not None else {"message": f"injected {status}"}, headers or {})
        with self._lock:
            self._faults.append(Fault(pattern, response, times, in_body))

    def answer_next(self, pattern: str, response: Response, times: int = 1, in_body: bool = False) -> None:
        with self._lock:
            self._faults.append(Fault(pattern, response, times, in_body))

    def start(self) -> FakeServer:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stall

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                response = server._dispatch(self.command, self.path, dict(self.headers.items()), body)
                if isinstance(response.body, Stream):
                    self._stream(response, response.body)
                    return
                data = response.encode()
                self.send_response(response.status)
                if data or response.status not in (204, 304):
                    self.send_header("Content-Type", response.content_type)
                # a scripted Content-Length longer than the body is a truncated response: close after it
                declared = {k.lower(): v for k, v in response.headers.items()}.get("content-length")
                self.send_header("Content-Length", declared or str(len(data)))
                for name, value in response.headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.end_headers()  # a client that hung up meanwhile ends the connection quietly (_Server)
                if self.command != "HEAD":
                    self.wfile.write(data)
                if declared:
                    self.close_connection = True

            def _stream(self, response: Response, stream: Stream) -> None:
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                if stream.length is not None:
                    self.send_header("Content-Length", str(stream.length))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    for piece in stream.chunks():
                        self.wfile.write(piece)
                        self.wfile.flush()
                        if stream.pause:
                            time.sleep(stream.pause)
                        if server._server is None:  # stopped
                            return
                except OSError:  # the client gave up: what a bounded reader does
                    return

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        self._server = _Server(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- dispatch ------------------------------------------------------------------------
    def _scripted(self, path: str, body: bytes = b"") -> Response | None:
        with self._lock:
            for fault in self._faults:
                if re.search(fault.pattern, path) or (fault.in_body and re.search(fault.pattern,
                                                                                  body.decode(errors="replace"))):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault.response
        return None

    def _random_fault(self) -> Response | None:
        with self._lock:
            roll = self._rng.random()
        if roll < self.rate_5xx:
            return Response(503, {"message": "Service Unavailable (injected)"})
        if roll < self.rate_5xx + self.rate_429:
            return self.rate_limited_response()
        return None

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        with self._lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            return self._answer(method, raw_path, headers, body)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        if self.latency:
            time.sleep(self.latency)
        parts = urlsplit(raw_path)
        with self._lock:
            self.authorizations.append(next((v for k, v in headers.items() if k.lower() == "authorization"), ""))
        request = Request(method, parts.path, parse_qs(parts.query, keep_blank_values=True), headers, body)
        for route_method, pattern, name, handler in self._routes:
            match = pattern.match(parts.path)
            if route_method != method or not match:
                continue
            with self._lock:
                self.requests[name] += 1
                number = self.requests[name]
            response = self._scripted(raw_path, body) or self._random_fault()
            if response is not None:
                with self._lock:
                    self.injected[response.status] += 1
            else:
                try:
                    response = handler(request, **match.groupdict())
                except Exception as exc:  # a bug in a fake must show, not hang the client
                    response = Response(500, {"message": f"fake server error: {exc!r}"})
            with self._lock:
                self.log.append((method, raw_path, response.status))
                after = self._after.pop((name, number), None)
            if after is not None:
                after()
            return response
        with self._lock:
            self.requests["<unmatched>"] += 1
            self.log.append((method, raw_path, 404))
        return Response(404, {"message": f"Not Found: {method} {parts.path}"})
