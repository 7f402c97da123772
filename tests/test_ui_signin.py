"""Sign-in: required unless in open demo mode; admin password as a salted scrypt hash, compared in
constant time; failures slow down only the client making them (issue 11, finding 5: five wrong
passwords from one browser used to lock everyone out); `python -m console.auth set-password`."""
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console import auth

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def signed_out(monkeypatch):
    """Not in open demo mode, with an admin password configured; the lockout starts clear."""
    monkeypatch.delenv("CONSOLE_OPEN_DEMO", raising=False)
    monkeypatch.setenv("CONSOLE_ADMIN_PASSWORD_HASH", auth.hash_password(PASSWORD))
    auth.THROTTLE.clear()
    yield
    auth.THROTTLE.clear()


def try_password(at: AppTest, password: str) -> AppTest:
    at.text_input(key="sign_in_password").input(password)
    at.button[0].click().run()
    return at


def test_hash_is_salted_and_verifies():
    first, second = auth.hash_password(PASSWORD), auth.hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$")
    assert PASSWORD not in first
    assert auth.verify_password(PASSWORD, first) and auth.verify_password(PASSWORD, second)
    assert not auth.verify_password("wrong", first)
    assert not auth.verify_password(PASSWORD, "not-a-hash")


PAGES = ("pages/start.py", "pages/import_wizard.py", "pages/progress.py", "pages/jobs.py", "pages/workspace.py",
         "pages/guides.py")


@pytest.mark.parametrize("first_run", [True, False])
def test_every_page_requires_sign_in(signed_out, first_run, monkeypatch):
    """Also on a process's first run, when Streamlit's legacy multipage mode runs pages/<file>.py
    without app.py (switch_page before any run takes that path in AppTest)."""
    from streamlit.runtime.pages_manager import PagesManager

    for path in PAGES:
        if first_run:  # as in a fresh process: the mode is decided again from the pages/ folder
            monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
        at = AppTest.from_file(APP, default_timeout=30)
        if not first_run:
            at.run()
        at.switch_page(path).run()
        assert not at.exception
        assert [t.value for t in at.title] == ["Sign in to the ACGS2 Import Console"], path
        assert not at.dataframe and not at.metric


def test_wrong_then_right_password(signed_out):
    at = AppTest.from_file(APP, default_timeout=30).run()
    try_password(at, "nope")
    assert [e.value for e in at.error] == ["Wrong password."]
    try_password(at, PASSWORD)
    assert not at.exception
    assert [t.value for t in at.title] == ["Import your data into ACGS2"]
    assert "Signed in as admin" in [t.value for t in at.sidebar.text]
    at.sidebar.button[0].click().run()  # Sign out
    assert [t.value for t in at.title] == ["Sign in to the ACGS2 Import Console"]


def test_failures_make_that_browser_wait(signed_out, monkeypatch):
    """AppTest has one browser session; tests/e2e/test_sign_in.py shows a second browser signing in.
    The throttle's clock stands still here, so the wait cannot run out on a slow machine."""
    monkeypatch.setattr(auth.THROTTLE, "clock", lambda: 1000.0)
    at = AppTest.from_file(APP, default_timeout=30).run()
    for _ in range(auth.SESSION_FREE + 1):
        try_password(at, "guess")
    assert "wait 1 s" in at.error[0].value
    try_password(at, PASSWORD)  # even the right password waits in that browser
    assert "Too many failed attempts from this browser" in at.error[0].value
    assert [t.value for t in at.title] == ["Sign in to the ACGS2 Import Console"]


def test_delays_grow_per_session_and_an_address_is_held_never_locked_out():
    now, held = [0.0], []

    def sleep(seconds: float) -> None:  # the throttle's hold, on the test's clock
        held.append(seconds)
        now[0] += seconds

    throttle = auth.Throttle(session_free=2, address_free=3, max_delay=8, hold=5, clock=lambda: now[0], sleep=sleep)
    stored = auth.hash_password(PASSWORD)

    def attempt(password: str, session: str, address: str = "10.0.0.9") -> auth.SignInResult:
        return auth.sign_in(password, stored, session=session, address=address, throttle=throttle)

    assert attempt("a", "s1").message == attempt("b", "s1").message == "Wrong password."
    assert "wait 1 s" in attempt("c", "s1").message  # the third failure of a session: 1 s, then 2, 4, ... 8
    assert "wait 1 s" in attempt(PASSWORD, "s1").message  # not checked while waiting
    now[0] += 1.01
    assert "wait 2 s" in attempt("d", "s1").message  # a 4th failure from 10.0.0.9: past its 3 free ones
    assert held == []
    assert attempt(PASSWORD, "s2").ok  # a new browser at that address is held for the address's delay, then let in
    assert held == pytest.approx([1.0])
    for n in range(8):  # the attacker goes on from fresh browsers
        assert attempt("e", f"fresh-{n}").message.startswith("Wrong password")
    assert held[1:] == pytest.approx([1.0, 2.0, 4.0, 5])  # past its free failures each attempt is held, at most `hold`
    assert attempt(PASSWORD, "admin").ok  # the admin, same address: held 5 s, never locked out
    assert held[-1] == 5
    assert attempt("f", "s3").message == "Wrong password."  # a success cleared the address


def test_no_sign_in_configured_explains_the_choices(monkeypatch):
    monkeypatch.delenv("CONSOLE_OPEN_DEMO", raising=False)
    monkeypatch.setenv("CONSOLE_ADMIN_PASSWORD_HASH", "")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert [t.value for t in at.title] == ["Sign in to the ACGS2 Import Console"]
    assert "set-password" in at.markdown[-1].value


def test_open_demo_mode_shows_a_banner():
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert any("Open demo mode" in w.value for w in at.warning)  # in the page: a phone hides the sidebar


def test_set_password_command_writes_only_a_hash(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("OTHER=1\n")
    done = subprocess.run([sys.executable, "-m", "console.auth", "set-password", "--env-file", str(env_file)],
                          input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    text = env_file.read_text()
    assert PASSWORD not in text and "OTHER=1" in text
    stored = next(line for line in text.splitlines() if line.startswith(auth.HASH_ENV)).split("=", 1)[1].strip("'")
    assert auth.verify_password(PASSWORD, stored)
    short = subprocess.run([sys.executable, "-m", "console.auth", "set-password", "--env-file", str(env_file)],
                           input="short\n", capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert short.returncode == 2 and "at least" in short.stderr
