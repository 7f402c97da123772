"""Open demo mode serves this machine's browsers only (regression: CONSOLE_OPEN_DEMO=1 served the whole console
with admin rights, no sign-in, to every interface). A browser whose address is another one, here as a reverse proxy
on this machine hands it over (X-Forwarded-For, which the server trusts from 127.0.0.1), gets a one-line refusal."""
from __future__ import annotations

from playwright.sync_api import expect

from .conftest import Console


def test_open_demo_mode_refuses_a_browser_from_the_network(browser, stack):
    remote = browser.new_context(extra_http_headers={"X-Forwarded-For": "203.0.113.9"})  # TEST-NET-3: never contacted
    try:
        other = Console(remote.new_page(), stack.url)
        other.open("jobs")
        expect(other.page.get_by_text("serves only the machine it runs on")).to_be_visible()
        assert other.page.locator("h1").count() == 0
    finally:
        remote.close()
    local = browser.new_context()
    try:
        mine = Console(local.new_page(), stack.url)
        mine.open("jobs")
        expect(mine.page.get_by_text("serves only the machine it runs on")).to_have_count(0)
        expect(mine.page.locator("h1").first).to_be_visible()
    finally:
        local.close()
