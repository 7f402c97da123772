"""Peak memory of a process tree, sampled from /proc while it runs.

RQ's worker forks a work horse per job, and the peer runs as a process of its own, so the
figure that matters is the memory of the whole tree at its largest. Summing RSS would count
twice every page the work horse still shares with the worker it was forked from, so each
process counts its proportional share (Pss, from /proc/PID/smaps_rollup): the sum is what the
tree occupies. For a single process Pss and RSS differ only by shared libraries.
"""
from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from tests.helpers import _descendants


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants (the same /proc walk the crash tests kill by)."""
    return [pid, *_descendants(pid)]


def memory_kb(pid: int) -> int:
    """The process's proportional set size (its RSS, shared pages divided among their sharers)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class PeakRss:
    """Samples the tree of `process` until it exits; `.mb` is the largest sum of Pss seen."""

    def __init__(self, process: subprocess.Popen, interval: float = 0.1):
        self.process = process
        self.interval = interval
        self.peak_kb = 0
        self._exited = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while self.process.poll() is None:
            self.peak_kb = max(self.peak_kb, sum(memory_kb(p) for p in tree(self.process.pid)))
            if self._exited.wait(self.interval):
                return

    def wait(self, timeout: float | None = None) -> int:
        """The process's exit code, once it exited. The sampler stops at once: timings taken after this
        call end at the exit, not up to `interval` later (0.05 s on average had been added to every
        whole-process time, ours and the peer's alike, which shrank the ratio of the faster)."""
        code = self.process.wait(timeout)
        self._exited.set()
        self._thread.join()
        return code

    @property
    def mb(self) -> float:
        return self.peak_kb / 1024
