"""Starting an import: settings resolved, the job recorded, one RQ job per project enqueued.

The console's core (`api.py`) and the worker's scheduled re-runs (`tasks.py`) both start
imports; this module is what they share, so neither imports the other.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from importers import make_source, source_class
from importers.base import Source
from importers.errors import API, CLI, CONSOLE, ConfigError, NotFoundError, SourceError
from store import credentials, queries
from store import jobs as job_store
from store import mappings as mapping_store
from store.audit import record
from store.db import engine_for
from store.jobs import JobStatus, now
from store.schema import schedules
from store.soft_delete import Deletions

from . import queue
from .access import ADMINS_HINT, SCHEDULED_BY, Actor, PermissionDenied, may_change, may_replace_mapping, resolve
from .mapping import Mapping, fingerprint
from .progress import ProgressStore

# update (the default): a repeated import applies every change it reads; skip: freeze what a first
# import wrote (new items still come in; changed ones are counted as `frozen`, never applied)
DUPLICATE_POLICIES = ("update", "skip")
DELETIONS = tuple(d.value for d in Deletions)
# every source's project names fit (JIRA keys, owner/repo, GitLab group/project paths and ids, ServiceNow tables);
# a name is shown on every page and in the job's name, so nothing that Markdown or a terminal would act on
PROJECT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,254}")
# projects one import takes: each is a part, a row and an RQ job made while the caller waits (about 1 ms each); a
# body of 100,000 names held the request for minutes and made a job no page could show
MAX_PROJECTS = 1000


def progress_store() -> ProgressStore:
    """Progress snapshots in REDIS_URL's Redis, rebuilt from the store when missing."""
    return ProgressStore(queue.connection(), engine_for())


