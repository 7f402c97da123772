"""The HTTP API's answers as HTTP and an API client expect them, on every route of a kind: a 404 points at the API,
not at the CLI. Driven through the routes the console's server mounts (`restapi.routes()`), with the real store and
Redis; what only the whole server shows (Streamlit's own paths) is in tests/e2e/test_http_api.py.
"""
from __future__ import annotations

import json

import pytest

from tests.helpers import asgi_call, asgi_post

UNKNOWN_JOB = "0000000000000000"


@pytest.fixture
def token(engine) -> str:
    from store import api_tokens

    return api_tokens.create(engine, "routes", created_by="alice")


def error_of(answer: tuple[int, dict[str, str], bytes]) -> tuple[int, str]:
    status, headers, body = answer
    assert headers["content-type"] == "application/json", (status, headers, body)
    document = json.loads(body)
    assert set(document) == {"error", "detail"} and "Traceback" not in document["error"], document
    return status, document["error"]


def test_a_404_for_an_unknown_job_or_schedule_points_at_the_api_not_the_cli(token):
    # review: the 404 for an unknown job id said "list them with `python cli.py jobs`" to an API client
    listed = "list them with GET /import/jobs"
    for method, path, said in [
        ("GET", f"/import/status/{UNKNOWN_JOB}", f"no import job '{UNKNOWN_JOB}': {listed}"),
        ("GET", f"/import/jobs/{UNKNOWN_JOB}/failures.csv", f"no import job '{UNKNOWN_JOB}': {listed}"),
        *[("POST", f"/import/jobs/{UNKNOWN_JOB}/{action}", f"no import job '{UNKNOWN_JOB}': {listed}")
          for action in ("cancel", "retry", "undo")],
        ("POST", "/import/schedules/nosuchid/stop", f"there is no scheduled re-run 'nosuchid': {listed}"),
        ("POST", f"/import/schedules/{UNKNOWN_JOB}/stop",
         f"'{UNKNOWN_JOB}' is an import job's id, not a schedule's: POST /import/jobs/{UNKNOWN_JOB}/cancel stops "
         "a job"),
    ]:
        assert error_of(asgi_call(method, path, token)) == (404, said), path


def test_a_400_lists_every_field_to_fix_not_only_the_first(token):
    # review: with several required settings missing `detail.field` named only the first (the message named all)
    for path, body, fields, said in [
        ("/import/servicenow/preview", {}, ["config.instance", "config.username", "config.password"],
         "give config.instance, config.username and config.password"),
        ("/import/jira/execute", {"projects": ["ACME"]}, ["config.base_url", "config.api_token"],
         "give config.base_url and config.api_token"),
        ("/import/jira/preview", {"config": {"base_ur": "https://acme.test", "api_tokn": "x"}},
         ["config.base_ur", "config.api_tokn"], "JIRA has no settings 'base_ur', 'api_tokn'"),
        ("/import/demo/execute", {"projects": ["OPS"], "since": "x"}, ["since"], "since 'x'"),
    ]:
        status, answer = asgi_post(path, body, token)
        assert status == 400 and said in answer["error"], (path, answer)
        assert answer["detail"] == {"kind": "config", "field": fields[0], "fields": fields}, (path, answer)
