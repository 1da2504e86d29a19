"""Issue #18 in Chromium: no Deploy button, and a page reached under a foreign host name (what
DNS rebinding does) gets no app: Streamlit refuses its WebSocket (server.allowedHosts)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.e2e.conftest import wait_for_app
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS

FOREIGN = "rebind.evil.example"


def test_the_deploy_button_is_hidden(page: Any, app_url: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    expect(page.get_by_text("StreamRec Studio").first).to_be_visible()
    expect(page.locator("[data-testid='stAppDeployButton']")).to_have_count(0)


def test_a_foreign_host_name_for_this_machine_gets_no_app(
    browser_type: Any, app_url: str
) -> None:
    """Chromium resolves a foreign name to 127.0.0.1, as a rebinding attacker's DNS would."""
    port = urlparse(app_url).port
    browser = browser_type.launch(
        executable_path=str(CHROMIUM), headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {FOREIGN} 127.0.0.1"],
    )
    try:
        page = browser.new_page()
        with page.expect_websocket(timeout=60_000) as opened:
            page.goto(f"http://{FOREIGN}:{port}/")  # the static page loads: only HTML, no app
        socket = opened.value  # the server refuses it: the socket closes (it may have already)
        if not socket.is_closed():
            try:
                socket.wait_for_event("close", timeout=60_000)
            except PlaywrightError as exc:  # refused as a socket error rather than a close
                assert "Socket error" in str(exc), exc
        expect(page.get_by_text("Next-item recommendation from click sessions")).to_have_count(0)
        page.goto(app_url)  # the same browser under the allowed name gets the app
        wait_for_app(page)
        expect(page.get_by_text("Next-item recommendation from click sessions")).to_be_visible()
    finally:
        browser.close()
