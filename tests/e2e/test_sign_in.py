"""Sign-in in a real browser (issue 11, finding 5): an attacker's failed passwords do not keep the admin out
of another browser; a reload keeps the admin signed in; a deep link lands on the page asked for after
sign-in; /_stcore/metrics answers only a signed-in browser."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from console import auth
from tests.fakes.server import FakeServer, Response

from .conftest import STEP_MS, Console

PASSWORD = "correct horse battery staple"
SIGNED_IN = pytest.mark.stack_env(CONSOLE_OPEN_DEMO="", CONSOLE_ADMIN_PASSWORD_HASH=auth.hash_password(PASSWORD))


def _sign_in(console: Console, password: str) -> None:
    console.page.locator("input[type='password']").fill(password)
    console.page.get_by_role("button", name="Sign in", exact=True).click()
    console.settle()


def _sign_out(console: Console) -> None:
    """Press the console's Sign out button and land on the sign-in page."""
    console.page.get_by_role("button", name="Sign out").click()
    console.page.wait_for_url(f"{console.base}/", timeout=STEP_MS)
    console.settle()
    assert _title(console) == "Sign in to the ACGS2 Import Console"


def _title(console: Console) -> str:
    return console.page.locator("h1").first.inner_text()


def _metrics_status(url: str, cookie: str | None = None) -> int:
    request = urllib.request.Request(f"{url}/_stcore/metrics", headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


@SIGNED_IN
def test_an_attackers_failures_do_not_lock_the_admin_out_and_a_reload_keeps_the_session(console, browser, stack):
    attacker = browser.new_context()
    try:
        other = Console(attacker.new_page(), stack.url)
        other.open("")
        for _ in range(auth.SESSION_FREE + 3):  # more than the old lockout's five
            _sign_in(other, "guess")
        expect(other.page.get_by_text("Too many failed attempts")).to_be_visible()
    finally:
        attacker.close()

    console.open("workspace")  # a deep link, signed out
    assert _title(console) == "Sign in to the ACGS2 Import Console"
    assert _metrics_status(stack.url) == 403  # anonymous: no metrics
    _sign_in(console, PASSWORD)
    console.page.wait_for_url(f"{stack.url}/workspace", timeout=STEP_MS)  # the page asked for, not /
    console.settle()
    expect(console.page.get_by_text("Signed in as admin")).to_be_visible()
    assert _title(console) == "Workspace"  # the page asked for (it used to land on Start)

    console.page.reload()
    console.settle()
    expect(console.page.get_by_text("Signed in as admin")).to_be_visible()  # still signed in
    assert _title(console) == "Workspace"
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in console.page.context.cookies())
    assert _metrics_status(stack.url, cookie) == 200
    console.screenshot("sign-in-reload-keeps-session")

    _sign_out(console)
    console.page.reload()
    console.settle()
    assert _title(console) == "Sign in to the ACGS2 Import Console"  # the cookie is gone
    assert _metrics_status(stack.url, cookie) == 403  # and a copy of it was signed out on the server too
    console.assert_clean_console()



class CrossSitePages(FakeServer):
    """Pages elsewhere that make a visiting browser ask the console to sign out, with its session cookie: an
    image on a same-site page (another port of this host: SameSite=Lax sends the cookie) and a navigation from
    another site (`localhost` is another site than 127.0.0.1; a top-level GET carries Lax cookies too)."""

    def __init__(self, console: str):
        self.console = console
        super().__init__()

    def setup_routes(self) -> None:
        pages = {"image": f'<img src="{self.console}/_auth/sign-out">',
                 "link": f'<script>location.href = "{self.console}/_auth/sign-out"</script>'}
        for name, html in pages.items():
            self.route("GET", f"/{name}", name, lambda _request, html=html: Response(200, html,
                                                                                     content_type="text/html"))

    def page(self, name: str) -> str:
        port = self.url.rsplit(":", 1)[1]
        return f"http://{'127.0.0.1' if name == 'image' else 'localhost'}:{port}/{name}"