def split_config(source: str, config: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(public settings, secrets) of a config dict, by the source's declared settings."""
    cls = source_class(source)
    secret_names = {s.name for s in cls.settings if s.secret}
    public = {k: v for k, v in config.items() if k not in secret_names and v}
    secrets = {k: v for k, v in config.items() if k in secret_names and v}
    return public, secrets


def merge_layers(source: str, layers: list[dict[str, str]]) -> dict[str, str]:
    """Settings from `layers` (lowest first, the caller's own last), each empty value ignored, where a lower layer's
    secrets and the accounts they belong to (`Setting.server_bound`) go along only to the server that layer names
    (`Source.origin`, compared as normalised origins).

    The server's environment and the saved credentials are not the caller's: a caller who types only another URL
    must not have the server's token sent there, nor its account (a caller's own token went to their server as
    Basic "the server's JIRA email:token"). The last layer's are the caller's own and always go."""
    cls = source_class(source)
    bound = {s.name for s in cls.settings if s.server_bound}
    merged: dict[str, str] = {}
    for layer in layers:
        merged.update({k: v for k, v in layer.items() if v and k not in bound})
    target = cls.origin(merged)
    for index, layer in enumerate(layers):
        if index == len(layers) - 1 or cls.origin(layer) == target:
            merged.update({k: v for k, v in layer.items() if v and k in bound})
    return merged


def effective_config(source: str, config: dict[str, str] | None = None, use_saved: bool = True,
                     credential_id: str | None = None, use_env: bool = True) -> dict[str, str]:
    """Environment, then saved credentials, then those of `credential_id` (a schedule's), then what the user
    typed; secrets only to the server they were configured with (`merge_layers`)."""
    engine = engine_for()
    layers = [source_class(source).config_from_env() if use_env else {}]
    saved = credentials.saved_for(engine, source) if use_saved else None
    if saved:
        layers.append(credentials.get(engine, saved))
    own = credentials.get(engine, credential_id) if credential_id else {}
    layers.append({**own, **{k: v for k, v in (config or {}).items() if v}})
    return merge_layers(source, layers)


def settings_from_env(source: str, resolved: dict[str, str], config: dict[str, str] | None = None,
                      credential_id: str | None = None) -> list[str]:
    """The environment variables of the settings in `resolved` that the server's environment supplied: no saved
    credentials, schedule copy or typed value gave them (or gave another value). A job keeps them
    (`options["from_env"]`) so that its stored failure reason names those as the variables they are on every surface
    (jobs/progress.shown_in): the fix is the server's, not a form field or a `config.` key the user never filled."""
    given = effective_config(source, config, credential_id=credential_id, use_env=False)
    return [s.env for s in source_class(source).settings
            if resolved.get(s.name) and given.get(s.name) != resolved[s.name]]


def booked_settings(source: str, config: dict[str, str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """(public settings, secrets) a schedule keeps: those an import started here and now would run with
    (`effective_config`: this process's environment, the saved credentials, `config`), less the ones the saved
    credentials supply, which each run reads afresh (credentials replaced in the console reach the schedule).

    A schedule kept only `config`: `JIRA_BASE_URL=... cli.py schedule jira ...` booked runs that the worker, without
    those variables, could only fail ("Site URL is missing"), and `DEMO_SIZE=300 cli.py schedule demo` read 50
    items where `cli.py run` in the same shell read 300.

    Kept secrets keep their server (`Source.url_setting`, its default too): a run's own secrets go wherever its
    settings point, so alice's token, booked against the server the saved credentials named, went to the next one
    an admin saved."""
    engine = engine_for()
    resolved = effective_config(source, config)
    saved_id = credentials.saved_for(engine, source)
    saved = credentials.get(engine, saved_id) if saved_id else {}
    typed = {k for k, v in (config or {}).items() if v}
    public, secrets = split_config(source, {k: v for k, v in resolved.items() if k in typed or saved.get(k) != v})
    url = source_class(source).url_setting
    if secrets and url:
        server = resolved.get(url) or next(s.default for s in source_class(source).settings if s.name == url)
        public.update({url: server} if server else {})
    return public, secrets


SINCE = {CLI: "--since", API: "since", CONSOLE: "Since"}  # how each surface names the since input


def parse_since(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{{at}} {value[:40]!r} is not an ISO-8601 date or time, e.g. 2025-01-31 or "
                              f"2025-01-31T12:00:00Z", field="since", places=SINCE) from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    try:
        when.astimezone(UTC)  # every reader converts it: 0001-01-01T00:00:00+05:00 has no UTC time
    except OverflowError:
        shown = value[:40] if isinstance(value, str) else when.isoformat()
        raise ConfigError(f"{{at}} {shown!r} is before year 1 in UTC: give a later date, e.g. 2025-01-31",
                          field="since", places=SINCE) from None
    if when > now() + timedelta(minutes=5):
        raise ConfigError(f"{{at}} {when:%Y-%m-%d %H:%M} is in the future: nothing would be imported",
                          field="since", places=SINCE)
    return when


def _mappings(source: str, projects: list[str], given: dict[str, Mapping] | None) -> dict[str, dict]:
    """project -> the rules the job runs with: the mapping given, else the one saved for the project; a project
    without either runs on the connector's defaults. Raises ConfigError for a mapping of another project or
    one with values still without a target (nothing is written)."""
    engine = engine_for()
    chosen: dict[str, dict] = {}
    for project, mapping in (given or {}).items():
        if (mapping.source, mapping.project) != (source, project) or project not in projects:
            raise ConfigError(f"the mapping for {mapping.source} project {mapping.project} does not fit this import "
                              f"({source}: {', '.join(projects)})")
        mapping.check_startable()
        chosen[project] = mapping.rules()
    for project in projects:
        if project not in chosen and (saved := mapping_store.load(engine, source, project)) is not None:
            Mapping.from_rules(saved).check_startable()
            chosen[project] = saved
    return chosen


def part_config(options: dict, project: str) -> dict[str, str]:
    """The public settings a job runs `project` with: the job's, and those kept for the project (`kept_settings`)."""
    return {**(options.get("config") or {}), **((options.get("project_config") or {}).get(project) or {})}


def kept_settings(source: str, projects: list[str], resolved: dict[str, str]) -> dict[str, dict[str, str]]:
    """project -> the settings of `Source.kept_settings` this run is not given, as the project's last import ran with
    them (the import its catch-up continues from, `catch_up_point`); projects never imported keep the defaults.

    A scheduled demo re-run without a size read the default 50 items of a project imported at 5,000 and marked the
    other 4,950 deleted: the size is what the demo's project holds, as a real project's items are at the vendor, so
    it stays until a run gives another. Per project: one import may take projects last imported at different
    sizes."""
    wanted = [name for name in source_class(source).kept_settings if not resolved.get(name)]
    if not wanted:
        return {}
    engine = engine_for()
    kept: dict[str, dict[str, str]] = {}
    for project in projects:
        last = job_store.catch_up_point(engine, source, project).job_id
        if last is None:
            continue
        with engine.connect() as conn:
            ran = part_config(job_store.get_job(conn, last).options or {}, project)
        if found := {name: ran[name] for name in wanted if ran.get(name)}:
            kept[project] = found
    return kept


def kept_config(source: str, project: str | None, config: dict[str, str] | None = None) -> dict[str, str]:
    """`config` with the settings kept for `project` (`kept_settings`; None: the source's default project) that it
    does not give: what an import of the project started with `config` reads. A preview of a demo project imported
    at 300 items, given no size, estimated the default 50, where the import reads 300."""
    cls = source_class(source)
    name = (project or "").strip() or cls.default_project()
    if not cls.kept_settings or not name:
        return dict(config or {})
    [name] = spelled(source, [name])
    return {**(config or {}), **kept_settings(source, [name], effective_config(source, config)).get(name, {})}


def kept_in_workspace(source: str, given: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """project -> the settings kept for it (`kept_settings`) that `given` (a run's resolved settings) leaves out, for
    every project of `source` the workspace holds: what a run of it reads (the wizard offers "as imported before")."""
    if not source_class(source).kept_settings:
        return {}
    return kept_settings(source, sorted(queries.project_spellings(engine_for(), source).values()), given or {})


def cancel_job(job_id: str, actor: str, source: str, projects: list[str], **details) -> None:
    """Ask a job to stop, audited: its queued parts are cancelled at once, its running ones after their current
    batch (the caller republishes its progress). Who may ask is the caller's to decide (jobs/access.py)."""
    engine = engine_for()
    job_store.request_cancel(engine, job_id)
    job_store.finish_job_if_done(engine, job_id)
    record(engine, "cancel", actor=actor, job_id=job_id, source=source, projects=projects, **details)


def save_mapping(found: Mapping, actor: str = "cli", job_id: str | None = None) -> None:
    """Keep `found` as its project's mapping: the next import of the project (re-runs, schedules) uses it. Audited
    (`mapping`, with the job that saved it, if any) whichever way it came: a file, the mapping step, the HTTP API."""
    rules = found.rules()
    engine = engine_for()
    with engine.begin() as conn:
        mapping_store.save(conn, found.source, found.project, rules, fingerprint(rules), actor)
    record(engine, "mapping", actor=actor, job_id=job_id, source=found.source, projects=[found.project],
           changed=found.changed_rows)


def spelled(source: str, names: list[str]) -> list[str]:
    """`names` as the source spells them (`Source.spelled`, without a request), else as the workspace already
    holds them (`store.queries.project_spellings`), else as given. A GitHub import of `Acme/Web` after one of
    `acme/web` re-read everything and renamed every item, and the next run of `acme/web` moved some back: one
    repository, two projects, marks and mappings split between them."""
    cls = source_class(source)
    ours = [cls.spelled(name) for name in names]
    if all(mine != name for mine, name in zip(ours, names, strict=True)):  # the source spelled every one
        return ours
    stored = queries.project_spellings(engine_for(), source)
    return [mine if mine != name else stored.get(name.lower(), name) for mine, name in zip(ours, names, strict=True)]


def check_mapping_rights(source: str, mappings: dict[str, Mapping], actor: Actor) -> None:
    """PermissionDenied (audited) when `actor` would replace a project's saved mapping that another user saved
    and is no admin (jobs/access.py): every later run and schedule of the project runs on it. The same mapping
    again replaces nothing."""
    engine = engine_for()
    for project, found in mappings.items():
        saved = mapping_store.saved_by(engine, source, project)
        if saved is None or saved[1] == fingerprint(found.rules()) or may_replace_mapping(actor, saved[0]):
            continue
        record(engine, "refused", actor=actor.name, source=source, projects=[project], attempted="replace mapping",
               saved_by=saved[0])
        raise PermissionDenied(f"only {saved[0]} or an admin may replace the saved mapping of "
                               f"{source_class(source).label} project {project}; you are signed in as {actor.name} "
                               f"{ADMINS_HINT}")


def project_names(source: str, projects: list[str] | None) -> list[str]:
    """The projects of an import, stripped, as the source spells them (`Source.spelled`) and each once, in the order
    given; the source's default project when none is given. ConfigError when there is none, for more than
    MAX_PROJECTS, or for a name that is no project name.

    Once means without case, as the vendors compare them (JIRA keys, GitHub's owner/name, GitLab's paths): `acme`
    and `ACME` were two parts importing one project side by side (a name given twice in one spelling was an
    IntegrityError, a traceback or a 500). Where the source cannot spell it without a request, the workspace's
    spelling, else the first spelling given, is kept (`spelled`)."""
    cls = source_class(source)
    spellings: dict[str, str] = {}
    for name in spelled(source, [p.strip() for p in projects or [] if p and p.strip()]):
        spellings.setdefault(name.lower(), name)
    names = list(spellings.values())
    if not names:  # the source's default: a name the user may never have typed, so a refusal says where it is from
        default = (cls.default_project() or "").strip()
        if not default:
            raise ConfigError(f"{cls.label}: choose a project to import ({{at}})", field="projects",
                              places={CLI: "--project", API: "give projects", CONSOLE: "Projects"})
        env = next((s.env for s in cls.settings if s.name == "default_project"), None)
        try:
            cls.check_project(default)
        except SourceError as exc:
            raise ConfigError(f"{exc} (the default project{f', {env}' if env else ''})", field="projects") from None
        names = spelled(source, [default])
    if len(names) > MAX_PROJECTS:
        raise ConfigError(f"{cls.label}: an import takes at most {MAX_PROJECTS:,} projects, not {len(names):,}: "
                          f"split them into several imports", field="projects")
    for project in names:
        if not PROJECT_NAME.fullmatch(project):
            raise ConfigError(f"{cls.label}: {project[:60]!r} is not a project name: use letters, digits and . _ - / "
                              f"(e.g. ACME, owner/repo)", field="projects")
    return names


def check_startable(source: Source, projects: list[str]) -> None:
    """Refuse, before anything is queued or booked, an import that could only fail in the worker: a required
    setting missing (`Source.require_all`), a server URL `check_url` refuses (`Source.server_address`: checked
    before the job keeps it), a project the source cannot have (`Source.check_project`: not of its projects' shape,
    or not among those it lists without a request). Raises ConfigError."""
    source.require_all()
    if source.url_setting:
        source.server_address()
    for project in projects:
        try:
            source.check_project(project)
        except NotFoundError as exc:  # a name the source lists without a request: bad input, as a malformed one is
            raise ConfigError(str(exc), field="projects") from None


def owner(requested_by: str | None) -> str | None:
    """Whose job it is: its starter, or for a scheduled run ("schedule:ID" started it) whoever booked the schedule."""
    if requested_by and requested_by.startswith(SCHEDULED_BY):
        with engine_for().connect() as conn:
            return conn.execute(select(schedules.c.created_by)
                                .where(schedules.c.id == requested_by[len(SCHEDULED_BY):])).scalar()
    return requested_by


def check_data_rights(source: str, projects: list[str], resolved: dict[str, str], deletions: str, who: Actor) -> None:
    """Refuse an import that would overwrite or erase what another user imported, unless `who` is an admin:
    - one reading a project from another server than the one its items came from (`Source.origin` of its last
      stored import): the items would take that server's content, whatever it says (review: a token holder
      pointed ACME at a server of their own and rewrote every title an admin had imported);
    - one purging (`deletions` purge erases for good what it finds gone) a project another user imported: reading
      1 demo item, or with credentials that see less of the source, it erased the rest.
    A project whose stored items only `who`'s imports created (or none) is theirs to do with as they like; a re-sync
    someone else ran from the same server makes it no less theirs. PermissionDenied (audited), naming who imported
    it and what to do instead."""
    if who.admin:
        return
    cls = source_class(source)
    engine = engine_for()
    reads_from = cls.origin(resolved)
    for project in projects:
        others = sorted({name for name in (owner(s) or "" for s in job_store.creators(engine, source, project))
                         if not may_change(who, name)})
        if not others:
            continue
        stored = job_store.stored_from(engine, source, project)
        came_from = reads_from if stored is None else cls.origin(stored)
        if came_from != reads_from:
            why = (f"{project} was imported from {came_from} by {', '.join(others)}; this import reads "
                   f"{reads_from or 'another server'} and would overwrite its items with that server's: only "
                   f"{', '.join(others)} or an admin may import it from another server")
        elif deletions == Deletions.PURGE:
            why = (f"deletions purge would erase for good the items of {project} that {', '.join(others)} imported: "
                   f"only they or an admin may purge it; use deletions mark (items gone from the source are hidden, "
                   f"not erased)")
        else:
            continue
        record(engine, "refused", actor=who.name, source=source, projects=[project], attempted="import",
               started_by=", ".join(others), reason=why)
        raise PermissionDenied(f"{why}; you are signed in as {who.name} {ADMINS_HINT}")


def start_import(source: str, projects: list[str] | None = None, *, config: dict[str, str] | None = None,
                 duplicates: str = "update", since: str | datetime | None = None, incremental: bool = True,
                 dry_run: bool = False, requested_by: str = "cli", credential_id: str | None = None,
                 schedule_id: str | None = None, batch_size: int | None = None,
                 deletions: str = Deletions.MARK, mappings: dict[str, Mapping] | None = None,
                 actor: Actor | str | None = None) -> str:
    """Record the job, enqueue one RQ job per project, and return the job id.

    `duplicates`: update (apply changes read) or skip (freeze the first import); `deletions`: what
    the run does with items and comments gone from the source, mark (soft-delete), purge or ignore;
    `mappings` (project -> Mapping) steer what the import writes and are saved for the projects' later
    runs and schedules; a project without one runs on its saved mapping, if any. `actor` (jobs/access.py; None:
    the machine's operator) must be allowed to replace the saved mappings `mappings` change: PermissionDenied."""
    cls = source_class(source)
    if duplicates not in DUPLICATE_POLICIES:
        raise ConfigError(f"duplicate policy {duplicates!r} is not known: use update or skip",
                          field="duplicates")
    if deletions not in DELETIONS:
        raise ConfigError(f"deletions {deletions!r} is not known: use {', '.join(DELETIONS)}", field="deletions")
    projects = project_names(source, projects)
    when = parse_since(since)
    rules = _mappings(source, projects, mappings)
    if mappings and not dry_run:  # a dry run saves no mapping
        check_mapping_rights(source, mappings, resolve(actor))
    resolved = effective_config(source, config, credential_id=credential_id)
    checked = make_source(source, resolved)  # settings errors surface now, not in the worker
    try:
        if schedule_id is None:  # a scheduled run that cannot start fails as a job: the Jobs page shows why
            check_startable(checked, projects)
    finally:
        checked.close()
    if not dry_run:  # after the settings (their errors come first); a dry run writes nothing: anyone's to run
        check_data_rights(source, projects, resolved, deletions, resolve(actor))
    queue.ping()
    engine = engine_for()
    # The job carries the settings resolved here, wherever they came from (this process's environment, the
    # saved credentials, the form): its secrets encrypted in the store, the rest in its options. A worker
    # whose environment differs (the CLI's `export JIRA_...`) runs the import that was checked here.
    public, secrets = split_config(source, resolved)
    from_env = settings_from_env(source, resolved, config, credential_id)  # before the job's own copy is made
    from_env_only = not credentials.can_save() and credential_id is None and not split_config(source, config or {})[1]
    credential_id = credentials.put(engine, source, secrets) if secrets and not from_env_only else None
    since_by_project: dict[str, str] = {}
    gaps_from: dict[str, str] = {}  # project -> the import whose unread items this one re-reads
    notes: dict[str, str] = {}  # project -> why its catch-up starts earlier or reads more than the last mark
    if when is None and incremental and not dry_run:
        for project in projects:
            point = job_store.catch_up_point(engine, source, project, duplicates)
            if point.since is not None:
                since_by_project[project] = point.since.isoformat()
            if point.items and point.job_id:
                gaps_from[project] = point.job_id
            if note := point.note(cls.item_noun):
                notes[project] = note
    # use_env: without an encryption key, environment secrets stay where they are: the worker's own
    # environment supplies them (for the server its settings name only, as here)
    options = {"duplicates": duplicates, "deletions": str(deletions), "dry_run": dry_run, "config": public,
               "use_env": from_env_only,
               "from_env": from_env,
               "since": when.isoformat() if when else None, "since_by_project": since_by_project,
               "mappings": rules, "gaps_from": gaps_from,
               "project_config": kept_settings(source, projects, resolved)}
    if batch_size:
        options["batch_size"] = batch_size
    job_id = job_store.create_job(engine, source=source, projects=projects, options=options,
                                  credential_id=credential_id, requested_by=requested_by, schedule_id=schedule_id)
    for project, note in notes.items():
        job_store.set_part(engine, job_id, project, notes=[note])
    if not dry_run:  # a mapping given is the project's mapping from now on: re-runs and schedules reuse it
        for given in (mappings or {}).values():
            save_mapping(given, requested_by, job_id)
    record(engine, "start", actor=requested_by, job_id=job_id, source=source, projects=projects,
           duplicates=duplicates, deletions=str(deletions), dry_run=dry_run, since=options["since"],
           incremental_from=since_by_project)
    progress_store().publish(job_id)
    enqueue_parts(job_id)
    return job_id


def enqueue_parts(job_id: str) -> None:
    with engine_for().connect() as conn:
        parts = job_store.get_parts(conn, job_id)
        source = job_store.get_job(conn, job_id).source
    for part in parts:
        if part.status == JobStatus.QUEUED.value:
            queue.enqueue_part(job_id, part.project, part.id, source=source)
