"""The HTTP API's published shapes hold every document the product writes (restapi/models.py)."""
from __future__ import annotations

from jsonschema import Draft202012Validator

from restapi.models import Progress


def test_a_running_job_whose_total_is_unknown_conforms_to_the_published_progress_schema():
    # regression: jobs/progress.py writes `percentage: null` while a running job's total is unknown (no
    # 0 % or 99.9 % guessed), but the schema said number: a client validating GET /import/status saw its
    # answer refused (caught by tests/e2e/test_http_api.py when it polled at that moment)
    schema = Progress.model_json_schema()
    percentage = {**schema["properties"]["percentage"], "$defs": schema.get("$defs", {})}
    Draft202012Validator(percentage).validate(None)
    Draft202012Validator(percentage).validate(42.5)
    assert not Draft202012Validator(percentage).is_valid("42")
    assert "unknown" in schema["properties"]["percentage"]["description"]
