"""What a user waits for outside the import itself: the status read and the preview.

Run as `python -m bench.reads JOB_ID VENDOR` with the import's environment (REDIS_URL,
DATABASE_URL, the vendor's settings); prints one JSON line. Status: `jobs.api.status` (the
progress view's read) and `cli.py status --json` run in-process, each about 1000 times, p50
and p99 in milliseconds. Preview: `jobs.api.preview` of the benchmark project, 3 times, the
slowest in seconds. HTTP API: the console's server started as ./start.sh starts it
(`streamlit run console/server.py`), then `GET /import/status/{job_id}` 1000 times over one
keep-alive connection (as a polling client holds it) and `POST /import/{vendor}/preview` 3 times,
each call with its bearer token, timed by the client.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

CALLS = 1000


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"p50_ms": round(pick(0.50), 3), "p99_ms": round(pick(0.99), 3)}


def status_reads(job_id: str) -> dict[str, dict[str, float]]:
    import cli
    from jobs import api

    api.status(job_id)  # connections made once, as in a running console
    timings: dict[str, list[float]] = {"api": [], "cli": []}
    for _ in range(CALLS):
        started = time.perf_counter()
        api.status(job_id)
        timings["api"].append(time.perf_counter() - started)
        with contextlib.redirect_stdout(io.StringIO()):
            started = time.perf_counter()
            cli.main(["status", job_id, "--json"])
            timings["cli"].append(time.perf_counter() - started)
    return {name: _percentiles(values) for name, values in timings.items()}


def preview_seconds(vendor: str) -> float:
    from bench.fakes import PROJECTS
    from jobs import api

    slowest = 0.0
    for _ in range(3):
        started = time.perf_counter()
        result = api.preview(vendor, PROJECTS[vendor], limit=20)
        slowest = max(slowest, time.perf_counter() - started)
        if len(result.items) < 10:
            raise RuntimeError(f"{vendor} preview showed {len(result.items)} items")
    return slowest


@contextlib.contextmanager
def console() -> Iterator[str]:
    """The console's server on a free port of 127.0.0.1, with this process's environment; its URL."""
    import requests

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parent.parent
    command = [str(Path(sys.executable).parent / "streamlit"), "run", "console/server.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
    server = subprocess.Popen(command, cwd=root, env={**os.environ, "CONSOLE_OPEN_DEMO": "1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the console did not start")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(30)


def http_reads(job_id: str, vendor: str) -> dict:
    """Status p50/p99 (ms) and the slowest of 3 previews (s) through the HTTP API, as its client sees them."""
    import requests

    from bench.fakes import PROJECTS
    from store import api_tokens
    from store.db import engine_for

    token = api_tokens.create(engine_for(), f"bench-{time.monotonic_ns()}", created_by="bench")
    with console() as url, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        session.get(f"{url}/import/status/{job_id}").raise_for_status()  # the connection, made once
        samples = []
        for _ in range(CALLS):
            started = time.perf_counter()
            session.get(f"{url}/import/status/{job_id}").raise_for_status()
            samples.append(time.perf_counter() - started)
        slowest = 0.0
        for _ in range(3):
            started = time.perf_counter()
            answer = session.post(f"{url}/import/{vendor}/preview", json={"project": PROJECTS[vendor], "limit": 20})
            slowest = max(slowest, time.perf_counter() - started)
            answer.raise_for_status()
            if len(answer.json()["items"]) < 10:
                raise RuntimeError(f"{vendor} API preview showed {len(answer.json()['items'])} items")
    return {"status": _percentiles(samples), "preview_s": round(slowest, 3)}


if __name__ == "__main__":
    print(json.dumps({"status": status_reads(sys.argv[1]), "preview_s": round(preview_seconds(sys.argv[2]), 3),
                      "http": http_reads(sys.argv[1], sys.argv[2])}))
