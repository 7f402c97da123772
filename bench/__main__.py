"""`python -m bench`: the performance benchmark, printed as a table and saved as JSON.

For each vendor fake, N and latency: the client library's ceiling (items only, and without
latency items with their comments), our import through an RQ worker into SQLite and PostgreSQL,
the naive fetch-then-write loop (with latency) and, for GitHub, the Singer tap; then status-read
and preview times, and the 1-vs-2-worker scale-out.
Figures are medians over --runs runs; every ratio is taken within one run, then its median.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import peer
from bench.fakes import PROJECTS, VENDORS, FakeProcess
from bench.ours import import_once, process_once, redis_server, workdir
from bench.report import print_scale, print_table
from bench.scale import scale_out

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def _module(name: str, *args: str, env: dict | None = None) -> dict:
    done = subprocess.run([sys.executable, "-m", name, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "ALLOW_LOOPBACK_URLS": "1", **(env or {})})
    if done.returncode != 0:
        raise RuntimeError(f"{name} {' '.join(args)} failed: {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(fake: FakeProcess, what, *args) -> dict:
    """Run one measurement with the fake's counters reset before and read after."""
    fake.reset()
    result = what(*args)
    result["requests"] = fake.requests()
    return result


def one_run(vendor: str, fake: FakeProcess, cell: dict, redis_url: str, work: Path) -> dict:
    run: dict = {}
    run["ceiling"] = _measure(fake, lambda: _module("bench.ceiling", vendor, fake.url, "items"))
    if cell["ceiling_comments"]:
        run["ceiling_comments"] = _measure(fake, lambda: _module("bench.ceiling", vendor, fake.url, "comments"))
    for store in cell["stores"]:
        run[f"ours_{store}"] = _measure(fake, import_once, vendor, fake.url, store, redis_url, work)
    if cell.get("rest"):  # GitLab's REST reader beside GraphQL, on the first store
        run["ours_rest"] = _measure(fake, import_once, vendor, fake.url, cell["stores"][0], redis_url, work,
                                    {"GITLAB_API": "rest"})
    if cell["naive"]:
        with _sqlite(work) as url:
            run["naive"] = _measure(fake, lambda: _module("bench.naive", vendor, fake.url, url))
    if vendor == "github" and cell["peer"]:
        run["peer"] = _measure(fake, peer.extract_once, fake.url, work)
        run["ours_process"] = _measure(fake, process_once, vendor, fake.url, cell["stores"][0], redis_url, work)
        run["ours_one_process"] = _measure(fake, process_once, vendor, fake.url, cell["stores"][0], redis_url, work,
                                           True)
    ours = run[f"ours_{cell['stores'][0]}"]
    rate = lambda m: m["items"] / m["seconds"] if m["seconds"] else 0.0  # noqa: E731
    run["ratios"] = {"ours/ceiling": rate(ours) / rate(run["ceiling"])}
    if "ceiling_comments" in run:
        run["ratios"]["ours/ceiling+comments"] = rate(ours) / rate(run["ceiling_comments"])
    if "naive" in run:
        run["ratios"]["ours/naive"] = rate(ours) / rate(run["naive"])
    if "ours_rest" in run:
        run["ratios"]["rest/ceiling"] = rate(run["ours_rest"]) / rate(run["ceiling"])
    if "peer" in run and not run["peer"].get("failed"):
        # what a user waits: our job from its start, the tap's whole process lifetime
        run["ratios"]["ours/peer"] = (ours["items"] / ours["user_seconds"]) / rate(run["peer"])
        # both as whole processes: `cli.py run` then a burst `cli.py worker`, start to exit, against the tap's
        run["ratios"]["process/peer"] = rate(run["ours_process"]) / rate(run["peer"])
        # one process, `cli.py run --in-process`, as a script or cron job without a standing worker runs it
        run["ratios"]["one process/peer"] = rate(run["ours_one_process"]) / rate(run["peer"])
    return run


class _sqlite:
    """A throw-away SQLite file for the naive loop."""

    def __init__(self, work: Path):
        self.path = work / f"naive-{time.monotonic_ns()}.db"

    def __enter__(self) -> str:
        return f"sqlite:///{self.path}"

    def __exit__(self, *exc) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def median_of(runs: list[dict]) -> dict:
    """Per measurement and field, the median over runs (ratios too, each taken within its run)."""
    merged: dict = {}
    for key in runs[0]:
        fields = runs[0][key]
        merged[key] = {f: statistics.median(r[key][f] for r in runs) for f in fields
                       if isinstance(fields[f], (int, float)) and all(f in r[key] for r in runs)}
    return merged


