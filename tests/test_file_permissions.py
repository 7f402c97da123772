"""The data folder, the store with its WAL and shared memory, and the audit log are this user's only
(issue 11, finding 8: data/ was 0755, the store and the audit log 0644)."""
from __future__ import annotations

import stat

from jobs import api


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_data_folder_store_wal_and_audit_log_are_private(tmp_path, monkeypatch, run_worker):
    data = tmp_path / "data"
    monkeypatch.setenv("ACGS2_DATA_DIR", str(data))
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.delenv("AUDIT_LOG_PATH")
    job_id = api.start_import("demo", ["ACME"], config={"size": "30"})
    run_worker()
    assert api.status(job_id)["status"] in ("succeeded", "partial")

    assert _mode(data) == 0o700
    files = {p.name: _mode(p) for p in data.iterdir()}
    assert {"workspace.db", "workspace.db-wal", "workspace.db-shm", "audit.jsonl"} <= set(files), files
    assert set(files.values()) == {0o600}, files


def test_files_an_older_release_left_readable_are_tightened(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    store, audit = data / "workspace.db", data / "audit.jsonl"
    audit.write_text("")
    for path in (store, audit):
        path.touch()
        path.chmod(0o644)
    monkeypatch.setenv("ACGS2_DATA_DIR", str(data))
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.delenv("AUDIT_LOG_PATH")

    api.start_import("demo", ["ACME"], config={"size": "5"})  # opens the store and writes the audit log

    assert (_mode(data), _mode(store), _mode(audit)) == (0o700, 0o600, 0o600)
