"""Encrypted credentials (Fernet) that jobs reference by id instead of carrying secrets.

CREDENTIAL_ENCRYPTION_KEY is a Fernet key, or a passphrase of at least 32 characters put
through scrypt; a comma-separated list rotates keys (the first encrypts, all decrypt:
MultiFernet). Without a key nothing can be saved, and we say why.

Each job carries its own copy of the credentials it started with (`put`, by reference); `prune` deletes the
copies no job can read again.

cryptography is imported only once a key is set (`cipher`): every command imports this module, most
never encrypt anything (a store without a key: `cli.py run` with the environment's credentials, the
worker), and its import cost each of them ~50 ms.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, and_, delete, exists, or_, select, union, update
from sqlalchemy.exc import DBAPIError

from importers.errors import ConfigError
from importers.numbers import env_number

from .jobs import JobStatus, now
from .schema import credentials, import_jobs, schedules

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from cryptography.fernet import Fernet, MultiFernet

KEY_ENV = "CREDENTIAL_ENCRYPTION_KEY"
RETRY_DAYS_ENV = "IMPORT_RETRY_DAYS"
UNCLAIMED = timedelta(hours=1)  # a copy no job or schedule names yet: its import may still be starting
_SALT = b"acgs2-import-console/credentials/v1"  # fixed: the passphrase must map to the same key everywhere


class NoKeyError(ConfigError):
    pass


class UnreadableError(ConfigError):
    """Saved credentials exist but this process cannot read them: no key, or not the key they were saved with."""

    def __init__(self, message: str, key_missing: bool):
        super().__init__(message)
        self.key_missing = key_missing


def _fernet_for(secret: str) -> Fernet:
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    secret = secret.strip()
    try:
        if len(base64.urlsafe_b64decode(secret.encode())) == 32:
            return Fernet(secret.encode())
    except (ValueError, TypeError):
        pass
    if len(secret) < 32:
        raise ConfigError(f"{KEY_ENV} must be a Fernet key or a passphrase of at least 32 characters")
    key = Scrypt(salt=_SALT, length=32, n=2**14, r=8, p=1).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def cipher(environ=None) -> MultiFernet | None:
    """The configured cipher, or None when no key is set."""
    raw = ((environ if environ is not None else os.environ).get(KEY_ENV) or "").strip()
    if not raw:
        return None
    from cryptography.fernet import MultiFernet

    return MultiFernet([_fernet_for(part) for part in raw.split(",") if part.strip()])


def can_save() -> bool:
    return cipher() is not None


def _require_cipher() -> MultiFernet:
    found = cipher()
    if found is None:
        raise NoKeyError(f"credentials cannot be saved: set {KEY_ENV} (a Fernet key or a passphrase of 32+ "
                         f"characters) or use credentials from the environment")
    return found


def put(engine: Engine, source: str, secrets: dict[str, str], saved: bool = False) -> str:
    """Encrypt and store `secrets`; return the reference a job carries."""
    token = _require_cipher().encrypt(json.dumps(secrets).encode()).decode()
    cred_id = uuid.uuid4().hex[:16]
    with engine.begin() as conn:
        if saved:  # one saved set per source: replace the previous one
            conn.execute(delete(credentials).where((credentials.c.source == source) & credentials.c.saved))
        conn.execute(credentials.insert().values(id=cred_id, source=source, saved=saved, ciphertext=token,
                                                 created_at=now(), updated_at=now()))
    return cred_id


def get(engine: Engine, cred_id: str) -> dict[str, str]:
    with engine.connect() as conn:
        token = conn.execute(select(credentials.c.ciphertext).where(credentials.c.id == cred_id)).scalar()
    if token is None:
        raise ConfigError("the saved credentials for this import were deleted: enter them again and retry")
    found = cipher()
    if found is None:  # reading, not saving: say so (a worker started before .env had a key lands here)
        raise UnreadableError(f"saved credentials cannot be read: {KEY_ENV} is not set in this process; start it "
                              f"with the key they were saved with (the one in .env)", key_missing=True)
    from cryptography.fernet import InvalidToken

    try:
        return json.loads(found.decrypt(token.encode()))
    except InvalidToken:
        raise UnreadableError(f"saved credentials cannot be decrypted with {KEY_ENV}: it is not the key they were "
                              f"saved with (keep the old key after the new one, comma-separated, to rotate)",
                              key_missing=False) from None


def saved_for(engine: Engine, source: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(credentials.c.id).where((credentials.c.source == source) & credentials.c.saved)
                            .order_by(credentials.c.updated_at.desc())).scalar()


def forget(engine: Engine, source: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(credentials).where((credentials.c.source == source) & credentials.c.saved))


def rotate(engine: Engine) -> int:
    """Re-encrypt every credential with the first key; returns how many were rewritten."""
    current = _require_cipher()
    from cryptography.fernet import InvalidToken

    count = 0
    with engine.begin() as conn:
        for row in conn.execute(select(credentials.c.id, credentials.c.ciphertext)).all():
            try:
                token = current.rotate(row.ciphertext.encode()).decode()
            except InvalidToken:
                raise ConfigError(f"credential {row.id} cannot be decrypted with any key in {KEY_ENV}") from None
            conn.execute(update(credentials).where(credentials.c.id == row.id)
                         .values(ciphertext=token, updated_at=now()))
            count += 1
    return count


def retry_days() -> float:
    """How long a job that may be retried keeps its copy after it ended (IMPORT_RETRY_DAYS, 7)."""
    return env_number(RETRY_DAYS_ENV, 7.0, low=0, high=3650)


def stored(conn: Connection, cred_id: str) -> bool:
    """False once the copy was deleted (`prune`), within `conn`'s transaction."""
    return conn.execute(select(exists().where(credentials.c.id == cred_id))).scalar() is True


