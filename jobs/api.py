"""The console's core: what the CLI and the pages call. Neither imports RQ or a vendor library.

Check a connection, preview a project, start / follow / cancel / retry / undo an import,
list jobs, schedule re-runs. Every expected failure is a SourceError (or subclass) whose
message is one line naming what to fix.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, and_, delete, func, select, update

from importers import make_source, source_class, source_names
from importers.errors import API, CLI, CONSOLE, ConfigError, ConflictError, NotFoundError, SourceError
from importers.metadata import read as read_metadata
from importers.model import Visibility, WorkItem
from importers.retry import PREVIEW_SECONDS_ENV, preview_seconds
from store import census as census_store
from store import credentials, soft_delete
from store import jobs as job_store
from store import mappings as mapping_store
from store.audit import record
from store.db import engine_for
from store.jobs import JobStatus, now
from store.schema import comments, import_jobs, import_parts, schedules, work_items
from store.schema import credentials as credentials_table
from store.schema import projects as projects_table
from store.writer import UPDATE

from . import dry_run, mapping_file, queue, spreadsheet
from .access import ADMINS_HINT, Actor, PermissionDenied, machine_admin, may_change, refusal, resolve
from .forecast import Forecast
from .forecast import from_census as forecast_from_census
from .forecast import from_mapping as forecast_from_mapping
from .launch import (
    MAX_PROJECTS,
    booked_settings,
    cancel_job,
    check_data_rights,
    check_startable,
    effective_config,
    enqueue_parts,
    kept_config,
    kept_in_workspace,
    owner,
    parse_since,
    progress_store,
    project_names,
    save_mapping,
    spelled,
    split_config,
    start_import,
)
from .mapping import SAMPLE_SIZE, Mapping, read_whole
from .mapping import build as build_mapping
from .progress import shown_in  # a progress document as a surface shows it: pages and the HTTP API render with it


# -- sources and credentials ---------------------------------------------------------------
@dataclass
class SourceInfo:
    name: str
    label: str
    auth: str  # "environment" | "saved" | "not configured" | "none needed"


def sources() -> list[SourceInfo]:
    found = []
    engine = engine_for()
    for name in source_names():
        cls = source_class(name)
        if name == "demo":
            auth = "none needed"
        elif cls.configured_from_env():
            auth = "environment"
        elif credentials.saved_for(engine, name):
            auth = "saved"
        else:
            auth = "not configured"
        found.append(SourceInfo(name, cls.label, auth))
    return found


@contextmanager
def _connected(source: str, config: dict[str, str] | None):
    """A source built from the effective settings, its HTTP session released afterwards. Every required setting
    missing is named at once (`Source.require_all`), as a launch names them: a connector asks for one at a time."""
    src = make_source(source, effective_config(source, config))
    try:
        src.require_all()
        yield src
    finally:
        src.close()


def check(source: str, config: dict[str, str] | None = None) -> str:
    """The account a connection reaches, or a SourceError saying why not; a default project the source cannot have
    is refused first, as an import of it would be. Where the workspace keeps settings for the source's projects that
    `config` does not give (the demo's size), it says what a run reads with them (`Source.check_kept`): the demo
    said "50 items a project" under "as imported before", where a project imported at 300 is read at 300."""
    with _connected(source, config) as src:
        src.check_default_project()
        kept = kept_in_workspace(source, effective_config(source, config)) if src.kept_settings else {}
        return src.check_kept(kept) if kept else src.check()


def list_projects(source: str, config: dict[str, str] | None = None) -> list:
    with _connected(source, config) as src:
        return src.projects()


def check_settings(source: str, config: dict[str, str]) -> None:
    """Raise ConfigError naming every key of `config` that is not one of the source's settings (for callers
    that take settings from outside, such as the HTTP API: a misspelt key is refused; all of them at once)."""
    cls = source_class(source)
    names = [s.name for s in cls.settings]
    unknown = [key for key in config if key not in names]
    if unknown:
        shown = ", ".join(repr(key[:60]) for key in unknown[:5]) + (f" (and {len(unknown) - 5} more)"
                                                                    if len(unknown) > 5 else "")
        raise ConfigError(f"{cls.label} has no setting{'s' if len(unknown) > 1 else ''} {shown}: its settings are "
                          f"{', '.join(names)}", field=f"config.{unknown[0]}", fields=[f"config.{k}" for k in unknown])


def saved_settings(source: str) -> tuple[dict[str, str], list[str]] | None:
    """The saved credentials of `source` as the form shows them: (public settings by name, names of
    the secret settings saved), or None when none are saved. Secrets never leave this function."""
    engine = engine_for()
    saved = credentials.saved_for(engine, source)
    if saved is None:
        return None
    public, secrets = split_config(source, credentials.get(engine, saved))
    return public, sorted(secrets)


def incremental_since(source: str, projects: list[str], duplicates: str = "update") -> dict[str, datetime | None]:
    """Per project, where a repeated import with this `duplicates` policy would start reading (None: everything is
    read), by start_import's rule (`store.jobs.catch_up_point`)."""
    engine = engine_for()
    return {project: job_store.last_high_water(engine, source, project, duplicates) for project in projects}


