"""A worker runs only the import tasks (regression: `Queue("imports", serializer=JSONSerializer).enqueue("os.system",
"id > /tmp/pwned")` ran as the worker's user within seconds). Jobs pushed by whoever can write to Redis are refused
before RQ imports what they name: another function, callbacks, dependencies. Driven by a real worker process."""
from __future__ import annotations

import sys

from rq import Callback, Queue
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from jobs import api
from jobs.queue import queue_name

from .helpers import start_worker


def test_a_worker_refuses_every_function_but_the_import_tasks(redis_client, tmp_path):
    queue = Queue(queue_name(), connection=redis_client, serializer=JSONSerializer)  # the store's "imports-<id>"
    markers = [tmp_path / "func", tmp_path / "dependent"]
    command = f"{sys.executable} -c 'import sys; open(sys.argv[1], \"w\")'"
    named = queue.enqueue("os.system", f"{command} {markers[0]}")
    # our own task, carrying callbacks that run commands after it (it fails: no such import)
    success = queue.enqueue("jobs.tasks.run_part", "nojob", "X", on_success=Callback("os.system"))
    failure = queue.enqueue("jobs.tasks.run_part", "nojob", "X", on_failure=Callback("os.system"))
    first = queue.enqueue("jobs.tasks.run_part", "nojob", "X")
    queue.enqueue("os.system", f"{command} {markers[1]}", depends_on=first)
    job_id = api.start_import("demo", ["ACME"], config={"size": "30"})

    worker = start_worker()
    assert worker.wait(timeout=300) == 0

    assert not any(marker.exists() for marker in markers)
    failed = FailedJobRegistry(queue=queue)
    for job, reason in ((named, "'os.system' is not an import task"), (success, "names callbacks (os.system)"),
                        (failure, "names callbacks (os.system)"), (first, "has dependencies")):
        assert job.id in failed.get_job_ids(), reason
        job.refresh()
        assert job.get_status() == "failed" and reason in job.latest_result().exc_string, job.latest_result()
    assert api.status(job_id)["status"] in ("succeeded", "partial")  # the import the worker was for ran
