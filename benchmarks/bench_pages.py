"""Browser-side speed of the dashboard: page loads and one Recommend update, in Chromium.

Starts `streamlit run app.py` itself (headless, free loopback port, own process group, killed
at the end) over a models folder, drives Debian's Chromium (/usr/bin/chromium) with
Playwright, and prints Markdown tables for the README:

1. Page load, for every page in app.py's PAGES (read from app.py): from `page.goto` of the
   page's URL until the app is idle, i.e. `stApp` reports script state `notRunning`, no
   `stSkeleton` is left, no exception box is shown and the page's `st.title` h1 is visible.
   The server is warm (every page was opened once, Home first so that app.py's navigation is
   active) and each row is `--repeat` loads, pages interleaved. One extra row opens Recommend
   with a session in its URL (`?run=<id>&items=...`) and also waits for its heatmap.
2. Recommend update: on the Recommend page with the run, the time from an edit of the
   session until the script is idle again and the attention heatmap's x-axis lists exactly
   the new session's clicks (and the "Clicks the model reads" metric counts them). Three
   edits, `--updates` times each: typing a new id list of 3-6 clicks into the session box +
   Enter, clicking an "Append a recommendation" pill, and typing a session as long as the run
   reads (max_len clicks: the largest growth heatmap).

The run is `demo` (else the newest run) with a best.safetensors in `--models-dir` (default:
the repository's models/). Without one the script says so and trains a tiny run into a
temporary folder with the CLI, and the figures are for that tiny run.

With `--scale` (issue #16), the app runs over a temporary data folder holding a synthetic
30,000,000-click data set over a 1,000,000-item catalog (benchmarks/_scale_data.py) and a tiny
run trained with the CLI on a small data set over the same million items: every page's warm
load as above, then the Recommend catalog search (tab "Pick from the catalog": a query typed +
Enter until its matches are listed), `--updates` queries of three kinds (an exact id, an id
prefix, a label). The temporary folder is deleted at the end.

Usage: python benchmarks/bench_pages.py [--models-dir models] [--repeat 5] [--updates 10]
       python benchmarks/bench_pages.py --scale [--repeat 3] [--updates 6]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import machine

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, ServerError, running_app

ROOT = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1440, "height": 1000}  # the browser tests' window: wide layout columns
TRAIN_TIMEOUT_S = 300.0
WAIT_MS = 60_000  # any single wait in the browser; a page load on a busy 2-core machine
TINY_TRAIN = ["--n-sessions", "600", "--n-items", "300", "--n-categories", "8", "--epochs", "1"]
DEMO_RUN = "demo"
SESSION_BOX = ".st-key-rec_text input"  # the typed session (key rec_text in pages/recommend.py)
HEATMAP = ".st-key-rec_explain_chart_map"  # the attention heatmap (studio.explain_maps, key rec_explain)
APPEND_PILLS = ".st-key-rec_append button"  # the "+ item 194 · cat 5" pills (key rec_append)

# The app is idle and shows `title` (if given) as its h1, without an exception box. With
# `items`, the attention heatmap's x-axis lists exactly those clicks, in order, and the first
# metric reads "<n> of <n>". Checked in one go, so no state in between can pass for it.
IDLE_JS = """
({title, items, heatmap}) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return false;
  if (document.querySelector("[data-testid='stSkeleton']")) return false;
  if (document.querySelector("[data-testid='stException']")) return "exception";
  const h1 = [...document.querySelectorAll("[data-testid='stMain'] h1")].find(
    (h) => h.offsetParent !== null && (title === null || h.textContent.trim() === title));
  if (!h1) return false;
  if (items === null) return true;
  const ticks = [...document.querySelectorAll(`${heatmap} .xaxislayer-above .xtick text`)].map(
    (t) => (t.textContent.match(/^item (\\d+) ·/) || [])[1]);
  if (ticks.join(",") !== items.join(",")) return false;
  const metric = document.querySelector("[data-testid='stMetricValue']");
  return !!metric && metric.textContent.trim() === `${items.length} of ${items.length}`;
}
"""


SCALE_RUN = "scale"
SCALE_TRAIN = ["--model", "lstm", "--embed-dim", "16", "--hidden-size", "16", "--loss", "sampled",
               "--epochs", "1", "--no-baselines"]
SEARCH_BOX = ".st-key-rec_search_query input"  # studio.large_catalog's box on Recommend
# The app is idle and the match list (key rec_search_match) shows a match of the query.
SEARCH_JS = """
(query) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return false;
  const box = document.querySelector(".st-key-rec_search_match");
  if (!box) return false;  // the chosen match is the value of the select box's input
  return [...box.querySelectorAll("input")].some((i) => i.value.includes(query));
}
"""


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and why."""


