"""The console's HTTP API (the seed's `/import/...` endpoints), served by the console's own server.

Why FastAPI inside Streamlit: Streamlit 1.67's `st.App` is a Starlette application that takes extra
Starlette routes (they are matched before its own). FastAPI is Starlette too, and it gives what a
hand-built API would have to re-invent: request bodies validated by the pydantic models in
`models.py`, dependencies for the bearer token, and an OpenAPI 3 document generated from the same
models and routes (`FastAPI.openapi()`), so the document cannot drift from the code.

The FastAPI application is reached through Starlette routes (`routes()`) handing the request to it
whole: one per API path, and one per namespace of the API (`/import/jobs/...`, `/import/status/...`,
`/import/jira/...`: the first segment of any of its paths), so a path inside the API's own namespaces
that names nothing (`/import/status/` without an id, `/import/jobs//undo`) is answered by the API, 404
or 405 in its error shape, not by Streamlit's HTML page with a 200; so is such a path in another case
(`/import/Tools`), whose 404 names the path meant. `/import` itself stays the wizard page and any other
`/import/...` path stays Streamlit's.
"""
from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from importers import source_names
from importers.numbers import whole_number

from . import errors
from .endpoints import router

VERSION = "1.0.0"
MAX_BODY_BYTES = 1 << 20  # a request body is a few settings and options: anything near 1 MiB is not ours
TOO_LARGE = f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB"


def build() -> FastAPI:
    """The API as an ASGI application; its own OpenAPI route needs a token (endpoints.openapi)."""
    # redirect_slashes off: /import/jobs/ was a 307 to an absolute http:// URL built from the Host header, wrong
    # behind a TLS proxy; it is the API's 404 as /import/status/ is
    app = FastAPI(title="ACGS2 Import Console API", version=VERSION, openapi_url=None, docs_url=None,
                  redoc_url=None, redirect_slashes=False,
                  description="Preview, start and follow imports from JIRA, ServiceNow, GitHub and GitLab. Every call "
                              "needs `Authorization: Bearer TOKEN` (`python cli.py api-token create NAME`). Errors: "
                              "`{\"error\": ..., \"detail\": ...}`.")
    errors.install(app, router.routes)
    app.include_router(router)
    app.add_middleware(_HeadAsGet, paths=[route.path_regex for route in router.routes
                                          if isinstance(route, APIRoute) and "GET" in (route.methods or ())])
    return app


class _HeadAsGet:
    """HEAD on a GET path is that GET without its body (RFC 9110 9.3.2): FastAPI's GET routes take no HEAD, and
    a client checking a job or a report with HEAD met 405. Its status and headers are the GET's."""

    def __init__(self, app: ASGIApp, paths: list[re.Pattern[str]]):
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or not any(p.match(scope["path"]) for p in self.paths):
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


app = build()


class _Forward:
    """Hands a request matched by a console route to the API application, as if it came straight in, with
    its body capped at MAX_BODY_BYTES (413 in the API's error shape, declared length or not)."""

    def __init__(self, target: FastAPI):
        self.target = target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = whole_number(Headers(scope=scope).get("content-length", ""))  # else the read below counts
        if declared is not None and declared > MAX_BODY_BYTES:  # refused before a byte of it is read
            await errors.answer(413, TOO_LARGE)(scope, receive, send)
            return
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b"")) if message["type"] == "http.request" else 0
            if seen > MAX_BODY_BYTES:  # a chunked body that declared no length
                raise HTTPException(413, TOO_LARGE)
            return message

        inner = {k: v for k, v in scope.items() if k not in ("router", "endpoint", "path_params")}
        await self.target(inner, capped, send)


PATHS = sorted({route.path for route in router.routes if isinstance(route, APIRoute)})
# the first segments of the API's paths, a tool's name for `{tool}` (an unknown tool's is the API's 404 already)
NAMESPACES = sorted({first for p in PATHS for first in ([p.split("/")[2]] if "{" not in p.split("/")[2]
                                                        else source_names())})
_CLAIMED = PATHS + [f"/import/{n}" for n in NAMESPACES if f"/import/{n}" not in PATHS] + [
    f"/import/{n}/{{rest:path}}" for n in NAMESPACES]
# matched in any case: /import/Tools is a client's mistake for /import/tools, answered by the API's 404 naming the
# path it meant (errors.meant), not by the console's HTML page with a 200
_PATTERNS = [re.compile(compile_path(p)[0].pattern, re.IGNORECASE) for p in _CLAIMED]


def routes() -> list[BaseRoute]:
    """Starlette routes for `st.App(routes=...)`: the API's paths, then the rest of its namespaces, every method."""
    forward = _Forward(app)
    claimed: list[BaseRoute] = []
    for path, pattern in zip(_CLAIMED, _PATTERNS, strict=True):
        route = Route(path, endpoint=forward, methods=None)
        route.path_regex = pattern  # in any case (above)
        claimed.append(route)
    return claimed


def claims(path: str) -> bool:
    """True when `path` is one of the API's (so console middleware leaves the request alone)."""
    return any(pattern.match(path) for pattern in _PATTERNS)


__all__ = ["app", "claims", "routes"]
