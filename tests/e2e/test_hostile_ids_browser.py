"""Issue #18 in the real browser: item ids of an imported log that are HTML links, Markdown
links and spreadsheet formulas show as text in the Data page's charts, never as live links."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from streamrec.data.log_import import ImportConfig, import_log
from tests.e2e.conftest import wait_for_app
from tests.e2e.server import running_app
from tests.test_probes import hostile_log

IDLE_MS = 90_000


def test_hostile_item_ids_are_text_in_the_data_pages_charts(
    browser_available: None, page: Any, tmp_path: Path
) -> None:
    log = tmp_path / "hostile.csv"
    log.write_text(hostile_log())
    import_log(ImportConfig(path=str(log), name="hostile"), tmp_path / "data")
    expect.set_options(timeout=IDLE_MS)
    with running_app(tmp_path / "models", env={"STREAMREC_DATA_DIR": str(tmp_path / "data")}) as url:
        page.goto(f"{url}/data")
        wait_for_app(page, IDLE_MS)
        charts = page.locator(".js-plotly-plot")
        expect(charts.first).to_be_visible()
        # The transitions chart names the ids as written: the tag is text in a tick label...
        expect(page.locator(".js-plotly-plot text", has_text='<a href="https://evil.example/x">')
               .first).to_be_attached()
        # ...and nowhere on the page is there a link to where the id points.
        expect(page.locator("a[href*='evil.example']")).to_have_count(0)
        expect(page.locator("a", has_text="click")).to_have_count(0)