@dataclass(frozen=True)
class PageSpec:
    """One entry of app.py's PAGES: its menu title, URL path and the h1 its script writes."""

    title: str
    url_path: str
    h1: str | None


# --- app.py's pages ----------------------------------------------------------------------


def _url_path(script: Path) -> str:
    """The URL path Streamlit infers for a page file (its name, numeric prefix dropped)."""
    try:
        from streamlit.source_util import page_icon_and_name
    except ImportError:  # an internal helper; the file stem is the same for our names
        return script.stem
    return page_icon_and_name(script)[1] or script.stem


def _page_h1(script: Path) -> str | None:
    """The literal text of the page's top-level `st.title(...)`, if it has one."""
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "title"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            return node.args[0].value
    return None


def app_pages() -> list[PageSpec]:
    """Every `st.Page(...)` of the PAGES list in app.py, in menu order."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    specs = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "PAGES" for t in node.targets)
            and isinstance(node.value, ast.List)
        ):
            continue
        for call in node.value.elts:
            # Page files only: the sign-in page is a function (st.Page(sign_in_page, ...)).
            if not (isinstance(call, ast.Call) and call.args
                    and isinstance(call.args[0], ast.Constant)):
                continue
            kwargs = {k.arg: k.value for k in call.keywords if isinstance(k.value, ast.Constant)}
            script = ROOT / ast.literal_eval(call.args[0])
            if "default" in kwargs and kwargs["default"].value:
                url = ""  # the default page is the app's root URL
            elif "url_path" in kwargs:
                url = str(kwargs["url_path"].value).strip("/")
            else:
                url = _url_path(script)
            title = str(kwargs["title"].value) if "title" in kwargs else script.stem
            specs.append(PageSpec(title=title, url_path=url, h1=_page_h1(script)))
    if not specs:
        raise BenchError("found no `PAGES = [st.Page(...), ...]` list in app.py")
    return specs


# --- the run to show -----------------------------------------------------------------------


def find_run(models_dir: Path) -> Path | None:
    """`demo` if it has a best checkpoint, else the newest run folder that has one."""
    if not models_dir.is_dir():
        return None
    runs = [p for p in models_dir.iterdir() if (p / "best.safetensors").is_file()]
    if not runs:
        return None
    named = [p for p in runs if p.name == DEMO_RUN]
    return named[0] if named else max(runs, key=lambda p: p.stat().st_mtime)


def train_tiny(models_dir: Path) -> Path:
    """Train the tiny `demo` run into `models_dir` with the CLI; its folder."""
    command = [sys.executable, "-m", "streamrec", "train", *TINY_TRAIN, "--name", DEMO_RUN]
    command += ["--models-dir", str(models_dir)]
    print(f"training it: {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=TRAIN_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"the tiny training did not finish in {TRAIN_TIMEOUT_S:.0f} s") from error
    if done.returncode != 0 or find_run(models_dir) is None:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise BenchError(f"the tiny training failed (exit {done.returncode}):\n{tail}")
    print(f"trained in {time.perf_counter() - start:.0f} s", flush=True)
    run = find_run(models_dir)
    assert run is not None
    return run


def build_scale(root: Path, n_clicks: int, n_items: int) -> tuple[Path, Path]:
    """(data folder, models folder): a big data set `big` of `n_clicks` clicks over `n_items`
    items, and the tiny run `scale` trained on a small data set over the same catalog."""
    from _scale_data import write_dataset

    data_dir, models_dir = root / "data", root / "models"
    start = time.perf_counter()
    big = write_dataset(data_dir, "big", n_clicks, n_items)
    print(f"wrote data set big: {big.data.n_clicks:,} clicks, {big.data.n_sessions:,} sessions, "
          f"{big.data.n_items:,} items in {time.perf_counter() - start:.0f} s", flush=True)
    del big
    write_dataset(data_dir, "tiny-catalog", 8_000, n_items, n_test=40, n_valid=40, cover=False,
                  seed=1)
    command = [sys.executable, "-m", "streamrec", "train", "--dataset", "tiny-catalog",
               "--name", SCALE_RUN, "--models-dir", str(models_dir), *SCALE_TRAIN]
    print(f"training it: {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    env = {**os.environ, "STREAMREC_DATA_DIR": str(data_dir)}
    try:
        done = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=TRAIN_TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"the scale run did not train in {TRAIN_TIMEOUT_S:.0f} s") from error
    if done.returncode != 0 or find_run(models_dir) is None:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise BenchError(f"the scale run failed to train (exit {done.returncode}):\n{tail}")
    print(f"trained in {time.perf_counter() - start:.0f} s", flush=True)
    return data_dir, models_dir


def measure_search(browser: Browser, rec_h1: str | None, queries: list[str]) -> list[float]:
    """Seconds from Enter in the Recommend catalog search until the app is idle listing a
    match of the query, one per query."""
    browser.load(f"recommend?run={SCALE_RUN}", rec_h1)
    browser.page.get_by_role("tab", name="Pick from the catalog").click()
    box = browser.page.locator(SEARCH_BOX)
    box.wait_for(timeout=WAIT_MS)
    browser.wait_idle("opening the catalog search", rec_h1)
    times = []
    for query in queries:
        box.fill(query)
        begin = time.perf_counter()
        box.press("Enter")
        browser.page.wait_for_function(SEARCH_JS, arg=query, timeout=WAIT_MS)
        times.append(time.perf_counter() - begin)
    return times


# --- the server ----------------------------------------------------------------------------


def _log_tail(log: Any, lines: int = 30) -> str:
    log.flush()
    log.seek(0)
    return "\n".join(log.read().splitlines()[-lines:]) or "(no output)"


# --- the browser ---------------------------------------------------------------------------


class Browser:
    """One Chromium page on the app, with the waits every measurement uses."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url

    def wait_idle(self, what: str, title: str | None, items: list[int] | None = None) -> None:
        """Wait (WAIT_MS at most) for IDLE_JS; BenchError naming `what` otherwise."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            handle = self.page.wait_for_function(
                IDLE_JS, arg={"title": title, "items": items, "heatmap": HEATMAP}, timeout=WAIT_MS
            )
        except PlaywrightError as error:
            state = "unknown"
            with contextlib.suppress(PlaywrightError):
                state = self.page.evaluate(
                    "() => document.querySelector(\"[data-testid='stApp']\")"
                    "?.getAttribute('data-test-script-state') ?? 'no stApp'"
                )
            raise BenchError(
                f"{what}: the app was not idle with the expected content within "
                f"{WAIT_MS / 1000:.0f} s (script state {state!r}, URL {self.page.url}): "
                f"{str(error).splitlines()[0]}"
            ) from error
        if handle.json_value() == "exception":
            text = self.page.locator("[data-testid='stException']").first.inner_text()
            raise BenchError(f"{what}: the page shows an exception:\n{text[:800]}")

    def load(self, path: str, title: str | None, items: list[int] | None = None) -> float:
        """Seconds from `goto(path)` until the app is idle showing `title` (and `items`)."""
        # From a blank document, so the previous page's teardown is not in the figure.
        self.page.goto("about:blank", timeout=WAIT_MS)
        start = time.perf_counter()
        self.page.goto(f"{self.url}/{path}", timeout=WAIT_MS)
        self.wait_idle(f"opening /{path}", title, items)
        return time.perf_counter() - start

    def heatmap_items(self) -> list[int]:
        """The clicks on the attention heatmap's x-axis, oldest first."""
        texts = self.page.locator(f"{HEATMAP} .xaxislayer-above .xtick text").all_text_contents()
        return [int(m.group(1)) for t in texts if (m := re.match(r"item (\d+) ·", t))]