@SIGNED_IN
def test_a_page_elsewhere_cannot_sign_the_admin_out(console, stack):
    """Sign-out by GET was a CSRF: any page could end the admin's session with an <img> or a link to
    /_auth/sign-out. The sign-out routes now act only on a sign-out the console's own button asked for."""
    console.open("")
    _sign_in(console, PASSWORD)
    expect(console.page.get_by_text("Signed in as admin")).to_be_visible()
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in console.page.context.cookies())
    attacker = CrossSitePages(stack.url).start()
    try:
        for name in ("image", "link"):
            with console.page.expect_event("requestfinished", lambda r: "/_auth/sign-out" in r.url) as asked:
                console.page.goto(attacker.page(name))
            assert asked.value.redirected_to is None, name  # refused, not sent on to the sign-in page
            assert _metrics_status(stack.url, cookie) == 200, name  # the session still stands on the server
            console.open("")
            expect(console.page.get_by_text("Signed in as admin")).to_be_visible()  # and in the browser
    finally:
        attacker.stop()

    _sign_out(console)
    assert _metrics_status(stack.url, cookie) == 403


@SIGNED_IN
def test_the_sign_out_routes_refuse_a_request_the_console_did_not_ask_for(stack):
    """Streamlit's own /auth/logout (company sign-in) deletes its session cookies on a GET too: the same gate."""
    for path, cookie in (("/_auth/sign-out", "acgs2_session=anything"), ("/auth/logout", "_streamlit_user=anything")):
        request = urllib.request.Request(f"{stack.url}{path}", headers={"Cookie": cookie})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403, path
        assert "Set-Cookie" not in refused.value.headers, path
        assert "Sign out" in refused.value.read().decode(), path



def _cookie_header(console: Console) -> str:
    return "; ".join(f"{c['name']}={c['value']}" for c in console.page.context.cookies())


@SIGNED_IN
def test_sign_out_from_a_tab_older_than_the_browsers_cookie_signs_the_browser_out(console, browser, stack):
    """A tab keeps the cookie it connected with. When the browser's cookie had changed since (signed in again),
    that tab's Sign out was refused (403 'a link or page elsewhere did') and the browser stayed signed in."""
    console.open("")
    _sign_in(console, PASSWORD)
    console.page.reload()  # this tab connects with cookie X
    console.settle()
    expect(console.page.get_by_text("Signed in as admin")).to_be_visible()
    old = _cookie_header(console)
    elsewhere = browser.new_context()
    try:
        other = Console(elsewhere.new_page(), stack.url)
        other.open("")
        _sign_in(other, PASSWORD)
        expect(other.page.get_by_text("Signed in as admin")).to_be_visible()
        newer = [c for c in elsewhere.cookies() if c["name"] == "acgs2_session"]
    finally:
        elsewhere.close()
    console.page.context.add_cookies(newer)  # the browser now sends cookie Y; the tab still runs on X
    _sign_out(console)
    console.page.reload()
    console.settle()
    assert _title(console) == "Sign in to the ACGS2 Import Console"  # Y was deleted too
    assert _metrics_status(stack.url, old) == 403 and _metrics_status(stack.url, _cookie_header(console)) == 403


@SIGNED_IN
def test_a_tab_signed_out_elsewhere_stops_acting_as_the_admin(console, stack):
    """Signing out ends the session on the server, but a tab open meanwhile kept acting as the admin (its
    session remembered the user): its next run now checks its cookie and shows the sign-in page."""
    console.open("")
    _sign_in(console, PASSWORD)
    console.page.reload()
    console.settle()
    expect(console.page.get_by_text("Signed in as admin")).to_be_visible()
    second = Console(console.page.context.new_page(), stack.url)
    second.open("")
    expect(second.page.get_by_text("Signed in as admin")).to_be_visible()
    _sign_out(second)
    console.page.get_by_role("link", name="Jobs").first.click()  # the first tab's next run
    console.settle()
    assert _title(console) == "Sign in to the ACGS2 Import Console"
    console.assert_clean_console()
