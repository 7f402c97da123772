"""Saved credentials: encrypted at rest, rotated with MultiFernet, refused without a key."""
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from importers.errors import ConfigError
from store import credentials
from store.schema import credentials as table

SECRET = "tok-DO-NOT-LEAK-1234567890"


def test_saved_secret_is_only_ciphertext(engine):
    cred_id = credentials.put(engine, "github", {"token": SECRET}, saved=True)
    with engine.connect() as conn:
        stored = conn.execute(select(table.c.ciphertext)).scalar()
    assert SECRET not in stored
    assert credentials.get(engine, cred_id) == {"token": SECRET}
    assert credentials.saved_for(engine, "github") == cred_id


def test_without_a_key_saving_is_refused_with_the_reason(engine, monkeypatch):
    monkeypatch.delenv("CREDENTIAL_ENCRYPTION_KEY")
    with pytest.raises(ConfigError, match="CREDENTIAL_ENCRYPTION_KEY"):
        credentials.put(engine, "github", {"token": SECRET})


def test_passphrase_keys_work_and_short_ones_are_refused(engine, monkeypatch):
    monkeypatch.setenv("CREDENTIAL_ENCRYPTION_KEY", "correct horse battery staple and then some")
    cred_id = credentials.put(engine, "gitlab", {"token": SECRET})
    assert credentials.get(engine, cred_id)["token"] == SECRET
    monkeypatch.setenv("CREDENTIAL_ENCRYPTION_KEY", "too short")
    with pytest.raises(ConfigError, match="at least 32 characters"):
        credentials.get(engine, cred_id)


def test_rotation_re_encrypts_with_the_new_key(engine, monkeypatch):
    old = Fernet.generate_key().decode()
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("CREDENTIAL_ENCRYPTION_KEY", old)
    cred_id = credentials.put(engine, "jira", {"api_token": SECRET})

    monkeypatch.setenv("CREDENTIAL_ENCRYPTION_KEY", f"{new},{old}")
    assert credentials.rotate(engine) == 1

    monkeypatch.setenv("CREDENTIAL_ENCRYPTION_KEY", new)  # the old key is gone now
    assert credentials.get(engine, cred_id)["api_token"] == SECRET


def test_a_wrong_key_gives_a_clear_error(engine, monkeypatch):
    cred_id = credentials.put(engine, "jira", {"api_token": SECRET})
    monkeypatch.setenv("CREDENTIAL_ENCRYPTION_KEY", Fernet.generate_key().decode())
    with pytest.raises(ConfigError, match="not the key they were saved with"):
        credentials.get(engine, cred_id)
