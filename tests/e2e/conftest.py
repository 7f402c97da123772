"""The real stack for browser tests: the console (`streamlit run console/server.py`, as start.sh runs
it) and an RQ worker (`cli.py worker`) as subprocesses with the test's environment (its own SQLite
file and Redis database from tests/conftest.py), Debian's Chromium driven by Playwright, and the
fake JIRA server on 127.0.0.1.

Every page records the browser console; a test ends by asserting that nothing was logged as an
error and by saving a screenshot under test-artifacts/.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
# How long one browser step may take before a test calls it a hang. Only an upper bound (a passing step
# returns as soon as it is done), so it is generous: on a 2-core machine running two suites side by side
# one Streamlit rerun has taken over 15 s.
STEP_MS = 90_000
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                 "--disable-sync", "--disable-component-update"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Stop a process this fixture started (its own process group), by its id."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@dataclass
class Stack:
    url: str
    logs: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))


@pytest.fixture
def stack(tmp_path, redis_client, request):
    """The console on a free port and one import worker, with this test's DATABASE_URL and REDIS_URL.

    `@pytest.mark.stack_env(NAME="value")` adds settings, e.g. DEMO_PAGE_DELAY to pace a demo import
    so a test can watch it run whatever the machine's speed. `@pytest.mark.stack_entry("app.py")`
    starts the console from another entry file than console/server.py (what start.sh runs)."""
    marker = request.node.get_closest_marker("stack_env")
    entry_marker = request.node.get_closest_marker("stack_entry")
    entry = entry_marker.args[0] if entry_marker else "console/server.py"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "IMPORT_HEARTBEAT_INTERVAL": "1", **(marker.kwargs if marker else {})}
    port = _free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = []
    commands = {
        "worker": [sys.executable, "cli.py", "worker"],
        "console": [str(Path(sys.executable).parent / "streamlit"), "run", entry,
                    "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
    }
    for name, command in commands.items():
        out = (logs / f"{name}.log").open("w")
        procs.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                      start_new_session=True))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            for p in procs:
                _stop(p)
            pytest.fail("the console did not start:\n" + "\n".join(
                f.read_text() for f in logs.glob("*.log")))
        time.sleep(0.2)
    yield Stack(url, logs, procs)
    for p in procs:
        _stop(p)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=STEP_MS)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Console:
    """A browser tab on the console that remembers what the browser console said."""

    page: object
    base: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def open(self, path: str = "") -> None:
        self.page.goto(f"{self.base}/{path.lstrip('/')}")
        self.settle()

    def settle(self, timeout: float = STEP_MS) -> None:
        """Wait until the app is connected and no script run is in progress."""
        page = self.page
        page.wait_for_timeout(300)  # let a click's rerun begin before waiting for it to end
        page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']"
                               "[data-test-script-state='notRunning']", timeout=timeout)
        page.wait_for_timeout(200)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_clean_console(self) -> None:
        assert self.errors == [], f"the browser console logged errors: {self.errors}"
        assert self.dialogs == [], f"a dialog opened (injected script?): {self.dialogs}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.failed_call = report.failed


@pytest.fixture
def console(browser, stack, request):
    size = request.node.get_closest_marker("viewport")  # @pytest.mark.viewport(390, 844): a phone
    width, height = size.args if size else (1400, 1000)
    context = browser.new_context(viewport={"width": width, "height": height},
                                  **({"is_mobile": True, "has_touch": True} if width < 640 else {}))
    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    tab = Console(page, stack.url)
    page.on("console", lambda msg: tab.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: tab.errors.append(f"page error: {exc}"))

    def on_dialog(dialog) -> None:
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield tab
    if getattr(request.node, "failed_call", False):  # what the page showed, and what the stack said
        tab.screenshot(f"FAILED-{request.node.name}")
        print(stack.log_text()[-6000:])
    context.close()


@pytest.fixture
def fake_jira():
    """A fake Jira Cloud site with 120 ACME issues (some titled with <script> and Markdown)."""
    from tests.fakes.jira import FakeJira

    server = FakeJira(cloud=True, size=120).start()
    yield server
    server.stop()