def may_save_credentials(source: str, actor: Actor | str | None = None) -> None:
    """Raise PermissionDenied (audited) unless `actor` is an admin (jobs/access.py; None is the machine's
    operator): saved credentials are what every later import, schedule and CLI run of the source uses."""
    who = resolve(actor)
    if not who.admin:
        record(engine_for(), "refused", actor=who.name, source=source, attempted="save-credentials")
        raise PermissionDenied(f"only an admin may save credentials for {source_class(source).label}; "
                               f"you are signed in as {who.name}")


def save_credentials(source: str, config: dict[str, str], actor: Actor | str | None = None) -> str:
    """Encrypt and keep the credentials for later imports. Raises PermissionDenied unless `actor` is an admin,
    NoKeyError without a key."""
    may_save_credentials(source, actor)
    return credentials.put(engine_for(), source, {k: v for k, v in config.items() if v}, saved=True)


@dataclass
class Preview:
    items: list[WorkItem]
    estimated_total: int | None
    existing: int  # how many of the previewed items are already in the workspace
    already_imported: int  # items of this source and project already in the workspace
    seconds: float
    # non-public items and comments the import brings (Visibility): the source's own count where it
    # has a cheap one, else items counted in the sample; comments None when unknown before a dry run
    internal_items: int = 0
    internal_comments: int | None = None

    @property
    def whole(self) -> bool:
        """Whether the sample is every item the import would read (`read_whole`), as a project of 20 is in a preview
        of 20: the wizard then says so rather than "a sample"."""
        return read_whole(len(self.items), self.estimated_total)

    def rows(self) -> list[dict]:
        """The sample as the CLI's `preview --json` and the HTTP API show it: key, title, state (the source's
        status name), status (its category), assignee, created, updated (datetimes, UTC)."""
        return [{"key": i.key, "title": i.title, "state": i.state_name, "status": i.status.value,
                 "assignee": i.assignee.display_name if i.assignee else None,
                 "created": i.created_at, "updated": i.updated_at} for i in self.items]


# where each surface lists jobs and schedules: an API client has no `cli.py` at hand (it was told to run one)
LISTED = {CLI: "`python cli.py jobs`", API: "GET /import/jobs", CONSOLE: "the Jobs page"}


def _no_job(job_id: str, error: type[SourceError] = NotFoundError) -> SourceError:
    return error(f"no import job {_shown(job_id)}: list them with {{at}}", places=LISTED)


def _shown(job_id: str) -> str:
    """A job id as a message quotes it: a job id is 16 hex digits, so anything long is cut, never echoed whole."""
    return repr(job_id if len(job_id) <= 40 else f"{job_id[:32]}...")


def preview(source: str, project: str | None = None, config: dict[str, str] | None = None, limit: int = 20,
            since: str | datetime | None = None, mapping: Mapping | None = None) -> Preview:
    """Sample items as the import would file them: through `mapping`, else the project's saved mapping, else
    the connector's defaults. Writes nothing. Every request and retry wait together end within
    IMPORT_PREVIEW_SECONDS (30): a vendor that does not answer is a NetworkError by then, not a held caller."""
    started = time.perf_counter()
    with _connected(source, kept_config(source, project, config)) as src:
        src.retry.limit(preview_seconds(), PREVIEW_SECONDS_ENV)
        project = spelled(source, [(project or "").strip() or src.default_project() or _first_project(src)])[0]
        when = parse_since(since)
        items = src.preview(project, limit, when)
        total = src.estimate(project, when)
        internal = src.internal_counts(project, when)
    engine = engine_for()
    saved = mapping_store.load(engine, source, project) if mapping is None else None
    steer = mapping or (Mapping.from_rules(saved) if saved else None)
    if steer is not None:
        items = [steer.apply(item) for item in items]
    with engine.connect() as conn:
        ids = [i.external_id for i in items]
        live = soft_delete.visible(work_items)
        existing = conn.execute(select(func.count()).select_from(work_items).where(and_(
            work_items.c.source == source, work_items.c.external_id.in_(ids), live))).scalar_one() if ids else 0
        already = conn.execute(select(func.count()).select_from(work_items).where(and_(
            work_items.c.source == source, work_items.c.project == project, live))).scalar_one()
    sampled = sum(1 for i in items if i.visibility != Visibility.PUBLIC)
    return Preview(items, total, existing, already, time.perf_counter() - started,
                   internal_items=internal.get("items", sampled), internal_comments=internal.get("comments"))


