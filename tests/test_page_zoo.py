"""Every model family in the app: the leaderboard lists tiny runs of each with the baselines and
the ceiling; Recommend explains each by what its model's `explain` returns; Attention patterns
compares two families on the same data. The runs are trained once, in this process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streamrec.charts.faithfulness_charts import METHOD_NAMES
from streamrec.data.identity import data_key
from streamrec.explain.attribution import CAPTUM_METHODS
from streamrec.training import runs
from tests.zoo_runs import TINY_SIM, tiny_config, train_tiny_runs

FAMILIES = ("lstm", "sasrec", "gru4rec", "narm")
SESSION = "3, 10, 25, 7"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return train_tiny_runs(tmp_path_factory.mktemp("zoo"))


@pytest.fixture
def models(tmp_path: Path, trained: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    for path in trained.values():
        shutil.copytree(path, tmp_path / path.name)
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(tmp_path))
    return tmp_path


def titles(at: Any) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def assert_clean(at: Any) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_leaderboard_lists_every_family_with_baselines_and_ceiling(open_page, models):
    at = open_page("pages/leaderboard.py")
    assert_clean(at)
    assert at.title[0].value == "Leaderboard"
    (label,) = at.selectbox(key="board_data").options
    assert f"n_sessions {TINY_SIM.n_sessions}" in label and "(4 runs)" in label
    # The leaderboard's own table (a tuned data set elsewhere in the data root adds its table).
    table = next(df.value for df in at.dataframe if "name" in df.value.columns).set_index("name")
    rows = table[table["kind"] == "run"]
    assert sorted(rows.index) == sorted(f"tiny-{f}" for f in FAMILIES)
    assert sorted(rows["family"]) == sorted(FAMILIES)
    assert (rows["parameters"] > 0).all() and (rows["training time (s)"] > 0).all()
    assert (rows["epochs"] == 1).all() and rows["hit@10"].between(0, 1).all()
    assert table.loc["Oracle", "kind"] == "ceiling (oracle)"
    assert {"Popularity", "Markov chain"} <= set(table.index[table["kind"] == "baseline"])
    assert list(table["hit@10"]) == sorted(table["hit@10"], reverse=True)  # best first
    # Each run against the best baseline, with the 95% session-bootstrap interval.
    against = rows["vs best baseline (95% CI)"]
    assert against.str.contains(r"^(?:beats|trails|level with) .*95% CI").all(), list(against)
    # No row chosen: the curves of every run, against training time, with the oracle lines.
    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    assert sorted(t["name"] for t in figure["data"]) == sorted(f"tiny-{f}" for f in FAMILIES)
    assert figure["layout"]["title"]["text"].endswith("per training time")
    assert len(figure["layout"]["shapes"]) == 2  # the oracle and 95% of it
    at.radio(key="board_x").set_value("epoch").run()
    assert titles(at)[0].endswith("per epoch")

    # Clicking rows overlays just those runs (a baseline row chosen with them draws nothing).
    shown = next(df.value for df in at.dataframe if "name" in df.value.columns)
    picked = [int(i) for i in shown.index[shown["name"].isin(["tiny-sasrec", "tiny-gru4rec",
                                                                "Popularity"])]]
    key = f"board_table_{data_key(tiny_config('lstm'))}"
    at.session_state[key] = {"selection": {"rows": picked, "columns": [],
                                                              "cells": []}}
    at.run()
    assert_clean(at)
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sorted(t["name"] for t in figure["data"]) == ["tiny-gru4rec", "tiny-sasrec"]


@pytest.mark.parametrize("family", FAMILIES)
def test_recommend_explains_each_family_by_what_its_model_returns(open_page, models, family):
    at = open_page("pages/recommend.py")
    at.selectbox(key="rec_run").set_value(f"tiny-{family}").run()
    at.text_input(key="rec_text").set_value(SESSION).run()
    assert_clean(at)
    shown = titles(at)
    # Every family gets every model-agnostic explainer, the most faithful first.
    options = [o.split(" · ")[0] for o in at.selectbox(key="rec_why_explainer").options]
    assert {METHOD_NAMES[m] for m in CAPTUM_METHODS} <= set(options), options
    most = {m.label: m for m in at.metric}["Most attended click"]
    if family == "gru4rec":
        assert most.value == "—"
    else:  # the pooling attention, else the model's last map (a transformer's rollout)
        assert most.value.startswith("item ")
        assert most.delta.endswith("(rollout)") == (family == "sasrec"), most.delta
    radios = {r.key: list(r.options) for r in at.radio}
    if family == "sasrec":  # a grid of layers x heads, plus rollout
        assert radios["rec_explain_map"] == ["rollout", "by layer and head"]  # the headline's map first
        assert any(t.startswith("Attention (rollout)") for t in shown), shown
        at.radio(key="rec_explain_map").set_value("by layer and head").run()
        shown = titles(at)
        radios = {r.key: list(r.options) for r in at.radio}
        assert at.selectbox(key="rec_explain_layer").options == ["layer 1", "layer 2"]
        assert radios["rec_explain_head"] == ["head 1", "head 2", "mean over heads"]
        assert any("(layer 2 · mean over heads)" in t for t in shown), shown
        at.radio(key="rec_explain_head").set_value("head 1").run()
        assert any("(layer 2 · head 1)" in t for t in titles(at))
        at.radio(key="rec_explain_map").set_value("rollout").run()
        assert any(t.startswith("Attention (rollout)") for t in titles(at))
    elif family == "gru4rec":  # no attention: the other explainers only
        assert not any(t.startswith(("Attention", "How the attention")) for t in shown), shown
        assert any("without attention" in c.value for c in at.caption)
    else:  # one map of its own: no picker
        name = {"lstm": "attention pooling", "narm": "local attention"}[family]
        assert "rec_explain_map" not in radios
        assert any(t.startswith(f"Attention ({name})") for t in shown), shown


def test_attention_patterns_compares_two_families_on_the_same_data(open_page, models):
    at = open_page("pages/attention.py")
    at.selectbox(key="att_run").set_value("tiny-sasrec").run()
    at.number_input(key="att_sessions").set_value(10).run()
    assert at.selectbox(key="att_view").value == "rollout"
    at.selectbox(key="att_compare").set_value("tiny-narm").run()
    assert_clean(at)
    assert not at.warning, [w.value for w in at.warning]
    assert at.selectbox(key="att_compare_view").value == "local attention"
    table = at.dataframe[-1].value
    assert list(table.columns) == ["tiny-sasrec (sasrec, sasrec-b2-h8)", "tiny-narm (narm, narm-h8)"]

    at.selectbox(key="att_compare").set_value("tiny-gru4rec").run()
    assert "pools its clicks without attention" in at.warning[0].value
    at.selectbox(key="att_compare").set_value("(no comparison)")
    at.selectbox(key="att_run").set_value("tiny-gru4rec").run()
    assert not at.exception
    assert "pools its clicks without attention" in at.info[0].value


def test_runs_page_lists_every_family(open_page: Callable[..., Any], models):
    at = open_page("pages/runs.py")
    assert not at.exception
    table = at.dataframe[0].value.set_index("run")
    assert {table.loc[f"tiny-{f}", "family"] for f in FAMILIES} == set(FAMILIES)
    assert runs.read_status(models / "tiny-sasrec").state == "completed"
