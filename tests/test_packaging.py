"""`pip install .` gives a working `acgs2-import` command that drives the same core as `python cli.py`,
run from outside the checkout (so nothing is imported from it) and writing its store under the
current folder's data/, never into site-packages."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pip_install_gives_a_working_acgs2_import_command(tmp_path):
    # a copy of the sources: setuptools builds in the source tree, which must stay untouched
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "data", "tests", "bench", "test-artifacts", "build", "*.egg-info", "__pycache__"))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                    "--target", str(target), str(source)], check=True, capture_output=True, timeout=300)
    command = target / "bin" / "acgs2-import"
    assert command.exists()
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("DATABASE_URL")  # the default store: data/ under the current folder
    env.pop("AUDIT_LOG_PATH")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(command), *args], cwd=work, env=env, capture_output=True, text=True, timeout=120)

    started = run("run", "demo", "--project", "OPS")
    assert started.returncode == 0, started.stderr
    job_id = started.stdout.split()[-1]
    assert run("worker", "--burst").returncode == 0
    status = run("status", job_id)
    assert "[Finished with failures]" in status.stdout, status.stdout + status.stderr  # the demo's 3 invalid items
    assert (work / "data" / "workspace.db").exists()
    assert not (target / "data").exists()
    assert run("-h").stdout.startswith("usage: acgs2-import")