@dataclass(frozen=True)
class OneClick:
    """What a one-click demo reads: its project, how many items, how many fail the first read, and whether that is
    the size the project was last imported at (`kept`), other than the one-click's own."""

    project: str
    size: str  # the demo's size setting, as kept or the one-click's own ("small")
    items: int
    failures: int
    kept: bool


def one_click(kind: str) -> OneClick:
    """What the one-click demo `kind` (importers/demo/settings.ONE_CLICK) reads: a project imported before is read at
    the size it was imported at (launch.kept_settings), smaller or larger than the one-click's 50; read at 50, a
    full read of a project imported at 5,000 marked the other 4,950 deleted. ConfigError for an unknown kind."""
    from importers.demo import parse_size
    from importers.demo.settings import ONE_CLICK

    if kind not in ONE_CLICK:
        raise ConfigError(f"no demo {kind!r}: choose one of {', '.join(ONE_CLICK)}")
    project, size, failures = ONE_CLICK[kind]
    kept = kept_in_workspace("demo").get(project, {}).get("size")
    items = parse_size(kept or size)
    return OneClick(project, kept or size, items, failures, items != parse_size(size))


def start_demo(kind: str = "clean", requested_by: str = "console", actor: Actor | str | None = None) -> str:
    """Start one of the demo source's one-click imports (`one_click`) and return its job id: "clean" (ends
    Succeeded) or "failures" (3 items fail the first read and come through on "Retry failed items"), at a pace an
    audience can follow (ONE_CLICK_PACE items a second, batches of ONE_CLICK_BATCH) unless the project was kept
    at a larger size. Reads everything each time, so a second click shows every item unchanged rather than an
    empty run. ConfigError for an unknown kind."""
    from importers.demo import parse_size
    from importers.demo.settings import ONE_CLICK, ONE_CLICK_BATCH, ONE_CLICK_PACE

    demo = one_click(kind)
    paced = demo.items <= parse_size(ONE_CLICK[kind][1])
    config = {"size": demo.size, "failures": str(demo.failures),
              **({"pace": str(ONE_CLICK_PACE)} if paced else {})}
    return start_import("demo", [demo.project], config=config, incremental=False, requested_by=requested_by,
                        batch_size=ONE_CLICK_BATCH if paced else None, actor=actor)


def kept_by_project(source: str) -> dict[str, dict[str, str]]:
    """project -> the settings a run of it reads when given none of them (`Source.kept_settings`: the demo's size,
    as the project was last imported), for every project of `source` in the workspace."""
    return kept_in_workspace(source)


# -- mappings ------------------------------------------------------------------------------
def mapping(source: str, project: str | None = None, config: dict[str, str] | None = None) -> Mapping:
    """The project's mapping as an import would use it: every value the source lists (its metadata routes) or a
    sample of items carries, with its default target, the saved mapping over the defaults, counts (the source's,
    else the sample's), and the workspace's states and people to choose from. Writes nothing."""
    with _connected(source, kept_config(source, project, config)) as src:
        project = spelled(source, [(project or "").strip() or src.default_project() or _first_project(src)])[0]
        sample = src.preview(project, SAMPLE_SIZE)
        meta = read_metadata(src, project, sample)
        engine = engine_for()
        found = build_mapping(meta, sample, mapping_store.load(engine, source, project),
                              mapping_store.project_states(engine, source, project),
                              mapping_store.workspace_people(engine))
        # whether the sample is the whole project (`read_whole`): asked where the source did not count its statuses,
        # and a word of a caption, worth no failure (GitHub's search, 30 a minute, refused: the sample's counts)
        if found.source_total() is None:
            with suppress(SourceError):
                found.total = src.estimate(project)
    return found


def mapping_from_file(text: str, path: str, source: str | None = None, project: str | None = None,
                      config: dict[str, str] | None = None, document: bool = False) -> Mapping:
    """The mapping a file describes, checked against what the source lists now (`source` and `project` default
    to the file's own). Raises ConfigError naming the file's line (a `document`, the HTTP API's: the place) and
    the value of the first problem."""
    head = mapping_file.parse(text, path)
    source = source or str(head.get("source") or "")
    if not source:
        raise ConfigError(f"{path}: the file names no source: add \"source\" or pass the source")
    at = f"{path}.project" if document else path
    if not isinstance(head.get("project"), str) or not head["project"].strip():
        raise ConfigError(f"{at}: the {'document' if document else 'file'} names no project: add \"project\"",
                          field=at if document else None)
    try:  # checked as an import's projects are, before the source is asked for its lists
        named = project_names(source, [project or head["project"]])[0]
        source_class(source).check_project(named)
    except SourceError as exc:
        raise ConfigError(f"{at}: {exc}", field=at if document else None) from None
    base = mapping(source, named, config)
    return mapping_file.loads(text, path, base, document)


