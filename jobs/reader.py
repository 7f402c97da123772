"""A source's read in a process of its own, so that reading and writing use two cores.

Reading a page (HTTP, JSON, mapping to models) and writing a batch are both Python work, and one
process runs Python on one core at a time (the GIL): an import on a fast source was CPU-bound in the
work horse while the machine's second core sat idle. On Linux the work horse forks a reader that
iterates the source's pages and sends each, pickled, through a pipe; the work horse writes one batch
while the reader maps the next. Sending blocks while the pipe is full and the horse's read-ahead
(jobs/runner.py `ReadAhead`) holds all it may, so memory stays bounded.

The reader touches neither the store nor Redis: the store's pools are disowned at the fork
(store/db.py), the HTTP pools it inherited are emptied (importers/outbound.py) so it opens its own
connections, and the source's wait notices (retries, rate limits) are sent to the work horse, which
records them as before. The source's state after a read stays the work horse's own, as when a
resumed part starts its sweep in a new worker. The reader dies with the work horse (the kernel's
parent-death signal: an OOM-killed horse leaves no reader calling the vendor) and leaves at once,
without finishing its thread pools' queued requests, when the horse stops listening. Where fork is
missing or unsafe with threads (Windows, macOS), fails (no memory, no pids left), or with
IMPORT_READER_PROCESS=0, the caller reads in a thread of its own instead.

A forked child can block before it does anything, on a lock another thread of the horse held at the
fork (such a lock stays held in the child for ever): the child says READY once it is set up, and one
that does not within IMPORT_READER_START_TIMEOUT seconds is killed and the read runs in the horse.
"""
from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from multiprocessing.connection import Connection

from importers.base import Source
from importers.errors import SourceError
from importers.model import Page
from importers.numbers import env_number

log = logging.getLogger(__name__)
ENV = "IMPORT_READER_PROCESS"
START_ENV = "IMPORT_READER_START_TIMEOUT"
READY, PAGE, WAIT, DONE, ERROR = "ready", "page", "wait", "done", "error"
STOP_GRACE = 5.0  # seconds a reader has to end on SIGTERM before it is killed
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class ReaderDied(SourceError):
    """The reader process ended without finishing or saying why (killed, out of memory): one line on
    the part, which retry resumes from its last committed batch. `signal` is the signal that killed it,
    if one did (the runner then resumes by itself: jobs/runner.py)."""

    def __init__(self, message: str, signal: int | None = None):
        super().__init__(message)
        self.signal = signal


class _HorseGone(Exception):
    """The work horse stopped listening (it ended, or it was killed)."""


def start_timeout() -> float:
    """Seconds a reader has to say READY (IMPORT_READER_START_TIMEOUT, 30): its set-up is quick (no
    request is sent before READY), so a reader that is not ready by then is stuck."""
    return env_number(START_ENV, 30.0, low=0.1, high=86_400.0)  # a pipe's poll takes at most ~24 days: a day is plenty


def available() -> bool:
    """Whether reads run in a process of their own here: Linux, unless IMPORT_READER_PROCESS=0."""
    return sys.platform == "linux" and os.environ.get(ENV, "1").strip() != "0"


