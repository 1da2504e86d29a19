"""Real-browser harness: `streamlit run app.py` in a subprocess, Debian's Chromium via Playwright.

Fixtures for tests in this folder:

- `app_url` (session): base URL of a running app on a free loopback port (`server.running_app`);
  the server runs in its own process group, which is killed at the end of the session.
- `models_dir` (session): the temporary folder the app keeps its runs in.
- `data_dir` (session): the temporary folder the app keeps its imported data sets in.
- `st_app`: a `StreamlitApp` around pytest-playwright's `page`, with `goto(path)`, `wait()`
  and `screenshot(name)` (saved as test-output/screenshots/<name>.png).

The browser comes from pytest-playwright (`browser`, `context`, `page`); its launch arguments
are overridden here to use /usr/bin/chromium, so no Playwright browser download is needed.
Without /usr/bin/chromium or an importable playwright, every test here skips with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, ROOT, running_app

SCREENSHOTS = ROOT / "test-output" / "screenshots"
APP_IDLE_MS = 90_000  # a full script run on a loaded CI machine


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is an end-to-end test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_available() -> None:
    """Skip unless Debian's Chromium and the Playwright package are both there."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        pytest.skip(f"playwright cannot be imported ({error}): pip install -r requirements-dev.txt")


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_available: None, browser_type_launch_args: dict[str, Any]
) -> dict[str, Any]:
    """pytest-playwright's launch options, pointed at Debian's Chromium."""
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A desktop-sized window, so the wide layout shows its columns."""
    return {**browser_context_args, "viewport": {"width": 1440, "height": 1000}}


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's STREAMREC_MODELS_DIR: a temporary folder, so browser tests never touch models/."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's STREAMREC_DATA_DIR: a temporary folder, so browser tests never touch data/."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def app_url(browser_available: None, models_dir: Path, data_dir: Path) -> Iterator[str]:
    """Start `streamlit run app.py` on a free loopback port; yield its base URL."""
    # The server's environment only: set in this process, it would leak into every later test.
    with running_app(models_dir, env={"STREAMREC_DATA_DIR": str(data_dir)}) as url:
        yield url


def wait_for_app(page: Any, timeout_ms: int = APP_IDLE_MS) -> None:
    """Wait until the script run is over and no element is still a loading skeleton."""
    from playwright.sync_api import expect

    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms
    )
    expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0, timeout=timeout_ms)


PICK_ATTEMPTS = 3
PICK_RERUN_MS = 20_000  # a pick's rerun ends within this even on a loaded machine

# Counts the script runs that end from now on (the app marks its state on the stApp element;
# a record's old value, not the attribute read in the callback, since a fast run may have
# ended by the time the callback runs).
_COUNT_RUNS = """() => {
    window.__streamrecRuns = 0;
    const app = document.querySelector("[data-testid='stApp']");
    new MutationObserver((records) => {
        for (const record of records) {
            if (record.oldValue === "running") window.__streamrecRuns++;
        }
    }).observe(app, {attributes: true, attributeOldValue: true,
                     attributeFilter: ["data-test-script-state"]});
}"""


class StreamlitApp:
    """A Playwright page on the running app, with the few moves every browser test needs."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url

    def goto(self, path: str = "") -> Any:
        """Open a page by its URL path ("" is the home page) and wait for it to settle."""
        self.page.goto(f"{self.url}/{path}")
        self.wait()
        return self.page

    def wait(self, timeout_ms: int = APP_IDLE_MS) -> None:
        """Wait for the current script run to finish."""
        wait_for_app(self.page, timeout_ms)

    def fill(self, values: dict[str, str]) -> None:
        """Type into inputs by label, letting each rerun finish."""
        for label, value in values.items():
            box = self.page.get_by_label(label, exact=True)
            box.fill(value)
            box.press("Tab")
            self.wait()

    def import_log(self, log: Path, name: str, test_days: str = "7") -> Any:
        """Import the semicolon-separated click log `log` as data set `name` on the Data page
        (upload, time split with the last `test_days` days as test); returns the page."""
        from playwright.sync_api import expect

        page = self.goto()
        self.open_in_sidebar("Data")
        page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(log))
        expect(page.get_by_text(f"First rows of {log.name}, separated by semicolon")).to_be_visible()
        self.wait()
        self.fill({"Test days": test_days, "Data set name": name})
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.get_by_text(f"Imported {name}:")).to_be_visible()
        self.wait()
        return page

    def generate(self, settings: dict[str, str]) -> None:
        """Generate sessions on the Simulator page with `settings` (labels to values, "Sessions"
        among them) and wait until its metrics show that many sessions."""
        from playwright.sync_api import expect

        self.open_in_sidebar("Simulator")
        self.fill(settings)
        self.page.get_by_role("button", name="Generate").click()
        sessions = self.page.get_by_test_id("stMetric").filter(has_text="Sessions").first
        expect(sessions).to_contain_text(settings["Sessions"])
        self.wait()

    def choose(self, label: str, option: str) -> None:
        """Pick the option holding `option` in the select box labelled `label`, by typing it
        into the box and clicking it in the filtered list, and wait for the rerun the pick starts.

        Typing opens the list where the box is (a list opened by a click on the box closed
        again when a rerun or a chart's layout scrolled the page). Waiting for the script to be
        idle is not enough after a pick: the rerun may not have started yet, and what it
        changes (a data set's preselected family) would land after the next step."""
        import re

        from playwright.sync_api import TimeoutError as PlaywrightTimeout
        from playwright.sync_api import expect

        box = self.page.get_by_role("combobox", name=label, exact=True).first
        if option in box.input_value():
            return  # already chosen: no rerun to wait for
        for attempt in range(PICK_ATTEMPTS):
            self.page.evaluate(_COUNT_RUNS)
            box.fill("")  # a lost pick's text stays in the box: typing the same does nothing
            box.fill(option)  # opens the list, filtered to the matching options
            # Enter pressed before the filtered list has drawn picks nothing: click the option.
            self.page.get_by_role("option").filter(has_text=option).first.click()
            try:
                self.page.wait_for_function("window.__streamrecRuns > 0", timeout=PICK_RERUN_MS)
                break
            except PlaywrightTimeout:
                # Seen 1 run in 3 right after a log import on the Data page: the pick shows in
                # the box but no rerun reaches the server (cause not found). Pick again.
                if attempt == PICK_ATTEMPTS - 1:
                    raise
        self.wait()
        expect(box).to_have_value(re.compile(re.escape(option)))

    def open_in_sidebar(self, title: str) -> None:
        """Switch page through the navigation, which keeps the browser session (and its state)."""
        from playwright.sync_api import expect

        self.page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
        expect(self.page.get_by_role("heading", name=title, exact=True)).to_be_visible()
        self.wait()

    def screenshot(self, name: str) -> Path:
        """Save the whole page as test-output/screenshots/<name>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        # Streamlit scrolls inside its main element, so `full_page` alone stops at the
        # window: grow the window to the content's height for the shot, then restore it.
        viewport = self.page.viewport_size
        height = self.page.locator("[data-testid='stMain']").evaluate("main => main.scrollHeight")
        self.page.set_viewport_size({"width": viewport["width"], "height": min(height, 16_000)})
        self.page.wait_for_timeout(500)  # let the charts re-lay themselves out
        self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size(viewport)
        return path


@pytest.fixture
def no_training_left(models_dir: Path) -> Iterator[None]:
    """Workers live in their own process group: stop any the test leaves running."""
    from streamrec.training import jobs, runs

    yield
    for info in runs.list_runs(models_dir):
        if info.state == "running":
            jobs.stop(info.path, timeout=10)


@pytest.fixture
def st_app(page: Any, app_url: str) -> StreamlitApp:
    """The running app in a fresh browser page; waits and `expect`s get APP_IDLE_MS."""
    from playwright.sync_api import expect

    page.set_default_timeout(APP_IDLE_MS)
    expect.set_options(timeout=APP_IDLE_MS)  # expect's own default is only 5 s
    return StreamlitApp(page, app_url)