def mappings_from_documents(source: str, documents: list[dict], config: dict[str, str] | None = None,
                            where: str = "mappings", projects: list[str] | None = None) -> dict[str, Mapping]:
    """project -> Mapping for mapping documents given as JSON objects (what `mapping export` writes; rows left
    out keep their defaults), each checked against what the source lists now, as a file would be. Raises
    ConfigError naming `where[i]`, the place in it and the value of the first problem, a project given twice, or
    one not among `projects` (the import's, when it names them)."""
    if len(documents) > MAX_PROJECTS:  # each is checked against the source: requests made while the caller waits
        raise ConfigError(f"{where}: an import takes at most {MAX_PROJECTS:,} projects, not {len(documents):,} "
                          f"mappings: split them into several imports", field=where)
    found: dict[str, Mapping] = {}
    first: dict[str, int] = {}
    wanted = [p.strip() for p in projects or [] if p.strip()]
    for index, document in enumerate(documents):
        try:
            text = json.dumps(document)
        except RecursionError:
            raise ConfigError(f"{where}[{index}]: nested too deeply to be a mapping (rows are objects in lists, two "
                              f"levels down)", field=f"{where}[{index}]") from None
        given = mapping_from_file(text, f"{where}[{index}]", source, None, config, document=True)
        if wanted and given.project not in wanted:
            raise ConfigError(f"{where}[{index}].project: {given.project} is not a project of this import "
                              f"({', '.join(wanted)})", field=f"{where}[{index}].project")
        if given.project in first:  # the last one won without a word, as two rows of one value did
            raise ConfigError(f"{where}[{index}]: a second mapping for project {given.project} ({where}"
                              f"[{first[given.project]}] is one): keep one", field=f"{where}[{index}].project")
        first[given.project] = index
        found[given.project] = given
    return found


def forecast(found: Mapping, estimate: int | None, sample: Sequence[WorkItem] = (),
             duplicates: str = UPDATE) -> Forecast:
    """What importing `found`'s project will create, from the preview's basis (lists and a sample; `sample`, the
    preview's items, is the list of items to look into); items already stored are updated or kept (`duplicates`)."""
    return forecast_from_mapping(engine_for(), found, estimate, sample, duplicates)


def job_forecast(job_id: str) -> dict[str, Forecast]:
    """project -> what a job read will create (exact after a dry run), from its census."""
    doc = status(job_id)
    engine = engine_for()
    existing = {p["project"]: p["updated"] + p["skipped"] for p in doc["parts"]}  # read again, not created
    # a project a dry run failed or was cancelled in counted only what it read before it stopped, not every item
    stopped = {p["project"]: p["processed"] for p in doc["parts"]
               if dry_run.stopped({**doc, "status": p["status"]})}
    return {project: forecast_from_census(engine, doc["source"], project, counted, existing.get(project),
                                          doc.get("duplicates", UPDATE), stopped_after=stopped.get(project))
            for project, counted in census_store.of_job(engine, job_id).items()}


def count_by_dry_run(found: Mapping, job_id: str) -> Mapping:
    """`found` with exact counts from a dry run of its project (a finished dry run job)."""
    counted = census_store.of_job(engine_for(), job_id).get(found.project)
    if counted:
        found.count_from(counted)
    return found


def job_mappings(job_id: str) -> dict[str, Mapping]:
    """project -> the mapping a job ran with (projects that ran on the connector's defaults are absent)."""
    with engine_for().connect() as conn:
        job = job_store.get_job(conn, job_id)
    if job is None:
        raise _no_job(job_id, ConfigError)
    saved = (job.options or {}).get("mappings") or {}
    return {project: Mapping.from_rules(rules) for project, rules in saved.items()}


def _first_project(src) -> str:
    found = src.projects()
    if not found:
        raise ConfigError(f"{src.label}: this account sees no projects to import")
    return found[0].key


# -- jobs ----------------------------------------------------------------------------------
JOB_ID = re.compile(r"[0-9a-f]{16}")  # store/jobs.py new_job_id
SCHEDULE_ID = re.compile(r"[0-9a-f]{12}")  # `schedule`


