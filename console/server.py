"""ASGI entry of the console: `streamlit run console/server.py` (what ./start.sh runs), and
`streamlit run app.py`, whose module branch builds the same st.App from `app_options()` here:
routes and middleware added to `app_options()` are served by both.

It serves app.py unchanged and works around streamlit/streamlit#7074: opened directly at a page's
URL (e.g. /import), the frontend guesses the server's base path by probing
/import/_stcore/health and /import/_stcore/host-config before /_stcore/..., and the two 404s
show up as errors in the browser console. Answering the probes with 200 would be worse: the
frontend would take /import as the base path and show the default page.

The frontend reads `window.__streamlit.BACKEND_BASE_URL` (its embedding configuration) before
guessing; when set, it connects there directly. This middleware adds that one line to the HTML
page, naming the site root (the console is never served under a path prefix), so no probe is
made. Everything else passes through untouched.

Every answer forbids framing by another site (FrameGuard). At startup it sets TCP_NODELAY on the listening
socket (console/nodelay.py: without it every answer
on a kept-alive connection waited 40 ms). It also serves the HTTP API (restapi/): Streamlit's `st.App`
takes Starlette routes, matched before its own, so the API's exact paths (`/import/tools`,
`/import/status/{job_id}`, ...) reach the API and every other path, `/import` included, stays the
console's.
"""
from __future__ import annotations

import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit.runtime.pages_manager import PagesManager

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run console/server.py` puts console/ on the path, not the checkout
    sys.path.insert(0, str(ROOT))

import restapi  # noqa: E402 - importable only once the checkout is on the path (above)
from console import nodelay, session  # noqa: E402 - likewise

APP_SCRIPT = ROOT / "app.py"
BASE_URL_SCRIPT = (b'<script>window.__streamlit=Object.assign({BACKEND_BASE_URL:window.location.origin+"/"},'
                   b'window.__streamlit||{})</script>')


class BaseUrlMiddleware:
    """Injects BACKEND_BASE_URL into the HTML page Streamlit serves for every page path."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or scope.get("method") != "GET" or "/_stcore/" in path or "/static/" in path \
                or "/component/" in path or "/media/" in path or "/oauth2callback" in path or path.endswith(
                    (".js", ".css", ".png", ".json", ".ico", ".svg", ".woff2", ".map")) or restapi.claims(path):
            await self.app(scope, receive, send)
            return
        # ask for an uncompressed page, so the script can be inserted
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"]
        scope = {**scope, "headers": headers}
        start: MutableMapping[str, Any] | None = None
        body = bytearray()

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            content_type = dict(start.get("headers", [])).get(b"content-type", b"")
            data = bytes(body)
            if content_type.startswith(b"text/html") and b"<head>" in data:
                data = data.replace(b"<head>", b"<head>" + BASE_URL_SCRIPT, 1)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"etag")]
            headers.append((b"content-length", str(len(data)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": data})

        await self.app(scope, receive, capture)


class FrameGuard:
    """Every answer forbids framing (X-Frame-Options: DENY, CSP frame-ancestors 'none'): a page of another site
    must not show the console in a frame to steer a signed-in admin's clicks (clickjacking)."""

    HEADERS = [(b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'")]

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {b"x-frame-options", b"content-security-policy"}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + self.HEADERS}
            await send(message)

        await self.app(scope, receive, guarded)


# Never run a file of pages/ on its own (Streamlit's legacy multipage mode, on until a run reaches
# st.navigation): every page goes through app.py and its sign-in (see console/signin.py).
PagesManager.uses_pages_directory = False


def app_options() -> dict[str, Any]:
    """What both entries pass to st.App besides the script: the HTTP API's and the sign-in session's routes,
    the middleware, and the startup hook that sets TCP_NODELAY on the listening socket."""
    return {"routes": [*session.routes(), *restapi.routes()],
            "middleware": [Middleware(FrameGuard), Middleware(session.MetricsGate), Middleware(session.SignOutGate),
                           Middleware(BaseUrlMiddleware)],
            "lifespan": nodelay.lifespan}


app = st.App(APP_SCRIPT, **app_options())
