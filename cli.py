"""Headless driver of the import console: the same core as the pages, for scripts and tests.

Exit codes (EXIT_CODES, also in `--help`): 0 success (`run --wait` and `status`: the job succeeded); 1 the job
ended without success (failed, finished with failures, cancelled or undone); 2 bad input, configuration or
authentication; 3 the job has not ended yet (`status` of a queued or running job). Expected errors print one line on
stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import atexit
import functools
import gc
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime

from dotenv import load_dotenv

OK, JOB_FAILED, BAD_INPUT, NOT_ENDED = 0, 1, 2, 3
EXIT_CODES = ("exit codes: 0 the job succeeded (other commands: done); 1 the job failed, finished with failures, "
              "was cancelled or undone; 2 bad input, configuration or authentication; 3 the job has not ended yet "
              "(queued or running)")
# how the user called us: `python cli.py` in a checkout, `acgs2-import` once installed
PROG = "python cli.py" if os.path.basename(sys.argv[0]) == "cli.py" else os.path.basename(sys.argv[0]) or "acgs2-import"
# At exit the interpreter runs the cyclic GC over every object of the ~600 modules a command loaded, about 0.1 s of
# CPU that `run` and a burst `worker` spent on the user's clock after their work was done. Frozen objects are left
# out of those passes; exit handlers, flushes and threads' joins run as before.
atexit.register(gc.freeze)


def _count(high: int):
    """An argparse type: a whole number from 1 to `high`, in ASCII digits (int() would also take "1_0", " +5" and
    other scripts' digits). Unbounded, `items --limit -1` listed every row on SQLite and was an SQL traceback on
    PostgreSQL, and a limit past 2**63 overflowed the driver."""
    def parse(text: str) -> int:
        from importers.numbers import whole_number

        number = whole_number(text)
        if number is None or not 1 <= number <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {high:,}, not {text[:20]!r}")
        return number
    return parse


# The HTTP API's bounds (restapi/models.py PreviewRequest.limit, restapi/endpoints.py `jobs`) and the core's
# (jobs/api.py MAX_EVERY_HOURS), the CLI's too; `items` lists at most ITEMS_MAX, a workspace's size at most
PREVIEW_MAX, JOBS_MAX, EVERY_MAX, ITEMS_MAX = 200, 500, 24 * 365, 10_000_000


# C0 controls but tab, newline and carriage return, DEL and C1: what a terminal acts on instead of showing
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x09), 0x0b, 0x0c, *range(0x0e, 0x20), *range(0x7f, 0xa0))}


class _Shown:
    """A text stream that shows control characters as `\\x1b`, never sends them: titles, states, names and error
    messages printed here come from sources and users, and an ESC in one is a terminal sequence (ESC ] 52 writes the
    clipboard, ESC [ 2 J clears the screen). JSON output has them escaped already (`\\u001b`)."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(text.translate(_CONTROLS))

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _print_json(data) -> None:
    print(json.dumps(data, indent=2, default=str))


def _n(value: int | None) -> str:
    """"1,450", or "?" for a count not known yet: every number a person reads (--json keeps plain numbers)."""
    return "?" if value is None else f"{value:,}"


def counted(n: int | None, plural: str, singular: str | None = None) -> str:
    """"1 item", "2 items" (importers/words.py, the one rule of every surface), imported when first used: the CLI
    loads the core lazily."""
    from importers.words import counted as said

    return said(n, plural, singular)


def _time(value: str | datetime | None) -> str:
    """"2026-11-30 21:33:31 UTC": every time a person reads, zone named, as the console writes it (--json keeps
    ISO-8601). The store's times are UTC."""
    if value is None:
        return "-"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{moment.astimezone(UTC) if moment.tzinfo else moment:%Y-%m-%d %H:%M:%S} UTC"


def _progress_line(doc: dict) -> str:
    """One line of progress; its state in the console's words (`[Finished with failures]`), while the job runs
    with its phase (`[Running: writing]`), and once every counted item is processed "finishing" in place of a
    percentage that would stand at 99.9%."""
    width = 30
    known = doc["percentage"] is not None  # None: the source cannot count its items, the total comes at the end
    running = doc["status"] == "running"
    finishing = known and running and bool(doc["total"]) and doc["processed"] >= doc["total"]
    filled = int(width * doc["percentage"] / 100) if known else 0
    share = "finishing" if finishing else f"{doc['percentage']:5.1f}%" if known else "    ?%"
    bar = f"[{'#' * filled}{'.' * (width - filled)}] {share}" if known else f"[{'?' * width}] {share}"
    eta = f" eta {doc['eta_seconds']:.0f}s" if doc.get("eta_seconds") else ""
    wait = f" waiting ({doc['wait_reason']})" if doc.get("waiting_until") else ""
    from jobs.progress import job_state_label

    state = job_state_label(doc) + (f": {doc['phase']}" if running and doc.get("phase") else "")
    rate = doc["items_per_second"] or 0.0
    speed = f"{rate:,.0f}" if rate >= 100 else f"{rate:,.1f}"  # as the progress page: "4,770.7" is noise
    return (f"{bar} {_n(doc['processed'])}/{_n(doc['total'])} {_counts(doc)} failed {_n(doc['failed'])} "
            f"{speed}/s{eta}{wait} [{state}]")


def _job_name(doc: dict) -> str:
    """"2026-11-29 09:44:07 UTC · GitHub / acme/web, acme/api": which import a job is, as the Jobs page names it (its
    start, then the source and its projects), so a user with several jobs knows the one `status` shows."""
    from jobs.progress import imported

    return f"{_time(doc['created_at'])} · {imported(doc)}"


def _counts(doc: dict) -> str:
    """"created 120 updated 0 skipped 0", or for a dry run, which wrote nothing, "dry run: would create 120
    update 0 skip 0"."""
    from jobs.progress import kept_word

    word = kept_word(doc)  # "skipped" only for --duplicates skip (review: a no-change catch-up said "skipped 3")
    if doc.get("dry_run"):  # "dry run, stopped early" for one that failed or was cancelled: its counts are partial
        from jobs import dry_run

        kept = f"leave {_n(doc['skipped'])} unchanged" if word == "unchanged" else f"skip {_n(doc['skipped'])}"
        return f"{dry_run.counts_label(doc)}: would create {_n(doc['created'])} update {_n(doc['updated'])} {kept}"
    return f"created {_n(doc['created'])} updated {_n(doc['updated'])} {word} {_n(doc['skipped'])}"


CELL_MAX = 60  # characters a column shows of a value (JIRA's longest status name): a longer one ends "..."


def _cells(rows: list[dict], name: str) -> list[str]:
    """Column `name` of `rows` as cells as wide as its longest value ("-" for none), so each shows whole: a state cut
    at 18 characters read "Selected for Devel"."""
    values = [str(r[name] or "-") for r in rows]
    values = [v if len(v) <= CELL_MAX else v[:CELL_MAX - 3] + "..." for v in values]
    width = max(map(len, values), default=0)
    return [v.ljust(width) for v in values]


def _user() -> str:
    """Who the audit log names for what this command does."""
    return os.environ.get("USER") or "cli"


def _outcome(doc: dict) -> int:
    """The exit code of a job's state, one for `run --wait` and `status`: a script driving a migration tells a job
    that succeeded (0) from one that ended without success (1: failed, partial, cancelled, undone) and from one
    still queued or running (3). `status` said 0 for all of them."""
    if doc["status"] == "succeeded":
        return OK
    return NOT_ENDED if doc["status"] in ("queued", "running") else JOB_FAILED


def cmd_sources(args, api) -> int:
    rows = api.sources()
    if args.json:
        _print_json([r.__dict__ for r in rows])
    else:
        for r in rows:
            print(f"{r.name:<11} {r.label:<11} credentials: {r.auth}")
    return OK


def cmd_check(args, api) -> int:
    print(f"{args.source}: connected as {api.check(args.source)}")
    return OK


def cmd_projects(args, api) -> int:
    found = api.list_projects(args.source)
    if not found:  # on stderr: stdout stays the key<TAB>name rows scripts read
        print(f"{args.source}: the account reaches no project it can import", file=sys.stderr)
    for p in found:
        print(f"{p.key}\t{p.name}")
    return OK


def _forecast_json(forecast) -> dict:
    return {"basis": forecast.basis, **forecast.summary(), "items_list": forecast.items_list,
            "comments_list": forecast.comments_list, "attachments_list": forecast.attachments_list,
            "people_list": forecast.people, "labels_list": forecast.labels, "states_list": forecast.states,
            "types_list": forecast.types}


def _forecast_line(forecast) -> str:
    """"will create: ..." in one line, from a Forecast."""
    s = forecast.summary()

    items = counted(s['items'], "items")
    if s["items_existing"]:  # a re-run creates none of the items it reads again: it updates or keeps them
        items = (f"{counted(s['items_new'], 'items')} ({s['items_existing']:,} of the {_n(s['items'])} read are in the "
                 f"workspace already: {forecast.existing_outcome()})")
    # a count the preview cannot make is said in words, as the wizard says it, not "? comments" (nor "? items" where
    # the source cannot count them: GitHub without its search API)
    known = [items] * (s["items"] is not None) + [counted(s[k], k) for k in ("comments", "attachments")
                                                   if s[k] is not None]
    unknown = forecast.not_counted()
    said = ", ".join(known) if not unknown else f"{', '.join(known)} ({unknown})" if known else unknown
    return (f"will create, as counted by {forecast.basis}: {said}; "
            f"people {s['people_new']:,} new, {s['people_matched']:,} matched; "
            f"labels {s['labels_new']:,} new of {s['labels']:,}; states {s['states_new']:,} new of {s['states']:,}; "
            f"types {s['types_new']:,} new of {s['types']:,}")


def cmd_preview(args, api) -> int:
    result = api.preview(args.source, args.project, limit=args.limit, since=args.since)
    forecast = None
    if args.forecast:
        forecast = api.forecast(api.mapping(args.source, args.project), result.estimated_total, result.items)
    rows = [{**row, "created": row["created"].isoformat(), "updated": row["updated"].isoformat()}
            for row in result.rows()]
    if args.json:
        _print_json({"items": rows, "estimated_total": result.estimated_total, "existing": result.existing,
                     "already_imported": result.already_imported, "internal_items": result.internal_items,
                     "internal_comments": result.internal_comments, "seconds": round(result.seconds, 3),
                     **({"will_create": _forecast_json(forecast)} if forecast else {})})
        return OK
    for r, state, assignee in zip(rows, _cells(rows, "state"), _cells(rows, "assignee"), strict=True):
        print(f"{r['key']:<16} {state} {assignee} {r['title'][:70]}")
    total = "unknown" if result.estimated_total is None else f"{result.estimated_total:,}"
    print(f"\n{len(rows)} shown; estimated total {total}; {result.existing} of these already in the workspace "
          f"({result.already_imported:,} of this project imported so far)")
    comments = "" if result.internal_comments is None else \
        f" and {counted(result.internal_comments, 'internal comments')}"
    print(f"not public (internal or restricted): {counted(result.internal_items, 'items')}{comments}")
    if forecast is not None:
        print(_forecast_line(forecast))
    return OK


def _read_text(path: str) -> str:
    from importers.errors import ConfigError

    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _mapping_file(api, path: str, source: str | None, project: str | None, config: dict | None):
    found = api.mapping_from_file(_read_text(path), path, source, project, config)
    for row, target, email in found.merges_to_confirm():
        print(f"note: {row.label} <{row.email}> is merged into {target} ({email}): two different emails",
              file=sys.stderr)
    return found


def cmd_run(args, api) -> int:
    config = {"size": args.size} if args.size else None
    only = args.project[0] if args.project and len(args.project) == 1 else None
    mappings = {}
    for path in args.mapping or []:
        found = _mapping_file(api, path, args.source, only, config)
        mappings[found.project] = found
    job_id = api.start_import(args.source, args.project or list(mappings) or None, config=config,
                              duplicates=args.duplicates, since=args.since, incremental=not args.full,
                              dry_run=args.dry_run, requested_by=_user(), deletions=args.deletions,
                              mappings=mappings)
    print(job_id)
    if not (args.wait or args.in_process):
        return OK
    tty = sys.stderr.isatty()
    last = [""]
    no_worker = _NoWorkerHint()

    def show(doc: dict) -> None:
        line = _progress_line(doc)
        if tty:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        elif line != last[0]:
            print(line, file=sys.stderr, flush=True)
        last[0] = line
        if no_worker.applies(doc):
            print(("\n" if tty else "") + no_worker.text, file=sys.stderr, flush=True)

    interrupted = args.in_process and _work_here(job_id, api, show)
    doc = api.wait(job_id, on_update=show)
    if tty:
        print(file=sys.stderr)
    if interrupted and doc["status"] == "cancelled":
        stopped = "stopped after its last batch" if doc["processed"] else "was cancelled before it started"
        print(f"interrupted: the import {stopped}; `{PROG} retry {job_id}` queues the rest "
              f"(a worker runs it: `{PROG} worker --burst`)", file=sys.stderr)
    elif doc["error"]:
        print(f"error: {doc['error']}", file=sys.stderr)
    _print_dry_run_stopped(doc, sys.stderr)
    _print_findings(doc, sys.stderr)
    if doc["failed"]:
        print(f"{counted(doc['failed'], 'items')} failed: see `{PROG} status {job_id}`", file=sys.stderr)
    return _outcome(doc)


def _work_here(job_id: str, api, show) -> bool:
    """`run --in-process`: this process works the store's queue as a burst worker (as `worker --burst` does:
    the same maintenance, a work horse forked per part) until the queue is empty, while a thread shows
    progress. True when the user interrupted it.

    One process instead of `run` plus a worker: a cron job or a script on a machine without a standing
    worker pays one interpreter's start and imports. Parts queued before ours, or re-enqueued by the
    maintenance, run here too, as a burst worker's would; parts another worker took are followed after.
    A first Ctrl-C cancels the job after its current batch (asked from the thread while a part runs: the
    signal may land in the middle of the writer's transaction; else here), so `retry` resumes it; a second,
    a second or more later (RQ takes two within a second for one), stops the process at once, and the part
    is then a lost worker's (retry once its heartbeat has expired)."""
    import contextlib
    import signal
    import threading

    from importers.errors import ConflictError
    from jobs.queue import run_worker
    from jobs.tasks import maintain

    done, interrupted = threading.Event(), threading.Event()

    def cancel() -> None:
        with contextlib.suppress(ConflictError):  # it ended meanwhile
            api.cancel(job_id)

    def follow() -> None:
        asked = False
        while not done.wait(0.5):
            if interrupted.is_set() and not asked:
                asked = True
                print("\nstopping after the current batch (Ctrl-C again, a second from now, to stop at once)",
                      file=sys.stderr, flush=True)
                cancel()
            show(api.status(job_id))

    shower = threading.Thread(target=follow, name="progress", daemon=True)
    shower.start()
    try:
        run_worker(maintain, burst=True, on_stop=interrupted.set)
    except KeyboardInterrupt:  # before RQ's handlers were in place: nothing of ours has run
        interrupted.set()
    except SystemExit:
        print(f"\nstopped at once, mid-batch: `{PROG} retry {job_id}` resumes it from its last batch once "
              f"`{PROG} status {job_id}` says its worker was lost (about a minute)", file=sys.stderr)
        raise SystemExit(JOB_FAILED) from None
    finally:
        done.set()
        shower.join()
        # RQ's handlers outlive its loop: from here a Ctrl-C is a plain interrupt again
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if interrupted.is_set():  # also when the interrupt came before the worker took a part
        cancel()
    return interrupted.is_set()


class _NoWorkerHint:
    """`run --wait`: says once that no worker serves this store, when the job is still queued after
    IMPORT_NO_WORKER_HINT_SECONDS (10) and RQ's registry then lists no worker on the store's queue.
    Workers starting with the job (./start.sh) have that long to register; the wait goes on either way."""

    def __init__(self) -> None:
        from importers.numbers import env_number

        self.grace = env_number("IMPORT_NO_WORKER_HINT_SECONDS", 10.0, low=0.0)
        self.started = time.monotonic()
        self.said = False
        self.text = (f"no worker is running for this store: start one with `{PROG} worker` (or ./start.sh); "
                     f"the job waits in the queue until one does")

    def applies(self, doc: dict) -> bool:
        """True once: the job is queued, the grace has passed, and no worker is registered on the queue."""
        if self.said or doc["status"] != "queued" or time.monotonic() - self.started < self.grace:
            return False
        from jobs.queue import worker_count

        self.said = worker_count() == 0
        return self.said


def _print_dry_run_stopped(doc: dict, out) -> None:
    """A dry run that failed or was cancelled: what it had read before it stopped, that nothing was written, and
    what `retry` does (jobs/dry_run.py); its reason is the `error:` line."""
    from jobs import dry_run

    if dry_run.stopped(doc):
        print(dry_run.stopped_outcome(doc, dry_run.retry_words(doc, f"`{PROG} retry {doc['job_id']}`")), file=out)


def _print_findings(doc: dict, out) -> None:
    """What a run found beyond its counters: the job's notes (a replaced reader, what limits cut, a source
    count that differs from the read), soft deletes, and changes `skip` kept out."""
    for note in doc.get("notes") or []:
        print(f"note: {note}", file=out)
    if doc.get("deletions_summary"):
        if doc.get("dry_run"):
            from jobs import dry_run

            verb = f"the import would {dry_run.gone_verb(doc)} (nothing is marked yet)"
        else:
            verb = "erased" if doc.get("deletions") == "purge" else f"marked deleted (see `{PROG} items --deleted`)"
        print(f"{doc['deletions_summary']}: {verb}", file=out)
    if doc.get("frozen"):
        frozen = counted(doc["frozen"], "changed items or comments", "changed item or comment")
        print(f"{frozen} kept as first imported (--duplicates skip)", file=out)


def cmd_status(args, api) -> int:
    doc = api.status(args.job_id)
    forecasts = api.job_forecast(args.job_id) if doc["dry_run"] else {}
    if args.json:
        _print_json({**doc, **({"will_create": {p: _forecast_json(f) for p, f in forecasts.items()}}
                               if forecasts else {})})
        return _outcome(doc)
    print(_job_name(doc))
    print(_progress_line(doc))
    if doc["error"]:
        print(f"error: {doc['error']}")
    _print_dry_run_stopped(doc, sys.stdout)
    if doc.get("internal_items") or doc.get("internal_comments"):
        print(f"not public: {counted(doc['internal_items'], 'items')}, {counted(doc['internal_comments'], 'comments')}")
    _print_findings(doc, sys.stdout)
    for project, forecast in forecasts.items():
        print(f"{project}: {_forecast_line(forecast)}")
    for f in api.failures(args.job_id, limit=20):
        print(f"  failed {f['key'] or f['external_id']}: {f['reason']}")
    return _outcome(doc)


def cmd_jobs(args, api) -> int:
    from jobs import dry_run
    from jobs.progress import job_state_label

    docs, schedules = api.jobs(args.limit), api.schedules_list()
    if args.json:  # the HTTP API's GET /import/jobs
        _print_json({"jobs": docs, "schedules": schedules})
        return OK
    if not docs:
        print(f"no imports yet: start one with `{PROG} run demo` (or a source of `{PROG} sources`)")
    for d in docs:
        print(f"{d['job_id']}  {_time(d['created_at'])}  {d['source']:<10} {','.join(d['projects'])[:30]:<30} "
              f"{job_state_label(d):<22} {_n(d['processed'])}/{_n(d['total'])} "
              + (f"{dry_run.counts_label(d)}: would create {_n(d['created'])}" if d.get("dry_run")
                 else f"created {_n(d['created'])}")
              # a dry run's would-be updates too: "would create 0" alone hid 1,410 of them
              + (f" {'update' if d.get('dry_run') else 'updated'} {_n(d['updated'])}" if d.get("updated") else "")
              + f" failed {_n(d['failed'])}"
              # what a catch-up found gone, in `status`'s words ("1 item no longer at the source")
              + (f" · {d['deletions_summary']}" if d.get("deletions_summary") else ""))
    for s in schedules:
        print(f"schedule {s['id']}: {s['source']} {','.join(s['projects'])} every {s['every_hours']} h, "
              f"next run {_time(s['next_run_at'])}" + (f", booked by {s['booked_by']}" if s["booked_by"] else "")
              + f" (stop it: `{PROG} unschedule {s['id']}`)")
    return OK


def cmd_retry(args, api) -> int:
    from jobs.queue import worker_count

    doc = api.retry(args.job_id, actor=api.machine_admin())
    print(f"{args.job_id} {doc['status']}")
    if worker_count() == 0:  # after `run --in-process`, say, nothing would take it
        print(f"no worker is running for this store: `{PROG} worker --burst` runs the job and exits",
              file=sys.stderr)
    return OK


def cmd_cancel(args, api) -> int:
    doc = api.cancel(args.job_id, actor=api.machine_admin())
    print(f"{args.job_id} {doc['status']}{' (stops after the current batch)' if doc['status'] == 'running' else ''}")
    return OK


def cmd_undo(args, api) -> int:
    doc = api.undo(args.job_id, actor=api.machine_admin())
    print(f"{args.job_id}: removed {counted(doc['items_removed'], 'items')} and "
          f"{counted(doc['comments_removed'], 'comments')}")
    return OK


def cmd_schedule(args, api) -> int:
    sid = api.schedule(args.source, args.project or [], args.every, duplicates=args.duplicates,
                       deletions=args.deletions, config={"size": args.size} if args.size else None)
    print(sid)
    return OK


def cmd_unschedule(args, api) -> int:
    done = api.stop_schedule(args.schedule_id, actor=api.machine_admin())
    print(f"schedule {done['id']} stopped: {done['source']} {','.join(done['projects'])} runs no more"
          + (f"; its queued run {', '.join(done['cancelled'])} was cancelled" if done["cancelled"] else "")
          + f" (a run already going on goes on: `{PROG} cancel JOB` stops it)")
    return OK


def cmd_items(args, api) -> int:
    from store import queries
    from store.db import engine_for

    rows = queries.items(engine_for(), source=args.source, project=args.project, status=args.status,
                         state=args.state, limit=args.limit, deleted=bool(args.deleted),
                         visibility=queries.PUBLIC_ONLY if args.public_only else None)
    if args.json:
        _print_json(rows)
        return OK
    if not rows:
        filtered = any((args.source, args.project, args.status, args.state, args.public_only))
        print(f"no {'deleted ' if args.deleted else ''}items{' match these filters' if filtered else ''}")
    for r, state, assignee in zip(rows, _cells(rows, "state"), _cells(rows, "assignee"), strict=True):
        print(f"{r['source']:<10} {r['key']:<16} {state} {assignee} {r['title'][:60]}")
    return OK


def cmd_stats(args, api) -> int:
    from store import queries
    from store.db import engine_for

    data = queries.stats(engine_for(), deleted=bool(args.deleted))
    if args.json:
        _print_json(data)
        return OK
    # the deleted view says what each number counts: "people 3" read as "3 people deleted" (people never are)
    def items(n: int) -> str:
        return counted(n, "deleted items") if args.deleted else f"{n:,}"

    if args.deleted:
        print(f"no longer at the source: deleted items {data['items']:,}  deleted comments {data['comments']:,}  "
              f"people on them {data['people']:,} (people are never deleted)")
    else:
        print(f"items {data['items']:,}  comments {data['comments']:,}  people {data['people']:,}")
    for row in data["by_project"]:
        print(f"  {row['source']:<10} {row['project']:<30} {items(row['items'])}")
    rows = data["by_state"]
    for row, project, state in zip(rows, _cells(rows, "project"), _cells(rows, "state"), strict=True):
        print(f"  {row['source']:<10} {project} {state} ({row['status']}) {items(row['items'])}")
    return OK


def cmd_purge(args, api) -> int:
    if not args.yes:
        print("error: purge erases soft-deleted items and comments for good: add --yes to confirm",
              file=sys.stderr)
        return BAD_INPUT
    done = api.purge(source=args.source, project=args.project, actor=api.machine_admin())
    print(f"erased {counted(done['items'], 'items')} and {counted(done['comments'], 'comments')} no longer at their "
          f"source")
    return OK


def _mapping_lines(found) -> list[str]:
    """A mapping as a person reads it: per kind, each value -> its target, with counts and marks."""
    from jobs.mapping import KINDS

    sample = (f"all {counted(found.sample, 'items')}" if found.sample_is_whole()
              else f"a sample of {counted(found.sample, 'items')}") \
        if found.sample else "no sample"
    lines = [f"{found.source} {found.project}  (items: counted by the source, else in {sample}; "
             f"* changed from the default, ! needs a target)"]
    flagged = {(kind, row.source) for kind, row in found.flagged()}
    people = found.person_keys()
    for kind in KINDS:
        lines.append(kind)
        if not found.rows(kind):
            lines.append("   (none found at the source)")
        for row in found.rows(kind):
            shown = row.label if kind != "people" else f"{row.label} <{row.email or 'no email'}>"
            target = row.target or "-"
            if kind == "statuses" and row.target:
                target = f"{row.target} ({row.category or 'no category'})"
            if kind == "people" and row.target:
                name = people.get(row.target, ("", None))[0]
                target = f"{row.target}" + (f" ({name})" if name and name != row.label else "") \
                    + (" (in the workspace)" if row.target in found.workspace_people else "")
            mark = "!" if (kind, row.source) in flagged else "*" if row.changed and row.default is not None else " "
            count = "" if row.items is None else f"{row.items:,}"
            lines.append(f" {mark} {shown[:34]:<34} -> {target[:48]:<48} {count:>7}")
    return lines


def cmd_mapping_show(args, api) -> int:
    from jobs import mapping_file

    found = api.mapping(args.source, args.project, {"size": args.size} if args.size else None)
    if args.json:
        print(mapping_file.dumps(found), end="")
    else:
        print("\n".join(_mapping_lines(found)))
    return OK


def cmd_mapping_export(args, api) -> int:
    from jobs import mapping_file

    text = mapping_file.dumps(api.mapping(args.source, args.project, {"size": args.size} if args.size else None))
    if not args.output or args.output == "-":
        print(text, end="")
        return OK
    from importers.errors import ConfigError

    try:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ConfigError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"wrote {args.output}", file=sys.stderr)
    return OK


