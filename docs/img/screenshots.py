"""The README's screenshots: `streamlit run app.py` on a copy of the shipped runs, driven by
Playwright on /usr/bin/chromium. Run from the repository root:

    python docs/img/screenshots.py

Writes docs/img/recommend.png (a session on the streaming demo) and docs/img/simulator.png
(the default world generated), each a 1280 x 1000 window on the page, palette-reduced to stay small.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import wait_for_app
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, running_app

OUT = ROOT / "docs" / "img"
SIZE = {"width": 1280, "height": 1000}
SESSION = "Session: item ids in click order, oldest first"


def save(page: object, name: str) -> None:
    """The visible window as a small PNG (256 colours)."""
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KiB")


def main() -> None:
    """Start the app on a copy of models/, open two pages, save their screenshots."""
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        shutil.copytree(ROOT / "models", models)
        with running_app(models) as url, sync_playwright() as play:
            browser = play.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=SIZE)
            page.goto(f"{url}/recommend?run=demo-streaming")
            wait_for_app(page, 120_000)
            box = page.get_by_label(SESSION, exact=True)
            box.fill("12, 40, 41, 7")
            box.press("Enter")
            wait_for_app(page, 120_000)
            # The results under the editor: the top picks, then the attention heatmaps.
            page.get_by_text("Session: item ids in click order, oldest first").evaluate(
                "el => el.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(2000)  # the heatmaps draw after the script run ends
            save(page, "recommend")
            page.goto(f"{url}/simulator")
            wait_for_app(page, 120_000)
            page.get_by_role("button", name="Generate").click()
            expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=120_000)
            wait_for_app(page, 120_000)
            page.get_by_test_id("stMetric").first.evaluate(
                "el => el.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(2000)
            save(page, "simulator")
            browser.close()


if __name__ == "__main__":
    main()
