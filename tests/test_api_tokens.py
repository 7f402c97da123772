"""API tokens: made once and kept only as a hash, revoked by name, refused from the network in open demo mode.

The HTTP round trips against the real server are in tests/e2e/test_http_api.py; here the token store, its CLI
and the address gate, which cannot be reached from a non-loopback address on this machine, are driven
directly (the gate through the API's own ASGI application, as the server hands it a request).
"""
from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from importers.errors import ConflictError, NotFoundError
from store import api_tokens
from store.schema import api_tokens as table


def test_a_token_is_shown_once_and_only_its_hash_is_kept(engine):
    token = api_tokens.create(engine, "ci-bot", created_by="alice")
    assert token.startswith("acgs2_") and len(token) == 49
    with engine.connect() as conn:
        row = conn.execute(select(table)).one()
    assert token not in [str(v) for v in row] and row.prefix == token[:10]
    found = api_tokens.authenticate(engine, token)
    assert found is not None and (found.name, found.actor, found.active) == ("ci-bot", "api:ci-bot", True)
    assert api_tokens.authenticate(engine, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert api_tokens.authenticate(engine, "not-a-token") is None


def test_names_are_unique_in_any_case_and_never_reused_after_revocation(engine):
    # security review: BOSS, made while boss existed, acted as boss's owner and admin (jobs/access.py compares names
    # without case), and a revoked token's name, made again, took over its jobs
    old = api_tokens.create(engine, "deploy", created_by="alice")
    with pytest.raises(ConflictError, match="^an API token named 'deploy' exists already: choose another name$"):
        api_tokens.create(engine, "deploy", created_by="alice")
    with pytest.raises(ConflictError, match=r"named 'deploy' exists already \(names are compared without case\)"):
        api_tokens.create(engine, "DEPLOY", created_by="mallory")
    revoked = api_tokens.revoke(engine, "deploy", actor="bob")
    assert not revoked.active and api_tokens.authenticate(engine, old).revoked_at is not None
    with pytest.raises(ConflictError, match="already revoked"):
        api_tokens.revoke(engine, "deploy", actor="bob")
    for name in ("deploy", "Deploy"):
        with pytest.raises(ConflictError, match="'deploy' is the name of a revoked API token"):
            api_tokens.create(engine, name, created_by="carol")
    assert [(t.name, t.active) for t in api_tokens.list_tokens(engine)] == [("deploy", False)]
    assert api_tokens.authenticate(engine, old).revoked_at is not None  # the revoked row stays, refused
    with pytest.raises(NotFoundError, match="no API token named 'nope'"):
        api_tokens.revoke(engine, "nope", actor="bob")


def test_cli_api_token_commands(cli, capsys, monkeypatch):
    made = cli("api-token", "create", "reporting", env={"USER": "dana"})  # as a script would: TOKEN=$(...)
    assert made.returncode == 0 and made.stdout.count("\n") == 1 and made.stdout.startswith("acgs2_")
    assert "not shown again" in made.stderr
    import cli as command  # the rest in-process: the same entry point, without a Python start-up each

    def run(*args: str) -> tuple[int, str, str]:
        code = command.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    code, listed, _ = run("api-token", "list")
    assert code == 0 and "reporting" in listed and "by dana" in listed and made.stdout.strip() not in listed
    for args, message in ((("api-token", "create", "bad name"), "token name 'bad name' is not valid"),
                          (("api-token", "revoke", "nope"), "no API token named 'nope'"),
                          (("api-token", "create", "reporting"), "exists already"),
                          (("api-token", "create", "REPORTING"), "(names are compared without case)")):
        code, _, err = run(*args)
        assert code == 2 and message in err and err.count("\n") == 1, args
    monkeypatch.setenv("USER", "erin")
    assert run("api-token", "revoke", "reporting")[0] == 0
    assert json.loads(run("api-token", "list", "--json")[1])[0]["active"] is False
    again = cli("api-token", "create", "Reporting")  # a revoked token's name, as a script would try it
    assert again.returncode == 2 and not again.stdout and again.stderr.count("\n") == 1, again
    assert again.stderr.startswith("error: 'reporting' is the name of a revoked API token"), again.stderr


def _get(path: str, client: tuple[str, int], token: str | None = None) -> tuple[int, dict]:
    """One request through the API's ASGI application, from `client`, as the console's server hands it over."""
    import restapi

    headers = [(b"host", b"console.example:3000")] + ([(b"authorization", f"Bearer {token}".encode())] if token else [])
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": client, "server": ("0.0.0.0", 3000)}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    # a thread of its own: Playwright's sync API keeps an event loop running in this one after a browser test
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, restapi.app(scope, receive, send)).result()
    return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def test_open_demo_mode_answers_loopback_clients_only(engine, monkeypatch):
    token = api_tokens.create(engine, "laptop", created_by="alice")
    status, body = _get("/import/tools", ("203.0.113.9", 50000), token)  # TEST-NET-3: never contacted
    assert status == 403 and "this machine only" in body["error"]
    for loopback in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert _get("/import/tools", (loopback, 50000), token)[0] == 200, loopback
    monkeypatch.delenv("CONSOLE_OPEN_DEMO")  # a sign-in is configured: the network may call, with a token
    assert _get("/import/tools", ("203.0.113.9", 50000), token)[0] == 200
    assert _get("/import/tools", ("203.0.113.9", 50000))[0] == 401