def cmd_mapping_import(args, api) -> int:
    found = _mapping_file(api, args.file, args.source, args.project, {"size": args.size} if args.size else None)
    api.save_mapping(found, actor=_user())
    flagged = found.flagged()
    differ = "differs" if found.changed_rows == 1 else "differ"
    print(f"saved the mapping of {found.source} {found.project}: {counted(found.changed_rows, 'values')} {differ} "
          "from the defaults"
          + (f"; {len(flagged):,} still {'needs' if len(flagged) == 1 else 'need'} a target before an import can start"
             if flagged else ""))
    return OK


def cmd_worker(args, api) -> int:
    from jobs.queue import queue_name, run_worker, shown_redis_url
    from jobs.tasks import maintain
    from store.db import engine_for

    # which store this worker serves: two installs on one Redis each need a worker of their own
    print(f"worker: imports of the store {engine_for().url.render_as_string(hide_password=True)} "
          f"(queue {queue_name()} on {shown_redis_url()})", file=sys.stderr, flush=True)
    run_worker(maintain, burst=args.burst)
    return OK


def cmd_rotate_key(args, api) -> int:
    from store import credentials
    from store.db import engine_for

    print(f"re-encrypted {counted(credentials.rotate(engine_for()), 'credentials')} with the first key")
    return OK


