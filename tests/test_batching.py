"""Regression: comment-only pages (GitHub lists comments repo-wide) are committed in bounded
batches with checkpoints, not held in memory until the end of the read."""
from sqlalchemy import select

from importers.base import Source
from importers.model import Comment, Page, Project, Status, WorkItem
from jobs.runner import COMMENTS_PER_ITEM, PartRun, PartRunner
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
