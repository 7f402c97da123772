"""The HTTP API's routes: each parses its request, calls the core (`jobs/api.py`) and returns its answer.

No decision is taken here that the CLI or the pages would have to repeat: validation of a
request's shape is pydantic's (models.py), every other refusal comes from the core as a typed
error that errors.py turns into the one error shape.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from importers import source_names
from importers.errors import API
from jobs import api
from store.api_tokens import ApiToken

from .auth import audited, caller
from .errors import no_tool, not_allowed
from .models import (
    Error,
    ExecuteRequest,
    Jobs,
    Preview,
    PreviewRequest,
    Progress,
    ScheduleStopped,
    Started,
    ToolName,
    Tools,
    Undone,
)
from .slots import vendor_calls


def _errors(*codes: int) -> dict[int | str, dict]:
    meaning = {400: "bad input: the answer's detail names the field", 401: "no valid API token",
               403: "open demo mode and not this machine; or the job or schedule is someone else's (only its starter "
                    "or an admin, CONSOLE_ADMINS, may cancel, retry or undo a job, or stop a schedule; only who saved "
                    "a project's mapping or an admin may replace it)",
               404: "no such job, schedule or tool",
               409: "the job is not in a state that allows this, or the schedule is stopped already",
               422: "the request body does not match its schema",
               502: "the tool could not be reached", 503: "the tool's rate limit, or Redis, is unavailable"}
    return {code: {"model": Error, "description": meaning[code]} for code in (401, 403, *codes)}


def _as_is(document: dict) -> JSONResponse:
    """A core document (progress, job list) answered exactly as the CLI prints it: not re-validated, so a
    field the core adds or widens never turns a status read into a 500 (the models describe it)."""
    return JSONResponse(document)


def _progress(document: dict) -> JSONResponse:
    """A progress document whose stored reasons name a source's settings as this API takes them (`config.api_token`,
    jobs/progress.shown_in), not as the worker's CLI words wrote them."""
    return _as_is(api.shown_in(document, API))


router = APIRouter(prefix="/import")
Caller = Annotated[ApiToken, Depends(caller)]
Previewer = Annotated[ApiToken, Depends(audited("preview"))]
Exporter = Annotated[ApiToken, Depends(audited("export-failures"))]


@router.get("/tools", response_model=Tools, responses=_errors(), summary="The tools and their credentials' state")
def tools(_: Caller) -> dict:
    return {"tools": [vars(s) for s in api.sources()]}


@router.post("/{tool}/preview", response_model=Preview, responses=_errors(400, 404, 422, 502, 503),
             summary="Sample items of a project; nothing is written")
async def preview(tool: ToolName, body: PreviewRequest, token: Previewer) -> dict:
    def work() -> dict:
        api.check_settings(tool, body.config)
        if body.save_credentials:
            api.may_save_credentials(tool, token.actor)
        result = api.preview(tool, body.project, body.config or None, limit=body.limit, since=body.since)
        if body.save_credentials:
            api.save_credentials(tool, body.config, token.actor)
        return {"items": result.rows(), "estimated_total": result.estimated_total, "existing": result.existing,
                "already_imported": result.already_imported, "internal_items": result.internal_items,
                "internal_comments": result.internal_comments, "seconds": round(result.seconds, 3)}

    return await vendor_calls.run(token.name, work)


@router.post("/{tool}/execute", status_code=202, response_model=Started, responses=_errors(400, 404, 422, 503),
             summary="Start an import job")
async def execute(tool: ToolName, body: ExecuteRequest, response: Response, token: Caller) -> dict:
    def work() -> str:  # the mappings are checked against the tool: a vendor call
        api.check_settings(tool, body.config)
        if body.save_credentials:
            api.may_save_credentials(tool, token.actor)
        mappings = api.mappings_from_documents(tool, body.mappings, body.config or None, projects=body.projects)
        job_id = api.start_import(tool, body.projects or list(mappings), config=body.config or None,
                                  duplicates=body.duplicates, since=body.since, incremental=not body.full,
                                  dry_run=body.dry_run, requested_by=token.actor, deletions=body.deletions,
                                  mappings=mappings or None, actor=token.actor)
        if body.save_credentials:
            api.save_credentials(tool, body.config, token.actor)
        return job_id

    job_id = await vendor_calls.run(token.name, work)
    url = f"/import/status/{job_id}"
    response.headers["Location"] = url
    return {"job_id": job_id, "status_url": url}


