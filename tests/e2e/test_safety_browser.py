"""Issue #8 in the real browser: links that try to leave the models folder or inject
Markdown, and viewer mode (STREAMREC_VIEWER=1), each on a server of its own."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from streamrec.training import runs
from tests.e2e.conftest import wait_for_app
from tests.e2e.server import running_app
from tests.test_probes import EVIL_LINK, make_run

IDLE_MS = 90_000


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, subprocess.Popen]]:
    """models/ with a finished run `good`, and `link-out`: a symlink to a run outside it that
    claims to be training in a stranger's process (which must never be signalled)."""
    base = tmp_path_factory.mktemp("safety")
    root = base / "models"
    make_run(root, "good")
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    outside = make_run(base / "outside", "target")
    runs.write_status(outside, state="running", pid=stranger.pid, heartbeat=time.time() + 3600,
                      phase="training")
    (root / "link-out").symlink_to(outside, target_is_directory=True)
    yield root, stranger
    stranger.kill()
    stranger.wait()


def open_(page: Any, url: str) -> None:
    page.goto(url)
    wait_for_app(page, IDLE_MS)


def test_links_out_of_the_models_folder_and_crafted_links_are_refused(
    browser_available: None, page: Any, models: tuple[Path, subprocess.Popen]
) -> None:
    root, stranger = models
    expect.set_options(timeout=IDLE_MS)
    with running_app(root) as url:
        for run in ("..", "link-out", "a/../.."):
            open_(page, f"{url}/train?run={quote(run, safe='')}")
            expect(page.get_by_text("The link's run cannot be shown").first).to_be_visible()
            expect(page.get_by_role("heading", name=f"Run {run}")).to_have_count(0)
            expect(page.get_by_role("button", name="Stop")).to_have_count(0)
        assert stranger.poll() is None
        assert not (root.parent / runs.STOP_FILE).exists()
        assert not (root.parent / "outside" / "target" / runs.STOP_FILE).exists()

        open_(page, f"{url}/recommend?run={quote(EVIL_LINK, safe='')}")
        warning = page.get_by_text("The link asks for run")
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("[click](https:")  # the literal text, no link
        expect(warning).to_contain_text("evil.example/x)")
        expect(page.locator("a[href*='evil.example']")).to_have_count(0)

        open_(page, f"{url}/recommend?items={quote('www.evil.example [x](https://evil.example)')}")
        expect(page.get_by_text("Cannot read this session")).to_be_visible()
        expect(page.locator("a[href*='evil.example']")).to_have_count(0)


def test_viewer_mode_shows_everything_and_changes_nothing(
    browser_available: None, page: Any, models: tuple[Path, subprocess.Popen]
) -> None:
    root, _ = models
    expect.set_options(timeout=IDLE_MS)
    with running_app(root, env={"STREAMREC_VIEWER": "1"}) as url:
        open_(page, f"{url}/train")
        expect(page.get_by_text("Viewer mode", exact=False).first).to_be_visible()
        expect(page.get_by_text("Start training is turned off")).to_be_visible()
        expect(page.get_by_role("button", name="Start training")).to_have_count(0)

        open_(page, f"{url}/runs")
        expect(page.get_by_text("Delete is turned off")).to_be_visible()
        expect(page.get_by_role("button", name="Delete this run…")).to_have_count(0)
        expect(page.get_by_role("button", name="config.json")).to_be_visible()  # looking is fine

        open_(page, f"{url}/recommend?run=good&items=1,2,3")
        expect(page.get_by_text("Model's top 10", exact=True)).to_be_visible()
    assert sorted(p.name for p in root.iterdir()) == ["good", "link-out"]
