"""Several processes opening a new SQLite store at the same moment all open it, with one schema and one store id
(regression: CI's `cli.py run --wait` failed with "table comments already exists" while its worker made the
schema: Python's sqlite3 committed each CREATE TABLE on its own, so the later process, a table behind, collided
on every retry)."""
from __future__ import annotations

import subprocess
import sys

from .helpers import ROOT

OPENER = """
import pathlib, sys, time
go = pathlib.Path(sys.argv[2])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
from store.db import store_id
print(store_id(sys.argv[1]), flush=True)
"""


def test_processes_opening_a_new_sqlite_store_at_once_all_open_it(tmp_path):
    for round_ in range(3):
        url, go = f"sqlite:///{tmp_path / f'store{round_}.db'}", tmp_path / f"go{round_}"
        openers = [subprocess.Popen([sys.executable, "-c", "import store.db\n" + OPENER, url, str(go)], cwd=ROOT,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
        for opener in openers:  # each has imported SQLAlchemy and the schema and waits for the go
            assert opener.stdout.readline() == "ready\n"
        go.touch()
        results = [opener.communicate(timeout=120) for opener in openers]
        assert [err for _, err in results] == [""] * 6, [err for _, err in results]
        assert len({out for out, _ in results}) == 1  # one store id: one process made the schema
