"""The HTTP API's answers as HTTP and an API client expect them, on every route of a kind: a 404 points at the API,
not at the CLI. Driven through the routes the console's server mounts (`restapi.routes()`), with the real store and
Redis; what only the whole server shows (Streamlit's own paths) is in tests/e2e/test_http_api.py.
"""
from __future__ import annotations

import json

import pytest

from jobs import api
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


def _on(template: str, tool: str, job_id: str, schedule_id: str) -> str:
    return template.replace("{tool}", tool).replace("{job_id}", job_id).replace("{schedule_id}", schedule_id)


def _methods() -> dict[str, set[str]]:
    """Every API path (as the OpenAPI document lists it) -> the methods it takes."""
    import restapi

    return {path: {m.upper() for m in operations} for path, operations in restapi.app.openapi()["paths"].items()}


def test_every_route_answers_another_method_with_405_and_allow_or_404_for_what_it_names(token):
    # review: GET /import/nosuchtool/preview said 405, as if the tool were there; a 405 must carry Allow
    job_id = api.start_import("demo", ["OPS"], config={"size": "5"})
    schedule_id = api.schedule("demo", ["OPS"], 6, actor="api:routes")
    unknown = {"nosuchtool": "no tool 'nosuchtool'", UNKNOWN_JOB: f"no import job '{UNKNOWN_JOB}'",
               "nosuchid": "no scheduled re-run 'nosuchid'"}
    for template, taken in _methods().items():
        allowed = ", ".join(sorted(taken | ({"HEAD"} if "GET" in taken else set())))
        for method in sorted({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} - set(allowed.split(", "))):
            path = _on(template, "demo", job_id, schedule_id)
            status, headers, body = asgi_call(method, path, token)
            assert (status, headers.get("allow")) == (405, allowed), (method, path, body)
            assert asgi_call(method, path, None)[0] == 401  # the token first, as on the path's own methods
            if method == "HEAD":
                continue  # (its answer has no body to read)
            assert f"{method} is not allowed on {path}: it takes " in error_of((status, headers, body))[1]
            if "{" in template:
                path = _on(template, "nosuchtool", UNKNOWN_JOB, "nosuchid")
                status, error = error_of(asgi_call(method, path, token))
                assert status == 404 and any(said in error for said in unknown.values()), (method, path, error)


def test_head_answers_every_get_route_as_get_without_a_body(token):
    # review: HEAD on GET routes answered 405 (RFC 9110 9.3.2: HEAD is GET without the body)
    job_id = api.start_import("demo", ["OPS"], config={"size": "5"})
    gets = [template for template, taken in _methods().items() if "GET" in taken]
    assert len(gets) == 5, gets
    for template in gets:
        for path in (_on(template, "demo", job_id, ""), _on(template, "demo", UNKNOWN_JOB, "")):
            got, got_headers, got_body = asgi_call("GET", path, token)
            status, headers, body = asgi_call("HEAD", path, token)
            assert (status, body) == (got, b""), (path, status, body)
            assert headers == got_headers and int(headers["content-length"]) == len(got_body), path


def test_a_path_in_another_case_is_the_apis_404_naming_the_route_meant(token):
    # review: GET /import/Tools answered the console's HTML page (a 200), not the API's JSON 404
    job = UNKNOWN_JOB
    for method, path, meant in [
        ("GET", "/import/Tools", "GET /import/tools"), ("GET", "/IMPORT/TOOLS", "GET /import/tools"),
        ("GET", "/import/tools/", "GET /import/tools"), ("GET", "/import/Jobs", "GET /import/jobs"),
        ("GET", f"/import/Status/{job}", f"GET /import/status/{job}"),
        ("POST", f"/import/Jobs/{job}/Undo", f"POST /import/jobs/{job}/undo"),
        ("GET", f"/import/jobs/{job}/Failures.CSV", f"GET /import/jobs/{job}/failures.csv"),
        ("POST", "/import/Schedules/abc/stop", "POST /import/schedules/abc/stop"),
        ("GET", "/import/OpenAPI.json", "GET /import/openapi.json"),
        ("POST", "/import/JIRA/preview", "POST /import/jira/preview"),
        ("GET", "/import/Demo/Execute", "POST /import/demo/execute"),
    ]:
        status, error = error_of(asgi_call(method, path, token))
        assert status == 404 and f"did you mean {meant}?" in error, (method, path, error)


def test_a_request_without_a_valid_token_is_refused_before_its_body_is_judged(token):
    # attacker review: an unauthenticated POST with a broken body got a 400 about its JSON, not a 401
    for given in (None, "not-a-token"):
        for body in (b"{not json", b'{"projects": 5}'):
            status, _, answer = asgi_call("POST", "/import/demo/execute", given, body)
            assert status == 401 and json.loads(answer)["error"].startswith(("no API token", "this API token")), \
                answer
    status, _, answer = asgi_call("POST", "/import/demo/execute", token, b"{not json")
    assert status == 400 and json.loads(answer)["error"].startswith("the request body is not valid JSON"), answer
