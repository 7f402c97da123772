"""The outbound HTTP policy: the one way every vendor session reaches the network.

A vendor URL is typed by a user and a vendor's answers are written by whoever runs that
server, so each of the four connectors' sessions (the `jira` library's, pysnow's, PyGithub's
and python-gitlab's, all `requests` sessions) is fitted with `OutboundAdapter`, which:

- talks only to the configured origin (scheme, host, port): a redirect elsewhere is refused
  with an error naming its target, before anything is sent there, so credential headers (Basic
  auth, `PRIVATE-TOKEN`, bearer tokens) never reach another host; so is a next-page link or
  any other URL pointing elsewhere. Redirects within the origin are followed by the library;
- connects to the address it checked: the host is resolved once per session, every address it
  resolves to is judged by importers/urls.py, and the connection pool is keyed on the checked
  IP, with TLS still verified against the host name (urllib3's `server_hostname` /
  `assert_hostname`, the technique of saleor's requests-hardened, whose own filter refuses the
  private ranges self-hosted JIRA and GitLab servers live in, and has no hook to change that);
- bounds every request: a whole-request deadline (connect, headers and body together; a
  watchdog shuts the socket down when it passes, so a server sending one byte a second or an
  endless body cannot hold a worker), and a cap on the body's size (a bigger answer is refused
  while it streams, not after it was read whole);
- bounds what a body parses into, before anyone parses it: every vendor library calls the standard
  library's parser on its own (`response.json()`, `json.loads(response.text)`), so an answer nested
  deeper than any API page, or holding more JSON values than one per 32 bytes of the size cap, is
  refused here (importers/jsonbody.py `shape_refusal`); the text libraries decode is the UTF-8 (or other
  ASCII-transparent) text that was judged, never a charset the vendor names (UTF-7 spells `[` as `+AFs-`).

Refusals are SourceErrors, not `requests` exceptions: they pass through the vendor libraries
untouched and are never retried by importers/retry.py (a hung vendor would otherwise cost eight
deadlines). Settings: IMPORT_REQUEST_DEADLINE (seconds, 120) and IMPORT_MAX_RESPONSE_MB (64); a call with a
whole time budget (a preview: IMPORT_PREVIEW_SECONDS, importers/retry.py) gets at most what is left of it.
"""
from __future__ import annotations

import codecs
import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_errors
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .errors import NetworkError
from .jsonbody import BYTES_PER_VALUE, shape_refusal
from .numbers import env_number, whole_number
from .retry import time_left
from .urls import Resolver, normalise_host, pinned_address

DEADLINE_ENV = "IMPORT_REQUEST_DEADLINE"
MAX_RESPONSE_ENV = "IMPORT_MAX_RESPONSE_MB"
DEFAULT_DEADLINE = 120.0
DEFAULT_MAX_RESPONSE_MB = 64.0
CHUNK = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}


class OutboundRefused(NetworkError):
    """A request or redirect to somewhere other than the configured server."""


class NoCompleteAnswer(NetworkError):
    """The vendor did not finish its answer within the whole-request deadline."""


class AnswerTooLarge(NetworkError):
    """The vendor's answer is larger than the configured cap."""


class AnswerTooComplex(NetworkError):
    """The vendor's answer would parse into more than any API page holds: nested too deeply, or too many values."""


def _env_float(name: str, default: float) -> float:
    value = env_number(name, default)
    return value if value > 0 else default


