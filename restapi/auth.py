"""Who may call the HTTP API: a bearer token made with `cli.py api-token create`, from an allowed address.

Every route depends on `caller`. In open demo mode (no sign-in configured) the console is meant
for this machine only, and so is the API: a client that is not on a loopback address gets 403
before its token is even looked at, whatever address the server happens to listen on.

What a token does is audited under its name ("api:NAME"): the core records starts, cancels,
retries and undos with that actor; `audited` adds the calls that read vendor or workspace data
without changing anything (preview, failure reports). Progress polls only refresh the token's
`last_used_at`, so a client polling every 2 s does not flood the audit log.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from console.auth import is_loopback, open_demo
from store import api_tokens
from store.api_tokens import ApiToken
from store.audit import record
from store.db import engine_for

from .errors import ApiError

bearer = HTTPBearer(auto_error=False, scheme_name="apiToken",
                    description="an API token: `python cli.py api-token create NAME` prints one")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
           ) -> ApiToken:
    """The token this request carries; ApiError 403 or 401 otherwise."""
    if open_demo() and not is_loopback(request.client.host if request.client else None):
        raise ApiError(403, "the console runs in open demo mode: its API answers on this machine only; "
                            "configure a sign-in (python -m console.auth set-password) to serve it on the network")
    if credentials is None:
        raise ApiError(401, "no API token: send the header `Authorization: Bearer TOKEN` (make a token with "
                            "`python cli.py api-token create NAME`)", headers=CHALLENGE)
    engine = engine_for()
    token = api_tokens.authenticate(engine, credentials.credentials)
    if token is None:
        raise ApiError(401, "this API token is not known: check it, or make one with "
                            "`python cli.py api-token create NAME`", headers=CHALLENGE)
    if not token.active:
        record(engine, "api-refused", actor=token.actor, reason="revoked token", path=request.url.path)
        raise ApiError(401, f"the API token {token.name!r} was revoked: ask for a new one", headers=CHALLENGE)
    return token


def audited(action: str) -> Callable[..., ApiToken]:
    """A dependency that authenticates like `caller` and records `action` for the token in the audit log."""

    def dependency(request: Request, token: Annotated[ApiToken, Depends(caller)]) -> ApiToken:
        params = request.path_params
        record(engine_for(), action, actor=token.actor, job_id=params.get("job_id"), source=params.get("tool"),
               via="api")
        return token

    return dependency
