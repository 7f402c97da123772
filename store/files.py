"""Files only this user may read: the data folder, the SQLite store with its WAL and shared-memory
files, and the audit log.

They hold a company's imported work items, who did what, and the encrypted credentials; a
default umask (022) would leave them readable by every local user. Folders are made 0700 and
files 0600, including ones an older release left 0755/0644 (they are tightened at start).
SQLite creates its -wal and -shm files with the mode of the database file, so a 0600 store
keeps them 0600 too.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` created if missing, and made 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # a folder someone else owns (a mounted volume): leave it
        path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path` created empty if missing, and made 0600 (its folder is not touched)."""
    os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, FILE_MODE))
    with contextlib.suppress(PermissionError):
        path.chmod(FILE_MODE)
    return path


def private_sqlite(path: Path) -> None:
    """The SQLite store at `path` and any WAL / shared-memory files private; its folder is created 0700
    when missing, but an existing one (DATABASE_URL may name a file in /tmp) keeps its mode."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            with contextlib.suppress(PermissionError):
                sidecar.chmod(FILE_MODE)
