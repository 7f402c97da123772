"""`cli.py status ID` says which import the job is, as the Jobs page names it.

Review: `status` printed a bar and a state only, so a user with several jobs could not tell which one it was."""
import json

from jobs import api
from tests.test_ui_pages import page


def test_status_names_the_source_the_projects_and_the_start_in_utc(cli):
    job_id = api.start_import("demo", ["ACME", "OPS"], config={"size": "10"})
    doc = api.status(job_id)
    first = cli("status", job_id).stdout.splitlines()[0]
    started = doc["created_at"][:19].replace("T", " ")
    assert first == f"{started} UTC · Demo / ACME, OPS", first
    jobs = page("pages/jobs.py")  # the Jobs page's name of it: the same time, source and projects
    assert any(f"{started} · Demo / ACME, OPS" in str(v) for df in jobs.dataframe for v in df.value.to_numpy().ravel())
    assert json.loads(cli("status", job_id, "--json").stdout) == api.status(job_id)  # --json unchanged
