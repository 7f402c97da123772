"""The only module that touches RQ: the store's `imports-<store id>` queue, enqueueing parts, the worker.

The queue is named by the store's install id (store.db.store_id), not by a fixed name: two installs
that share one Redis (a `./start.sh` checkout and an `acgs2-import` in another folder, both on the
default redis://127.0.0.1:6379/0) each have their own queue, so a worker never takes a job of a
store it cannot see, while every worker of one store, on any machine, shares one queue.

An RQ job carries only (job_id, project): the worker looks everything else up in the store,
secrets included (by reference), so nothing sensitive sits in Redis.

Jobs are written and read with RQ's JSON serializer, never pickle: whoever can write to Redis
could otherwise push a pickle that runs code in every worker when it is loaded. A job pickled by
an older release (or pushed by an attacker) fails to load as JSON, is never unpickled, and ends
in RQ's failed registry; the import part it stood for is re-enqueued as JSON by the workers'
maintenance (jobs/tasks.py `maintain`), so an upgrade loses nothing.

A JSON job still names the function a worker runs: whoever can write to Redis could name `os.system`. A
worker runs only the two functions this module enqueues (`TASKS`) and refuses, before RQ imports anything
a job names, any other function and any job with callbacks, webhooks or dependencies (we enqueue none):
the job ends in the failed registry with the reason, and the worker logs it.

Each part runs under an RQ job timeout (IMPORT_PART_TIMEOUT, 24 h): the backstop behind the
per-request deadline, after which the part ends `failed` and a retry resumes it.
"""
from __future__ import annotations

import gc
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote

import redis
from rq import Queue, Worker
from rq.exceptions import DeserializationError, StopRequested
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer
from rq.timeouts import JobTimeoutException, UnixSignalDeathPenalty

from importers import load_client, source_names
from importers.errors import ConfigError, SourceError, network_reason
from importers.model import build_models
from importers.numbers import env_whole
from store.db import store_id

log = logging.getLogger(__name__)
QUEUE_PREFIX = "imports"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PART_TASK = "jobs.tasks.run_part"
SCHEDULE_TASK = "jobs.tasks.run_schedule"
TASKS = frozenset({PART_TASK, SCHEDULE_TASK})  # every function a worker runs; anything else is refused
GC_THRESHOLD = 50_000  # allocations between young-generation collections (CPython's default: 700)


def redis_url() -> str:
    """REDIS_URL, else the local Redis on 127.0.0.1:6379 database 0, with the REDIS_PASSWORD that
    ./start.sh keeps in .env when it started that Redis itself (so a CLI beside it reaches it)."""
    if url := os.environ.get("REDIS_URL"):
        return url
    password = os.environ.get("REDIS_PASSWORD")
    if not password:
        return DEFAULT_REDIS_URL
    return DEFAULT_REDIS_URL.replace("redis://", f"redis://:{quote(password, safe='')}@")


def shown_redis_url() -> str:
    """REDIS_URL with its password (if any) replaced by ***, for messages."""
    return re.sub(r"^(rediss?://)[^@/]*@", r"\1***@", redis_url())


_connections: dict[str, redis.Redis] = {}


def connection() -> redis.Redis:
    """A pooled connection to REDIS_URL (one pool per URL and process)."""
    url = redis_url()
    if url not in _connections:
        try:
            _connections[url] = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10,
                                                     health_check_interval=30)
        except ValueError as exc:
            raise ConfigError(f"REDIS_URL is not a Redis URL ({exc}): use redis://host:6379/0") from None
    return _connections[url]


