"""A write to Redis cannot run code in a worker (issue 11, finding 7): our RQ jobs are JSON, and a pickle
pushed into the queue, by an attacker or by an older release, is never unpickled."""
from __future__ import annotations

import pickle
import zlib
from datetime import timedelta

from rq import Queue
from sqlalchemy import update

from jobs import api, queue
from store.jobs import now
from store.schema import import_jobs


class _Payload:
    """A pickle that, when loaded, creates a file: what an attacker's job would do with more harm."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, "w")


def _push_pickled_job(redis_client, data: bytes) -> str:
    """A job in the store's queue whose payload is `data`, pickled the way RQ's default serializer writes."""
    job = Queue(queue.queue_name(), connection=redis_client).enqueue("jobs.tasks.run_part", "nobody", "nothing")
    redis_client.hset(f"rq:job:{job.id}", "data", zlib.compress(data))
    return job.id


def test_a_pickle_pushed_into_the_queue_does_not_run(redis_client, run_worker, tmp_path):
    marker = tmp_path / "pwned"
    _push_pickled_job(redis_client, pickle.dumps(_Payload(str(marker))))
    meta_job = _push_pickled_job(redis_client, pickle.dumps("nothing"))
    redis_client.hset(f"rq:job:{meta_job}", "meta", pickle.dumps(_Payload(str(marker))))  # in its meta too

    run_worker()

    assert not marker.exists()
    job_id = api.start_import("demo", ["ACME"], config={"size": "30"})  # the worker still works
    run_worker()
    assert api.status(job_id)["status"] in ("succeeded", "partial")


def test_a_part_pickled_by_an_older_release_is_resumed_as_json(redis_client, run_worker, engine):
    """Upgrade: a queued part whose RQ job an older release pickled fails to load (never unpickled); the
    workers' maintenance re-enqueues the part as JSON and the import completes."""
    job_id = api.start_import("demo", ["ACME"], config={"size": "30"})
    (key,) = [k for k in redis_client.scan_iter("rq:job:imp-*")]
    old_payload = pickle.dumps(("jobs.tasks.run_part", None, (job_id, "ACME"), {}), protocol=pickle.HIGHEST_PROTOCOL)
    redis_client.hset(key, "data", zlib.compress(old_payload))
    with engine.begin() as conn:  # queued before the upgrade
        conn.execute(update(import_jobs).where(import_jobs.c.id == job_id)
                     .values(created_at=now() - timedelta(hours=1)))

    run_worker()  # the pickled job fails to load; nothing of it runs
    run_worker()  # maintenance finds the part without a live RQ job and enqueues it again, as JSON

    doc = api.status(job_id)
    assert doc["status"] in ("succeeded", "partial") and doc["processed"] == 30
