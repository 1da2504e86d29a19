"""The shipped demo run: small, loadable from its folder alone, and honest against the oracle."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from streamrec.data.splits import make_split
from streamrec.evaluation.baselines import Oracle, default_scorers, evaluate_scorer
from streamrec.evaluation.metrics import paired_difference, standard_error
from streamrec.explain import trust
from streamrec.recommendation import recommend
from streamrec.training import runs
from streamrec.training.loop import evaluate_model
from streamrec.world.scenarios import scenario_of
from streamrec.world.simulator import simulate

DEMO = Path(__file__).resolve().parents[1] / "models" / "demo"


def test_demo_is_complete_and_small():
    names = {p.name for p in DEMO.iterdir()}
    assert {"config.json", "status.json", "metrics.jsonl", "catalog.npz", "best.safetensors",
            "sessions.npz", "split.npz"} <= names
    assert sum(p.stat().st_size for p in DEMO.iterdir()) <= 10 * 2**20
    assert runs.read_status(DEMO).state == "completed"
    # Its faithfulness record is stored and of its checkpoint: the Recommend page opens on the
    # most faithful explainer at once (measuring 2,000 sessions takes ~90 s on a free core).
    assert trust.stored_record(DEMO) is not None


def test_demo_recommends_the_readme_session():
    model, config = runs.load_model(DEMO)
    rec = recommend(model, [302, 310, 365], k=10, max_len=config.train.max_len)
    assert len(rec.top_items) == 10 and np.all(np.diff(rec.top_probs) <= 0)
    assert rec.attention.sum() == pytest.approx(1.0, abs=1e-5)
    category, _ = runs.load_catalog(DEMO)
    assert category.shape == (config.model.n_items,)


def test_the_demo_stores_the_sessions_and_split_its_config_builds():
    """Stored as a run saves them (jobs._open_data): the simulator's sessions and the trainer's
    split, array for array and type for type; its recorded test metrics are those of this split."""
    model, config = runs.load_model(DEMO)
    data, split = runs.load_data(DEMO, config)
    fresh = simulate(config.sim)
    for name in ("items", "offsets", "behaviour", "preferred", "cause", "cause_position"):
        stored, made = getattr(data, name), getattr(fresh, name)
        assert stored.dtype == made.dtype and np.array_equal(stored, made), name
    assert np.array_equal(data.item_popularity, fresh.item_popularity)
    assert data.has_truth and data.config == config.sim
    made_split = make_split(fresh, config.train)
    for part in ("train", "valid", "test"):
        assert np.array_equal(getattr(split, part).session, getattr(made_split, part).session)
        assert np.array_equal(getattr(split, part).position, getattr(made_split, part).position)
    metrics, _ = evaluate_model(model, data, split.report, config.train.max_len)
    assert metrics["hit@10"] == pytest.approx(runs.read_status(DEMO).final["hit@10"], abs=1e-9)


def test_nothing_beats_the_oracle_beyond_noise_on_the_demo_config():
    """The oracle is Bayes-optimal: the trained LSTM may tie it, never beat it by > 3 SE."""
    model, config = runs.load_model(DEMO)
    data, split = runs.load_data(DEMO, config)
    max_len = config.train.max_len
    oracle, oracle_ranks = evaluate_scorer(Oracle().fit(data, split.train), data, split.report, max_len)
    lstm, _ = evaluate_model(model, data, split.report, max_len)
    margin = 3 * np.sqrt(2) * standard_error(oracle_ranks, 10)
    assert lstm["hit@10"] <= oracle["hit@10"] + margin
    # And the demo is really trained: far above global popularity (Hit@10 ~ 0.05 here).
    assert lstm["hit@10"] > 0.8 * oracle["hit@10"]


STREAMING = DEMO.parent / "demo-streaming"


def test_shipped_runs_fit_in_10_mb_and_the_streaming_demo_is_complete():
    total = sum(p.stat().st_size for p in DEMO.parent.rglob("*") if p.is_file())
    assert total <= 10 * 2**20
    names = {p.name for p in STREAMING.iterdir()}
    assert {"config.json", "status.json", "metrics.jsonl", "catalog.npz", "best.safetensors",
            "sessions.npz", "split.npz"} <= names
    assert "last.safetensors" not in names
    assert runs.read_status(STREAMING).state == "completed"


def test_the_streaming_demo_is_what_its_preset_builds():
    from streamrec.__main__ import _config_from_args, build_parser

    args = build_parser().parse_args(["train", "--preset", "demo-streaming"])
    stored = runs.read_config(STREAMING)
    # It was trained with a safety time limit that it never reached (it completed every epoch).
    assert runs.read_status(STREAMING).state == "completed"
    assert replace(stored, train=replace(stored.train, max_seconds=0.0)) == _config_from_args(args)
    assert scenario_of(runs.read_config(STREAMING).sim) == "streaming"


def test_the_streaming_demo_beats_every_baseline_and_never_the_oracle():
    """Issue #10's bar, on its stored test split: above every baseline (popularity, the
    last-category rule the case study's demo loses to, the Markov chain, sequential rules,
    session kNN and V-SKNN) beyond 2 paired SEs in Hit@10 and MRR@20, at least 90% of the
    Bayes-optimal oracle's Hit@10, and never above the oracle beyond 3 SEs."""
    model, config = runs.load_model(STREAMING)
    data, split = runs.load_data(STREAMING, config)
    max_len = config.train.max_len
    metrics, lstm = evaluate_model(model, data, split.report, max_len)
    # Issue #10's baselines; STAN and VSTAN (#17) came later and are not part of its bar (at
    # their defaults STAN is level with the demo on Hit@10: docs/results-real.md).
    issue_10 = {"Popularity", "Last-category popularity", "Markov chain", "Sequential rules",
                "Session kNN", "V-SKNN"}
    for scorer in [s for s in default_scorers(data) if s.name in issue_10]:
        _, rule = evaluate_scorer(scorer.fit(data, split.train), data, split.report, max_len)
        for measure, k in (("hit", 10), ("mrr", 20)):
            above = paired_difference(lstm, rule, measure, k)
            assert above["mean"] > 2 * above["se"], (scorer.name, measure, above)
    ceiling, oracle = evaluate_scorer(Oracle().fit(data, split.train), data, split.report, max_len)
    assert metrics["hit@10"] >= 0.9 * ceiling["hit@10"]
    for measure, k in (("hit", 10), ("mrr", 20)):
        below = paired_difference(lstm, oracle, measure, k)
        assert below["mean"] <= 3 * below["se"], (measure, below)
    # The stored pairs are these: the worker computed them on the same targets.
    stored = runs.read_status(STREAMING).paired
    assert stored["Oracle"]["hit@10"]["mean"] == pytest.approx(
        paired_difference(lstm, oracle)["mean"]
    )