def measure_loads(
    browser: Browser, pages: list[PageSpec], rec_path: str, rec_items: list[int], repeat: int
) -> dict[str, list[float]]:
    """Load times per table row: every page `repeat` times, interleaved, after one warm-up."""
    rec_h1 = next((p.h1 for p in pages if p.url_path == "recommend"), "Recommend")
    rows: list[tuple[str, str, str | None, list[int] | None]] = [
        (
            f"{p.title} (no session)" if p.url_path == "recommend" else p.title,
            p.url_path,
            p.h1,
            None,
        )
        for p in pages
    ]
    rows.append(("Recommend, session in the URL (+ heatmap drawn)", rec_path, rec_h1, rec_items))
    times: dict[str, list[float]] = {name: [] for name, *_ in rows}
    for name, path, h1, items in rows:  # warm-up: caches filled, code imported
        print(f"  warm-up {name}: {browser.load(path, h1, items):.1f} s", flush=True)
    for round_ in range(repeat):
        for name, path, h1, items in rows:
            times[name].append(browser.load(path, h1, items))
        print(f"  loads, round {round_ + 1}/{repeat} done", flush=True)
    return times


def measure_updates(
    browser: Browser,
    rec_path: str,
    rec_h1: str | None,
    start: list[int],
    n_items: int,
    max_len: int,
    updates: int,
) -> dict[str, list[float]]:
    """Update times (s) of the Recommend page: `updates` typed sessions, `updates` appends."""
    if max_len < 3:
        raise BenchError(f"the run reads only {max_len} click(s); this benchmark needs 3 or more")
    rng = random.Random(0)
    browser.load(rec_path, rec_h1, start)
    box = browser.page.locator(SESSION_BOX)
    current = list(start)

    def type_sessions(low: int, high: int) -> list[float]:
        """Seconds per typed session of `low`..`high` random clicks, `updates` of them."""
        nonlocal current
        times = []
        for _ in range(updates):
            new = rng.sample(range(n_items), rng.randint(low, high))
            while new == current:
                new = rng.sample(range(n_items), len(new))
            box.fill(", ".join(str(i) for i in new))
            begin = time.perf_counter()
            box.press("Enter")
            browser.wait_idle("typing a session", rec_h1, new)
            times.append(time.perf_counter() - begin)
            current = new
        return times

    typed = type_sessions(3, min(6, max_len))
    typed_long = type_sessions(max_len, max_len)

    appended: list[float] = []
    for _ in range(updates):
        if len(current) >= min(12, max_len):  # appends grow it: back to 2 clicks, not timed
            current = current[:2]
            box.fill(", ".join(str(i) for i in current))
            box.press("Enter")
            browser.wait_idle("typing a short session between appends", rec_h1, current)
        pills = browser.page.locator(APPEND_PILLS)
        labels = pills.all_text_contents()
        choices = [
            (i, int(m.group(1)))
            for i, t in enumerate(labels)
            if (m := re.search(r"item (\d+) ·", t)) and int(m.group(1)) != current[-1]
        ]
        if not choices:
            raise BenchError(f"no 'Append a recommendation' pill to click (found {labels})")
        index, item = choices[0]
        new = [*current, item]
        begin = time.perf_counter()
        pills.nth(index).click(timeout=WAIT_MS)
        browser.wait_idle(f"appending item {item}", rec_h1, new)
        appended.append(time.perf_counter() - begin)
        current = new
    if browser.heatmap_items() != current:
        raise BenchError(f"heatmap shows {browser.heatmap_items()}, expected {current}")
    return {
        "type a new session (3-6 clicks) + Enter": typed,
        "click an Append pill (sessions of 3-12 clicks)": appended,
        f"type a session of max_len = {max_len} clicks + Enter": typed_long,
    }


