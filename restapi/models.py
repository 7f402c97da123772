"""The HTTP API's request and response bodies, as pydantic models.

They are the API's contract: FastAPI validates requests against them and the OpenAPI document
is generated from them, never written by hand. The progress document is the core's
(jobs/progress.py, what `cli.py status --json` prints): the API passes it on as it is, and
`Progress` describes it, allowing extra fields, so a field the core adds later reaches API
clients at once; tests/e2e/test_http_api.py validates real answers against this schema.
"""
from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from importers import source_names
from store.jobs import JobStatus
from store.soft_delete import Deletions

ToolName = StrEnum("ToolName", {name: name for name in source_names()})  # type: ignore[misc]  # built from the registry
ToolName.__doc__ = "A tool the console imports from."
IsoTime = Annotated[str | None, Field(json_schema_extra={"format": "date-time"})]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is a 422 naming it, not silently ignored


class _Document(BaseModel):
    model_config = ConfigDict(extra="allow")


class Error(BaseModel):
    """Every error answer: a one-line message and, when useful, what it is about."""

    error: str = Field(description="one line saying what is wrong and what to do")
    detail: Any = Field(None, description="400: {kind, field, fields} (fields: every input to fix, field the "
                                          "first); 422: [{field, message}]; otherwise null or an object")


class Tool(BaseModel):
    name: ToolName
    label: str
    auth: Literal["environment", "saved", "not configured", "none needed"]


class Tools(BaseModel):
    tools: list[Tool]


def _number_as_text(value: Any) -> Any:
    """A JSON number as the text the form takes ({"size": 5000} is "5000"): the settings are text, as a form's
    fields and the environment's variables are, and a number was refused with "Input should be a valid string".
    30.0 and 1E+2 are whole numbers, as a JSON encoder may write them ("30", "100"); true/false stay refused: no
    setting is a switch."""
    if type(value) is float and not math.isfinite(value):  # 1e400, NaN: refused as such, not echoed as 'inf'
        return value
    if type(value) is float and value.is_integer():
        return str(int(value))
    return str(value) if type(value) in (int, float) else value


ConfigValue = Annotated[str, BeforeValidator(_number_as_text),
                        WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}]})]
Config = Annotated[dict[str, ConfigValue], Field(
    description="the tool's settings and credentials as the console's form takes them (e.g. JIRA: base_url, "
                "user_email, api_token; a number, such as the demo's size, may be a JSON number); merged over the "
                "environment and saved credentials. Secrets are never logged; they are kept only encrypted (for the "
                "job, or as the tool's saved credentials)")]


class PreviewRequest(_Request):
    project: str | None = Field(None, description="project key (repository owner/name, ServiceNow table); "
                                                  "default: the tool's default or first project")
    since: str | None = Field(None, json_schema_extra={"format": "date-time"},
                              description="only items updated since (ISO-8601; a bad one is a 400 naming `since`)")
    limit: int = Field(20, ge=1, le=200, description="how many sample items")
    config: Config = Field(default_factory=dict)
    save_credentials: bool = Field(False, description="keep these credentials, encrypted, for later imports "
                                                     "(after the preview succeeded); admins only (403 otherwise)")


class PreviewItem(BaseModel):
    key: str
    title: str
    state: str = Field(description="the source's own status name (the workspace state it becomes)")
    status: str = Field(description="the state's category: backlog, todo, in_progress, done or cancelled")
    assignee: str | None
    created: datetime
    updated: datetime


class Preview(BaseModel):
    items: list[PreviewItem]
    estimated_total: int | None = Field(description="how many items the import would read; null if the tool "
                                                    "cannot say cheaply")
    existing: int = Field(description="how many of the sample items are already in the workspace")
    already_imported: int = Field(description="items of this tool and project already in the workspace")
    internal_items: int = Field(0, description="items that are not public at the source (internal notes, "
                                               "confidential issues) the import brings")
    internal_comments: int | None = Field(None, description="the same for comments; null when unknown before a "
                                                            "dry run")
    seconds: float


