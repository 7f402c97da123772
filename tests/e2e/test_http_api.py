"""The HTTP API against the real server: `streamlit run console/server.py` as ./start.sh starts it, with one
`cli.py worker`, the fake JIRA on 127.0.0.1, `requests` as the client and tokens made by `cli.py api-token`.

One server serves the whole module (starting Streamlit costs seconds); it has its own SQLite file and its
own Redis database, so the per-test flush of database 0 (tests/conftest.py) never touches it.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.conftest import TEST_KEY, VENDOR_ENV_PREFIXES
from tests.e2e.conftest import ROOT, Console, _free_port, _stop
from tests.e2e.test_browser_flows import fill, metric, select_first_row, texts_once_shown
from tests.fakes.jira import CLOUD_AUTH
from tests.fakes.server import Response
from tests.helpers import wait_for

pytestmark = pytest.mark.timeout(900)
ENDPOINTS = {("get", "/import/tools"), ("post", "/import/{tool}/preview"), ("post", "/import/{tool}/execute"),
             ("get", "/import/status/{job_id}"), ("get", "/import/jobs"), ("post", "/import/jobs/{job_id}/cancel"),
             ("post", "/import/jobs/{job_id}/retry"), ("post", "/import/jobs/{job_id}/undo"),
             ("get", "/import/jobs/{job_id}/failures.csv"), ("post", "/import/schedules/{schedule_id}/stop"),
             ("get", "/import/openapi.json")}


@dataclass
class Server:
    url: str
    env: dict[str, str]
    work: Path
    token: str  # made by `cli.py api-token create tester`

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=60)

    def call(self, method: str, path: str, token: str | None = None, headers: dict | None = None,
             **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token}", **(headers or {})}
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.work.glob("*.log")))

    def audit(self) -> list[dict]:
        return [json.loads(line) for line in (self.work / "audit.jsonl").read_text().splitlines()]

    def wait_until_finished(self, job_id: str) -> dict:
        def finished() -> dict | None:
            doc = self.call("GET", f"/import/status/{job_id}").json()
            return doc if doc["status"] not in ("queued", "running") else None

        return wait_for(finished, timeout=90, interval=0.2)


@pytest.fixture(scope="module")
def server(tmp_path_factory, redis_server):
    work = tmp_path_factory.mktemp("http-api")
    env = {k: v for k, v in os.environ.items() if not k.startswith(VENDOR_ENV_PREFIXES)}
    env.update(ACGS2_NO_DOTENV="1", ALLOW_LOOPBACK_URLS="1", IMPORT_RETRY_BASE_SECONDS="0.01", PYTHONUNBUFFERED="1",
               CREDENTIAL_ENCRYPTION_KEY=TEST_KEY, AUDIT_LOG_PATH=str(work / "audit.jsonl"),
               DATABASE_URL=f"sqlite:///{work / 'workspace.db'}", REDIS_URL=f"redis://127.0.0.1:{redis_server.port}/7",
               CONSOLE_OPEN_DEMO="1", USER="tester-shell", DEMO_INVALID_ITEMS="3", IMPORT_PREVIEW_SECONDS="60")
    port = _free_port()
    commands = {  # as scripts/start.sh runs them
        "worker": [sys.executable, "cli.py", "worker"],
        "console": [str(Path(sys.executable).parent / "streamlit"), "run", "console/server.py", "--server.port",
                    str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
    }
    procs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=(work / f"{name}.log").open("w"),
                              stderr=subprocess.STDOUT, start_new_session=True) for name, command in commands.items()]
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if any(p.poll() is not None for p in procs):
            raise AssertionError("the console or the worker exited:\n" + "\n".join(
                f.read_text() for f in work.glob("*.log")))
        try:
            return requests.get(f"{url}/_stcore/health", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_for(healthy, timeout=60, interval=0.2)
        made = subprocess.run([sys.executable, "cli.py", "api-token", "create", "tester"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        yield Server(url, env, work, made.stdout.strip())
    finally:
        for p in procs:
            _stop(p)


@pytest.fixture(scope="module")
def spec(server) -> dict:
    """The OpenAPI document the server serves."""
    return server.call("GET", "/import/openapi.json").json()


def conforms(spec: dict, answer: requests.Response, path: str, method: str = "get") -> dict:
    """The answer's JSON, after checking it against the document's schema for that operation and status."""
    from openapi_schema_validator import OAS31Validator, validate

    schema = spec["paths"][path][method]["responses"][str(answer.status_code)]["content"]["application/json"]["schema"]
    validate(answer.json(), {**schema, "components": spec["components"]}, cls=OAS31Validator)
    return answer.json()


def _jira_config(fake, token: str = CLOUD_AUTH[1]) -> dict:
    return {"base_url": fake.url, "user_email": CLOUD_AUTH[0], "api_token": token}


def test_the_seed_calls_run_a_jira_import_whose_items_appear_in_the_workspace(server, spec, fake_jira, browser):
    tools = server.call("GET", "/import/tools")
    assert tools.status_code == 200
    by_name = {t["name"]: t for t in conforms(spec, tools, "/import/tools")["tools"]}
    assert list(by_name) == ["jira", "servicenow", "github", "gitlab", "demo"]
    assert by_name["demo"]["auth"] == "none needed" and by_name["jira"]["auth"] == "not configured"

    preview = server.call("POST", "/import/jira/preview", json={"project": "ACME", "config": _jira_config(fake_jira)})
    assert preview.status_code == 200, preview.text
    body = conforms(spec, preview, "/import/{tool}/preview", "post")
    assert len(body["items"]) >= 10 and body["estimated_total"] == 120 and body["existing"] == 0
    assert {"key", "title", "state", "status", "assignee", "created", "updated"} == set(body["items"][0])
    assert body["items"][0]["key"].startswith("ACME-")

    started = server.call("POST", "/import/jira/execute",
                          json={"projects": ["ACME"], "config": _jira_config(fake_jira)})
    assert started.status_code == 202, started.text
    job_id = conforms(spec, started, "/import/{tool}/execute", "post")["job_id"]
    assert started.json()["status_url"] == started.headers["Location"] == f"/import/status/{job_id}"

    first = server.call("GET", f"/import/status/{job_id}")
    assert first.status_code == 200 and conforms(spec, first, "/import/status/{job_id}")["job_id"] == job_id
    assert {"status", "percentage", "processed", "total", "created", "updated", "skipped", "failed",
            "items_per_second", "eta_seconds", "waiting_until"} <= set(first.json())
    done = server.wait_until_finished(job_id)
    assert (done["status"], done["created"], done["total"], done["percentage"]) == ("succeeded", 120, 120, 100.0)
    assert done["requested_by"] == "api:tester"
    again = server.call("GET", f"/import/status/{job_id}")
    assert conforms(spec, again, "/import/status/{job_id}") == done
    cli_status = server.cli("status", job_id, "--json")
    assert json.loads(cli_status.stdout) == done  # the same document as the CLI prints

    listed = conforms(spec, server.call("GET", "/import/jobs"), "/import/jobs")
    assert [j["job_id"] for j in listed["jobs"]].count(job_id) == 1

    # the Workspace page of the same server shows what the API imported (the browser tests' own steps)
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    tab = Console(page, server.url)
    try:
        tab.open("workspace")
        expect(page.get_by_role("heading", name="Workspace")).to_be_visible()
        assert metric(tab, "Work items") == 120
        fill(tab, "Search title or key", "script")
        page.keyboard.press("Enter")
        tab.settle()
        select_first_row(tab)  # ticking the row opens the item
        assert "<script>alert(1)</script> in the search box" in texts_once_shown(tab, "<script>alert(1)</script>")
        tab.screenshot("api-jira-import-in-workspace")
    finally:
        page.context.close()

    # the vendor's token went in a request body: kept encrypted, never logged
    assert CLOUD_AUTH[1] not in server.logs()
    assert CLOUD_AUTH[1] not in (server.work / "audit.jsonl").read_text()
    assert CLOUD_AUTH[1].encode() not in (server.work / "workspace.db").read_bytes()
    mine = [(e["action"], e["actor"]) for e in server.audit() if e.get("job_id") == job_id or e["action"] == "preview"]
    assert ("preview", "api:tester") in mine and ("start", "api:tester") in mine


def test_every_refusal_has_the_one_error_shape(server, spec):
    # a number setting may be a JSON number, as the form's text is ({"size": 30} was a 422 "valid string"); 30.0 is
    # a whole number too, as some encoders write it
    partial = server.call("POST", "/import/demo/execute", json={"projects": ["OPS"], "config": {"size": 30.0}})
    # (the server runs with DEMO_INVALID_ITEMS=3: 3 items of each demo project fail validation)
    job_id = partial.json()["job_id"]
    assert server.wait_until_finished(job_id)["status"] == "partial"

    no_token = requests.get(f"{server.url}/import/tools", timeout=10)
    jobs_before = len(server.call("GET", "/import/jobs").json()["jobs"])
    cases = [
        (no_token, 401, "Authorization: Bearer"),
        (server.call("GET", "/import/jobs", token="acgs2_not-a-token"), 401, "not known"),
        (server.call("GET", "/import/status/0000000000000000"), 404, "no import job"),
        (server.call("POST", "/import/trello/preview", json={}), 404, "tool"),
        (server.call("POST", "/import/jobs/0000000000000000/undo"), 404, "no import job"),
        (server.call("POST", "/import/demo/execute", json={"projects": ["OPS"], "since": "2999-01-01"}), 400,
         "future"),
        (server.call("POST", "/import/jira/preview", json={"config": {"api_tokn": "x"}}), 400, "api_tokn"),
        (server.call("POST", "/import/jira/preview", json={"config": {"api_token": "x"}}), 400, "Site URL"),
        (server.call("POST", f"/import/jobs/{job_id}/cancel"), 409, "already ended"),
        (server.call("POST", "/import/demo/execute", json={"projects": "OPS"}), 422, "projects"),
        (server.call("POST", "/import/demo/execute", json={"deletions": "erase"}), 422, "deletions"),
        (server.call("POST", "/import/demo/execute", json={"since": "2025-01-01", "full": True}), 422, "not both"),
        (server.call("POST", "/import/demo/execute", data="{not json", headers={"Content-Type": "application/json"}),
         400, "not valid JSON"),
        (server.call("POST", "/import/demo/preview", json={"since": "x"}), 400, "since 'x' is not an ISO-8601"),
        (server.call("POST", "/import/jira/preview", json={"config": {"base_url": "ftp://acme", "api_token": "x"}}),
         400, "config.base_url must be an http(s) URL"),
        (server.call("GET", "/import/status/" + "x" * 5000), 404, "no import job"),
        # an import that could only fail in the worker is refused before it is queued (it was a 202)
        (server.call("POST", "/import/jira/execute", json={"projects": ["ACME"]}),
         400, "Site URL and API token are missing: give config.base_url and config.api_token"),
        (server.call("POST", "/import/demo/execute", json={"projects": ["ZED"]}), 400, "no project 'ZED'"),
        (server.call("POST", "/import/github/execute", json={"config": {"token": "x"}}), 400,
         "choose a project to import (give projects)"),
        (server.call("POST", "/import/demo/execute", json={"projects": ["OPS"], "mappings": [
            {"source": "demo", "project": "MOBILE"}]}), 400, "mappings[0].project: MOBILE is not a project of this "
                                                               "import (OPS)"),
        (server.call("POST", "/import/github/execute", json={"projects": ["web"], "config": {"token": "x"}}), 400,
         "owner/name, not 'web'"),
        (server.call("POST", "/import/github/execute", json={"projects": [f"o/r{i}" for i in range(1001)],
                                                             "config": {"token": "x"}}), 400, "at most 1,000 projects"),
        (server.call("POST", "/import/demo/execute", json={"mappings": [{}] * 1001}), 400, "at most 1,000 projects"),
        (server.call("DELETE", "/import/tools"), 405, "DELETE is not allowed on /import/tools"),
        # a path in the API's namespaces that names nothing is the API's 404, not the console's HTML page with a 200
        (server.call("GET", "/import/status/"), 404, "no API path /import/status/"),
        (server.call("GET", "/import/status"), 404, "no API path /import/status"),
        (server.call("GET", "/import/jobs/", allow_redirects=False), 404, "no API path /import/jobs/"),
        (server.call("POST", "/import/jobs//undo"), 404, "no API path /import/jobs//undo"),
        (server.call("GET", f"/import/jobs/{job_id}/everything"), 404, "openapi.json"),
        (server.call("POST", "/import/demo/import"), 404, "no API path /import/demo/import"),
        (server.call("POST", "/import/demo/execute", json={"config": {"size": True}}), 422, "config.size"),
        (server.call("POST", "/import/demo/execute", data='{"config": {"size": 1e400}}',
                     headers={"Content-Type": "application/json"}), 422, "config.size"),
        (server.call("POST", "/import/demo/execute", json={"projects": ["OPS"], "config": {"size": 2.5}}), 400,
         "demo size '2.5' is not valid"),
        (server.call("POST", "/import/demo/preview", json={"project": "x" * (1 << 20)}), 413, "larger than"),
    ]
    for answer, status, fragment in cases:
        where = f"{answer.request.method} {answer.request.url}"
        assert answer.status_code == status, f"{where}: {answer.status_code} {answer.text}"
        assert answer.headers["content-type"] == "application/json", where
        body = answer.json()
        assert set(body) == {"error", "detail"} and fragment in body["error"], f"{where}: {body}"
        assert "\n" not in body["error"] and "Traceback" not in answer.text, where
    assert no_token.headers["WWW-Authenticate"] == "Bearer"
    field = {c[0].json()["detail"].get("field") for c in cases if c[1] == 400}
    assert field == {"since", "config.api_tokn", "config.base_url", "body", "projects", "mappings",
                     "mappings[0].project", "config.size"}  # a 400 names the field to fix
    assert len(server.call("GET", "/import/jobs").json()["jobs"]) == jobs_before  # no refused import was queued
    # the API names its body's fields, never the CLI's flags or the environment's variables, and echoes no long id
    said = " ".join(c[0].json()["error"] for c in cases)
    assert "--since" not in said and "JIRA_BASE_URL" not in said and "x" * 100 not in said

    report = server.call("GET", f"/import/jobs/{job_id}/failures.csv")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    assert report.text.splitlines()[0] == "project,key,external_id,reason" and len(report.text.splitlines()) == 4
    undone = server.call("POST", f"/import/jobs/{job_id}/undo")
    assert undone.status_code == 200
    assert conforms(spec, undone, "/import/jobs/{job_id}/undo", "post")["items_removed"] == 27
    again = server.call("POST", f"/import/jobs/{job_id}/undo")
    assert again.status_code == 409 and "already undone" in again.json()["error"]
    retried = server.call("POST", f"/import/jobs/{job_id}/retry")
    assert retried.status_code == 409 and "undone" in retried.json()["error"]


def test_execute_with_a_mapping_imports_the_chosen_state_names(server):
    mapping = {"source": "demo", "project": "MOBILE",
               "statuses": [{"source": "In Review", "target": "Awaiting review", "category": "in_progress"}]}
    typo = {**mapping, "statuses": [*mapping["statuses"],
                                     {"source": "In Reveiw", "target": "Awaiting review", "category": "in_progress"}]}
    refused = server.call("POST", "/import/demo/execute", json={"mappings": [typo], "config": {"size": "40"}})
    assert refused.status_code == 400 and refused.json()["error"].startswith(
        "mappings[0].statuses[1]: status 'In Reveiw' is not a status"), refused.text  # its place, not "line 1"

    started = server.call("POST", "/import/demo/execute", json={"mappings": [mapping], "config": {"size": "40"}})
    assert started.status_code == 202, started.text
    done = server.wait_until_finished(started.json()["job_id"])
    assert done["projects"] == ["MOBILE"] and done["created"] > 0
    listed = server.cli("items", "--source", "demo", "--project", "MOBILE", "--limit", "100", "--json")
    items = json.loads(listed.stdout)
    states = {(i["source_status"], i["state"]) for i in items}
    assert ("In Review", "Awaiting review") in states and ("In Progress", "In Progress") in states, states

    # every later run and schedule of MOBILE runs on that saved mapping: another user may not replace it (any
    # token could), though running on it, or sending the same mapping again, is theirs to do
    other = server.cli("api-token", "create", "other-team").stdout.strip()
    changed = {**mapping, "statuses": [{"source": "In Review", "target": "Cancelled", "category": "cancelled"}]}
    refused = server.call("POST", "/import/demo/execute", json={"mappings": [changed], "config": {"size": "40"}},
                          token=other)
    assert refused.status_code == 403 and refused.json()["error"].startswith(
        "only api:tester or an admin may replace the saved mapping of Demo project MOBILE; you are signed in as "
        "api:other-team"), refused.text
    same = server.call("POST", "/import/demo/execute", json={"mappings": [mapping], "config": {"size": "40"}},
                       token=other)
    assert same.status_code == 202, same.text
    kept = json.loads(server.cli("mapping", "export", "demo", "--project", "MOBILE").stdout)
    assert {(r["source"], r["target"]) for r in kept["statuses"]} >= {("In Review", "Awaiting review")}


def test_a_revoked_token_is_refused_and_only_its_hash_is_stored(server):
    made = server.cli("api-token", "create", "short-lived")
    token = made.stdout.strip()
    assert made.returncode == 0 and re.fullmatch(r"acgs2_[\w-]{43}", token), made.stdout  # the token, alone
    assert server.call("GET", "/import/tools", token=token).status_code == 200
    theirs = server.call("POST", "/import/demo/execute", json={"projects": ["MOBILE"], "config": {"size": "5"}})
    refused = server.call("POST", f"/import/jobs/{theirs.json()['job_id']}/undo", token=token)
    assert refused.status_code == 403 and "only api:tester or an admin may undo" in refused.json()["error"]

    revoked = server.cli("api-token", "revoke", "short-lived")
    assert revoked.returncode == 0, revoked.stderr
    refused = server.call("GET", "/import/tools", token=token)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]
    listed = json.loads(server.cli("api-token", "list", "--json").stdout)
    states = {t["name"]: t["active"] for t in listed}  # (other tests of this server make tokens of their own)
    assert (states["tester"], states["short-lived"]) == (True, False)
    assert token not in server.cli("api-token", "list").stdout

    engine = create_engine(server.env["DATABASE_URL"])
    with engine.connect() as conn:
        rows = [tuple(map(str, r)) for r in conn.execute(text("SELECT * FROM api_tokens"))]
    engine.dispose()
    assert rows and not any(token in value or server.token in value for row in rows for value in row)
    assert ("api-refused", "api:short-lived") in [(e["action"], e["actor"]) for e in server.audit()]


def test_a_vendor_error_echoing_the_credentials_does_not_reach_the_answer(server, fake_jira):
    secret = "echo-me-api-token-0123456789"
    basic = base64.b64encode(f"{CLOUD_AUTH[0]}:{secret}".encode()).decode()
    fake_jira.answer_next(r"/rest/api/", Response(400, {
        "errorMessages": [f"Bad request: Authorization: Basic {basic} (token {secret})"], "errors": {}}), times=20)
    body = {"project": "ACME", "config": _jira_config(fake_jira, secret)}  # credentials in the request body
    answer = server.call("POST", "/import/jira/preview", json=body)
    assert answer.status_code == 400 and set(answer.json()) == {"error", "detail"}, answer.text
    assert "JIRA refused" in answer.json()["error"] and "[redacted]" in answer.json()["error"], answer.text
    assert secret not in answer.text and basic not in answer.text, answer.text
    assert secret not in server.logs() and basic not in server.logs()


def test_the_openapi_document_is_valid_and_describes_every_endpoint(server):
    from openapi_spec_validator import validate

    assert requests.get(f"{server.url}/import/openapi.json", timeout=10).status_code == 401
    answer = server.call("GET", "/import/openapi.json")
    assert answer.status_code == 200
    spec = answer.json()
    validate(spec)  # raises OpenAPIValidationError with the offending part
    assert spec["openapi"].startswith("3.")
    assert {(m, p) for p, ops in spec["paths"].items() for m in ops} == ENDPOINTS
    assert spec["components"]["securitySchemes"]["apiToken"] == {
        "type": "http", "scheme": "bearer", "description": "an API token: `python cli.py api-token create NAME` "
                                                          "prints one"}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["security"] == [{"apiToken": []}], (method, path)
            assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"}, (method, path)
    status = spec["paths"]["/import/status/{job_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert status["schema"] == {"$ref": "#/components/schemas/Progress"}


def test_import_stays_the_wizard_page(server):
    for path in ("/import", "/import/"):
        page = requests.get(server.url + path, timeout=10)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
        assert "BACKEND_BASE_URL" in page.text, path
    other = requests.get(f"{server.url}/import/anything-else", timeout=10)  # not an API path: the console's
    assert other.status_code == 200 and other.headers["content-type"].startswith("text/html")


def test_api_paths_in_another_case_and_head_on_the_real_server(server):
    """What only the whole server shows: Streamlit answered /import/Tools with the console's page (200, HTML),
    and HEAD goes through uvicorn with the GET's headers and no body. tests/test_api_routes.py covers every route."""
    for path in ("/import/Tools", "/IMPORT/jobs", "/import/Jira", "/import/OpenAPI.json"):
        answer = server.call("GET", path)
        assert answer.status_code == 404 and answer.headers["content-type"] == "application/json", path
        assert "did you mean GET /import/" in answer.json()["error"] or path == "/import/Jira", answer.text
    got, head = server.call("GET", "/import/tools"), server.call("HEAD", "/import/tools")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", str(len(got.content)))
    wrong = server.call("GET", "/import/nosuchtool/preview")
    assert wrong.status_code == 404 and "no tool 'nosuchtool'" in wrong.json()["error"], wrong.text
    other = requests.get(f"{server.url}/Import", timeout=10)  # the wizard page in another case stays the console's
    assert other.status_code == 200 and other.headers["content-type"].startswith("text/html")