def status(job_id: str) -> dict:
    """The job's progress document; NotFoundError for an unknown id (anything not of a job id's form is
    looked up nowhere: a NUL was a 500 on PostgreSQL, a byte that is no UTF-8 a traceback)."""
    doc = progress_store().read(job_id) if JOB_ID.fullmatch(job_id) else None
    if doc is None:
        raise _no_job(job_id)
    return doc


def _publish(job_id: str) -> dict:
    """Refresh a job's progress document after a change and return it."""
    doc = progress_store().publish(job_id)
    if doc is None:  # deleted meanwhile (the store was reset)
        raise _no_job(job_id)
    return doc


def wait(job_id: str, poll: float = 0.5, timeout: float | None = None, on_update=None) -> dict:
    """Follow a job until it ends (for `run --wait` and tests)."""
    deadline = time.monotonic() + timeout if timeout else None
    while True:
        doc = status(job_id)
        if on_update:
            on_update(doc)
        if JobStatus(doc["status"]).finished:
            return doc
        if deadline and time.monotonic() > deadline:
            return doc
        time.sleep(poll)


def jobs(limit: int = 50) -> list[dict]:
    rows = job_store.list_jobs(engine_for(), limit)
    return [status(row.id) for row in rows]


def job_count() -> int:
    with engine_for().connect() as conn:
        return conn.execute(select(func.count()).select_from(import_jobs)).scalar_one()


def failures(job_id: str, limit: int | None = None) -> list[dict]:
    return [{"project": f.project, "external_id": f.external_id, "key": f.key, "reason": f.reason}
            for f in job_store.failures(engine_for(), job_id, limit=limit)]


def failures_csv(job_id: str) -> str:
    """The failure report as CSV (project, key, external_id, reason), formula cells neutralised."""
    return spreadsheet.csv_text(failures(job_id), ["project", "key", "external_id", "reason"])


def _authorize(doc: dict, actor: Actor | str | None, action: str) -> Actor:
    """The acting user, or PermissionDenied (audited) when they neither started the job nor are an admin. A
    scheduled run ("schedule:ID" started it) is the job of whoever booked the schedule."""
    who = resolve(actor)
    starter = owner(doc.get("requested_by"))
    if not may_change(who, starter):
        record(engine_for(), "refused", actor=who.name, job_id=doc["job_id"], source=doc["source"],
               projects=doc["projects"], attempted=action, started_by=doc.get("requested_by"))
        raise refusal(who, action, doc["job_id"], starter)
    return who


def cancel(job_id: str, actor: Actor | str | None = None) -> dict:
    """Stop a job after its current batch. `actor`: who asks (see jobs/access.py; None is the machine's
    operator); PermissionDenied unless they started the job or are an admin."""
    doc = status(job_id)
    who = _authorize(doc, actor, "cancel")
    if JobStatus(doc["status"]).finished:
        raise ConflictError(f"job {job_id} has already ended ({doc['status']}): nothing to cancel")
    cancel_job(job_id, who.name, doc["source"], doc["projects"])
    return _publish(job_id)


def retry(job_id: str, actor: Actor | str | None = None) -> dict:
    """Resume a failed or cancelled job from its checkpoint and re-run the items that failed
    (same permission rule as `cancel`)."""
    doc = status(job_id)
    who = _authorize(doc, actor, "retry")
    state = JobStatus(doc["status"])
    if not state.finished and not doc.get("worker_lost"):
        raise ConflictError(f"job {job_id} is still {state.value}: wait for it to end, or cancel it first")
    if state == JobStatus.SUCCEEDED:
        raise ConflictError(f"job {job_id} succeeded: nothing to retry (start a new import to bring changes)")
    if doc.get("undone_at"):
        raise ConflictError(f"job {job_id} was undone: start a new import instead")
    engine = engine_for()
    with engine.connect() as conn:
        seen = job_store.get_job(conn, job_id)
    options = seen.options or {}
    if not options.get("dry_run"):  # a retry writes what a new import would: the same rights (attacker review)
        check_data_rights(doc["source"], doc["projects"], options.get("config") or {},
                          options.get("deletions", "mark"), who)
    queue.ping()
    with engine.begin() as conn:
        # as seen above, or not at all: an undo, another retry or the copy's pruning in between made this retry
        # one that could only fail (the job re-queued without credentials, or re-run once undone)
        claimed = conn.execute(update(import_jobs).where(
            import_jobs.c.id == job_id, import_jobs.c.status == seen.status, import_jobs.c.undone_at.is_(None)).values(
            status=JobStatus.QUEUED.value, cancel_requested=False, error=None, finished_at=None,
            retry_failures=doc["failed"] > 0 or bool(doc.get("unread")))).rowcount
        if claimed != 1:
            raise ConflictError(f"job {job_id} changed while it was being retried (undone, retried or resumed "
                                f"meanwhile): look at it again")
        if seen.credential_id and not credentials.stored(conn, seen.credential_id):  # in the claim: a prune first
            raise ConflictError(f"job {job_id} can no longer be retried: its credentials were deleted "
                                f"{credentials.retry_days():g} days after it ended ({credentials.RETRY_DAYS_ENV}); "
                                f"start a new import instead (it skips or updates what this one stored)")
        conn.execute(update(import_parts).where(and_(
            import_parts.c.job_id == job_id,
            import_parts.c.status.in_([JobStatus.FAILED.value, JobStatus.CANCELLED.value, JobStatus.PARTIAL.value,
                                       JobStatus.RUNNING.value]),
        )).values(status=JobStatus.QUEUED.value, error=None, finished_at=None, lease=None, heartbeat_at=None))
        job_store.begin_attempt(conn, job_id, who.name)
    record(engine, "retry", actor=who.name, job_id=job_id, source=doc["source"], projects=doc["projects"],
           failed_items=doc["failed"])
    progress_store().publish(job_id)
    enqueue_parts(job_id)
    return status(job_id)


