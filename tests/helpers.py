"""Small helpers shared by tests that drive real worker processes."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def paced(seconds_a_page: float = 0.05, **more: str) -> dict[str, str]:
    """Worker settings that read the demo source at a fixed pace (and any `more` settings).

    A test that acts on a running import (kill, cancel, restart Redis, lock the store) must find it
    still running whatever the machine's speed: a demo page of 100 items then takes at least
    `seconds_a_page`, so 8,000 items take at least 4 s at the default pace."""
    return {"DEMO_PAGE_DELAY": str(seconds_a_page), **more}


def start_worker(extra_env: dict | None = None, burst: bool = True) -> subprocess.Popen:
    """An RQ worker in its own process group, so a test can kill it and its work horse at once."""
    args = [sys.executable, str(ROOT / "cli.py"), "worker"] + (["--burst"] if burst else [])
    return subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(extra_env or {})}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=None)


def _descendants(pid: int) -> list[int]:
    """Child processes, found through /proc (RQ's work horse starts its own session)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse at once: what a crashed machine looks like."""
    for pid in [process.pid, *_descendants(process.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


@contextmanager
def hang_up_server() -> Iterator[tuple[str, list[int]]]:
    """(URL, accepted) of a server on 127.0.0.1 that accepts each connection and closes it at once.

    A connection test must report a dead or wrong server after one attempt instead of backing off:
    `len(accepted)` counts the attempts, so the test asserts a count, never a duration."""
    accepted: list[int] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()

        def hang_up() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:  # closed: the test is over
                    return
                accepted.append(1)
                conn.close()

        threading.Thread(target=hang_up, daemon=True).start()
        yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted


def cancelled_part_way(job_id: str, at_least: int) -> dict:
    """Run `job_id` (a demo import of 6,000 items in batches of 200, say) on a paced worker process, cancel it once
    it has read `at_least` items, and return its progress document once it reads cancelled."""
    from jobs import api

    worker = start_worker(paced(DEMO_PAGE_SIZE="50"))  # 120 pages of 6,000 items: at least 6 s
    try:
        wait_for(lambda: api.status(job_id)["processed"] >= at_least)
        api.cancel(job_id)
        return wait_for(lambda: (d := api.status(job_id))["status"] == "cancelled" and d)
    finally:
        worker.wait(timeout=60) if worker.poll() is None else None
        kill_hard(worker)


def wait_for(predicate, timeout: float = 30, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def asgi_post(path: str, body: dict, token: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """One POST to the HTTP API from this machine through the routes the console's server mounts (`restapi.routes()`,
    which cap the body): (status, the JSON answer). `headers` replace the request's own (content-length among
    them), raw, as a client may send anything."""
    import json

    status, _, answer = asgi_call("POST", path, token, json.dumps(body).encode(), headers)
    return status, json.loads(answer)


def asgi_call(method: str, path: str, token: str | None, body: bytes = b"", headers: dict[str, str] | None = None
              ) -> tuple[int, dict[str, str], bytes]:
    """One request to the HTTP API as `asgi_post` makes it, any method: (status, headers, the body as sent)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from starlette.applications import Starlette

    import restapi

    given = {"host": "127.0.0.1:3000", "content-type": "application/json", "content-length": str(len(body)),
             **({"authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in given.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 3000)}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, Starlette(routes=restapi.routes())(scope, receive, send)).result()
    answered = {k.decode("latin-1"): v.decode("latin-1") for k, v in sent[0].get("headers", [])}
    return sent[0]["status"], answered, b"".join(m.get("body", b"") for m in sent[1:])


def progress_while_running(job_id: str) -> list[int]:
    """The `processed` counts a burst worker's run of `job_id` showed, polled every 0.1 s until the job ended."""
    from jobs import api

    worker = start_worker()
    seen: list[int] = []
    try:
        def ended() -> bool:
            doc = api.status(job_id)
            seen.append(doc["processed"])
            return doc["status"] in ("succeeded", "partial", "failed", "cancelled")

        wait_for(ended, timeout=120, interval=0.1)
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            kill_hard(worker)
    return seen
