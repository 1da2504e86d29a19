"""The Item embeddings page on a tiny trained run: scatter, purity against chance, neighbours."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from streamrec import insights
from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.training import jobs, runs
from streamrec.world.simulator import simulate

PAGE = "pages/embeddings.py"
SIM = SimConfig(n_sessions=200, n_items=60, n_categories=4, max_preferred=3, seed=5)


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """demo (a one-epoch tiny run), a copy with corrupt weights and one without its catalog."""
    root = tmp_path_factory.mktemp("models")
    config = RunConfig(
        SIM,
        LSTMConfig(n_items=SIM.n_items, embed_dim=8, hidden_size=16, num_layers=1),
        TrainConfig(epochs=1, batch_size=256),
    )
    demo = runs.create_run(config, root, "demo")
    jobs.run_training(demo, config, with_baselines=False)
    shutil.copytree(demo, root / "corrupt")
    (root / "corrupt" / runs.WEIGHTS["best"]).write_bytes(b"\x00" * 16)
    shutil.copytree(demo, root / "no-catalog")
    (root / "no-catalog" / runs.CATALOG_FILE).unlink()
    return root


@pytest.fixture
def page(runs_root: Path, monkeypatch: pytest.MonkeyPatch, open_page):
    """Open the page with the test runs as models/."""
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(runs_root))
    return lambda **state: open_page(PAGE, **state)


def assert_clean(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def test_scatter_purity_and_neighbours(page, runs_root):
    at = page()
    assert_clean(at)
    assert at.title[0].value == "Item embeddings"
    assert at.selectbox(key="emb_run").value == "demo"
    model, _ = runs.load_model(runs_root / "demo")
    category, _ = runs.load_catalog(runs_root / "demo")
    purity = insights.category_purity_at_k(model, category, 10)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Category purity@10"] == f"{purity.purity:.1%}"
    assert metrics["Chance level"] == f"{purity.chance:.1%}"
    assert metrics["Items"] == "60"
    clicks = insights.training_clicks(simulate(SIM), runs.read_config(runs_root / "demo"))
    frequent = insights.category_purity_at_k(
        model, category, 10, items=np.flatnonzero(clicks >= 50)
    )
    assert metrics["Purity@10, well-trained items"] == f"{frequent.purity:.1%}"
    assert insights.purity_sentence(purity) in [c.value for c in at.caption]
    grade = insights.structure_grade(purity.lift)
    badge = f":{grade.color}-badge[{grade.badge}]"
    assert any(badge in m.value for m in at.markdown), [m.value for m in at.markdown]

    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    names = [t["name"] for t in figure["data"]]
    present = sorted(set(category.tolist()))
    assert names == [f"category {c}" for c in present] + ["picked item", "its nearest neighbours"]
    assert "PC1" in figure["layout"]["xaxis"]["title"]["text"]
    assert "PC2" in figure["layout"]["yaxis"]["title"]["text"]

    assert at.selectbox(key="emb_item").value == 0
    table = at.dataframe[0].value
    expected = insights.nearest_neighbours(model, 0, 10, category)
    assert table["item_id"].tolist() == expected["item_id"].tolist()
    assert table["same category"].tolist() == (expected["category"] == category[0]).tolist()


def test_picking_another_item_and_k(page, runs_root):
    at = page()
    at.selectbox(key="emb_item").set_value(17).run()
    at.number_input(key="emb_k").set_value(3).run()
    assert_clean(at)
    model, _ = runs.load_model(runs_root / "demo")
    expected = insights.nearest_neighbours(model, 17, 3)
    assert at.dataframe[0].value["item_id"].tolist() == expected["item_id"].tolist()
    assert "Nearest neighbours of item 17" in " ".join(m.value for m in at.markdown)


@pytest.mark.parametrize(
    ("run", "reason"), [("corrupt", "safetensors"), ("no-catalog", "catalog.npz")]
)
def test_broken_runs_are_named_with_their_reason_not_offered(page, run, reason):
    at = page()
    assert_clean(at)
    assert run not in at.selectbox(key="emb_run").options
    assert any(f"{run}: " in c.value and reason in c.value for c in at.caption)


def test_no_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_page):
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(tmp_path))
    at = open_page(PAGE)
    assert_clean(at)
    assert "No trained run" in at.info[0].value
    assert not at.get("plotly_chart")
