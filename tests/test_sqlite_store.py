"""Every connection to a SQLite store gets the store's pragmas: WAL, and a WAL that holds
WAL_CHECKPOINT_PAGES before a commit checkpoints it (at SQLite's 1,000, every batch of a large
import ran a checkpoint: store/db.py)."""
from __future__ import annotations

from store.db import WAL_CHECKPOINT_PAGES


def test_every_connection_keeps_the_wal_and_checkpoints_it_every_wal_checkpoint_pages(engine):
    with engine.connect() as first, engine.connect() as second:  # two pooled connections, each set up on connect
        for conn in (first, second):
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_CHECKPOINT_PAGES > 1000
