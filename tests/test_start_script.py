"""./start.sh keeps its import worker running: a worker that stops (killed, out of memory) is started again and said
so, and queued imports are done by the new one; one that keeps stopping right after its start is left stopped, said
once (regression: start.sh went on serving the console with no worker and said nothing; imports waited for ever).

The real script runs from a copy of the checkout made of links (its .env and data/ are the test's own), with the
test's Redis and store."""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from jobs import api

from .conftest import ROOT, free_port
from .helpers import wait_for

WORKER_LINE = re.compile(r"start: started one import worker \(pid (\d+)\)")


class StartScript:
    """`scripts/start.sh` running, its output lines readable as they come."""

    def __init__(self, tmp_path: Path, **env: str):
        tree = tmp_path / "checkout"
        (tree / "scripts").mkdir(parents=True)
        for entry in ROOT.iterdir():
            if entry.name not in {".env", "data", "scripts", ".git", "test-artifacts"}:
                (tree / entry.name).symlink_to(entry)
        for script in (ROOT / "scripts").iterdir():
            (tree / "scripts" / script.name).symlink_to(script)
        environ = {**os.environ, "CONSOLE_PORT": str(free_port()), "ACGS2_DATA_DIR": str(tmp_path / "data"), **env}
        environ.pop("CONSOLE_OPEN_DEMO")
        self.process = subprocess.Popen(["bash", str(tree / "scripts" / "start.sh")], cwd=tree, env=environ,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        self.tree = tree
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # the end of its output

    def rest(self) -> list[str]:
        """Every line not read yet, up to the end of the output (after `stop`)."""
        while (line := self.lines.get(timeout=60)) is not None:
            self.seen.append(line)
        return self.seen

    def expect(self, pattern: str, timeout: float = 120) -> re.Match:
        """The next line (of start.sh's own, `start: ...`) matching `pattern`; fails after `timeout` s without one."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"start.sh never said {pattern!r}; it said:\n" + "\n".join(self.seen)) from None
            self.seen.append(line)
            if line is None:
                raise AssertionError(f"start.sh ended without saying {pattern!r}:\n" + "\n".join(self.seen))
            if line.startswith("start: ") and (match := re.search(pattern, line)):
                return match

    def workers(self) -> dict[int, int]:
        """{pid: parent pid} of the `cli.py worker` processes (workers, their RQ schedulers) of this checkout."""
        found = {}
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and Path(entry, "cwd").readlink() == self.tree and \
                        b"cli.py\0worker" in Path(entry, "cmdline").read_bytes():
                    found[int(entry.name)] = int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue  # gone meanwhile
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


def test_a_worker_killed_under_start_sh_is_started_again_and_does_the_queued_import(tmp_path):
    script = StartScript(tmp_path, WORKER_QUICK_EXIT="0")  # every stop counts as one after a long run
    try:
        first = int(script.expect(WORKER_LINE.pattern)[1])
        script.expect("console on http://localhost")
        wait_for(lambda: first in script.workers().values(), timeout=60)  # its RQ scheduler has started
        os.kill(first, signal.SIGKILL)  # what the kernel's out-of-memory killer does
        script.expect(r"the import worker stopped \(killed by signal 9\); starting another")
        second = int(script.expect(WORKER_LINE.pattern)[1])
        assert second != first
        # nothing of the first worker left behind, orphaned: its scheduler gone (its work horses, forked for a
        # maintenance job now and then, come and go: the first child seen was not always the scheduler)
        wait_for(lambda: all(second in (pid, parent) for pid, parent in script.workers().items()), timeout=60)
        job_id = api.start_import("demo", ["ACME"], config={"size": "50"})
        wait_for(lambda: api.status(job_id)["status"] in {"succeeded", "partial"}, timeout=120)
        assert api.status(job_id)["created"] == 47  # the suite's demo keeps 3 invalid items
    finally:
        script.stop()
    assert script.rest()[-1] == "start: stopped", "\n".join(script.seen)
    assert script.workers() == {}


def test_a_worker_that_keeps_stopping_at_its_start_is_left_stopped_and_said_once(tmp_path):
    script = StartScript(tmp_path, WORKER_QUICK_EXIT="3600")  # every stop counts as one right after the start
    try:
        pid = int(script.expect(WORKER_LINE.pattern)[1])
        script.expect("console on http://localhost")
        for _ in range(2):
            os.kill(pid, signal.SIGKILL)
            script.expect(r"the import worker stopped \(killed by signal 9\); starting another")
            pid = int(script.expect(WORKER_LINE.pattern)[1])
        os.kill(pid, signal.SIGKILL)
        script.expect(r"stopped \(killed by signal 9\), the third time within 3600s of its start: not starting it")
        script.expect(r"imports wait in the queue; see the worker's lines above, then run .venv/bin/python cli.py")
        assert script.process.poll() is None  # the console goes on
    finally:
        script.stop()
    assert len([line for line in script.rest() if WORKER_LINE.search(line)]) == 3  # none started after
    assert script.workers() == {}