def test_previews_stuck_on_a_tarpit_leave_status_and_tools_answering(server):
    """45 parallel previews whose JIRA base_url accepts connections and never answers (what one token did to
    freeze the API): a few take a vendor slot, the rest are refused at once (429 in the one error shape);
    meanwhile `GET /import/tools` and a status read answer; each stuck preview ends with one line naming the
    preview's whole time budget (IMPORT_PREVIEW_SECONDS, 60 s on this server), not eight request deadlines."""
    from concurrent.futures import ThreadPoolExecutor

    from restapi.slots import SLOTS_PER_TOKEN
    from tests.fakes.hostile import Tarpit

    tarpit = Tarpit().start()
    body = {"project": "ACME", "config": {"base_url": tarpit.url, "user_email": "me@acme.test", "api_token": "x"}}
    answers: list[requests.Response] = []
    pool = ThreadPoolExecutor(45)
    try:
        futures = [pool.submit(lambda: answers.append(requests.post(
            f"{server.url}/import/jira/preview", json=body, timeout=600,
            headers={"Authorization": f"Bearer {server.token}"}))) for _ in range(45)]
        # every preview either answered or sits at the tarpit: none waits for a server thread
        wait_for(lambda: len(answers) + tarpit.accepted >= 45, timeout=120, interval=0.2)
        tools = server.call("GET", "/import/tools")  # requests' own 30 s timeout: it must answer at all
        status = server.call("GET", "/import/status/0000000000000000")
        assert tools.status_code == 200 and {t["name"] for t in tools.json()["tools"]} >= {"jira", "demo"}
        assert status.status_code == 404 and set(status.json()) == {"error", "detail"}
        for future in futures:
            future.result()
    finally:
        pool.shutdown(wait=True)
        tarpit.stop()
    refused = [a for a in answers if a.status_code == 429]
    stuck = [a for a in answers if a.status_code != 429]
    assert len(refused) == 45 - SLOTS_PER_TOKEN and len(stuck) == SLOTS_PER_TOKEN, [a.text for a in answers]
    assert all(set(a.json()) == {"error", "detail"} and a.headers.get("Retry-After") for a in refused)
    for answer in stuck:
        assert answer.status_code == 502, answer.text
        error = answer.json()["error"]
        assert "within 60 s (IMPORT_PREVIEW_SECONDS)" in error and "\n" not in error, error
