"""The console's HTTP API (the seed's `/import/...` endpoints), served by the console's own server.

Why FastAPI inside Streamlit: Streamlit 1.67's `st.App` is a Starlette application that takes extra
Starlette routes (they are matched before its own). FastAPI is Starlette too, and it gives what a
hand-built API would have to re-invent: request bodies validated by the pydantic models in
`models.py`, dependencies for the bearer token, and an OpenAPI 3 document generated from the same
models and routes (`FastAPI.openapi()`), so the document cannot drift from the code.

The FastAPI application is reached through one Starlette `Route` per API path (`routes()`), each
handing the request to it whole. Only those exact paths are the API's: `/import` itself stays the
wizard page and any other `/import/...` path stays Streamlit's. A wrong method on an API path is
answered by FastAPI (405, in the API's error shape).
"""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Route, compile_path
from starlette.types import Receive, Scope, Send

from . import errors
from .endpoints import router

VERSION = "1.0.0"
MAX_BODY_BYTES = 1 << 20  # a request body is a few settings and options: anything near 1 MiB is not ours


def build() -> FastAPI:
    """The API as an ASGI application; its own OpenAPI route needs a token (endpoints.openapi)."""
    app = FastAPI(title="ACGS2 Import Console API", version=VERSION, openapi_url=None, docs_url=None,
                  redoc_url=None, description="Preview, start and follow imports from JIRA, ServiceNow, GitHub and "
                                              "GitLab. Every call needs `Authorization: Bearer TOKEN` (`python cli.py "
                                              "api-token create NAME`). Errors: `{\"error\": ..., \"detail\": ...}`.")
    errors.install(app)
    app.include_router(router)
    return app


app = build()


class _Forward:
    """Hands a request matched by a console route to the API application, as if it came straight in."""

    def __init__(self, target: FastAPI):
        self.target = target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:  # refused in the API's shape, before reading it
            too_large = errors.answer(413, f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB")
            await too_large(scope, receive, send)
            return
        inner = {k: v for k, v in scope.items() if k not in ("router", "endpoint", "path_params")}
        await self.target(inner, receive, send)


PATHS = sorted({route.path for route in router.routes if isinstance(route, APIRoute)})
_PATTERNS = [compile_path(p)[0] for p in PATHS]


def routes() -> list[BaseRoute]:
    """Starlette routes for `st.App(routes=...)`: exactly the API's paths, every method."""
    forward = _Forward(app)
    # max_body_size also stops a chunked body that declared no length (Starlette's plain-text 413)
    return [Route(path, endpoint=forward, methods=None, max_body_size=MAX_BODY_BYTES) for path in PATHS]


def claims(path: str) -> bool:
    """True when `path` is one of the API's (so console middleware leaves the request alone)."""
    return any(pattern.match(path) for pattern in _PATTERNS)


__all__ = ["app", "claims", "routes"]
