"""Regression: comment-only pages (GitHub lists comments repo-wide) are committed in bounded
batches with checkpoints, not held in memory until the end of the read."""
import queue

import pytest
from sqlalchemy import select

from importers.base import Source
from importers.model import Comment, Page, Project, Status, WorkItem
from jobs.runner import COMMENTS_PER_ITEM, PartRun, PartRunner, ReadAhead
from store import jobs as job_store
from store.schema import import_parts

T0 = "2025-01-01T00:00:00+00:00"


class TwoPhaseSource(Source):
    """Items first, then pages carrying only comments, the way the GitHub connector reads."""

    name, label = "demo", "Two-phase"

    def check(self):
        return "test"

    def projects(self):
        return [Project(source="demo", key="P", name="P")]

    def estimate(self, project, since=None):
        return 100

    def read(self, project, cursor=None, since=None):
        start = (cursor or {}).get("page", 0)
        pages = [Page(items=[WorkItem(source="demo", external_id=f"i{n}", key=f"P-{n}", project="P", title=f"t{n}",
                                      status=Status.TODO, created_at=T0, updated_at=T0) for n in range(100)],
                      cursor={"page": 1})]
        for page_no in range(1, 21):  # 20 pages x 100 comments
            pages.append(Page(comments=[Comment(source="demo", external_id=f"c{page_no}-{n}", item_external_id=f"i{n}",
                                                body="x", created_at=T0) for n in range(100)],
                              cursor={"page": page_no + 1}))
        yield from pages[start:]


def test_comment_pages_are_committed_in_bounded_batches(engine):
    job_id = job_store.create_job(engine, source="demo", projects=["P"], options={}, credential_id=None,
                                  requested_by="test")
    assert job_store.claim_part(engine, job_id, "P", "lease", 60)
    commits: list[dict] = []

    def publish():
        with engine.connect() as conn:
            commits.append(conn.execute(select(import_parts.c.cursor).where(import_parts.c.job_id == job_id)).scalar())

    run = PartRun(job_id=job_id, project="P", lease="lease", source_name="demo", batch_size=100)
    status = PartRunner(engine, TwoPhaseSource(), run, publish, lambda: False).execute()

    assert status.value == "succeeded"
    checkpoints = sorted({c["page"] for c in commits if c})  # the heartbeat may publish a checkpoint twice
    # the item page, then a commit every COMMENTS_PER_ITEM x 100 comments: not one giant batch at the end
    assert checkpoints == [1] + list(range(1 + COMMENTS_PER_ITEM, 21, COMMENTS_PER_ITEM)) + [21]


def _page(items: int = 0, comments: int = 0, body: str = "x") -> Page:
    return Page(items=[WorkItem(source="demo", external_id=f"i{n}", key=f"P-{n}", project="P", title="t",
                                status=Status.TODO, created_at=T0, updated_at=T0) for n in range(items)],
                comments=[Comment(source="demo", external_id=f"c{n}", item_external_id="i0", body=body, created_at=T0)
                          for n in range(comments)])


def _held(buffer: ReadAhead, page: Page) -> int:
    """Pages put into `buffer` before it refuses the next one (queue.Full, as a full queue.Queue)."""
    held = 0
    while True:
        try:
            buffer.put(page, timeout=0.01)
        except queue.Full:
            return held
        held += 1


def test_small_pages_are_read_ahead_by_batches_large_ones_by_three_pages():
    """The reader keeps going while the writer writes a batch of small pages (100 GitHub issues a page:
    three pages were less than one batch, so reader and writer took turns), and stays at three large
    pages (1,000 ServiceNow tickets a page): memory stays bounded either way."""
    def buffer() -> ReadAhead:
        return ReadAhead(pages=3, weight=2000, text=8_000_000)

    assert _held(buffer(), _page(items=100)) == 20
    assert _held(buffer(), _page(comments=100)) == 80  # a comment weighs a quarter
    assert _held(buffer(), _page(items=1000)) == 3
    assert _held(buffer(), _page()) == 2000  # empty pages weigh one: still bounded


def test_pages_of_long_bodies_are_read_ahead_by_their_text():
    """Bots' comments of 64 KB (CI logs, coverage reports; GitHub's largest) are few a batch by weight but
    much memory: 80 such pages would hold 500 MB. The text bound keeps them to what 8 M characters allow,
    and never fewer than three pages."""
    assert _held(ReadAhead(pages=3, weight=2000, text=8_000_000), _page(comments=100, body="y" * 10_000)) == 8
    assert _held(ReadAhead(pages=3, weight=2000, text=8_000_000), _page(comments=100, body="y" * 65_536)) == 3


def test_the_read_ahead_takes_pages_again_once_the_writer_took_one():
    buffer = ReadAhead(pages=3, weight=10, text=8_000_000)
    first = _page(items=10)
    assert _held(buffer, first) == 3
    assert buffer.get(timeout=0.01) is first
    buffer.put(_page(items=10), timeout=0.01)
    with pytest.raises(queue.Full):
        buffer.put(_page(items=10), timeout=0.01)
    for _ in range(3):
        buffer.get(timeout=0.01)
    with pytest.raises(queue.Empty):
        buffer.get(timeout=0.01)
