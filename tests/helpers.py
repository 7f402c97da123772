"""Small helpers shared by tests that drive real worker processes."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_worker(extra_env: dict | None = None, burst: bool = True) -> subprocess.Popen:
    """An RQ worker in its own process group, so a test can kill it and its work horse at once."""
    args = [sys.executable, str(ROOT / "cli.py"), "worker"] + (["--burst"] if burst else [])
    return subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(extra_env or {})}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=None)


def _descendants(pid: int) -> list[int]:
    """Child processes, found through /proc (RQ's work horse starts its own session)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse at once: what a crashed machine looks like."""
    for pid in [process.pid, *_descendants(process.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_for(predicate, timeout: float = 30, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