@dataclass(frozen=True)
class Limits:
    """`deadline`: seconds for a whole request; `max_bytes`: the largest body accepted (decoded)."""

    deadline: float = DEFAULT_DEADLINE
    max_bytes: int = int(DEFAULT_MAX_RESPONSE_MB * 1024 * 1024)

    @classmethod
    def from_env(cls) -> Limits:
        return cls(_env_float(DEADLINE_ENV, DEFAULT_DEADLINE),
                   int(_env_float(MAX_RESPONSE_ENV, DEFAULT_MAX_RESPONSE_MB) * 1024 * 1024))

    @property
    def max_values(self) -> int:
        """The most JSON values a body may hold, from the one size setting: an empty dict is 64 bytes parsed,
        so a cap in bytes alone let 60 MB of `{},` become 2 GB."""
        return max(self.max_bytes // BYTES_PER_VALUE, 1)


# -- the deadline watchdog -----------------------------------------------------------------
class _Watchdog:
    """One thread that runs callbacks at their deadlines (one per process; restarted after a fork)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, at: float, callback: Callable[[], None]) -> int:
        with self._cond:
            token = next(self._seq)
            heapq.heappush(self._heap, (at, token, callback))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbound-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()
            return token

    def disarm(self, token: int) -> None:
        with self._cond:
            self._cancelled.add(token)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                at, token, callback = self._heap[0]
                if token in self._cancelled:
                    heapq.heappop(self._heap)
                    self._cancelled.discard(token)
                    continue
                delay = at - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
            with contextlib.suppress(OSError):  # a socket already closed is what the callback wanted
                callback()


_WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=lambda: globals().__setitem__("_WATCHDOG", _Watchdog()))


@dataclass
class _Request:
    """One request in flight on this thread: the sockets it used, shut down when it expires."""

    sockets: list[socket.socket | None] = field(default_factory=list)
    expired: bool = False

    def expire(self) -> None:
        self.expired = True
        for sock in self.sockets:
            if sock is not None:
                # socket.socket's own shutdown, not SSLSocket's (which drops its TLS state under the reader)
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current = threading.local()


def _watched(base: type[HTTPConnection]) -> type[HTTPConnection]:
    class Watched(base):  # type: ignore[valid-type, misc]
        """A urllib3 connection that registers with the request in flight, so its deadline can end it."""

        def request(self, *args: Any, **kwargs: Any) -> None:
            super().request(*args, **kwargs)  # connects (if not yet connected) and sends the request
            current: _Request | None = getattr(_current, "request", None)
            if current is not None:
                # http.client lets go of `sock` once an answer says "Connection: close": keep our own hold
                current.sockets.append(self.sock)

    Watched.__name__ = f"Watched{base.__name__}"
    return Watched


class _Pool(HTTPConnectionPool):
    ConnectionCls = _watched(HTTPConnection)


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _watched(HTTPSConnection)  # type: ignore[assignment]


_POOLS = {"http": _Pool, "https": _TlsPool}


# -- the adapter ---------------------------------------------------------------------------
def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, normalise_host(parts.hostname or ""), parts.port or DEFAULT_PORTS.get(scheme, 0)


def _netloc(origin: tuple[str, str, int]) -> str:
    scheme, host, port = origin
    shown = f"[{host}]" if ":" in host else host
    return shown if port == DEFAULT_PORTS.get(scheme) else f"{shown}:{port}"


class OutboundAdapter(HTTPAdapter):
    """requests' HTTPAdapter held to one origin, pinned to checked addresses, with a deadline and a size cap."""

    def __init__(self, base_url: str, tool: str, setting: str, *, limits: Limits | None = None,
                 pool_maxsize: int = 10, resolver: Resolver = socket.getaddrinfo):
        self.origin = _origin(base_url)
        self.tool = tool
        self.setting = setting
        self.limits = limits or Limits.from_env()
        self._resolver = resolver
        self._pinned: str | None = None
        self._pin_lock = threading.Lock()
        self.ca_bundle: str | None = None  # the environment's, for verify=True: set by `install`
        super().__init__(pool_connections=1, pool_maxsize=pool_maxsize, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager

    def _address(self) -> str:
        """The configured host's checked address, resolved once for the session's life."""
        with self._pin_lock:
            if self._pinned is None:
                _, host, port = self.origin
                try:
                    self._pinned = pinned_address(host, port, self.setting, self._resolver)
                except OSError as exc:
                    raise requests.ConnectionError(f"cannot resolve {host}: {exc}") from None
            return self._pinned

    def build_connection_pool_key_attributes(self, request: requests.PreparedRequest, verify: Any,
                                             cert: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        hostname = str(host_params["host"])
        host_params["host"] = self._address()
        if host_params["scheme"] == "https":  # verify the certificate, and send SNI, for the name, not the IP
            pool_kwargs["server_hostname"] = hostname
            pool_kwargs["assert_hostname"] = hostname
        request.headers["Host"] = _netloc(self.origin)
        return host_params, pool_kwargs

    def _refuse_elsewhere(self, url: str, *, redirect_from: str | None = None) -> None:
        target = _origin(url)
        if target == self.origin:
            return
        where = _netloc(target) if target[1] else url[:80]
        if target[1] == self.origin[1] and target[2] == self.origin[2]:
            where = f"{target[0]}://{where}"  # same host, other scheme: say so
        configured = _netloc(self.origin)
        if redirect_from is not None:
            raise OutboundRefused(f"{self.tool} redirected a request to {where}, another host than {configured}: "
                                  f"not followed (credentials go to {configured} only); check {self.setting}")
        raise OutboundRefused(f"{self.tool} sent us to {where}, another host than {configured}: refused "
                              f"(credentials go to {configured} only); check {self.setting}")

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        url = str(request.url)
        self._refuse_elsewhere(url)
        if verify is True and self.ca_bundle:
            verify = self.ca_bundle
        flight = _Request()
        deadline, setting = self.limits.deadline, DEADLINE_ENV
        budget = time_left()  # a preview's whole time budget (importers/retry.py) cuts each request's deadline
        if budget is not None and budget[0] < deadline:
            deadline, setting = max(budget[0], 0.1), budget[1]
        token = _WATCHDOG.arm(time.monotonic() + deadline, flight.expire)
        _current.request = flight
        try:
            response = super().send(request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
            location = response.headers.get("Location")
            if response.is_redirect and location:
                try:
                    self._refuse_elsewhere(urljoin(url, location), redirect_from=url)
                except OutboundRefused:
                    response.close()
                    raise
            self._read_body(response)
            return response
        except (requests.RequestException, urllib3_errors.HTTPError, OSError) as exc:
            if flight.expired and setting != DEADLINE_ENV:
                raise NoCompleteAnswer(f"{self.tool} sent no complete answer within {setting} "
                                       f"({_netloc(self.origin)}); try again later") from None
            if flight.expired:
                raise NoCompleteAnswer(f"{self.tool} sent no complete answer within {deadline:.0f} s "
                                       f"({_netloc(self.origin)}); retry the import later, or raise "
                                       f"{DEADLINE_ENV}") from None
            raise _as_requests_error(exc) from exc
        finally:
            _current.request = None
            _WATCHDOG.disarm(token)

    def _read_body(self, response: requests.Response) -> None:
        """Read the whole body into the response, refusing it past `max_bytes`."""
        cap = self.limits.max_bytes
        declared = whole_number(response.headers.get("Content-Length", "").strip())  # else the read counts
        if declared is not None and declared > cap:
            response.close()
            raise self._too_large(declared)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.raw.stream(CHUNK, decode_content=True):
            size += len(chunk)
            if size > cap:
                response.close()
                raise self._too_large(size, at_least=True)
            chunks.append(chunk)
        response._content = b"".join(chunks)
        response._content_consumed = True
        if not _ascii_transparent(response.encoding):
            response.encoding = "utf-8"  # the text libraries parse must be the bytes judged below
        refusal = shape_refusal(response._content, self.limits.max_values)
        if refusal is not None:
            response.close()
            raise self._too_complex(refusal)

    def _too_large(self, size: int, at_least: bool = False) -> AnswerTooLarge:
        mb = self.limits.max_bytes / 1024 / 1024
        more = "more than " if at_least else ""
        return AnswerTooLarge(f"{self.tool} sent an answer of {more}{size / 1024 / 1024:.0f} MB, over the {mb:.0f} MB "
                              f"limit ({_netloc(self.origin)}); raise {MAX_RESPONSE_ENV} if that is a real page")


    def _too_complex(self, refusal: str) -> AnswerTooComplex:
        if refusal.startswith("nested"):
            return AnswerTooComplex(f"{self.tool} sent an answer {refusal} (no API page nests so deep) "
                                    f"({_netloc(self.origin)}): refused; check {self.setting}")
        return AnswerTooComplex(f"{self.tool} sent an answer {refusal}, over the limit of "
                                f"{self.limits.max_values:,} (one per {BYTES_PER_VALUE} bytes of {MAX_RESPONSE_ENV}) "
                                f"({_netloc(self.origin)}); raise {MAX_RESPONSE_ENV} if that is a real page")


def _ascii_transparent(encoding: str | None) -> bool:
    """Whether text decoded with `encoding` has the body's ASCII bytes as its ASCII characters (and no others)."""
    try:
        return encoding is not None and codecs.lookup(encoding).name in _TRANSPARENT
    except LookupError:
        return False


_TRANSPARENT = frozenset({"utf-8", "utf-8-sig", "ascii", "iso8859-1", "cp1252"})


def _as_requests_error(exc: Exception) -> Exception:
    """A body read's urllib3 error as the `requests` error the connectors already handle (what
    `Response.iter_content` would have raised)."""
    if isinstance(exc, urllib3_errors.ProtocolError):
        return requests.exceptions.ChunkedEncodingError(exc)
    if isinstance(exc, urllib3_errors.DecodeError):
        return requests.exceptions.ContentDecodingError(exc)
    if isinstance(exc, urllib3_errors.SSLError):
        return requests.exceptions.SSLError(exc)
    if isinstance(exc, urllib3_errors.ReadTimeoutError):
        return requests.exceptions.ReadTimeout(exc)
    if isinstance(exc, urllib3_errors.HTTPError):
        return requests.ConnectionError(exc)
    return exc


_ADAPTERS: weakref.WeakSet[OutboundAdapter] = weakref.WeakSet()


def _forget_connections() -> None:
    """In a forked child (jobs/reader.py): drop the connections inherited from the parent, so that the
    two processes never talk on one socket. Closing the child's copy sends nothing (the parent still
    holds the socket; TLS says goodbye only on unwrap), and the child opens connections of its own."""
    for adapter in list(_ADAPTERS):
        adapter.close()


os.register_at_fork(after_in_child=_forget_connections)


def install(session: requests.Session, base_url: str, tool: str, setting: str, *, pool_maxsize: int = 10,
            limits: Limits | None = None, resolver: Resolver = socket.getaddrinfo) -> OutboundAdapter:
    """Fit `session` with the policy for `base_url`: every request it sends, on any scheme, goes through
    one `OutboundAdapter` (requests picks adapters by URL prefix, so both prefixes map to it).

    `tool` names the vendor in messages ("JIRA"), `setting` the variable to fix ("JIRA_BASE_URL").
    Returns the adapter.

    The environment's proxies (HTTP_PROXY, HTTPS_PROXY, NO_PROXY...) and CA bundle (REQUESTS_CA_BUNDLE,
    CURL_CA_BUNDLE) are read here, once, by requests' own rules for `base_url`, the one origin the session
    may talk to: requests re-read them on every request (`trust_env`), scanning the whole environment
    twice, a fifth of its CPU a request. Without `trust_env` requests no longer looks in ~/.netrc either:
    a source's credentials are the ones configured for it."""
    adapter = OutboundAdapter(base_url, tool, setting, limits=limits, pool_maxsize=pool_maxsize, resolver=resolver)
    _ADAPTERS.add(adapter)
    session.adapters.clear()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if session.trust_env:
        for scheme, proxy in requests.utils.get_environ_proxies(base_url).items():
            session.proxies.setdefault(scheme, proxy)
        # requests' rule for verify=True (`Session.merge_environment_settings`), applied by the adapter
        adapter.ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        session.trust_env = False
    return adapter
