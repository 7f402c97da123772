"""Two installs on one Redis (a `./start.sh` checkout and an installed `acgs2-import` in another folder, both on
the default redis://127.0.0.1:6379/0) keep to their own jobs; every process of one store shares one queue.

Regression: both used the queue `imports`, so the console's worker (store A) took the other install's jobs,
answered "not claimed" (the job is not in its store) and the other `run --wait` showed [queued] forever.
"""
from __future__ import annotations

from jobs import api, queue
from store.db import dispose_all


def test_a_worker_of_another_store_leaves_the_job_alone_and_this_stores_worker_runs_it(
        monkeypatch, tmp_path, run_worker):
    store_a, store_b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    monkeypatch.setenv("DATABASE_URL", store_b)
    job_id = api.start_import("demo", ["ACME"], config={"size": "30"})

    monkeypatch.setenv("DATABASE_URL", store_a)  # the other install's worker, on the same Redis
    run_worker()

    monkeypatch.setenv("DATABASE_URL", store_b)
    assert api.status(job_id)["status"] == "queued"  # untouched: still waiting for a worker of its store
    assert queue.import_queue().count == 1
    run_worker()
    doc = api.status(job_id)
    assert doc["status"] in ("succeeded", "partial") and doc["processed"] == 30, doc


def test_every_process_of_one_store_shares_its_queue_whatever_it_calls_the_database(postgres_url, tmp_path,
                                                                                      monkeypatch):
    # workers on other machines reach one PostgreSQL by other host names: the id is kept in the store itself
    by_address = queue.queue_name()
    elsewhere = postgres_url.replace("@127.0.0.1:", "@localhost:")
    assert elsewhere != postgres_url
    monkeypatch.setenv("DATABASE_URL", elsewhere)
    assert queue.queue_name() == by_address
    dispose_all()  # a process started later (a restarted worker) reads the same id
    assert queue.queue_name() == by_address
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")  # another install
    assert queue.queue_name() != by_address
    assert queue.queue_name().startswith("imports-")


def test_without_redis_url_the_cli_asks_the_local_redis_with_the_password_start_sh_keeps(monkeypatch):
    """./start.sh keeps REDIS_PASSWORD in .env for the Redis it starts; a CLI beside it (which reads .env) must
    send it, or every command fails with 'cannot reach Redis'. Any character of the password survives."""
    import redis

    from jobs import queue

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("REDIS_PASSWORD", "p@ss/w:rd#1")
    kwargs = redis.Redis.from_url(queue.redis_url()).connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == ("127.0.0.1", 6379, 0, "p@ss/w:rd#1")
    assert "p@ss" not in queue.shown_redis_url()
    monkeypatch.delenv("REDIS_PASSWORD")
    assert redis.Redis.from_url(queue.redis_url()).connection_pool.connection_kwargs.get("password") is None
