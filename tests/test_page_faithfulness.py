"""Attention against the recorded causes on the pages, read the way a user reads them: the
faithfulness chart and the patterns per scenario on the Attention-patterns page; the
occlusion bars and the cause of each click of a sampled session on Recommend."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from streamrec import insights
from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data.identity import data_label
from streamrec.data.sessions import CAUSES, NO_CAUSE, SessionData
from streamrec.explain.faithfulness import ATTENTION, occlusion
from streamrec.recommendation import recommend
from streamrec.training import jobs, runs
from streamrec.views.session_view import (
    SampledSession,
    causes_paragraph,
    held_out_sessions,
    session_causes,
)
from streamrec.world.simulator import BEHAVIOURS

ATTENTION_PAGE, RECOMMEND_PAGE = "pages/attention.py", "pages/recommend.py"
MAX_LEN = 8
CAUSED = SimConfig(n_sessions=200, n_items=60, n_categories=4, max_preferred=3, seed=5)
PLAIN = dataclasses.replace(CAUSED, seed=6)


def label_causes(data: SessionData) -> SessionData:
    """`data` with a cause per click read off its clicks: a repeat of an earlier click, a
    return to the first click's category after leaving it (anchor), or stay / switch."""
    cause = np.zeros(data.n_clicks, dtype=np.int8)
    position = np.full(data.n_clicks, NO_CAUSE, dtype=np.int64)
    for s in range(data.n_sessions):
        items, start = data.session(s), int(data.offsets[s])
        cats = data.item_category[items]
        for t in range(1, items.size):
            earlier = np.flatnonzero(items[:t] == items[t])
            if earlier.size:
                cause[start + t], position[start + t] = CAUSES.index("repeat"), earlier[-1]
            elif cats[t] == cats[0] != cats[t - 1]:
                cause[start + t], position[start + t] = CAUSES.index("anchor"), 0
            else:
                cause[start + t] = CAUSES.index("stay" if cats[t] == cats[t - 1] else "switch")
    return dataclasses.replace(data, cause=cause, cause_position=position)


def tiny_run(root: Path, name: str, sim: SimConfig, with_causes: bool) -> Path:
    """A one-epoch run whose stored sessions have hand-made causes, or none."""
    config = RunConfig(
        sim,
        LSTMConfig(n_items=sim.n_items, embed_dim=8, hidden_size=16, num_layers=1),
        TrainConfig(epochs=1, batch_size=256, max_len=MAX_LEN),
    )
    path = runs.create_run(config, root, name)
    jobs.run_training(path, config, with_baselines=False)
    data, split = runs.load_data(path, config)
    if with_causes:  # causes read off the clicks, with mechanisms the simulator leaves off here
        runs.save_data(path, label_causes(data), split)
    else:  # as a run stored before causes were recorded
        runs.save_data(path, dataclasses.replace(data, cause=None, cause_position=None), split)
    return path


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """demo: data with causes; plain: other data, no causes (as runs made before them)."""
    root = tmp_path_factory.mktemp("faith-models")
    tiny_run(root, "demo", CAUSED, with_causes=True)
    tiny_run(root, "plain", PLAIN, with_causes=False)
    return root


@pytest.fixture
def page(runs_root: Path, monkeypatch: pytest.MonkeyPatch, open_page):
    """Open a page with the test runs as models/."""
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(runs_root))
    return lambda name, **state: open_page(name, **state)