def unreachable(exc: redis.RedisError) -> str:
    """"cannot reach Redis at URL: the connection was refused (...): start redis-server or fix REDIS_URL": why, in
    words (a refused connection, a name not found, a timeout; Redis's own answer otherwise, e.g. NOAUTH), not
    the client's class name ("(ConnectionError)" told a user nothing)."""
    why = network_reason(exc) if isinstance(exc, redis.ConnectionError | redis.TimeoutError) \
        else (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    return f"cannot reach Redis at {shown_redis_url()}: {why}: start redis-server or fix REDIS_URL"


def ping() -> None:
    """Raise a one-line ConfigError when Redis cannot be reached (`unreachable`)."""
    try:
        connection().ping()
    except redis.RedisError as exc:
        raise ConfigError(unreachable(exc)) from None


def queue_name() -> str:
    """`imports-<store id>`: the queue of the store DATABASE_URL names (opening it if need be)."""
    return f"{QUEUE_PREFIX}-{store_id()}"


def import_queue() -> Queue:
    return Queue(queue_name(), connection=connection(), serializer=JSONSerializer)


def worker_count() -> int:
    """How many live workers are registered on this store's queue now (RQ's worker registry; a
    worker's entry expires `worker_ttl` seconds after its last heartbeat, so a killed one counts that long)."""
    return len(Worker.all(queue=import_queue()))


def part_timeout() -> int:
    """Seconds one part may run on a worker (IMPORT_PART_TIMEOUT, default 24 h)."""
    return env_whole("IMPORT_PART_TIMEOUT", 86_400, low=1)


class PartTimedOut(SourceError, JobTimeoutException):
    """A part outlived IMPORT_PART_TIMEOUT: the runner ends it `failed` with this one-line reason."""


class _PartDeathPenalty(UnixSignalDeathPenalty):
    """RQ's alarm-based job timeout, raising a SourceError the runner reports as the part's reason.

    RQ arms the same class for its own alarms too: a forking worker watches its work horse under a
    `job_monitoring_interval` (30 s) alarm whose HorseMonitorTimeoutException it catches to send a
    heartbeat. Those keep their own exception, or every import longer than 30 s killed the worker."""

    def handle_death_penalty(self, signum, frame):
        if self._exception is not JobTimeoutException:
            super().handle_death_penalty(signum, frame)
        raise PartTimedOut(f"the import part ran longer than IMPORT_PART_TIMEOUT ({self._timeout:,} s) and was "
                           "stopped; retry resumes it from its last committed batch")


def _prefix(job_id: str, part_id: int) -> str:
    return f"imp-{job_id}-{part_id}-"


def enqueue_part(job_id: str, project: str, part_id: int, delay: timedelta | None = None,
                 source: str | None = None) -> str:
    """Queue one part; `source` (the tool's name, no secret) lets a burst worker import only that
    connector before its first job (see `_warm_up`)."""
    queue = import_queue()
    rq_id = _prefix(job_id, part_id) + uuid.uuid4().hex[:6]
    kwargs = dict(job_id=rq_id, job_timeout=part_timeout(), result_ttl=86_400, failure_ttl=7 * 86_400,
                  description=f"import {job_id} / {project}", meta={"source": source} if source else None)
    if delay:
        queue.enqueue_in(delay, PART_TASK, job_id, project, **kwargs)
    else:
        queue.enqueue(PART_TASK, job_id, project, **kwargs)
    return rq_id


def enqueue_schedule(schedule_id: str, delay: timedelta) -> None:
    import_queue().enqueue_in(delay, SCHEDULE_TASK, schedule_id,
                              job_id=f"sched-{schedule_id}-{uuid.uuid4().hex[:6]}", result_ttl=86_400)


def unbook_schedule(schedule_id: str) -> int:
    """Remove the booked runs (`enqueue_schedule`) of a stopped schedule from RQ's scheduled registry; returns how
    many. A run already moved to the queue finds its schedule stopped and does nothing (jobs/tasks.py)."""
    registry = ScheduledJobRegistry(queue=import_queue())
    booked = [i for i in registry.get_job_ids() if i.startswith(f"sched-{schedule_id}-")]
    for job_id in booked:
        registry.remove(job_id, delete_job=True)
    return len(booked)


def _live_job_ids() -> set[str]:
    """Ids of every RQ job of this store's queue that is queued, scheduled or running."""
    queue = import_queue()
    ids = set(queue.get_job_ids())
    ids.update(StartedJobRegistry(queue=queue).get_job_ids())
    ids.update(ScheduledJobRegistry(queue=queue).get_job_ids())
    return ids


def live_part_ids() -> set[str]:
    """Prefixes `imp-<job>-<part>-` of every RQ job that is queued, scheduled or running."""
    return {i.rsplit("-", 1)[0] + "-" for i in _live_job_ids() if i.startswith("imp-")}


def live_schedule_ids() -> set[str]:
    """Ids of the schedules with a run booked, queued or running (RQ jobs `sched-<schedule id>-<hex>`)."""
    return {i.split("-")[1] for i in _live_job_ids() if i.startswith("sched-")}


def schedule_lock(seconds: int = 60) -> bool:
    """True for the one caller that may re-book lost schedules now (a Redis SET NX with expiry): two
    workers' maintenance rounds at once must not book a schedule twice, or it would run twice ever after."""
    return bool(connection().set(f"{queue_name()}:rebooking-schedules", "1", nx=True, ex=seconds))


def has_live_rq_job(live: set[str], job_id: str, part_id: int) -> bool:
    return _prefix(job_id, part_id) in live


Maintenance = Callable[[], object]


def refusal(job: Job) -> str | None:
    """Why a worker must not run `job` (one line), or None for one of our own tasks. Reads only the names
    the job carries: nothing it names is imported."""
    try:
        func = job.func_name
    except Exception as exc:  # a payload that is not our JSON (a pickle pushed into Redis)
        return f"refused: the job cannot be read as JSON ({exc.__class__.__name__})"
    if func not in TASKS:
        return f"refused: {str(func)[:100]!r} is not an import task ({', '.join(sorted(TASKS))})"
    callbacks = [name for name in (job._success_callback_name, job._failure_callback_name,
                                   job._stopped_callback_name) if name]
    if callbacks:
        return f"refused: the job names callbacks ({', '.join(callbacks)[:100]}); import tasks have none"
    if job.webhooks:
        return "refused: the job names webhooks; import tasks have none"
    if job._dependency_ids or job.dependent_ids:
        return "refused: the job has dependencies; import tasks have none"
    return None


class _RecoveringMixin(Worker):
    """Also runs the imports' own maintenance (resuming parts whose worker died) at every round."""

    maintenance: Maintenance | None = None
    death_penalty_class = _PartDeathPenalty

    def execute_job(self, job: Job, queue: Queue) -> None:
        """RQ's own for our tasks; any other job is failed with the reason, never run (see the module's doc)."""
        reason = refusal(job)
        if reason is None:
            super().execute_job(job, queue)
            return
        log.error("job %s %s", job.id, reason)
        job.webhooks = []  # a refused job reaches no address it names either
        execution = self.prepare_execution(job)
        self.handle_job_failure(job, queue=queue, exc_string=reason, execution=execution)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        if self.maintenance is None:
            return
        try:
            self.maintenance()
        except StopRequested:  # a TERM during maintenance: RQ's loop ends on it (swallowed, the worker ran on)
            raise
        except Exception:  # maintenance must never kill the worker
            log.exception("import maintenance failed")

    def unsubscribe(self) -> None:
        """RQ's own, with its command listener told to stop before the UNSUBSCRIBE whose reply wakes it.

        RQ (3.0) unsubscribes first and stops the listener thread after: the reply usually reaches the
        thread before the stop flag is cleared, so the thread goes back to a 60 s read and RQ's join
        waits out its 1 s timeout. Every worker then exited a second late, a burst worker (`cli.py
        worker --burst`, a user's one-off import) on the user's clock."""
        if self.pubsub_thread and self.pubsub:
            self.pubsub_thread.stop()
            self.pubsub.unsubscribe()
            self.pubsub_thread.join(timeout=5)  # it ends at the reply; a Redis that never answers costs 5 s
            self.pubsub.close()


class ImportWorker(_RecoveringMixin):
    """Forks a work horse per job: memory is returned after every part."""


def run_worker(maintenance: Maintenance, burst: bool = False, name: str | None = None,
               on_stop: Callable[[], None] | None = None) -> bool:
    """Work this store's queue, calling `maintenance` at start and every maintenance round (the
    caller passes `jobs.tasks.maintain`: this module never imports the tasks it runs).
    `on_stop` is called, in the signal handler, when a first INT or TERM asks the worker to stop after
    its current job (RQ's warm shutdown); the second is RQ's cold shutdown (SystemExit).

    A long-running worker outlives a Redis restart: RQ's loop quits on a lost connection, so we
    wait for Redis and start it again; its first maintenance round then re-enqueues the parts
    whose RQ jobs the restart lost."""
    ping()
    maintenance()
    _warm_up(burst)
    interval = maintenance_interval()
    while True:
        # RQ blocks on an empty queue for worker_ttl - 15 s and runs maintenance only between waits:
        # bound the wait by our interval, or an idle worker would leave a lost import for ~7 minutes.
        worker = ImportWorker([import_queue()], connection=connection(), serializer=JSONSerializer,
                              maintenance_interval=interval,
                              worker_ttl=interval + 15,
                              name=name or f"imports-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}")
        worker.maintenance = maintenance
        if on_stop is not None:
            worker.request_stop = _calling_first(on_stop, worker.request_stop)  # type: ignore[method-assign]
        try:
            # with the scheduler a burst worker too starts the scheduled runs that are due (RQ: once, then it works
            # the queue): a team whose only worker is `worker --burst` from cron had schedules that never ran
            worked = worker.work(burst=burst, with_scheduler=True,
                                 logging_level=os.environ.get("LOG_LEVEL", "WARNING"))
        except redis.RedisError as exc:  # RQ's teardown cannot unregister from a Redis that went away
            log.warning("worker %s stopped: %s", worker.name, exc)
            worked = False
        # A TERM/INT sets the shutdown date (an idle worker's loop ends without setting _stop_requested).
        if burst or worker._stop_requested or worker._shutdown_requested_date is not None:
            return worked
        log.warning("worker %s lost Redis at %s; starting again once it answers", worker.name, shown_redis_url())
        if not _wait_for_redis():
            return worked


def maintenance_interval() -> int:
    """Seconds between maintenance rounds (IMPORT_MAINTENANCE_INTERVAL, 30; a whole number, at least 1)."""
    return env_whole("IMPORT_MAINTENANCE_INTERVAL", 30, low=1)


def _calling_first(first: Callable[[], None], handler: Callable) -> Callable:
    def both(signum, frame) -> None:
        first()
        handler(signum, frame)

    return both


def _warm_up(burst: bool = False) -> None:
    """Ready the process for imports before RQ forks work horses from it.

    Connectors and their client libraries are imported once here, so a work horse starts on its
    first request instead of spending a few hundred ms on imports. A standing worker imports them all while it waits for
    work; a burst worker, whose start is on the user's clock, imports only the connectors of the
    parts queued now (all of them when a part does not say, as parts queued by older versions).
    An import allocates millions of short-lived dicts and models that reference counting frees;
    at the collector's default threshold (700 allocations) the cyclic GC walked the heap thousands
    of times per import, a fifth of its CPU. Frozen start-up objects are never scanned again and
    stay shared with the forks. They are frozen without a collection first: imports leave no cyclic
    garbage worth one (a full pass over the ~100,000 objects found none), and the pass cost a burst
    worker 30-80 ms of its start. The models' validators and serializers, which importing them no longer
    builds (`importers.model._Model`), are built here too, once, instead of in every work horse."""
    for name in _queued_sources() if burst else source_names():
        load_client(name)
    build_models()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 100)


def _queued_sources() -> list[str]:
    """The sources of the parts waiting in the queue, from each RQ job's meta (every source when a
    queued job cannot be read: a pickle pushed into Redis, or a part of an older release, must not
    stop the worker before its maintenance has dealt with it)."""
    names: set[str] = set()
    try:
        for job in import_queue().get_jobs():
            source = (job.meta or {}).get("source") if job.func_name == PART_TASK else None
            if job.func_name == PART_TASK and source not in source_names():
                return source_names()
            names.update([source] if source else [])
    except (DeserializationError, ValueError):  # ValueError: a field (such as meta) that is not JSON
        return source_names()
    return sorted(names)


def _wait_for_redis(poll: float = 1.0) -> bool:
    """Block until Redis answers; False when the worker was asked to stop meanwhile."""
    while True:
        try:
            connection().ping()
            return True
        except redis.RedisError:
            pass
        except StopRequested:
            return False
        try:
            time.sleep(poll)
        except StopRequested:
            return False