def undo(job_id: str, actor: Actor | str | None = None) -> dict:
    """Delete what this job created (not what it only updated); same permission rule as `cancel`."""
    doc = status(job_id)
    who = _authorize(doc, actor, "undo")
    if not JobStatus(doc["status"]).finished:
        raise ConflictError(f"job {job_id} is still {doc['status']}: cancel it before undoing it")
    if doc.get("undone_at"):
        raise ConflictError(f"job {job_id} was already undone")
    if doc.get("dry_run"):  # undone, it read "the items this import created were removed" and could not be retried
        raise ConflictError(f"job {job_id} was a dry run, which wrote nothing: there is nothing to undo")
    engine = engine_for()
    with engine.begin() as conn:
        items = select(work_items.c.id).where(work_items.c.created_by_job == job_id)
        removed_comments = conn.execute(delete(comments).where(
            (comments.c.created_by_job == job_id) | comments.c.item_id.in_(items))).rowcount
        removed_items = conn.execute(delete(work_items).where(work_items.c.created_by_job == job_id)).rowcount
        remaining = select(work_items.c.project).where(work_items.c.source == projects_table.c.source)
        conn.execute(delete(projects_table).where(and_(projects_table.c.created_by_job == job_id,
                                                       projects_table.c.key.not_in(remaining))))
        undone = conn.execute(update(import_jobs).where(
            import_jobs.c.id == job_id, import_jobs.c.status == doc["status"], import_jobs.c.undone_at.is_(None))
            .values(undone_at=now())).rowcount
        if undone != 1:  # a retry re-queued it, or another undo came first: nothing removed (rolled back)
            raise ConflictError(f"job {job_id} changed while it was being undone (retried or undone meanwhile): "
                                f"look at it again")
    credentials.prune(engine)  # an undone job cannot be retried: its copy goes
    record(engine, "undo", actor=who.name, job_id=job_id, source=doc["source"], projects=doc["projects"],
           items_removed=removed_items, comments_removed=removed_comments)
    result = _publish(job_id)
    result["items_removed"] = removed_items
    result["comments_removed"] = removed_comments
    return result


def purge(*, source: str | None = None, project: str | None = None,
          actor: Actor | str | None = None) -> dict[str, int]:
    """Erase for good the soft-deleted items and comments (those no longer at their source), all of
    them or one source's or project's; audit-logged. Returns {"items": n, "comments": m} erased.
    Live data is never touched. Raises ConfigError for an unknown source, PermissionDenied (audited)
    unless `actor` is an admin (jobs/access.py; None is the machine's operator): it spans everyone's imports."""
    if source is not None:
        source_class(source)
    who = resolve(actor)
    engine = engine_for()
    if not who.admin:
        record(engine, "refused", actor=who.name, source=source, project=project, attempted="purge")
        raise PermissionDenied(f"only an admin may purge deleted items; you are signed in as {who.name}")
    with engine.begin() as conn:
        items, erased_comments = soft_delete.purge(conn, source=source, project=project)
    record(engine, "purge", actor=who.name, source=source, project=project, items_erased=items,
           comments_erased=erased_comments)
    return {"items": items, "comments": erased_comments}


# -- schedules -----------------------------------------------------------------------------
MAX_EVERY_HOURS = 24 * 365


