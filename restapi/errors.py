"""One error shape for every answer that is not a success: `{"error": "...", "detail": ...}`.

The core raises typed SourceErrors whose messages are already one line naming what to fix; this
module only chooses the HTTP status for each kind. Nothing here ever answers with a traceback or
with what the caller sent: pydantic's validation errors are passed on without their `input`
(a misplaced credential would otherwise be echoed back), and unexpected errors answer 500 with
a reference to the server's log.
"""
from __future__ import annotations

import logging
import re
import uuid

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute

from importers import source_names
from importers.errors import API, RateLimitedError, SourceError

log = logging.getLogger(__name__)

STATUS_BY_KIND = {
    "config": 400,  # bad input: a setting, a date, a policy, a project
    "auth": 400,  # the vendor refused the credentials in the body or the configuration
    "forbidden": 403,  # the job is someone else's: only its starter or an admin may change it (jobs/access.py)
    "not_found": 404,  # no such job, project or token
    "conflict": 409,  # the job is not in a state that allows the action
    "network": 502,  # the vendor could not be reached or answered garbage
    "rate_limited": 503,  # the vendor's rate limit outlasts what we wait
}


class ApiError(Exception):
    """An answer decided at the HTTP layer: 401, 403, 404 for a path naming nothing."""

    def __init__(self, status: int, message: str, detail=None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail
        self.headers = headers


def answer(status: int, message: str, detail=None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "detail": detail}, status_code=status, headers=headers)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return answer(exc.status, exc.message, exc.detail, exc.headers)


async def _source_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SourceError)
    status = STATUS_BY_KIND.get(exc.kind, 400)
    headers = None
    if isinstance(exc, RateLimitedError) and exc.until is not None:
        from store.jobs import now

        headers = {"Retry-After": str(max(1, int((exc.until - now()).total_seconds())))}
    detail = {"kind": exc.kind, **({"field": exc.field, "fields": exc.fields} if exc.field else {})}
    return answer(status, exc.shown_in(API), detail, headers)


def _field(loc: tuple) -> str:
    """'body.projects.0' -> 'projects.0'; a path or query parameter keeps its name."""
    parts = [str(p) for p in loc]
    return ".".join(parts[1:] if parts and parts[0] in ("body", "path", "query") and len(parts) > 1 else parts)


def meant(request: Request) -> str | None:
    """The API's route a path that names none probably meant, as "POST /import/jira/preview": the same route in
    another case (`/import/Tools`, `/import/JIRA/preview`: tools are named in lower case) or without a trailing
    slash; None when there is none. A client sees where to go instead of guessing."""
    path = request.url.path
    for tried in dict.fromkeys((path, path.rstrip("/") or path)):
        for route in request.app.state.routes:
            if not (isinstance(route, APIRoute) and route.include_in_schema
                    and re.match(route.path_regex.pattern, tried, re.IGNORECASE)):
                continue
            fixed = [t if not t.startswith("{") else g.lower() if t == "{tool}" else g
                     for t, g in zip(route.path.split("/"), tried.split("/"), strict=True)]
            if "{tool}" in route.path and fixed[route.path.split("/").index("{tool}")] not in source_names():
                continue
            if "/".join(fixed) != path:
                return f"{' or '.join(sorted(route.methods or ()))} {'/'.join(fixed)[:200]}"
    return None


def no_tool(request: Request, name: str) -> ApiError:
    """404 for a path naming a tool the console does not have, with the route meant when only its case differs."""
    listed = ", ".join(source_names())
    hint = meant(request) if name.lower() in source_names() else None
    said = f"did you mean {hint}?" if hint else f"the tools are {listed} (GET /import/tools)"
    return ApiError(404, f"no tool {name[:40]!r}: {said}", {"kind": "not_found", "field": "tool", "fields": ["tool"]})


def not_allowed(method: str, path: str, allowed: list[str]) -> ApiError:
    """405 naming the methods the path takes, in its Allow header too (RFC 9110 15.5.6): HEAD wherever GET is."""
    methods = sorted({*allowed, *(["HEAD"] if "GET" in allowed else [])})
    return ApiError(405, f"{method} is not allowed on {path[:200]}: it takes {' or '.join(methods)} (the API's "
                         f"paths and methods are in GET /import/openapi.json)", None, {"Allow": ", ".join(methods)})


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # who asks comes first, as on every route: FastAPI reads the body before the token's dependency runs, so a
    # request without a valid token was told about its body (a 400 for bad JSON) where it gets a 401 (review)
    from starlette.concurrency import run_in_threadpool

    from .auth import bearer, caller  # auth imports this module

    try:
        await run_in_threadpool(caller, _request, await bearer(_request))
    except ApiError as refused:
        return await _api_error(_request, refused)
    broken = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
    if broken is not None:  # not a body of the wrong shape: no JSON at all
        where = (broken.get("ctx") or {}).get("error") or "it does not parse"
        return answer(400, f"the request body is not valid JSON ({where})", {"kind": "config", "field": "body"})
    problems = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")} for e in exc.errors()]
    in_path = [p for p, e in zip(problems, exc.errors(), strict=True) if tuple(e.get("loc", ("",)))[0] == "path"]
    if in_path and in_path[0]["field"] == "tool":  # a path that names no tool is not found, as any unknown thing
        return await _api_error(_request, no_tool(_request, str(_request.path_params.get("tool", ""))))
    if in_path:
        return answer(404, f"{in_path[0]['field']}: {in_path[0]['message']}", in_path)
    first = problems[0] if problems else {"field": "body", "message": "invalid"}
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return answer(422, f"{first['field']}: {first['message']}{more}", problems)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = str(exc.detail)
    path = request.url.path[:200]
    if exc.status_code == 404 and message == "Not Found":  # no route: the path names nothing of the API's
        hint = meant(request)
        message = f"no API path {path}: " + (f"did you mean {hint}? (" if hint else "") + \
            "the API's paths are in GET /import/openapi.json" + (")" if hint else "")
    elif exc.status_code == 405:  # a method no route of the path takes (one the routes' own 405s do not list)
        allowed = [m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip()]
        return await _api_error(request, not_allowed(request.method, path, allowed))
    return answer(exc.status_code, message, None, dict(exc.headers or {}) or None)


async def _redis_error(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("HTTP API: Redis unavailable: %s", exc.__class__.__name__)
    return answer(503, "cannot reach Redis: start redis-server or fix REDIS_URL", {"kind": "redis"})


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    reference = uuid.uuid4().hex[:12]
    log.error("HTTP API: unexpected %s (reference %s); its traceback follows in the server log",
              exc.__class__.__name__, reference)
    return answer(500, f"internal error (reference {reference}): see the console's log", {"reference": reference})


def install(app: FastAPI, routes: list[BaseRoute]) -> None:
    """Register the handlers that give every error the one shape; `routes` are the API's, for `meant`."""
    app.state.routes = routes
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(SourceError, _source_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(redis.RedisError, _redis_error)
    app.add_exception_handler(Exception, _unexpected)
