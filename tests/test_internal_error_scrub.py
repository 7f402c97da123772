"""An unexpected failure (not a SourceError: a bug, a library's own exception) is stored on the part as "internal
error (Type): text", shown by the progress page, `cli.py status` and the HTTP API. Its text may quote a vendor's
answer or our own request, so the source's secrets are taken out of it, as they are from every SourceError
(importers/redact.py); the review found only SourceErrors scrubbed."""
from importers.base import Setting, Source
from importers.model import Project
from importers.redact import REDACTED
from jobs.runner import PartRun, PartRunner
from store import jobs as job_store

TOKEN = "tok-3f9a-very-secret"


class BreaksOnRead(Source):
    """A source whose read fails with an exception no connector means to raise, quoting the token it was given."""

    name, label = "demo", "Breaks on read"
    settings = (Setting("token", "Token", "BREAKS_ON_READ_TOKEN", secret=True),)

    def check(self):
        return "test"

    def projects(self):
        return [Project(source="demo", key="P", name="P")]

    def estimate(self, project, since=None):
        return 1

    def read(self, project, cursor=None, since=None):
        raise KeyError(f"no field 'fields' in the answer to GET /issues?token={TOKEN}")
        yield  # a generator, as every source's read


def test_an_unexpected_failure_is_stored_without_the_sources_secrets(engine):
    job_id = job_store.create_job(engine, source="demo", projects=["P"], options={}, credential_id=None,
                                  requested_by="test")
    assert job_store.claim_part(engine, job_id, "P", "lease", 60)
    run = PartRun(job_id=job_id, project="P", lease="lease", source_name="demo", batch_size=10)
    status = PartRunner(engine, BreaksOnRead({"token": TOKEN}), run, lambda: None, lambda: False).execute()

    assert status.value == "failed"
    with engine.connect() as conn:
        error = job_store.get_part(conn, job_id, "P").error
    assert error.startswith("internal error (KeyError): ") and f"token={REDACTED}" in error, error
    assert TOKEN not in error