class ReaderProcess:
    """`pages` (a source's read, not yet started) iterated in a forked child.

    Iterate it in one thread: each Page as the child read it, the child's exception re-raised (its
    type and message; an unexpected one's traceback is logged by the child), ReaderDied when the child
    vanished; that thread also closes the pipe when it stops. A child not READY in time is killed and
    `pages` is read in the iterating thread instead. `on_wait(until, reason)` is called in
    the iterating thread for each wait notice of the source. `stop()` ends the child (SIGTERM, then
    SIGKILL after STOP_GRACE s); call it in every case. Raises OSError when the fork fails."""

    def __init__(self, source: Source, pages: Iterator[Page],
                 on_wait: Callable[[datetime | None, str], None], name: str = "reader"):
        self._on_wait = on_wait
        self._pages = pages
        self._reaping = threading.Lock()  # the iterating thread and stop() both wait for the child
        receiving, sending = multiprocessing.Pipe(duplex=False)
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=_serve, args=(source, pages, sending, receiving, os.getpid()),
                                        name=name, daemon=True)
        try:
            self._process.start()
        except BaseException:
            receiving.close()
            sending.close()
            raise
        sending.close()  # the child's end: once the child is gone, recv() says so (EOFError)
        self._conn = receiving

    def __iter__(self) -> Iterator[Page]:
        try:
            if not self._ready():
                yield from self._pages
                return
            while True:
                message = self._receive()
                kind = message[0]
                if kind == PAGE:
                    yield message[1]
                elif kind == WAIT:
                    self._on_wait(message[1], message[2])
                elif kind == ERROR:
                    raise message[1]
                else:
                    return
        finally:
            self._conn.close()  # here, by the only thread that reads it: no other thread closes it under a read

    def _receive(self) -> tuple:
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            raise self._died() from None

    def _ready(self) -> bool:
        """Whether the child said READY in time; a child that did not is killed."""
        timeout = start_timeout()
        if self._conn.poll(timeout):
            self._receive()  # READY, the first thing a child sends
            return True
        with self._reaping:
            self._process.kill()
            self._process.join()
        log.warning("the reader process %s was not ready within %g s (%s): it was killed, the read goes on in "
                    "the work horse", self._process.pid, timeout, START_ENV)
        return False

    def _died(self) -> ReaderDied:
        with self._reaping:
            self._process.join(timeout=STOP_GRACE)
            code = self._process.exitcode
        signal_ = -code if code is not None and code < 0 else None
        how = f"was killed by signal {signal_}" if signal_ else f"exited with code {code}"
        return ReaderDied(f"the import's reader process {how} before the read ended; retry the import to resume it",
                          signal_)

    def stop(self) -> None:
        with self._reaping:
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(timeout=STOP_GRACE)
                if self._process.is_alive():
                    self._process.kill()
            self._process.join()


def _serve(source: Source, pages: Iterator[Page], conn: Connection, parents: Connection, horse: int) -> None:
    """The child: send every page, then DONE; or the error that ended the read."""
    parents.close()  # with the work horse gone, no reader is left on the pipe: sending fails
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # stop() ends the reader at once
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the worker's to handle, not the reader's
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != horse:  # the horse died before the line above took effect
        os._exit(0)
    source.forked()
    sending = threading.Lock()  # wait notices come from the source's own threads too

    def send(*message: object) -> None:
        with sending:
            try:
                conn.send(message)
            except (BrokenPipeError, ConnectionResetError):
                raise _HorseGone() from None

    source.set_wait_listener(lambda until, reason: send(WAIT, until, reason))
    try:
        try:
            send(READY)
            for page in pages:
                send(PAGE, page)
            send(DONE)
        except Exception as exc:  # handed to the work horse, which decides (as the reader thread did)
            if isinstance(exc, _HorseGone):
                raise
            if not isinstance(exc, SourceError):
                log.exception("the reader process of %s stopped", source.label)
            send(ERROR, _picklable(exc))
    except _HorseGone:  # nobody reads any more: leave now, not after the pools' queued requests
        os._exit(0)


def _picklable(exc: BaseException) -> BaseException:
    """`exc` when it survives pickling (our errors do), else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def start(source: Source, pages: Iterator[Page], on_wait: Callable[[datetime | None, str], None],
          name: str = "reader") -> ReaderProcess | None:
    """A ReaderProcess for `pages`, or None where reads stay in a thread (see `available`; also when
    the fork fails: no memory or no process left to fork is no reason to fail an import)."""
    if not available():
        return None
    try:
        return ReaderProcess(source, pages, on_wait, name)
    except OSError as exc:
        log.warning("could not start a reader process (%s); reading in a thread", exc)
        return None
