"""The console's sign-in session: a signed, expiring cookie, so a reload keeps the user signed in.

Streamlit keeps its session state per websocket: a reload opened a new one, and the admin had to
sign in again. After a password sign-in the page sends the browser to `/_auth/session` with a
one-time ticket (signed, valid for a minute, usable once); that route sets the `acgs2_session`
cookie (HttpOnly, SameSite=Lax, Secure over https) and redirects to the page the user had asked
for. Every script run then reads the cookie (`st.context.cookies`) and trusts it while its
signature holds, it is younger than CONSOLE_SESSION_HOURS (12) and it carries the user's current
session generation. `/_auth/sign-out` deletes it and ends the session on the server too: the user's
generation (a counter in Redis) moves on, so a copy of the old cookie signs no one in, in any browser.

Signing out is a GET (Streamlit moves the browser by setting its location), so any page could once sign a user
out with `<img src=".../_auth/sign-out">` or a link (CSRF). `SignOutGate` lets a sign-out route act only when the
console's own Sign out button asked for it: `/_auth/sign-out` carries a one-time, one-minute ticket signed for
the user (`sign_out_url`), which no other site can make; it ends that user's sessions and deletes whatever
session cookie the browser sends (a tab connected with an older cookie than the browser's still signs the
browser out). Streamlit's `/auth/logout` (company sign-in, `st.logout`, whose URL we cannot extend) acts once
within a minute for the session cookie the button's browser connected with (`ask_sign_out`).

Signing is itsdangerous's TimestampSigner (the Pallets library Flask signs its sessions with).
The key is derived from the admin password hash and CONSOLE_SESSION_SECRET (else
CREDENTIAL_ENCRYPTION_KEY): setting a new password ends every session.

`MetricsGate` keeps `/_stcore/metrics` (Streamlit's Prometheus-style counters) from anonymous
callers: it needs a valid session cookie, except in open demo mode.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from urllib.parse import parse_qs, urlsplit

import redis
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from streamlit.user_info import AUTH_LOGOUT_ENDPOINT
from streamlit.web.server.server_util import AUTH_COOKIE_NAME

from importers.errors import ConfigError
from importers.numbers import env_number
from jobs.queue import connection

from . import auth

COOKIE = "acgs2_session"
SESSION_PATH = "/_auth/session"
SIGN_OUT_PATH = "/_auth/sign-out"
TICKET_SECONDS = 60
OIDC_COOKIE = AUTH_COOKIE_NAME  # Streamlit's session cookie of a company sign-in (st.login)
_ASKED_BY = "acgs2.sign_out_user"  # the request's scope key: whom the sign-out ticket was made for
NOT_ASKED = ("not signed out: the console's own Sign out button did not ask for this (a link or page elsewhere "
             "did); open the console and use its Sign out button")
_PROCESS_SECRET = secrets.token_bytes(32)  # when nothing else is configured: sessions end with the process


class _Recent:
    """Keys noted within the last TICKET_SECONDS, shared by script threads and the server's event loop."""

    def __init__(self) -> None:
        self._noted: dict[str, float] = {}
        self._lock = threading.Lock()

    def _fresh(self) -> dict[str, float]:
        now = time.monotonic()
        for old in [key for key, at in self._noted.items() if now - at > TICKET_SECONDS]:
            del self._noted[old]
        return self._noted

    def note(self, key: str) -> bool:
        """Note `key`; False when it was already noted."""
        with self._lock:
            noted = self._fresh()
            if key in noted:
                return False
            noted[key] = time.monotonic()
            return True

    def take(self, key: str) -> bool:
        """True, once, when `key` was noted."""
        with self._lock:
            return self._fresh().pop(key, None) is not None


_used_tickets = _Recent()
_asked_sign_outs = _Recent()  # fingerprints of the session cookies whose sign-out the console's page asked for


def session_hours() -> float:
    return env_number("CONSOLE_SESSION_HOURS", 12.0, low=0.1, high=24 * 365)  # timedelta(hours=1e300) overflows


def _signer(purpose: str) -> TimestampSigner:
    secret = (os.environ.get("CONSOLE_SESSION_SECRET") or os.environ.get("CREDENTIAL_ENCRYPTION_KEY") or "").encode()
    key = hashlib.sha256(b"acgs2-console|" + (auth.admin_hash() or "").encode() + b"|" +
                         (secret or _PROCESS_SECRET)).digest()
    return TimestampSigner(key, salt=f"acgs2-{purpose}")


def safe_next(path: str | None) -> str:
    """`path` when it is a page of this console ("/workspace?x=1"), else "/": never another site."""
    path = (path or "").strip()
    parts = urlsplit(path)
    if not path.startswith("/") or path.startswith("//") or "\\" in path or parts.scheme or parts.netloc:
        return "/"
    if parts.path.startswith(("/_auth/", "/_stcore/")):
        return "/"
    return path


def ticket(user: str, next_path: str) -> str:
    """A one-time, one-minute ticket that `/_auth/session` exchanges for the session cookie."""
    nonce = secrets.token_urlsafe(12)
    return _signer("ticket").sign(f"{user}|{nonce}|{safe_next(next_path)}".encode()).decode()


