"""Bearer tokens for the HTTP API: shown once when made, kept only as a hash, revocable by name.

A token is 32 random bytes (`secrets.token_urlsafe`) behind a recognisable prefix (`acgs2_`), so a
leaked one is easy to spot in a log or a secret scanner. Only its SHA-256 is stored: unlike a
password, a random 256-bit token cannot be guessed from a dictionary, so a slow hash would buy
nothing and would cost every API call its time. Tokens are looked up by that hash, so no
comparison walks the token character by character.

This module never sees a request: `restapi/auth.py` reads the header and calls `authenticate`.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, update

from importers.errors import ConfigError, ConflictError, NotFoundError

from .audit import record
from .jobs import now, utc
from .schema import api_tokens

TOKEN_PREFIX = "acgs2_"
NAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
TOUCH_EVERY = timedelta(seconds=60)  # last_used_at is refreshed at most this often: no write per status poll


@dataclass(frozen=True)
class ApiToken:
    """What the store knows of a token: never the token itself."""

    name: str
    prefix: str  # the first characters of the token, e.g. "acgs2_Q3xk"
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def actor(self) -> str:
        """Who the audit log and the job history name for what this token does ("api:NAME")."""
        return f"api:{self.name}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _row_to_token(row) -> ApiToken:
    return ApiToken(name=row.name, prefix=row.prefix, created_by=row.created_by, created_at=utc(row.created_at),
                    last_used_at=utc(row.last_used_at), revoked_at=utc(row.revoked_at))


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_RULE.fullmatch(name):
        raise ConfigError(f"token name {name!r} is not valid: 1-64 letters, digits, '.', '_', '-' or '@', "
                          f"starting with a letter or digit", field="name")
    return name


def create(engine: Engine, name: str, created_by: str) -> str:
    """Make a token called `name` and return it: the only time it is ever seen.

    Raises ConfigError for a malformed name, ConflictError when any token, active or revoked, has that name in any
    case. A token acts as `api:NAME`, and who owns a job or is an admin (jobs/access.py, CONSOLE_ADMINS) is decided
    by that name without case: BOSS, made while boss existed, was boss's owner and admin; a name re-used after a
    revocation took over the revoked token's jobs. Revoked rows stay, so their names stay taken."""
    name = _check_name(name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        existing = conn.execute(select(api_tokens.c.name, api_tokens.c.revoked_at)
                                .where(func.lower(api_tokens.c.name) == name.lower())).first()
        if existing is not None:
            alike = "" if existing.name == name else " (names are compared without case)"
            if existing.revoked_at is None:
                raise ConflictError(f"an API token named {existing.name!r} exists already{alike}: choose another name",
                                    field="name")
            raise ConflictError(f"{existing.name!r} is the name of a revoked API token{alike}: choose another name "
                                f"(a name is never re-used: a token acts on the jobs of its name)", field="name")
        conn.execute(api_tokens.insert().values(name=name, token_hash=_hash(token), prefix=token[:10],
                                                created_by=created_by, created_at=now()))
    record(engine, "api-token-create", actor=created_by, token=name)
    return token


def list_tokens(engine: Engine) -> list[ApiToken]:
    """Every token, active and revoked, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id)).all()
    return [_row_to_token(r) for r in rows]


def revoke(engine: Engine, name: str, actor: str) -> ApiToken:
    """Refuse the token from now on. Raises NotFoundError for an unknown name, ConflictError if already revoked."""
    name = (name or "").strip()
    with engine.begin() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no API token named {name!r}: see `api-token list`", field="name")
        if row.revoked_at is not None:
            raise ConflictError(f"the API token {name!r} was already revoked", field="name")
        revoked_at = now()
        conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(revoked_at=revoked_at))
    record(engine, "api-token-revoke", actor=actor, token=name)
    return replace(_row_to_token(row), revoked_at=revoked_at)


def authenticate(engine: Engine, token: str) -> ApiToken | None:
    """The token's record (revoked ones too, so the caller can say so), or None for an unknown token.

    Refreshes `last_used_at` when it is older than TOUCH_EVERY."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = _hash(token)
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == digest)).first()
    if row is None:
        return None
    found = _row_to_token(row)
    if found.active and (found.last_used_at is None or now() - found.last_used_at > TOUCH_EVERY):
        with engine.begin() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now()))
    return found
