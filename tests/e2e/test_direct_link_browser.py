"""A direct link to a page on a freshly started server opens it inside app.py's navigation."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.server import running_app


def test_first_visit_by_direct_link_gets_the_app_navigation(
    browser_available: None, page: Any, tmp_path: Path
) -> None:
    # A server of its own: the shared one has already run app.py, which hides the problem.
    with running_app(tmp_path) as url:
        page.goto(f"{url}/runs")
        page.wait_for_selector(
            "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000
        )
        nav = page.locator("[data-testid='stSidebarNav']")
        # app.py's titles, not the legacy file-name entries ("embeddings", "train", ...).
        expect(nav.get_by_text("Item embeddings")).to_be_visible(timeout=30_000)
        expect(nav.get_by_text("Attention patterns")).to_be_visible()
        expect(page.get_by_role("heading", name="Runs")).to_be_visible()