@router.get("/status/{job_id}", response_model=Progress, responses=_errors(404),
            summary="A job's progress (one Redis read)")
def status(job_id: str, _: Caller) -> JSONResponse:
    return _progress(api.status(job_id))


@router.get("/jobs", response_model=Jobs, responses=_errors(422), summary="Import history and scheduled re-runs")
def jobs(_: Caller, limit: Annotated[int, Query(ge=1, le=500, description="how many jobs, newest first")] = 50
         ) -> JSONResponse:
    return _as_is({"jobs": [api.shown_in(doc, API) for doc in api.jobs(limit)], "schedules": api.schedules_list()})


@router.post("/jobs/{job_id}/cancel", response_model=Progress, responses=_errors(404, 409),
             summary="Stop a job after its current batch")
def cancel(job_id: str, token: Caller) -> JSONResponse:
    return _progress(api.cancel(job_id, actor=token.actor))


@router.post("/jobs/{job_id}/retry", response_model=Progress, responses=_errors(404, 409, 503),
             summary="Resume a failed or cancelled job and re-run its failed items")
def retry(job_id: str, token: Caller) -> JSONResponse:
    return _progress(api.retry(job_id, actor=token.actor))


@router.post("/jobs/{job_id}/undo", response_model=Undone, responses=_errors(404, 409),
             summary="Delete the items (and comments) the job created")
def undo(job_id: str, token: Caller) -> JSONResponse:
    return _progress(api.undo(job_id, actor=token.actor))


@router.post("/schedules/{schedule_id}/stop", response_model=ScheduleStopped, responses=_errors(404, 409),
             summary="Stop a scheduled re-run: no run starts after this")
def stop_schedule(schedule_id: str, token: Caller) -> JSONResponse:
    return _as_is(api.stop_schedule(schedule_id, actor=token.actor))


@router.get("/jobs/{job_id}/failures.csv", response_class=Response, responses={
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "project, key, external_id, reason"},
    **_errors(404)}, summary="The job's failure report as CSV")
def failures_csv(job_id: str, _: Exporter) -> Response:
    api.status(job_id)  # an unknown job is a 404, not an empty report
    return Response(api.failures_csv(job_id), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="failures-{job_id}.csv"'})


@router.get("/openapi.json", responses=_errors(), summary="This document (OpenAPI 3)")
def openapi(request: Request, _: Caller) -> dict:
    return request.app.openapi()


def _named(request: Request) -> None:
    """404 for the tool, job or schedule a path names when there is none: a 405 would say that it exists."""
    params = request.path_params
    if "tool" in params and params["tool"] not in source_names():
        raise no_tool(request, params["tool"])
    if "job_id" in params:
        api.status(params["job_id"])
    if "schedule_id" in params:
        api.find_schedule(params["schedule_id"])


def _refusing(allowed: list[str]) -> Callable[..., None]:
    def refuse(request: Request, _: Caller) -> None:
        _named(request)
        raise not_allowed(request.method, request.url.path, allowed)

    return refuse


OTHER_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def _refuse_other_methods() -> None:
    """Every other method on an API path answers 405 with its Allow header, after the checks its own method makes:
    the token (401), then the tool, job or schedule the path names (404: GET on an unknown tool's preview said
    405, as if the tool were there). HEAD on a GET path is a GET (restapi/__init__.py)."""
    taken: dict[str, set[str]] = {}
    for route in router.routes:
        if isinstance(route, APIRoute):
            taken.setdefault(route.path, set()).update(route.methods or ())
    for path, methods in taken.items():
        served = methods | ({"HEAD"} if "GET" in methods else set())
        router.add_api_route(path.removeprefix(router.prefix), _refusing(sorted(methods)), include_in_schema=False,
                             methods=[m for m in OTHER_METHODS if m not in served])


_refuse_other_methods()