def assert_clean(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def values(data) -> np.ndarray:
    """A figure JSON array, plain or Plotly's typed {"dtype", "bdata"} form."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
    return np.asarray(data)


def figures(at, title_start: str) -> list[dict]:
    """Every figure on the page whose title starts with `title_start`."""
    found = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return [f for f in found if f["layout"]["title"]["text"].startswith(title_start)]


def text_of(at) -> str:
    return " ".join(m.value for m in at.markdown) + " " + " ".join(c.value for c in at.caption)


def stored(runs_root: Path, name: str) -> tuple:
    model, config = runs.load_model(runs_root / name)
    data, split = runs.load_data(runs_root / name, config)
    return model, config, data, split


# --- Attention patterns ----------------------------------------------------------------------


def test_attention_page_checks_attention_against_the_recorded_causes(page, runs_root):
    at = page(ATTENTION_PAGE)
    assert_clean(at)
    model, _, data, split = stored(runs_root, "demo")
    from studio.faithfulness_view import FAITHFULNESS_SESSIONS

    assert at.number_input(key="att_faith_sessions").value == FAITHFULNESS_SESSIONS
    result = insights.measure_faithfulness(model, data, split.report, MAX_LEN, FAITHFULNESS_SESSIONS)
    assert result.n_sessions > 10
    (fig,) = figures(at, "Does the explanation point at the true cause?")
    attention_top1 = next(t for t in fig["data"] if t["name"] == "attention: top 1")
    expected = result.table[(result.table["method"] == ATTENTION) & (result.table["top"] == 1)]
    np.testing.assert_allclose(values(attention_top1["y"]), expected["share"] * 100)
    assert values(attention_top1["x"])[0] == f"all<br>{result.n_sessions:,} targets"
    text = text_of(at)
    assert f"Over {result.n_sessions:,} held-out targets caused by an earlier click" in text
    assert f"attention {result.share(ATTENTION, 1):.0%} (" in text
    assert f"Most faithful: **{result.most_faithful()}**" in text
    assert "occlusion only" not in text
    assert f"{result.n_outside:,} caused targets were left out" in text
    share = next(d.value for d in at.dataframe if "occlusion" in d.value.index and "all" in d.value.columns)
    assert "ideal" not in share.index and {"occlusion", "shapley sampling"} <= set(share.index)

    at.number_input(key="att_faith_sessions").set_value(10).run()
    (fig,) = figures(at, "Does the explanation point at the true cause?")
    assert values(fig["data"][0]["x"])[0] == "all<br>10 targets"


def test_attention_page_says_so_when_the_data_has_no_causes(page):
    at = page(ATTENTION_PAGE, att_run="plain")
    assert_clean(at)
    assert at.selectbox(key="att_run").value == "plain"
    assert "records no cause per click" in text_of(at)
    assert not figures(at, "Does the explanation point")
    # What needs no truth: comprehensiveness and sufficiency per explainer, and the baseline.
    eraser = next(d.value for d in at.dataframe if "sufficiency" in d.value.columns)
    assert list(eraser.columns) == ["comprehensiveness", "sufficiency"]
    assert {"random", "occlusion", "integrated gradients"} <= set(eraser.index)


def test_patterns_counted_per_scenario_on_request(page, runs_root):
    at = page(ATTENTION_PAGE)
    assert not figures(at, "Attention patterns per scenario")
    at.toggle(key="att_per_scenario").set_value(True).run()
    assert_clean(at)
    (fig,) = figures(at, "Attention patterns per scenario")
    rows = set(values(fig["data"][0]["y"]))
    assert rows == {
        f"{name}<br>{data_label(runs.read_config(runs_root / name))}"
        for name in ("demo", "plain")
    }
    assert any("seed 6" in row for row in rows)  # the two scenarios are told apart
    for trace in fig["data"]:
        assert trace["name"] in insights.PATTERNS


# --- Recommend --------------------------------------------------------------------------------


def test_recommend_shows_occlusion_of_the_top_pick_beside_the_attention(page, runs_root):
    at = page(RECOMMEND_PAGE, rec_why_explainer="occlusion")
    at.text_input(key="rec_text").set_value("3, 10, 25").run()
    assert_clean(at)
    model, *_ = stored(runs_root, "demo")
    top = int(recommend(model, [3, 10, 25], 10, MAX_LEN).top_items[0])
    (fig,) = figures(at, f"Occlusion: signed change in P(item {top})")
    np.testing.assert_allclose(
        values(fig["data"][0]["y"]), 100 * occlusion(model, [3, 10, 25], top), rtol=1e-4, atol=1e-5
    )
    assert "true cause" not in fig["layout"]["title"]["text"]
    assert "the model's top pick" in text_of(at)
    assert len(figures(at, "Attention (attention pooling) over the session's clicks")) == 1


def caused_sample(data: SessionData, split) -> tuple[SampledSession, int]:
    """A held-out session whose last click an earlier click inside the window caused."""
    for s in held_out_sessions(data, split):
        items = data.session(s)
        last = int(data.offsets[s + 1]) - 1
        cause = int(data.cause_position[last])
        if cause != NO_CAUSE and cause >= items.size - 1 - MAX_LEN and items.size > 3:
            sample = SampledSession(
                session_id=int(s),
                items=tuple(int(i) for i in items),
                behaviour=BEHAVIOURS[int(data.behaviour[s])],
                preferred=tuple(int(c) for c in data.preferred_categories(s)),
            )
            return sample, cause
    raise AssertionError("no held-out session with a caused last click")


def test_sampled_session_says_what_caused_each_click_and_marks_the_cause(page, runs_root):
    model, _, data, split = stored(runs_root, "demo")
    sample, cause = caused_sample(data, split)
    prefix = list(sample.items[:-1])
    at = page(
        RECOMMEND_PAGE, rec_sampled=("demo", sample), rec_text=", ".join(map(str, prefix)),
        rec_why_explainer="occlusion",
    )
    assert_clean(at)
    causes = session_causes(data, sample.session_id, sample.items)
    assert causes_paragraph(causes, len(sample.items)) in text_of(at)
    truth = sample.items[-1]
    dropped = max(0, len(prefix) - MAX_LEN)
    (fig,) = figures(at, f"Occlusion: signed change in P(item {truth})")
    assert f"red: the true cause, click {cause + 1}" in fig["layout"]["title"]["text"]
    colors = fig["data"][0]["marker"]["color"]
    assert sum(c == "#D62728" for c in colors) == 1 and colors[cause - dropped] == "#D62728"
    assert values(fig["data"][1]["x"])[0] == cause - dropped  # the marker above the bars
    # Beside it, the best possible: the oracle's posterior over which click caused it.
    (ideal,) = figures(at, f"Best possible: the oracle's P(this click caused item {truth})")
    assert values(ideal["data"][0]["y"]).size == min(len(prefix), MAX_LEN)
    np.testing.assert_allclose(
        values(fig["data"][0]["y"]), 100 * occlusion(model, prefix[-MAX_LEN:], truth),
        rtol=1e-4, atol=1e-5,
    )
    assert "the click that really came next" in text_of(at)


def test_sampled_session_of_data_without_causes_says_so(page, runs_root):
    _, _, data, split = stored(runs_root, "plain")
    s = int(held_out_sessions(data, split)[0])
    sample = SampledSession(
        s,
        tuple(int(i) for i in data.session(s)),
        BEHAVIOURS[int(data.behaviour[s])],
        tuple(int(c) for c in data.preferred_categories(s)),
    )
    at = page(
        RECOMMEND_PAGE,
        rec_run="plain",
        rec_sampled=("plain", sample),
        rec_text=", ".join(map(str, sample.items[:-1])),
    )
    assert_clean(at)
    assert at.selectbox(key="rec_run").value == "plain"
    assert "records no cause per click" in text_of(at)
    assert "What caused each click" not in text_of(at)
    # Every explainer needs no causes; without them no trust figure, so none is ranked first.
    explainer = at.selectbox(key="rec_why_explainer")
    assert len(explainer.options) >= 6 and not any("right" in o for o in explainer.options)
    assert "no explanation can be checked against the truth here" in text_of(at)
