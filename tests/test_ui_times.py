"""One way to write a time on every page: "2026-12-01 01:19" in UTC (":SS" for an import's start), the zone said once
(after the time in a sentence, in a table's header, in a chart's axis title).

The review found "01 Dec 01:19:49" on the Jobs page beside "2026-12-02 01:21" under it, the Workspace's "updated"
as a bare date, and the progress chart's axis in the browser's own zone while the tables said UTC.
"""
import json
import re
import time

from console import components
from jobs import api
from tests.test_ui_pages import _running, page

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d"


def test_jobs_progress_and_start_name_an_import_by_its_utc_start(run_import):
    doc = run_import("demo", ["ACME"], config={"size": "10"})
    name = components.job_name(api.status(doc["job_id"]))
    assert re.fullmatch(rf"Demo / ACME · {STAMP}:\d\d UTC", name), name
    jobs = page("pages/jobs.py").dataframe[0]
    assert re.fullmatch(rf"{STAMP}:\d\d · Demo / ACME", jobs.value["import"][0])
    assert json.loads(jobs.proto.columns)["import"]["label"] == "import (UTC)"
    progress = page("pages/progress.py", job=doc["job_id"])
    assert f"**{name}**" in [str(m.value) for m in progress.markdown]
    assert f"Last run: {name}" in [str(t.value) for t in page("pages/start.py").text]


def test_every_table_time_is_minutes_in_utc_with_the_zone_in_its_header(run_import):
    run_import("demo", ["ACME"], config={"size": "10"})
    workspace = page("pages/workspace.py")
    updated = json.loads(workspace.dataframe[0].proto.columns)["updated_at"]
    assert updated["label"] == "updated (UTC)"
    assert updated["type_config"]["format"] == components.TABLE_STAMP == "YYYY-MM-DD HH:mm"
    assert updated["type_config"]["timezone"] == "UTC"
    workspace.segmented_control(key="view").set_value("Per project").run()
    columns = json.loads(workspace.dataframe[0].proto.columns)
    for name in ("newest update", "last import"):
        assert columns[name]["label"] == f"{name} (UTC)"
        assert columns[name]["type_config"]["format"] == components.TABLE_STAMP


def test_the_throughput_chart_draws_its_times_in_utc():
    job_id = api.start_import("demo", ["ACME"], config={"size": "10"})
    _running(job_id, processed=5)
    at = page("pages/progress.py", job=job_id)
    now = time.time()
    at.session_state[f"samples_{job_id}"] = [{"t": now - 3 + n, "processed": n * 2, "rate": 2.0} for n in range(3)]
    at.run()
    [chart] = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    x = spec["encoding"]["x"]
    assert x["scale"]["type"] == "utc" and x["title"] == "UTC"  # Vega drew the browser's own zone
    tip = next(t for t in spec["encoding"]["tooltip"] if t["field"] == "time")
    assert tip["formatType"] == "utc"
