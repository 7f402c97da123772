"""`python -m bench.catchup`: what a catch-up run costs next to a full import (issue 12).

For each vendor and N: a full import into a fresh SQLite store, then the default catch-up run
(incremental from that import, duplicates update, deletions mark: the read of what changed, the id
listing, the comment re-check where the source has one) with nothing changed at the source, then
1% of the items edited and a catch-up run again. Each row: the requests the vendor's fake counted
and the job's seconds (its part's start to its end, on a standing worker as `start.sh` runs one).
The fakes run in processes of their own, as in `python -m bench`; the raw figures go to
bench/results/catchup-<time>.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench.fakes import PROJECTS, VENDORS, FakeProcess
from bench.ours import (
    base_env,
    elapsed,
    fresh_store,
    job_status,
    redis_server,
    standing_worker,
    start_job,
    vendor_env,
    wait_finished,
    workdir,
)

RESULTS = Path(__file__).resolve().parent / "results"
RUNS = ("full import", "catch-up, no change", "catch-up, 1% changed")


def _run(fake: FakeProcess, env: dict[str, str], redis_url: str, full: bool) -> dict:
    fake.reset()
    with standing_worker(env):
        job_id = start_job(fake.vendor, [PROJECTS[fake.vendor]], env, full=full)
        wait_finished(job_id, redis_url)
    doc = job_status(job_id, env)
    if doc["status"] not in ("succeeded", "partial"):
        what = "full import" if full else "catch-up"
        raise RuntimeError(f"{fake.vendor} {what} ended {doc['status']}: {doc['error']}")
    return {"requests": fake.requests(), "seconds": round(elapsed(doc), 2), "processed": doc["processed"],
            "updated": doc["updated"], "deleted_items": doc["deleted_items"]}


def measure(vendor: str, n: int, redis_url: str, work: Path) -> dict:
    """The three runs of one vendor and size, into one store."""
    with FakeProcess(vendor, n) as fake, fresh_store("sqlite", work) as store_url:
        env = {**base_env(redis_url, store_url, work), **vendor_env(vendor, fake.url)}
        full = _run(fake, env, redis_url, full=True)
        quiet = _run(fake, env, redis_url, full=False)
        edited = fake.touch(max(n // 100, 1))
        changed = {**_run(fake, env, redis_url, full=False), "edited": edited}
    return {"vendor": vendor, "n": n, "runs": dict(zip(RUNS, (full, quiet, changed), strict=True))}


def print_rows(rows: list[dict]) -> None:
    print("| vendor | items | full import | catch-up, no change | catch-up, 1% changed |")
    print("|---|---|---|---|---|")
    for row in rows:
        cells = [f"{r['seconds']:.1f} s, {r['requests']:,} req" for r in row["runs"].values()]
        print(f"| {row['vendor']} | {row['n']:,} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.catchup", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--vendors", nargs="+", choices=VENDORS, default=list(VENDORS))
    args = p.parse_args(argv)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"catchup-{started.replace(':', '')}.json"
    rows: list[dict] = []
    with workdir() as tmp, redis_server(Path(tmp)) as redis_url:
        for n in args.sizes:
            for vendor in args.vendors:
                rows.append(measure(vendor, n, redis_url, Path(tmp)))
                print(f"# {vendor} N={n:,}: {json.dumps(rows[-1]['runs'])}", file=sys.stderr, flush=True)
                out.write_text(json.dumps({"started": started, "rows": rows}, indent=1))
    print_rows(rows)
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