def _redeem(value: str) -> tuple[str, str] | None:
    try:
        raw = _signer("ticket").unsign(value, max_age=TICKET_SECONDS).decode()
    except (BadSignature, SignatureExpired, UnicodeDecodeError):
        return None
    user, nonce, next_path = raw.split("|", 2)
    return (user, next_path) if _used_tickets.note(nonce) else None


def _generation(user: str) -> str:
    """The user's session generation: a session cookie of an older one was signed out."""
    return str(int(connection().get(f"console:session-generation:{user}") or 0))


def _session_cookie(user: str) -> str:
    return _signer("session").sign(f"{user}|{_generation(user)}".encode()).decode()


def session_user(cookie: str | None) -> str | None:
    """Who a session cookie signs in, or None when it is missing, forged, expired or signed out (or Redis, which
    keeps the sign-outs, cannot say)."""
    if not cookie:
        return None
    try:
        user, _, generation = _signer("session").unsign(
            cookie, max_age=int(session_hours() * 3600)).decode().rpartition("|")
        return user if user and generation == _generation(user) else None
    except (BadSignature, SignatureExpired, UnicodeDecodeError, redis.RedisError, ConfigError):
        return None


def end_sessions(user: str) -> None:
    """Sign `user` out everywhere: every session cookie issued to them so far stops working."""
    connection().incr(f"console:session-generation:{user}")


async def _open_session(request: Request) -> Response:
    redeemed = _redeem(request.query_params.get("ticket", ""))
    if redeemed is None:
        return RedirectResponse("/", status_code=303)
    user, next_path = redeemed
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(COOKIE, _session_cookie(user), max_age=int(session_hours() * 3600),
                        path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


async def _sign_out(request: Request) -> Response:
    """Reached only with a valid ticket (`SignOutGate`): ends the ticket's user's sessions, and those of the
    cookie the browser sends, should it be another user's."""
    asked = request.scope.get(_ASKED_BY)
    browsers = session_user(request.cookies.get(COOKIE))
    for user in {u for u in (asked, browsers) if isinstance(u, str) and u}:
        end_sessions(user)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _fingerprint(cookie: str) -> str:
    return hmac.new(_PROCESS_SECRET, cookie.encode(), hashlib.sha256).hexdigest()


def ask_sign_out(cookie: str | None) -> None:
    """The console's Sign out button of a company sign-in, just before `st.logout()` sends the browser to
    Streamlit's logout route: that route may end the session of `cookie` (the one the browser connected with),
    once, within TICKET_SECONDS."""
    if cookie:
        _asked_sign_outs.note(_fingerprint(cookie))


def sign_out_url(user: str) -> str:
    """`/_auth/sign-out` with a one-time, one-minute ticket for `user`: the console's Sign out button of a password
    sign-in sends the browser there."""
    nonce = secrets.token_urlsafe(12)
    return f"{SIGN_OUT_PATH}?ticket={_signer('sign-out').sign(f'{user}|{nonce}'.encode()).decode()}"


def _sign_out_ticket(value: str) -> str | None:
    """The user a sign-out ticket was made for, once; None for a forged, expired or used one."""
    try:
        user, _, nonce = _signer("sign-out").unsign(value, max_age=TICKET_SECONDS).decode().rpartition("|")
    except (BadSignature, SignatureExpired, UnicodeDecodeError):
        return None
    return user if user and _used_tickets.note(f"sign-out|{nonce}") else None


def routes() -> list[Route]:
    """The two routes the console's ASGI app serves for sessions (see console/server.py)."""
    return [Route(SESSION_PATH, _open_session, methods=["GET"]), Route(SIGN_OUT_PATH, _sign_out, methods=["GET"])]


class MetricsGate:
    """Answers 403 to `/_stcore/metrics` without a valid session cookie (open demo mode excepted)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").rstrip("/").endswith("/_stcore/metrics") \
                and not auth.open_demo():
            cookies = Request(scope).cookies
            if session_user(cookies.get(COOKIE)) is None:
                await PlainTextResponse("sign in first", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SignOutGate:
    """Answers 403 to a sign-out route the console's own page did not ask for (`sign_out_url`, `ask_sign_out`),
    before the route deletes a cookie or ends a session."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "").rstrip("/") if scope["type"] == "http" else None
        if path == SIGN_OUT_PATH:
            user = _sign_out_ticket(Request(scope).query_params.get("ticket", ""))
            if user is None:
                await PlainTextResponse(NOT_ASKED, status_code=403)(scope, receive, send)
                return
            scope = {**scope, _ASKED_BY: user}
        elif path == AUTH_LOGOUT_ENDPOINT:
            value = Request(scope).cookies.get(OIDC_COOKIE)
            if not value or not _asked_sign_outs.take(_fingerprint(value)):
                await PlainTextResponse(NOT_ASKED, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def ticket_url(user: str, next_path: str) -> str:
    return f"{SESSION_PATH}?ticket={ticket(user, next_path)}"


def next_from(url: str | None) -> str:
    """The path and query of the page a browser is on (st.context.url), for after sign-in."""
    if not url:
        return "/"
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query and parse_qs(parts.query) else ""
    return safe_next((parts.path or "/") + query)