def cmd_api_token(args, api) -> int:
    from store import api_tokens
    from store.db import engine_for

    engine = engine_for()
    if args.action == "create":
        print(api_tokens.create(engine, args.name, created_by=_user()))  # alone on stdout: `TOKEN=$(...)` works
        print(f"keep it now: it is not shown again (the store keeps only its hash); revoke it with "
              f"`{PROG} api-token revoke {args.name}`", file=sys.stderr)
        return OK
    if args.action == "revoke":
        api_tokens.revoke(engine, args.name, actor=_user())
        print(f"revoked {args.name}: calls with it now get 401")
        return OK
    found = api_tokens.list_tokens(engine)
    if args.json:
        _print_json([{"name": t.name, "prefix": t.prefix, "created_by": t.created_by, "active": t.active,
                      **{k: v.isoformat() if v else None for k, v in (("created_at", t.created_at),
                         ("last_used_at", t.last_used_at), ("revoked_at", t.revoked_at))}} for t in found])
        return OK
    if not found:
        print(f"no API tokens: make one with `{PROG} api-token create NAME`")
    for t in found:
        used = f"last used {_time(t.last_used_at)}" if t.last_used_at else "never used"
        state = f"revoked {_time(t.revoked_at)}" if t.revoked_at else "active"
        print(f"{t.name:<24} {t.prefix}...  created {_time(t.created_at)} by {t.created_by:<12} {used:<33} {state}")
    return OK