# --- report --------------------------------------------------------------------------------


def print_loads(times: dict[str, list[float]], repeat: int) -> None:
    print(f"\nPage load, warm server: `page.goto` until idle (seconds, {repeat} loads each)")
    print("(idle: script state notRunning, no skeleton left, the page's title h1 visible)\n")
    print("| page | median s | max s |")
    print("|---|---:|---:|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.2f} | {max(values):.2f} |")


def scale_queries(n_items: int, n: int) -> list[str]:
    """`n` catalog queries cycling through an exact raw id, a 7-digit id prefix and a label."""
    from _scale_data import FIRST_ID

    rng = random.Random(2)
    kinds = [lambda i: str(FIRST_ID + i), lambda i: str(FIRST_ID + i)[:7],
             lambda i: f"Product {i}"]
    return [kinds[k % 3](rng.randrange(n_items)) for k in range(n)]


def print_updates(times: dict[str, list[float]], n: int,
                  what: str = "edit until idle with the new heatmap") -> None:
    print(f"\nRecommend update in the browser: {what} (ms, {n}×)\n")
    print("| edit | median ms | max ms |")
    print("|---|---:|---:|")
    for name, values in times.items():
        ms = [v * 1000 for v in values]
        print(f"| {name} | {statistics.median(ms):.0f} | {max(ms):.0f} |")


