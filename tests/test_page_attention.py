"""The Attention patterns page on tiny trained runs, read the way a user reads it."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest

from streamrec import insights
from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.training import jobs, runs

PAGE = "pages/attention.py"
ROOT = Path(__file__).resolve().parents[1]
SIM = SimConfig(n_sessions=200, n_items=60, n_categories=4, max_preferred=3, seed=5)
CHARTS = ("by_length", "by_behaviour", "edges", "entropy", "patterns", "examples", "faithfulness")


def tiny_run(root: Path, name: str, sim: SimConfig = SIM, pooling: str = "attention", **options) -> Path:
    """Train a one-epoch run small enough for a test (`options`: the LSTM's item_skip, copy)."""
    config = RunConfig(
        sim,
        LSTMConfig(
            n_items=sim.n_items, embed_dim=8, hidden_size=16, num_layers=1, pooling=pooling,
            **options,
        ),
        TrainConfig(epochs=1, batch_size=256),
    )
    path = runs.create_run(config, root, name)
    jobs.run_training(path, config, with_baselines=False)
    return path


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """demo (attention), last (last-state pooling, same data), other-data, and two broken ones."""
    root = tmp_path_factory.mktemp("models")
    demo = tiny_run(root, "demo")
    tiny_run(root, "last", pooling="last")
    tiny_run(
        root, "other-data", SimConfig(n_sessions=150, n_items=50, n_categories=3, max_preferred=2)
    )
    corrupt = root / "corrupt"
    shutil.copytree(demo, corrupt)
    (corrupt / runs.WEIGHTS["best"]).write_bytes(b"not a safetensors file")
    (root / "unreadable").mkdir()
    (root / "unreadable" / runs.CONFIG_FILE).write_text("{ not json")
    return root


@pytest.fixture
def page(runs_root: Path, monkeypatch: pytest.MonkeyPatch, open_page):
    """Open the page with the test runs as models/."""
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(runs_root))
    return lambda **state: open_page(PAGE, **state)


def values(data) -> np.ndarray:
    """A figure JSON array, plain or Plotly's typed {"dtype", "bdata"} form."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
    return np.asarray(data)


def has_data(figure: dict) -> bool:
    """At least one trace with a non-empty x or z."""
    return any(values(t.get("x", t.get("z", []))).size for t in figure["data"])


def assert_clean(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def test_renders_the_demo_run_with_every_chart(page):
    at = page()
    assert_clean(at)
    assert at.title[0].value == "Attention patterns"
    assert at.selectbox(key="att_run").value == "demo"
    assert at.number_input(key="att_sessions").value == 2000
    assert at.selectbox(key="att_compare").value == "(no comparison)"
    assert "unreadable" in " ".join(c.value for c in at.caption)  # broken folder is named
    assert any("`docs/casestudy.md` in the repository" in c.value for c in at.caption)
    assert (ROOT / "docs" / "casestudy.md").is_file()  # a file a clone has
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sessions · prefixes"].startswith("20 · ")  # 10% of 200 sessions held out
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == len(CHARTS)
    for figure in charts:
        layout = figure["layout"]
        assert layout["title"]["text"]
        assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"]
        assert has_data(figure)
    rules = " ".join(m.value for m in at.markdown)
    for pattern in ("anchor-item", "recency-dominant", "category-coherent", "mixed"):
        assert f"**{pattern}**" in rules
    summary = next(m.value for m in at.markdown if m.value.startswith("**Prefixes per pattern.**"))
    assert "% recency-dominant" in summary and "% anchor-item" in summary
    counts = at.dataframe[0].value
    assert list(counts.index) == list(insights.PATTERNS)
    assert list(counts.columns[:3]) == ["explorer", "deep dive", "comparison"]
    n_prefixes = int(metrics["Sessions · prefixes"].split("· ")[1].replace(",", ""))
    assert counts["all"].sum() == n_prefixes


def test_examples_link_to_the_recommend_page_with_their_clicks(page):
    at = page()
    links = at.get("page_link")
    assert links
    for link in links:
        query = parse_qs(link.proto.query_string)
        assert query["run"] == ["demo"]
        items = [int(i) for i in query["items"][0].split(",")]
        assert items and all(0 <= i < SIM.n_items for i in items)
        assert link.proto.page == "recommend"


def test_fewer_sessions(page):
    at = page()
    at.number_input(key="att_sessions").set_value(10).run()
    assert_clean(at)
    assert {m.label: m.value for m in at.metric}["Sessions · prefixes"].startswith("10 · ")


def test_log_scale_toggle(page):
    at = page()
    at.toggle(key="att_log").set_value(True).run()
    assert_clean(at)
    by_length, by_behaviour = [json.loads(c.proto.spec) for c in at.get("plotly_chart")[:2]]
    assert by_length["layout"]["yaxis"]["type"] == "log"
    assert by_behaviour["layout"]["yaxis"]["type"] == "log"


def test_compare_with_last_state_pooling(page):
    at = page()
    at.selectbox(key="att_compare").set_value("last").run()
    assert_clean(at)
    assert not at.warning
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == len(CHARTS) + 2
    overlay = charts[-2]
    assert [t["name"] for t in overlay["data"]] == [
        "demo (lstm, lstm-attention-h16)",
        "last (lstm, lstm-last-h16)",
    ]
    last = values(overlay["data"][1]["y"])
    assert last[0] == pytest.approx(1.0)  # all weight on the last click
    np.testing.assert_allclose(last[1:], 0.0)
    table = at.dataframe[-1].value
    assert list(table.columns) == ["demo (lstm, lstm-attention-h16)", "last (lstm, lstm-last-h16)"]
    assert table.loc["mean last-click share", "last (lstm, lstm-last-h16)"] == pytest.approx(1.0)


def test_compare_refuses_a_run_on_other_data(page):
    at = page()
    at.selectbox(key="att_compare").set_value("other-data").run()
    assert_clean(at)
    assert "different simulated data" in at.warning[0].value
    assert "n_items 60 vs 50" in at.warning[0].value
    assert len(at.get("plotly_chart")) == len(CHARTS)


def test_corrupt_run_is_named_with_its_reason_not_offered(page):
    at = page()
    assert_clean(at)
    assert "corrupt" not in at.selectbox(key="att_run").options
    assert any(
        "corrupt: best.safetensors is not a readable safetensors file" in c.value
        for c in at.caption
    )


def test_no_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_page):
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(tmp_path / "empty"))
    at = open_page(PAGE)
    assert_clean(at)
    assert "No trained run" in at.info[0].value
    assert not at.get("plotly_chart")


def test_a_copy_pointer_run_profiles_its_pooling_attention_first(tmp_path, monkeypatch, open_page):
    """Both of its maps are offered; the pooling attention, the one it predicts with, first."""
    tiny_run(tmp_path, "copy", item_skip=True, copy=True)
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(tmp_path))
    at = open_page(PAGE)
    assert_clean(at)
    view = at.selectbox(key="att_view")
    assert view.options == ["attention pooling", "copy pointer"] and view.value == "attention pooling"
    view.set_value("copy pointer").run()
    assert_clean(at)
    assert at.get("plotly_chart")