@functools.cache  # built once a process: in-process callers (the status benchmark) stay fast
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="ACGS2 import console, headless.", epilog=EXIT_CODES)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func, help_text, epilog=None):
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=epilog)
        p.set_defaults(func=func)
        return p

    p = add("sources", cmd_sources, "list the tools and whether credentials are configured")
    p.add_argument("--json", action="store_true")
    p = add("check", cmd_check, "test the connection to a tool")
    p.add_argument("source")
    p = add("projects", cmd_projects, "list the projects a tool's account can import")
    p.add_argument("source")
    p = add("preview", cmd_preview, "show sample items without writing anything")
    p.add_argument("source")
    p.add_argument("--project")
    p.add_argument("--limit", type=_count(PREVIEW_MAX), default=20,
                   help=f"sample items, 1 to {PREVIEW_MAX} (default %(default)s)")
    p.add_argument("--since", help="only items updated since (ISO-8601)")
    p.add_argument("--forecast", action="store_true",
                   help="also what the import will create (people, labels, states, types; reads the source's lists)")
    p.add_argument("--json", action="store_true")
    p = add("run", cmd_run, "start an import job (prints its id)", EXIT_CODES + " (with --wait or --in-process)")
    p.add_argument("source")
    p.add_argument("--project", action="append", help="repeat for several projects")
    p.add_argument("--duplicates", choices=["update", "skip"], default="update",
                   help="items already imported: update applies what changed (default); skip keeps them as "
                        "first imported")
    p.add_argument("--deletions", choices=["mark", "purge", "ignore"], default="mark",
                   help="items and comments gone from the source: mark them deleted (default, hidden, "
                        "kept until purged), purge (erase them), or ignore (do not look)")
    p.add_argument("--since", help="only items updated since (ISO-8601); default: since the last successful import")
    p.add_argument("--full", action="store_true", help="read everything, not only what changed since the last import")
    p.add_argument("--size", help="demo source only: small, medium, large or a number of items")
    p.add_argument("--dry-run", action="store_true", help="read and validate everything, write nothing")
    p.add_argument("--wait", action="store_true", help="follow the job with a progress bar until it ends")
    p.add_argument("--in-process", action="store_true",
                   help="run the import in this process, no worker needed (follows it as --wait does)")
    p.add_argument("--mapping", action="append", metavar="FILE",
                   help="a mapping file (from `mapping export`) for the project it names; saved for later runs")
    p = add("mapping", None, "show, export or import how source values map to states, priorities, types, people")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, func, text in (("show", cmd_mapping_show, "the mapping an import of a project would use"),
                             ("export", cmd_mapping_export, "write the mapping as a JSON file to edit"),
                             ("import", cmd_mapping_import, "check a mapping file and save it for the project")):
        q = verbs.add_parser(verb, help=text, description=text)
        q.set_defaults(func=func)
        if verb == "import":
            q.add_argument("file")
            q.add_argument("--source", help="default: the file's")
        else:
            q.add_argument("source")
        q.add_argument("--project", help="default: the file's (import), else the source's default project")
        q.add_argument("--size", help="demo source only: small, medium, large or a number of items")
        if verb == "show":
            q.add_argument("--json", action="store_true")
        if verb == "export":
            q.add_argument("--output", "-o", metavar="FILE", help="default: standard output")
    raw = "the HTTP API's JSON, each `status` as stored (partial: finished with failures)"
    p = add("status", cmd_status, "show a job's progress", EXIT_CODES)
    p.add_argument("job_id")
    p.add_argument("--json", action="store_true", help=raw)
    p = add("jobs", cmd_jobs, "list import jobs, newest first, and scheduled re-runs")
    p.add_argument("--limit", type=_count(JOBS_MAX), default=20,
                   help=f"jobs listed, 1 to {JOBS_MAX} (default %(default)s)")
    p.add_argument("--json", action="store_true", help=raw)
    for name, func, text in (("retry", cmd_retry, "resume a job that failed, finished with failures or was cancelled: "
                                                   "from its last batch, re-reading its failed items"),
                             ("cancel", cmd_cancel, "stop a job after its current batch"),
                             ("undo", cmd_undo, "delete the items a job created")):
        add(name, func, text).add_argument("job_id")
    p = add("schedule", cmd_schedule, "re-run an import every N hours (incremental)")
    p.add_argument("source")
    p.add_argument("--project", action="append")
    p.add_argument("--every", type=_count(EVERY_MAX), required=True,
                   help=f"hours between runs, 1 to {EVERY_MAX:,} (a year)")
    p.add_argument("--duplicates", choices=["update", "skip"], default="update")
    p.add_argument("--deletions", choices=["mark", "purge", "ignore"], default="mark")
    p.add_argument("--size", help="demo source only: small, medium, large or a number of items (default: the size "
                                  "each project was last imported at)")
    add("unschedule", cmd_unschedule, "stop a scheduled re-run (its id is in `jobs`)").add_argument("schedule_id")
    p = add("items", cmd_items, "list imported items")
    p.add_argument("--source")
    p.add_argument("--project")
    p.add_argument("--status", help="a category: backlog, todo, in_progress, done or cancelled")
    p.add_argument("--state", help="a workflow state's name, e.g. \"In Review\"")
    p.add_argument("--limit", type=_count(ITEMS_MAX), default=50,
                   help=f"items listed, 1 to {ITEMS_MAX:,} (default %(default)s)")
    p.add_argument("--public-only", action="store_true", help="hide internal and restricted items")
    p.add_argument("--deleted", action="store_true", help="list the items no longer at their source instead")
    p.add_argument("--json", action="store_true")
    p = add("stats", cmd_stats, "counts by source, project and status")
    p.add_argument("--deleted", action="store_true", help="count the items no longer at their source instead")
    p.add_argument("--json", action="store_true")
    p = add("purge", cmd_purge, "erase for good the items and comments no longer at their source")
    p.add_argument("--source")
    p.add_argument("--project")
    p.add_argument("--yes", action="store_true", help="confirm: erased rows cannot be brought back")
    p = add("worker", cmd_worker, "run an RQ worker for the imports queue")
    p.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    add("rotate-key", cmd_rotate_key, "re-encrypt saved credentials with the first CREDENTIAL_ENCRYPTION_KEY")
    p = add("api-token", cmd_api_token, "bearer tokens for the HTTP API: create (printed once), list, revoke")
    tokens = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    tokens.add_parser("create", help="make a token and print it, alone, once").add_argument("name")
    tokens.add_parser("list", help="the tokens, never their values").add_argument("--json", action="store_true")
    tokens.add_parser("revoke", help="refuse a token from now on").add_argument("name")
    return parser


def main(argv: list[str] | None = None) -> int:
    # The worker's collector threshold (jobs/queue.py GC_THRESHOLD, whose import would come too late) from the
    # start: loading the core's ~600 modules at CPython's default (700) had the cyclic GC walk the growing heap
    # over and over, about 25 ms of CPU of `run` and more of a worker, which loads its connector's library too.
    gc.set_threshold(50_000, 20, 100)
    sys.stdout, sys.stderr = _Shown(sys.stdout), _Shown(sys.stderr)
    if not os.environ.get("ACGS2_NO_DOTENV"):  # tests keep a developer's .env out
        load_dotenv()
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    import redis

    from importers.errors import SourceError

    try:
        if args.func is cmd_worker:  # the worker never calls the API: its 5 modules are ~1% of the worker's start
            return cmd_worker(args, None)
        from jobs import api

        return args.func(args, api)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except redis.RedisError as exc:
        from jobs.queue import unreachable

        print(f"error: {unreachable(exc)}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: the job goes on in the background", file=sys.stderr)
        return JOB_FAILED
    except BrokenPipeError:  # the reader stopped reading (`mapping show ... | head`): no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # what is still buffered goes nowhere
        return OK


if __name__ == "__main__":
    sys.exit(main())
