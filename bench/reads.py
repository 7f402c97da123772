"""What a user waits for outside the import itself: the status read and the preview.

Run as `python -m bench.reads JOB_ID VENDOR` with the import's environment (REDIS_URL,
DATABASE_URL, the vendor's settings); prints one JSON line. Status: `jobs.api.status` (the
progress view's read) and `cli.py status --json` run in-process, each about 1000 times, p50
and p99 in milliseconds. Preview: `jobs.api.preview` of the benchmark project, 3 times, the
slowest in seconds.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
import time

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


if __name__ == "__main__":
    print(json.dumps({"status": status_reads(sys.argv[1]), "preview_s": round(preview_seconds(sys.argv[2]), 3)}))
