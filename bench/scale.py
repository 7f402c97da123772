"""Scale-out: one import of several repositories, finished by 1 worker and then by 2.

An import splits into one RQ job per project, so two workers share it. GitHub fake, 100 ms a
request, 4 repositories of 2,500 issues each; the same import into a fresh SQLite store with
1 and with 2 burst workers started at once. The speed-up is taken within each run.
"""
from __future__ import annotations

import statistics
from pathlib import Path

from bench.fakes import FakeProcess, github_repos
from bench.ours import base_env, elapsed, fresh_store, job_status, run_workers, start_job, vendor_env

REPOS, ISSUES, LATENCY = 4, 2_500, 0.1


def _import(fake: FakeProcess, redis_url: str, work: Path, workers: int) -> dict:
    with fresh_store("sqlite", work) as store_url:
        env = {**base_env(redis_url, store_url, work), **vendor_env("github", fake.url)}
        job_id = start_job("github", github_repos(REPOS), env)
        fake.reset()
        wall, rss = run_workers(env, workers)
        doc = job_status(job_id, env)
    parts_add_up = all(doc[c] == sum(p[c] for p in doc["parts"]) for c in ("processed", "created", "failed"))
    return {"seconds": elapsed(doc), "wall_seconds": wall, "items": doc["created"], "rss_mb": rss,
            "requests": fake.requests(), "parts": len(doc["parts"]), "parts_add_up": parts_add_up}


def scale_out(redis_url: str, work: Path, runs: int = 3) -> dict:
    detail = []
    with FakeProcess("github", ISSUES, LATENCY, projects=REPOS) as fake:
        for _ in range(runs):
            one, two = _import(fake, redis_url, work, 1), _import(fake, redis_url, work, 2)
            detail.append({"1 worker": one, "2 workers": two, "speedup": one["seconds"] / two["seconds"]})
    return {"repos": REPOS, "issues_per_repo": ISSUES, "latency": LATENCY, "runs": detail,
            "speedup": statistics.median(r["speedup"] for r in detail)}
