"""The shipped demo run: small, loadable from its folder alone, and honest against the oracle."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from streamrec import runs
from streamrec.baselines import Oracle, evaluate_scorer
from streamrec.data import make_split
from streamrec.metrics import standard_error
from streamrec.recommend import recommend
from streamrec.simulator import simulate
from streamrec.train import evaluate_model

DEMO = Path(__file__).resolve().parents[1] / "models" / "demo"


def test_demo_is_complete_and_small():
    names = {p.name for p in DEMO.iterdir()}
    assert {"config.json", "status.json", "metrics.jsonl", "catalog.npz", "best.safetensors"} <= names
    assert sum(p.stat().st_size for p in DEMO.iterdir()) <= 10 * 2**20
    assert runs.read_status(DEMO)["state"] == "completed"


def test_demo_recommends_the_readme_session():
    model, config = runs.load_model(DEMO)
    rec = recommend(model, [302, 310, 365], k=10, max_len=config.train.max_len)
    assert len(rec.top_items) == 10 and np.all(np.diff(rec.top_probs) <= 0)
    assert rec.attention.sum() == pytest.approx(1.0, abs=1e-5)
    category, _ = runs.load_catalog(DEMO)
    assert category.shape == (config.model.n_items,)


def test_nothing_beats_the_oracle_beyond_noise_on_the_demo_config():
    """The oracle is Bayes-optimal: the trained LSTM may tie it, never beat it by > 3 SE."""
    model, config = runs.load_model(DEMO)
    data = simulate(config.sim)
    split = make_split(data, config.train)
    max_len = config.train.max_len
    oracle, oracle_ranks = evaluate_scorer(Oracle().fit(data, split.train), data, split.report, max_len)
    lstm, _ = evaluate_model(model, data, split.report, max_len)
    margin = 3 * np.sqrt(2) * standard_error(oracle_ranks, 10)
    assert lstm["hit@10"] <= oracle["hit@10"] + margin
    # And the demo is really trained: far above global popularity (Hit@10 ~ 0.05 here).
    assert lstm["hit@10"] > 0.8 * oracle["hit@10"]