def _raise_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def run(args: argparse.Namespace) -> None:
    pages = app_pages()
    if not CHROMIUM.exists():
        raise BenchError(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise BenchError(f"playwright cannot be imported ({error}): pip install playwright")

    models_dir = Path(args.models_dir).resolve()
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        if args.scale:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            data_dir, models_dir = build_scale(scratch, args.scale_clicks, args.scale_items)
            env["STREAMREC_DATA_DIR"] = str(data_dir)
        run_dir = find_run(models_dir)
        tiny = run_dir is None
        if tiny:
            print(f"No run with a best.safetensors in {models_dir}.")
            models_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            run_dir = train_tiny(models_dir)
        assert run_dir is not None
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        n_items, max_len = int(config["model"]["n_items"]), int(config["train"]["max_len"])
        which = "the TINY run trained just now (not the shipped demo)" if tiny else "this run"
        print(
            f"run: {run_dir.name} ({n_items:,} items, max_len {max_len}), figures are for {which}"
        )

        log = stack.enter_context(tempfile.TemporaryFile(mode="w+"))
        start = time.perf_counter()
        try:
            url = stack.enter_context(running_app(models_dir, log, env))
        except ServerError as error:
            raise BenchError(str(error)) from error
        print(f"streamlit healthy at {url} after {time.perf_counter() - start:.1f} s", flush=True)
        playwright = stack.enter_context(sync_playwright())
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=WAIT_MS
        )
        stack.callback(chromium.close)
        page = chromium.new_page(viewport=VIEWPORT)
        page.set_default_timeout(WAIT_MS)
        page.set_default_navigation_timeout(WAIT_MS)
        browser = Browser(page, url)

        rec_items = [int(i) for i in random.Random(1).sample(range(n_items), min(4, max_len))]
        if args.scale:  # the data set's raw ids, as a link carries them
            from _scale_data import FIRST_ID

            rec_items = [FIRST_ID + i for i in rec_items]
        rec_path = f"recommend?run={run_dir.name}&items={','.join(map(str, rec_items))}"
        rec_h1 = next((p.h1 for p in pages if p.url_path == "recommend"), "Recommend")
        try:
            home = next(p for p in pages if p.url_path == "")
            browser.load("", home.h1)  # app.py's navigation active before any direct link
            loads = measure_loads(browser, pages, rec_path, rec_items, args.repeat)
            if args.scale:
                updates = {"catalog search: query + Enter until its matches are listed":
                           measure_search(browser, rec_h1, scale_queries(n_items, args.updates))}
            else:
                updates = measure_updates(
                    browser, rec_path, rec_h1, rec_items, n_items, max_len, args.updates
                )
        except (BenchError, PlaywrightError) as error:
            print(f"end of the server's output:\n{_log_tail(log)}")
            if isinstance(error, BenchError):
                raise
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise BenchError(f"a browser step failed at {page.url}: {first}") from error

    print(f"\n{machine()}; load average at the end {os.getloadavg()[0]:.1f}")
    print(
        f"The Streamlit server, Chromium and this script share the same {os.cpu_count()} cores "
        "(with whatever else runs on the machine): the figures include that contention."
    )
    if tiny:
        print(f"Figures for the tiny run ({' '.join(TINY_TRAIN)}), not the shipped models/demo.")
    if args.scale:
        print(f"Scale case: data set 'big' ({args.scale_clicks:,} clicks, {args.scale_items:,} "
              f"items, shown first on the Data page) and run '{SCALE_RUN}' over {n_items:,} items")
    print_loads(loads, args.repeat)
    if args.scale:
        print_updates(updates, args.updates, "catalog search over a million items")
    else:
        print_updates(updates, args.updates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models-dir",
        default=str(ROOT / "models"),
        help="the app's STREAMREC_MODELS_DIR (default: the repository's models/)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="loads per page (default 5)")
    parser.add_argument(
        "--updates", type=int, default=10, help="Recommend updates per kind of edit (default 10)"
    )
    parser.add_argument("--scale", action="store_true",
                        help="a 30M-click data set and a run over 1M items (issue #16)")
    parser.add_argument("--scale-clicks", type=int, default=30_000_000, help=argparse.SUPPRESS)
    parser.add_argument("--scale-items", type=int, default=1_000_000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1 or args.updates < 1:
        parser.error("--repeat and --updates must be at least 1")
    signal.signal(signal.SIGTERM, _raise_on_sigterm)  # so the server is still stopped
    try:
        run(args)
    except BenchError as error:
        print(f"bench_pages failed: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