def reads(vendor: str, fake: FakeProcess, redis_url: str, work: Path) -> dict:
    """Status-read percentiles and preview time, after one more import into SQLite."""
    from bench.ours import base_env, fresh_store, run_workers, start_job, vendor_env

    with fresh_store("sqlite", work) as store_url:
        env = {**base_env(redis_url, store_url, work), **vendor_env(vendor, fake.url)}
        job_id = start_job(vendor, [PROJECTS[vendor]], env)
        run_workers(env)
        return _module("bench.reads", job_id, vendor, env=env)


def plan(args) -> list[dict]:
    """The cells to run; the slowest combinations are bounded as the README says."""
    cells = []
    for vendor in args.vendors:
        for n in args.sizes:
            for latency in args.latencies:
                big_and_slow = n >= 100_000 and latency > 0
                # GitLab's REST reader: ~57,000 note requests at 100 ms, 25 minutes a run (GraphQL: ~1,000)
                rest = vendor == "gitlab" and (args.full or not big_and_slow)
                # the naive loop sends GitLab's ~5,800 note requests of 10,000 items one by one: 10 minutes
                slow_naive = big_and_slow or (vendor == "gitlab" and n >= 10_000)
                cells.append({"vendor": vendor, "n": n, "latency": latency,
                              "runs": 1 if big_and_slow and not args.full else args.runs,
                              # a plain script's requests, one after another: at 100 ms GitLab's 5,800 take 10 minutes
                              "ceiling_comments": latency == 0,
                              "stores": args.stores, "naive": latency > 0 and (args.full or not slow_naive),
                              "peer": not args.no_peer, "rest": rest})
    return cells


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="N = 1,000 and 5,000 instead of 10,000 and 100,000")
    p.add_argument("--sizes", type=int, nargs="+", help="item counts (default 10000 100000)")
    p.add_argument("--latencies", type=float, nargs="+", default=[0.0, 0.1], help="seconds per request")
    p.add_argument("--vendors", nargs="+", choices=VENDORS, default=list(VENDORS))
    p.add_argument("--stores", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    p.add_argument("--runs", type=int, default=3, help="runs per cell; the table shows medians")
    p.add_argument("--full", action="store_true", help="no bounds on the 100,000-item, 100 ms cells")
    p.add_argument("--no-peer", action="store_true", help="skip the Singer tap")
    p.add_argument("--no-scale", action="store_true", help="skip the 1-vs-2-worker scale-out")
    args = p.parse_args(argv)
    args.sizes = args.sizes or ([1_000, 5_000] if args.quick else [10_000, 100_000])
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    results = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "argv": sys.argv[1:],
               "cells": [], "reads": {}, "scale": None}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench-{results['started'].replace(':', '')}.json"
    with workdir() as tmp, redis_server(Path(tmp)) as redis_url:
        work = Path(tmp)
        cells = plan(args)
        for vendor in args.vendors:
            for n in args.sizes:
                mine = [c for c in cells if c["vendor"] == vendor and c["n"] == n]
                if not mine:
                    continue
                with FakeProcess(vendor, n) as fake:
                    # untimed: the fake renders and caches what both clients ask for, once (bench/warm.py)
                    _module("bench.warm", vendor, fake.url)
                    for cell in mine:
                        fake.set_latency(cell["latency"])
                        started = time.monotonic()
                        runs = [one_run(vendor, fake, cell, redis_url, work) for _ in range(cell["runs"])]
                        cell.update({"median": median_of(runs), "runs_detail": runs,
                                     "cell_seconds": round(time.monotonic() - started, 1)})
                        results["cells"].append(cell)
                        print(f"# {vendor} N={n:,} latency={cell['latency'] * 1000:.0f} ms: "
                              f"{cell['cell_seconds']} s", file=sys.stderr, flush=True)
                        out.write_text(json.dumps(results, indent=1))
                    if n == min(args.sizes):
                        for latency in args.latencies:
                            fake.set_latency(latency)
                            results["reads"][f"{vendor}@{latency * 1000:.0f}ms"] = reads(vendor, fake, redis_url, work)
        if not args.no_scale:
            results["scale"] = scale_out(redis_url, work, runs=args.runs)
    out.write_text(json.dumps(results, indent=1))
    print_table(results)
    if results["scale"]:
        print_scale(results["scale"])
    print(f"\nsaved {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