def schedule(source: str, projects: list[str], every_hours: int, *, duplicates: str = "update",
             config: dict[str, str] | None = None, actor: Actor | str | None = None, deletions: str = "mark") -> str:
    """Re-run an import every N hours (incremental), through RQ's scheduler; returns the schedule's id.
    `actor` (jobs/access.py; None: the machine's operator) booked it: they or an admin may stop it
    (`stop_schedule`), and its runs may do only what they may (`check_data_rights`: PermissionDenied)."""
    import uuid

    if not 1 <= every_hours <= MAX_EVERY_HOURS:  # a larger one overflowed the scheduler's time (a traceback)
        raise ConfigError(f"--every must be from 1 to {MAX_EVERY_HOURS:,} hours (a year), not {every_hours:,}")
    projects = project_names(source, projects)  # a run books what start_import would refuse: checked now
    with _connected(source, config) as src:
        check_startable(src, projects)
    who = resolve(actor)
    check_data_rights(source, projects, effective_config(source, config), deletions, who)  # its runs start as nobody
    queue.ping()
    engine = engine_for()
    # what `run` here would read with, as `start_import` resolves it; secrets kept encrypted, or, without a key,
    # left to the worker's environment as a run's are (`use_env`); typed ones without a key are refused by `put`
    public, secrets = booked_settings(source, config)
    typed_secrets = split_config(source, config or {})[1]
    keep = secrets if typed_secrets or credentials.can_save() else {}
    credential_id = credentials.put(engine, source, keep) if keep else None
    schedule_id = uuid.uuid4().hex[:12]
    first = now() + timedelta(hours=every_hours)
    with engine.begin() as conn:
        conn.execute(schedules.insert().values(
            id=schedule_id, source=source, projects=projects,
            options={"duplicates": duplicates, "deletions": deletions, "config": public,
                     "booked_by_admin": who.admin},  # each run acts with the booker's rights (jobs/tasks.py)
            credential_id=credential_id, every_hours=every_hours, next_run_at=first, enabled=True, created_at=now(),
            created_by=who.name))
    queue.enqueue_schedule(schedule_id, timedelta(hours=every_hours))
    record(engine, "schedule", actor=who.name, source=source, projects=projects, every_hours=every_hours,
           schedule_id=schedule_id)
    return schedule_id


def schedule_job(job_id: str, every_hours: int, actor: Actor | str | None = None) -> str:
    """Re-run an earlier import every N hours as it ran: its source and projects, its duplicates and deletions
    policies, the public settings it was started with and its secrets while the job still holds its encrypted copy
    (`store.credentials.prune`; afterwards the saved credentials and the environment, as for any later run);
    returns the schedule's id. Only the job's starter or an admin (jobs/access.py; None is the machine's operator)
    books it with that copy: what its starter typed is theirs, as its retry is. NotFoundError for an unknown job,
    ConfigError as `schedule` and for a dry run: its schedule ran real imports, each writing what the dry run had
    only counted (a schedule repeats what was written)."""
    status(job_id)
    who = resolve(actor)
    engine = engine_for()
    with engine.connect() as conn:
        job = job_store.get_job(conn, job_id)
        copy = job.credential_id if job.credential_id and credentials.stored(conn, job.credential_id) else None
    starter = owner(job.requested_by)
    withheld = bool(copy) and not may_change(who, starter)
    options = job.options or {}
    if options.get("dry_run"):
        raise ConfigError(f"import {job_id} was a dry run, which writes nothing: start the import itself, then "
                          f"schedule re-runs of that one", field="job_id")
    config = {**(options.get("config") or {}), **(credentials.get(engine, copy) if copy and not withheld else {})}
    try:
        return schedule(job.source, list(job.projects), every_hours, duplicates=options.get("duplicates", "update"),
                        deletions=options.get("deletions", "mark"), config=config, actor=who)
    except ConfigError as exc:
        if not (withheld and (exc.field or "").startswith("config.")):
            raise
        record(engine, "refused", actor=who.name, job_id=job_id, source=job.source, attempted="schedule",
               started_by=starter)
        raise PermissionDenied(f"import {job_id} ran with credentials {starter} entered: only they or an admin may "
                               f"schedule its re-runs with them ({exc}); you are signed in as {who.name} "
                               f"{ADMINS_HINT}") from None