def prune(engine: Engine) -> int:
    """Delete the job copies no job can read again; returns how many. Run when a job ends or is undone, and by
    every worker's maintenance (so a store upgraded from a release that kept every copy is cleaned too).

    A job's copy is read by its parts, by a resume after its worker was lost, and by a retry. So it goes once
    the job can do none of these: it succeeded or was undone (retry refuses both), or it failed, was cancelled
    or ended partial more than IMPORT_RETRY_DAYS ago. Those last a user may retry (after fixing a worker's key,
    or once the vendor is back), which re-runs the job with this copy: it is kept that long, and afterwards
    `jobs.api.retry` says to start a new import instead. A queued or running job keeps its copy. The job keeps
    the reference: a missing row tells retry the copy was pruned. A copy nothing names is deleted once it is
    older than UNCLAIMED (a start that failed after saving it). Saved credentials and schedules' copies are not
    job copies: `forget` and stopping a schedule delete those."""
    retryable = [JobStatus.FAILED.value, JobStatus.CANCELLED.value, JobStatus.PARTIAL.value]
    spent = or_(import_jobs.c.status == JobStatus.SUCCEEDED.value, import_jobs.c.undone_at.is_not(None),
                and_(import_jobs.c.status.in_(retryable),
                     import_jobs.c.finished_at < now() - timedelta(days=retry_days())))
    named = import_jobs.c.credential_id.is_not(None)
    still_read = union(select(import_jobs.c.credential_id).where(named, ~spent),
                       select(schedules.c.credential_id).where(schedules.c.credential_id.is_not(None)))
    unclaimed = and_(credentials.c.id.not_in(select(import_jobs.c.credential_id).where(named)),
                     credentials.c.created_at < now() - UNCLAIMED)
    spent_copies = select(credentials.c.id).where(
        ~credentials.c.saved, credentials.c.id.not_in(still_read),
        or_(credentials.c.id.in_(select(import_jobs.c.credential_id).where(named, spent)), unclaimed))
    try:
        with engine.begin() as conn:  # read first: a maintenance round with nothing to delete takes no write lock
            doomed = list(conn.execute(spent_copies).scalars())
            if doomed:  # checked again by the DELETE, under the write lock: a retry may have re-queued a job since
                return conn.execute(delete(credentials).where(credentials.c.id.in_(doomed),
                                                              credentials.c.id.in_(spent_copies))).rowcount
    except DBAPIError as exc:  # housekeeping: a job's end or an undo must not fail for it (maintenance tries again)
        log.warning("credential copies not pruned now (%s); the next worker maintenance tries again",
                    str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200])
    return 0
