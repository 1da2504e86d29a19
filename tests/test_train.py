"""The trainer's event stream: order, determinism, stop, non-finite loss, checkpoints."""
from __future__ import annotations

import math

import pytest
import torch

from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data.splits import make_split
from streamrec.evaluation.baselines import evaluate_baselines
from streamrec.model import LSTMRecommender
from streamrec.training import loop as train_module
from streamrec.training.loop import evaluate_model, train
from streamrec.training.stopping import StopRequested
from streamrec.world.simulator import simulate

SIM = SimConfig(n_sessions=300, n_items=120, n_categories=6)
MODEL = LSTMConfig(n_items=120, embed_dim=16, hidden_size=24)


def tiny(**train_changes) -> RunConfig:
    return RunConfig(SIM, MODEL, TrainConfig(**{"epochs": 2, "batch_size": 256, "log_every": 2, **train_changes}))


def test_event_stream_order_and_content():
    events = list(train(tiny()))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert kinds.count("epoch") == 2 and "batch" in kinds
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all(0 <= e["hit@10"] <= e["hit@20"] <= 1 for e in epochs)
    batches = [e for e in events if e["event"] == "batch"]
    assert batches[-1]["progress"] == pytest.approx(1.0)
    end = events[-1]
    assert end["status"] == "completed" and end["best_epoch"] in (1, 2)
    assert set(end["final"]) >= {"hit@10", "hit@20", "mrr@20", "ndcg@20", "loss"}


def test_training_improves_over_an_untrained_model():
    config = tiny(epochs=4, lr=1e-2)
    events = list(train(config))
    first, last = [e for e in events if e["event"] == "epoch"][::3]
    assert last["valid_loss"] < first["valid_loss"]
    assert last["valid_loss"] < math.log(120)  # better than a uniform guess


def test_deterministic_for_a_fixed_seed():
    def losses(seed: int) -> list[float]:
        return [e["loss"] for e in train(tiny(seed=seed)) if e["event"] == "batch"]

    assert losses(1) == losses(1)
    assert losses(1) != losses(2)


def test_a_stop_in_the_first_epoch_ends_the_run_at_once_without_a_checkpoint():
    calls = {"n": 0}
    saved = []

    def should_stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 3  # three batches, then stop

    events = list(train(tiny(epochs=5), should_stop=should_stop, save=lambda kind, m: saved.append(kind)))
    end = events[-1]
    assert end["status"] == "stopped"
    assert end["reason"] == train_module.BEFORE_FIRST_EPOCH
    assert end["steps"] == 3 and end["best_epoch"] == 0
    assert saved == [] and end["final"] == {}  # nothing trained enough to keep or score
    assert not [e for e in events if e["event"] == "epoch"]  # no partial epoch validated


def test_a_stop_after_an_epoch_keeps_its_checkpoint_and_scores_nothing_more():
    config = tiny(epochs=5)
    per_epoch = next(train(config))["batches_per_epoch"]
    calls = {"n": 0}
    saved = []

    def should_stop() -> bool:
        calls["n"] += 1
        return calls["n"] > per_epoch + 1  # the first epoch and its validation, then stop

    events = list(train(config, should_stop=should_stop, save=lambda kind, m: saved.append(kind)))
    end = events[-1]
    assert (end["status"], end["reason"], end["best_epoch"]) == ("stopped", "stop requested", 1)
    assert saved == ["best", "last"] and end["final"] == {}
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1]


def test_a_stop_inside_an_evaluation_ends_it_between_batches():
    data = simulate(SIM)
    split = make_split(data, TrainConfig())
    model = LSTMRecommender(MODEL).eval()
    calls = {"n": 0}

    def should_stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    with pytest.raises(StopRequested):
        evaluate_model(model, data, split.valid, 5, targets_per_batch=16, should_stop=should_stop)
    assert calls["n"] == 3  # checked before every batch, stopped at the third
    metrics, _ = evaluate_model(model, data, split.valid, 5, should_stop=lambda: False)
    assert 0 <= metrics["hit@10"] <= 1


def test_a_stop_inside_the_baselines_scoring_ends_it_between_batches():
    data = simulate(SIM)
    split = make_split(data, TrainConfig())
    calls = {"n": 0}

    def should_stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 4

    with pytest.raises(StopRequested):
        evaluate_baselines(data, split, 5, should_stop=should_stop)
    assert calls["n"] == 5


def test_non_finite_loss_fails_the_run_without_raising(monkeypatch):
    real = torch.nn.functional.cross_entropy

    def poisoned(logits, target, **kwargs):
        loss = real(logits, target, **kwargs)
        return loss * float("nan") if logits.requires_grad else loss

    monkeypatch.setattr(train_module.nn.functional, "cross_entropy", poisoned)
    events = list(train(tiny()))
    end = events[-1]
    assert end["status"] == "failed"
    assert "non-finite loss" in end["reason"] and "epoch 1, batch 1" in end["reason"]


def test_evaluate_model_matches_per_prefix_scoring():
    data = simulate(SIM)
    split = make_split(data, TrainConfig())
    torch.manual_seed(0)
    model = LSTMRecommender(MODEL).eval()
    metrics, ranks = evaluate_model(model, data, split.valid, max_len=5)
    from streamrec.data.splits import prefix_matrix, target_items
    from streamrec.evaluation.metrics import metrics_from_ranks, target_ranks

    prefixes = torch.from_numpy(prefix_matrix(data, split.valid, 5))
    with torch.no_grad():
        logits, _ = model(prefixes)
    expected = target_ranks(logits, torch.from_numpy(target_items(data, split.valid))).numpy()
    assert (ranks == expected).mean() > 0.999  # float ties may differ in the last bit
    assert metrics["hit@10"] == pytest.approx(metrics_from_ranks(expected)["hit@10"], abs=2e-3)


def test_time_limit_stops_the_run():
    events = list(train(tiny(epochs=50, max_seconds=0.5)))
    assert events[-1]["status"] == "stopped"
    assert "time limit" in events[-1]["reason"]


def test_the_transition_heads_chain_is_counted_from_the_training_targets_alone(tmp_path):
    """train() counts the heads' chain from each training target and the click before it
    (never a validation or test target), and it is saved with the weights: a reloaded run
    ranks exactly as the trained model did."""
    from dataclasses import replace

    from streamrec.data.sources import open_data
    from streamrec.data.splits import transition_pairs
    from streamrec.training import runs

    config = replace(tiny(epochs=1), model=replace(MODEL, transitions=1))
    data, split = open_data(config)
    holder = {}
    for _ in train(config, data, split, save=lambda kind, model: holder.__setitem__(kind, model)):
        pass
    model = holder["best"]
    assert model.chain_total.sum().item() == len(split.train)
    previous, _ = transition_pairs(data, split.train)
    first = int(previous[0])
    assert model.chain_total[first].item() == (previous == first).sum()
    folder = runs.create_run(config, root=tmp_path)
    runs.save_weights(folder, "best", model)
    loaded, _ = runs.load_model(folder)
    for name in ("chain_next", "chain_count", "chain_total", "chain_popularity"):
        torch.testing.assert_close(getattr(loaded, name), getattr(model, name))
    tokens = torch.tensor([[int(first) + 1, 5, 9]])
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(tokens)[0], model(tokens)[0])
