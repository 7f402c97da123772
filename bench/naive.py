"""The naive baseline: fetch a page, then write it, then fetch the next, one request at a time.

It is our own connector and writer with nothing overlapped: the connectors' thread pools are
replaced by an executor that runs each submitted request at once in the calling thread, and
each page is written and committed before the next request goes out. It makes the same
requests as our import, so the difference between the two is the overlap alone.

Run as `python -m bench.naive VENDOR URL DATABASE_URL`; prints one JSON line.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import resource
import sys
import time
from concurrent.futures import Future


class InlineExecutor:
    """A stand-in for ThreadPoolExecutor that runs every call immediately, in the caller's thread."""

    def __init__(self, *args, **kwargs):
        pass

    def submit(self, fn, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to whoever reads the future, as a pool would
            future.set_exception(exc)
        return future

    def map(self, fn, *iterables):
        return [fn(*args) for args in zip(*iterables, strict=True)]

    def shutdown(self, *args, **kwargs) -> None:
        pass


def _inline_pools() -> list[str]:
    """Every connector module that makes a thread pool gets the inline executor instead; all of them are
    imported first, so a pool in a module loaded lazily (GitHub's comment windows) is not missed. The
    modules changed, by name."""
    import importers

    changed = []
    for found in pkgutil.walk_packages(importers.__path__, "importers."):
        module = importlib.import_module(found.name)
        if getattr(module, "ThreadPoolExecutor", None) is not None:
            module.ThreadPoolExecutor = InlineExecutor
            changed.append(found.name)
    return changed


def main(vendor: str, url: str, store_url: str) -> dict:
    from bench.fakes import PROJECTS, source_config
    from importers import make_source
    from store.db import engine_for
    from store.writer import upsert_project, write_batch

    _inline_pools()
    project = PROJECTS[vendor]
    engine = engine_for(store_url)
    started = time.perf_counter()
    source = make_source(vendor, source_config(vendor, url))
    items = comments = 0
    with engine.begin() as conn:
        upsert_project(conn, source.project(project), "naive")
    for page in source.read(project):
        with engine.begin() as conn:
            result = write_batch(conn, [page], source=vendor, job_id="naive")
        items += result.created
        comments += result.comments_written
    source.close()
    return {"items": items, "comments": comments, "seconds": time.perf_counter() - started,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
