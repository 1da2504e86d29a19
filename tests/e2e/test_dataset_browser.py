"""An imported click log in a real browser: Train offers it, Recommend takes its raw item ids
and samples its test sessions with a note instead of the oracle, Attention patterns and Item
embeddings draw without hidden truth or categories.

Its own app server runs with STREAMREC_DATA_DIR pointed at a tiny data set written by the test
and STREAMREC_MODELS_DIR at a run the CLI trained on it (see tests/test_dataset_pages.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from streamrec.__main__ import main
from streamrec.data.datasets import Dataset, content_hash, save_dataset
from tests.e2e.conftest import APP_IDLE_MS, StreamlitApp
from tests.e2e.server import running_app
from tests.test_dataset_pages import N_TEST, NAME, RUN, raw, tiny_log

TEXT_BOX = "Session: item ids in click order, oldest first"


@pytest.fixture(scope="module")
def dataset_app_url(
    browser_available: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An app server whose data root holds the tiny log and whose models root a run on it."""
    base = tmp_path_factory.mktemp("imported-e2e")
    data_root, models_root = base / "data", base / "models"
    data = tiny_log()
    save_dataset(Dataset(NAME, data, N_TEST, content_hash(data, N_TEST)), data_root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STREAMREC_DATA_DIR", str(data_root))
        assert main([
            "train", "--dataset", NAME, "--name", RUN, "--models-dir", str(models_root),
            "--model", "lstm", "--epochs", "1", "--embed-dim", "8", "--hidden-size", "16", "--max-len", "6",
            "--no-baselines", "--quiet",
        ]) == 0
        with running_app(models_root) as url:  # the server inherits STREAMREC_DATA_DIR
            yield url


@pytest.fixture
def app(page: Any, dataset_app_url: str) -> StreamlitApp:
    """The data-set app in a fresh browser page."""
    page.set_default_timeout(APP_IDLE_MS)
    expect.set_options(timeout=APP_IDLE_MS)
    return StreamlitApp(page, dataset_app_url)


def test_recommend_on_raw_ids_and_a_sampled_test_session(app: StreamlitApp) -> None:
    page = app.goto(f"recommend?run={RUN}")
    box = page.get_by_label(TEXT_BOX, exact=True)
    box.fill(f"{raw(20)}, {raw(21)}, {raw(22)}")
    box.press("Enter")
    app.wait()
    expect(page.get_by_text("no ceiling is known for real data")).to_be_visible()
    expect(page.get_by_text(f"item {raw(22)}").first).to_be_visible()
    expect(page.get_by_text("Oracle's top")).to_have_count(0)
    app.screenshot("dataset-recommend-typed")

    box.fill("302, 310")
    box.press("Enter")
    app.wait()
    expect(page.get_by_text(f"was trained on data set {NAME}")).to_be_visible()

    page.get_by_role("tab", name="Sample a held-out session").click()
    app.wait()
    page.get_by_role("button", name="Sample a session").click()
    app.wait()
    expect(page.get_by_text("of the test split")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^The click that really came next: item"))).to_be_visible()
    app.screenshot("dataset-recommend-sampled")


def test_attention_embeddings_and_train_pages_on_the_data_set(app: StreamlitApp) -> None:
    page = app.goto("attention")
    expect(page.get_by_text("Attention patterns by prefix length")).to_be_visible()
    expect(page.get_by_text("This data has no hidden behaviour")).to_be_visible()
    app.screenshot("dataset-attention")

    page = app.goto("embeddings")
    expect(page.get_by_text("This data set has no item categories")).to_be_visible()
    expect(page.get_by_text("popularity decile 10")).to_be_visible()
    app.screenshot("dataset-embeddings")

    page = app.goto("train")
    app.choose("Training data", NAME)
    expect(page.get_by_text(f"the imported data set {NAME}")).to_be_visible()
    expect(page.get_by_text("Estimated time")).to_be_visible()
    app.screenshot("dataset-train")