class ExecuteRequest(_Request):
    projects: list[str] = Field(default_factory=list, description="project keys; default: the tool's default "
                                                                  "project")
    duplicates: Literal["update", "skip"] = Field("update", description="items already imported: update them "
                                                                        "(merge what changed), or skip them")
    deletions: Deletions = Field(Deletions.MARK, description="items and comments gone from the source: mark them "
                                                             "deleted, purge them, or ignore (do not look)")
    since: str | None = Field(None, json_schema_extra={"format": "date-time"},
                              description="only items updated since (ISO-8601; a bad one is a 400 naming `since`); "
                                          "default: what changed since the last successful import of the project")
    full: bool = Field(False, description="read everything, not only what changed since the last import")
    dry_run: bool = Field(False, description="read and validate everything, write nothing")
    config: Config = Field(default_factory=dict)
    save_credentials: bool = Field(False, description="also keep these credentials, encrypted, for later imports; "
                                                     "admins only (403 otherwise)")
    mappings: list[dict[str, Any]] = Field(default_factory=list, description=(
        "how source statuses, priorities, types and people map, one object per project as `python cli.py mapping "
        "export` writes it (rows left out keep their defaults); saved for the projects' later runs. `projects` "
        "defaults to the mapped ones"))

    @model_validator(mode="after")
    def _since_or_full(self) -> ExecuteRequest:
        if self.full and self.since is not None:
            raise ValueError("give `since` or `full`, not both")
        return self


class Started(BaseModel):
    job_id: str
    status_url: str = Field(description="where to follow the job: GET it for the progress document")


class _Counts(_Document):
    """Items seen so far and what became of each (store/jobs.py COUNTERS)."""

    total: int | None = Field(description="items the import will read; null while the source's count is unknown")
    processed: int
    created: int
    updated: int
    skipped: int
    failed: int


class PartProgress(_Counts):
    project: str
    status: JobStatus
    comments: int = Field(0, description="comments read")
    comments_written: int = Field(0, description="comments written to the workspace")
    comments_at_source: int | None = Field(None, description="comments the source says the items read have "
                                                             "(null where it gives no count: ServiceNow)")
    comments_unread: int = Field(0, description="items whose comments could not be read (retry failed items reads "
                                                "them again)")
    error: str | None


class Progress(_Counts):
    """A job's progress document: what `cli.py status --json` prints and the console's progress view reads."""

    job_id: str
    source: str
    projects: list[str]
    status: JobStatus = Field(description="undone once the job was undone (its run's outcome stays in attempts)")
    total_known: bool = Field(True, description="false while `total` is unknown")
    percentage: float | None = Field(description="0-100; null while a running job's total is unknown (total_known "
                                                 "false: a source that cannot count, e.g. GitHub without search)")
    phase: str | None = Field(None, description="what a running job does now: writing, comments, items, ...")
    items_per_second: float
    eta_seconds: float | None
    started_at: IsoTime
    updated_at: IsoTime
    finished_at: IsoTime
    created_at: IsoTime
    error: str | None = Field(description="why the job failed or stopped, in one line; a source's setting it names "
                                          "reads as this API takes it (config.api_token), or as the environment "
                                          "variable when the server's environment supplied it")
    settings_from_env: list[str] = Field(default_factory=list, description="the settings (environment variables) "
                                         "the server's environment supplied to this job")
    worker_lost: bool
    waiting_until: IsoTime = Field(description="set while the job waits out a vendor's rate limit")
    wait_reason: str | None
    notes: list[str] = Field(default_factory=list, description="what the read said about itself")
    duplicates: Literal["skip", "update"]
    dry_run: bool = Field(description="true: nothing was written; created, updated and skipped say what a real "
                                      "run would have done with the items read (a failed or cancelled dry run: "
                                      "the items it read before it stopped, not the whole project; a retry "
                                      "continues its check where it stopped)")
    since: IsoTime
    cancel_requested: bool
    undone_at: IsoTime
    requested_by: str
    parts: list[PartProgress] = Field(description="one per project")


class Undone(Progress):
    items_removed: int
    comments_removed: int


class Schedule(_Document):
    id: str
    source: str
    projects: list[str]
    every_hours: int
    next_run_at: IsoTime
    last_job_id: str | None
    booked_by: str | None = Field(description="who booked it (they or an admin may stop it); null: booked by an "
                                              "older release")


class ScheduleStopped(BaseModel):
    id: str
    source: str
    projects: list[str]
    every_hours: int
    stopped: bool = Field(description="always true: no run of it starts any more")
    cancelled: list[str] = Field(description="its runs that were still queued, now cancelled (job ids)")


class Jobs(BaseModel):
    jobs: list[Progress] = Field(description="newest first")
    schedules: list[Schedule]
