"""The progress view draws its throughput chart only once there is a rate to draw.

The review found an empty box where the chart would be while an import waited for a worker: three samples of 0
items a second drew a flat line at "0.000000" and nothing else.
"""
import time

from jobs import api
from tests.test_ui_pages import _running, page


def samples(rates: list[float]) -> list[dict]:
    """What the page kept of its last reads: one a second, at these rates."""
    now = time.time()
    return [{"t": now - len(rates) + n, "processed": 0, "rate": r} for n, r in enumerate(rates)]


def test_no_chart_while_nothing_was_read_then_the_chart():
    job_id = api.start_import("demo", ["ACME"], config={"size": "10"})  # queued: no worker runs in this test
    at = page("pages/progress.py", job=job_id)
    at.session_state[f"samples_{job_id}"] = samples([0.0, 0.0, 0.0])
    at.run()
    assert not at.get("vega_lite_chart")
    assert "The throughput chart fills in once items are read." in [str(c.value) for c in at.caption]
    _running(job_id, processed=4)
    at.session_state[f"samples_{job_id}"] = samples([0.0, 2.0, 2.0])
    at.run()
    assert len(at.get("vega_lite_chart")) == 1


def test_items_read_and_no_chart_yet_says_it_waits_for_refreshes_not_for_items():
    """20 of 50 read, one sample: the caption said "fills in once items are read" beside them."""
    job_id = api.start_import("demo", ["ACME"], config={"size": "50"})
    _running(job_id, processed=20, created=20, total=50)
    at = page("pages/progress.py", job=job_id)
    captions = [str(c.value) for c in at.caption]
    assert not at.get("vega_lite_chart")
    assert "The throughput chart fills in once items are read." not in captions
    assert any(c.startswith("The throughput chart fills in after a few refreshes") for c in captions)
