"""The Attention patterns and Item embeddings pages in a real browser, with screenshots.

These pages need a trained run, so this module starts its own app on a models folder of its
own: a copy of the shipped models/demo when there is one, else a tiny run trained here.
`app_url` is overridden for this module only; `st_app` and the browser come from conftest.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.training import jobs, runs
from tests.e2e.server import ROOT, running_app

SHIPPED_DEMO = ROOT / "models" / "demo"
N_ATTENTION_CHARTS = 7  # six attention charts and the faithfulness chart (the demo records causes)


def models_folder(root: Path) -> Path:
    """A models folder holding a 'demo' run: the shipped one, or a tiny one trained now."""
    if (SHIPPED_DEMO / runs.WEIGHTS["best"]).exists():
        shutil.copytree(SHIPPED_DEMO, root / "demo")
        return root
    sim = SimConfig(n_sessions=400, n_items=120, n_categories=6, max_preferred=3)
    config = RunConfig(
        sim,
        LSTMConfig(n_items=sim.n_items, embed_dim=16, hidden_size=32, num_layers=1),
        TrainConfig(epochs=2, batch_size=256),
    )
    jobs.run_training(runs.create_run(config, root, "demo"), config, with_baselines=False)
    return root


@pytest.fixture(scope="module")
def app_url(browser_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run app.py` with STREAMREC_MODELS_DIR on this module's models folder."""
    with running_app(models_folder(tmp_path_factory.mktemp("models"))) as url:
        yield url


def open_from_the_menu(st_app, title: str):
    """Open the home page, then a page from the sidebar menu, as a visitor would.

    Not a deep link: on a freshly started server, Streamlit 1.67 serves a first request for
    /<page> straight from pages/<page>.py without running app.py (no navigation menu, no
    wide layout) until some session has run app.py.
    """
    page = st_app.goto()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    st_app.wait()
    return page


def test_attention_page_shows_patterns_and_opens_an_example(st_app):
    page = open_from_the_menu(st_app, "Attention patterns")
    expect(page).to_have_url(f"{st_app.url}/attention")
    expect(page.get_by_role("heading", name="Attention patterns")).to_be_visible()
    charts = page.locator("[data-testid='stPlotlyChart']")
    expect(charts).to_have_count(N_ATTENTION_CHARTS)
    for i in range(N_ATTENTION_CHARTS):
        expect(charts.nth(i).locator(".main-svg").first).to_be_visible()
    expect(page.get_by_text("the last two clicks hold at least 60%")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Sessions · prefixes")).to_be_visible()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    st_app.screenshot("attention")

    link = page.get_by_test_id("stPageLink").filter(has_text="session").first
    link.click()
    expect(page).to_have_url(re.compile(r"/recommend\?(?=.*run=demo)(?=.*items=\d)"))
    st_app.wait()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def test_embeddings_page_shows_scatter_purity_and_neighbours(st_app):
    page = open_from_the_menu(st_app, "Item embeddings")
    expect(page).to_have_url(f"{st_app.url}/embeddings")
    expect(page.get_by_role("heading", name="Item embeddings")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Category purity@10")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Chance level")).to_be_visible()
    chart = page.locator("[data-testid='stPlotlyChart']")
    expect(chart).to_have_count(1)
    expect(chart.locator(".main-svg").first).to_be_visible()
    expect(page.get_by_text("Nearest neighbours of item 0")).to_be_visible()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    # The category legend (25 entries for the demo) stays inside the figure.
    figure = chart.locator(".main-svg").first.bounding_box()
    legend = chart.locator(".legend").first.bounding_box()
    assert figure and legend
    assert legend["x"] >= figure["x"] - 1
    assert legend["x"] + legend["width"] <= figure["x"] + figure["width"] + 1
    assert legend["y"] + legend["height"] <= figure["y"] + figure["height"] + 1
    st_app.screenshot("embeddings")
