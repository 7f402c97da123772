"""Two worker processes share one import of several repositories: exact results, progress adding up.

The speed-up itself (2 workers against 1 at 100 ms a request) is measured and printed by the
benchmark (`python -m bench`, README "Benchmarks"); a timed assertion here would be flaky on a
loaded machine. What must hold on any machine: the import splits into one part per repository,
the parts run at the same time on different workers, and nothing is lost or written twice.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from rq import Worker
from sqlalchemy import func, select

from jobs import api
from store.schema import comments, work_items
from tests.fakes.github import GitHubFake

from .helpers import kill_hard, start_worker, wait_for

REPOS = {"acme/web": 400, "acme/api": 300, "acme/ops": 350, "acme/docs": 250}


@pytest.fixture
def fake():
    # 50 ms a request: a part takes about a second, so both workers find parts to take
    server = GitHubFake(sizes=REPOS, latency=0.05).start()
    yield server
    server.stop()


def _overlap(a: dict, b: dict) -> bool:
    start = lambda p: datetime.fromisoformat(p["started_at"])  # noqa: E731
    end = lambda p: datetime.fromisoformat(p["finished_at"])  # noqa: E731
    return start(a) < end(b) and start(b) < end(a)


def test_two_workers_share_an_import_and_every_count_is_exact(fake, store_backend, engine, redis_client):
    # both workers are up and waiting on the queue before the import starts, so each takes a part at once
    # whatever the machine's speed (a worker starting late could otherwise find every part done)
    workers = [start_worker(burst=False), start_worker(burst=False)]
    try:
        wait_for(lambda: len(Worker.all(connection=redis_client)) == 2, timeout=60)
        job_id = api.start_import("github", list(REPOS), config={"token": fake.token, "api_url": fake.url})
        wait_for(lambda: api.status(job_id)["status"] not in ("queued", "running"), timeout=120, interval=0.1)
    finally:
        for worker in workers:
            kill_hard(worker)

    doc = api.status(job_id)
    truths = {repo: fake.ground_truth(repo) for repo in REPOS}
    assert doc["status"] == "succeeded", doc
    assert len(doc["parts"]) == len(REPOS)
    assert {p["project"]: p["created"] for p in doc["parts"]} == {r: len(t["items"]) for r, t in truths.items()}
    for counter in ("processed", "created", "updated", "skipped", "failed"):
        assert doc[counter] == sum(p[counter] for p in doc["parts"]), counter
    assert doc["created"] == doc["processed"] == sum(len(t["items"]) for t in truths.values())
    assert doc["percentage"] == 100.0

    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(work_items)).scalar() == doc["created"]
        assert conn.execute(select(func.count()).select_from(comments)).scalar() == \
            sum(len(t["comments"]) for t in truths.values())

    with engine.connect() as conn:
        from store.schema import import_parts

        times = [{"started_at": r.started_at.isoformat(), "finished_at": r.finished_at.isoformat()}
                 for r in conn.execute(select(import_parts.c.started_at, import_parts.c.finished_at)
                                       .where(import_parts.c.job_id == job_id))]
    assert any(_overlap(a, b) for i, a in enumerate(times) for b in times[i + 1:]), \
        f"no two parts ran at the same time: {times}"