def find_schedule(schedule_id: str) -> Row:
    """The schedule's row, stopped or not; NotFoundError for an unknown id (a job's id says so)."""
    wanted, found = schedule_id.strip(), None
    if SCHEDULE_ID.fullmatch(wanted):
        with engine_for().connect() as conn:
            found = conn.execute(select(schedules).where(schedules.c.id == wanted)).first()
    if found is None:
        if JOB_ID.fullmatch(wanted):
            raise NotFoundError(f"{_shown(wanted)} is an import job's id, not a schedule's: {{at}} stops a job",
                                places={CLI: "cancel", API: f"POST /import/jobs/{wanted}/cancel", CONSOLE: "Cancel"})
        raise NotFoundError(f"there is no scheduled re-run {_shown(wanted)}: list them with {{at}}", places=LISTED)
    return found


def stop_schedule(schedule_id: str, actor: Actor | str | None = None) -> dict:
    """Stop a scheduled re-run for good: no run of it starts after this (a run already running goes on; one still
    queued is cancelled), its booked runs leave RQ and the secrets saved with it are deleted (each run keeps its
    own copy, which its retry needs); the row stays, marked stopped, for the record. Returns {"id", "source",
    "projects", "every_hours", "stopped": True, "cancelled": [job ids]}.

    NotFoundError for an unknown id; ConflictError when it is already stopped; PermissionDenied (audited) unless
    `actor` booked it or is an admin (jobs/access.py; None is the machine's operator); ConfigError when Redis
    cannot be reached (nothing is changed then)."""
    engine = engine_for()
    found = find_schedule(schedule_id)
    described = {"id": found.id, "source": found.source, "projects": list(found.projects),
                 "every_hours": found.every_hours}
    who = resolve(actor)
    if not may_change(who, found.created_by):
        record(engine, "refused", actor=who.name, source=found.source, projects=described["projects"],
               attempted="stop schedule", schedule_id=found.id, booked_by=found.created_by)
        raise PermissionDenied(f"only {found.created_by or 'the user who booked it'} or an admin may stop the "
                               f"scheduled re-run {found.id}; you are signed in as {who.name} {ADMINS_HINT}")
    queue.ping()  # its bookings leave RQ below: with Redis down, nothing is changed and the user is told
    with engine.begin() as conn:  # one caller wins a race to stop it; its secrets go in the same transaction
        stopped = conn.execute(update(schedules).where(and_(schedules.c.id == found.id, schedules.c.enabled))
                               .values(enabled=False, credential_id=None)).rowcount
        if stopped and found.credential_id:
            conn.execute(delete(credentials_table).where(credentials_table.c.id == found.credential_id))
    if not stopped:
        raise ConflictError(f"the scheduled re-run {found.id} is already stopped")
    # A run that started while this stop ran (its booking fired) is cancelled here, or cancels itself on seeing
    # the schedule stopped (jobs/tasks.py run_schedule): either way none is left queued.
    with engine.connect() as conn:
        queued = list(conn.execute(select(import_jobs.c.id).where(and_(
            import_jobs.c.schedule_id == found.id, import_jobs.c.status == JobStatus.QUEUED.value))).scalars())
    cancelled = [job_id for job_id in queued if _cancel_queued(job_id, Actor(who.name, admin=True))]
    record(engine, "unschedule", actor=who.name, source=found.source, projects=described["projects"],
           schedule_id=found.id, booked_by=found.created_by, secrets_deleted=bool(found.credential_id),
           cancelled=cancelled)
    queue.unbook_schedule(found.id)  # a booking left by a failure here starts nothing (the schedule is stopped)
    return {**described, "stopped": True, "cancelled": cancelled}


def _cancel_queued(job_id: str, actor: Actor) -> bool:
    """Cancel a job still queued; False when it ended or started meanwhile (it goes on, as the stop says)."""
    try:
        return JobStatus(cancel(job_id, actor=actor)["status"]) == JobStatus.CANCELLED
    except ConflictError:
        return False


def schedules_list() -> list[dict]:
    with engine_for().connect() as conn:
        rows = conn.execute(select(schedules).where(schedules.c.enabled).order_by(schedules.c.next_run_at))
        return [{"id": r.id, "source": r.source, "projects": list(r.projects), "every_hours": r.every_hours,
                 "next_run_at": job_store.utc(r.next_run_at).isoformat(), "last_job_id": r.last_job_id,
                 "booked_by": r.created_by} for r in rows]


__all__ = ["SourceError", "Actor", "PermissionDenied", "machine_admin",
           "check", "preview", "start_import", "start_demo", "kept_by_project", "saved_settings",
           "incremental_since", "status", "shown_in", "wait", "jobs", "cancel", "retry",
           "undo", "purge", "failures", "failures_csv", "sources", "schedule", "schedule_job", "stop_schedule",
           "schedules_list",
           "mapping",
           "mapping_from_file", "save_mapping", "job_mappings", "forecast", "job_forecast",
           "count_by_dry_run"]
