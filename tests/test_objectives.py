"""Training objectives: exact values on tiny hand-made scores, and every family training
under each objective and device choice through the one trainer."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from streamrec.config import (
    SAMPLED_ABOVE,
    GRU4RecConfig,
    LSTMConfig,
    NARMConfig,
    RunConfig,
    SASRecConfig,
    SimConfig,
    TrainConfig,
)
from streamrec.training import runs
from streamrec.training.events import metric_keys
from streamrec.training.loop import train
from streamrec.training.objectives import (
    NegativeSampler,
    bpr_max,
    make_loss,
    resolve_device,
    sampled_softmax,
)


class TableModel:
    """Scores are fixed: row n of `table` scores item i with table[n, i]; states are row ids."""

    def __init__(self, table: list[list[float]]) -> None:
        self.table = torch.tensor(table)

    def logits(self, states: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        rows = self.table[states.long()]
        return rows if items is None else rows[:, items]


def fixed_sampler(counts, alpha, negatives):
    sampler = NegativeSampler(np.asarray(counts), alpha)
    sampler.sample = lambda n: torch.tensor(negatives[:n])
    return sampler


def test_sampled_softmax_by_hand():
    """Two rows, targets 0 and 1, one sampled negative (item 2) and one accidental hit
    (negative item 0 for row 0). Candidates: [0, 1, 2, 0]; scores corrected by -log q."""
    model = TableModel([[2.0, 1.0, 0.5, 0.0], [0.0, 3.0, 1.0, 0.0]])
    counts = [3.0, 1.0, 4.0, 0.0]
    sampler = fixed_sampler(counts, 0.5, [2, 0])
    loss = sampled_softmax(sampler, 2)(model, torch.tensor([0, 1]), torch.tensor([0, 1]))
    # Q = 2 targets drawn by popularity + 2 samples drawn by popularity ** 0.5
    c = np.array(counts) + 1e-3
    logq = np.log(2 * c / c.sum() + 2 * np.sqrt(c) / np.sqrt(c).sum())
    # row 0: candidates 0 (target), 1, 2 and 0 again (an accidental hit, masked out)
    row0 = np.array([2.0 - logq[0], 1.0 - logq[1], 0.5 - logq[2]])
    # row 1: candidates 0, 1 (target), 2, 0
    row1 = np.array([0.0 - logq[0], 3.0 - logq[1], 1.0 - logq[2], 0.0 - logq[0]])
    expected = np.mean([
        -row0[0] + math.log(np.exp(row0).sum()),
        -row1[1] + math.log(np.exp(row1).sum()),
    ])
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_bpr_max_by_hand():
    """One row is enough to check the formula: target item 0, negatives 1 and 2."""
    model = TableModel([[2.0, 1.0, -1.0]])
    sampler = fixed_sampler([1.0, 1.0, 1.0], 0.0, [1, 2])
    loss = bpr_max(sampler, 2, bpreg=0.5)(model, torch.tensor([0]), torch.tensor([0]))
    neg = np.array([1.0, -1.0])
    s = np.exp(neg) / np.exp(neg).sum()
    sig = 1 / (1 + np.exp(-(2.0 - neg)))
    expected = -math.log((s * sig).sum()) + 0.5 * (s * neg**2).sum()
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_sampler_follows_popularity_to_the_power_alpha():
    torch.manual_seed(0)
    sampler = NegativeSampler(np.array([1.0, 4.0, 0.0, 9.0]), alpha=0.5)
    drawn = np.bincount(sampler.sample(200_000).numpy(), minlength=4) / 200_000
    expected = np.sqrt(np.array([1.0, 4.0, 0.0, 9.0]) + 1e-3)
    np.testing.assert_allclose(drawn, expected / expected.sum(), atol=0.01)


def test_auto_loss_is_the_family_default_on_small_catalogs_and_sampled_on_large():
    assert RunConfig().loss == "full"  # the lstm trains as before
    assert RunConfig(model=GRU4RecConfig()).loss == "sampled"
    assert RunConfig(model=SASRecConfig()).loss == "sampled"
    assert RunConfig(model=NARMConfig()).loss == "full"
    big = SAMPLED_ABOVE + 1
    assert RunConfig(SimConfig(n_items=big), LSTMConfig(n_items=big)).loss == "sampled"
    assert RunConfig(model=GRU4RecConfig(), train=TrainConfig(loss="full")).loss == "full"
    with pytest.raises(ValueError, match="loss = 'hinge'"):
        TrainConfig(loss="hinge").validate()
    with pytest.raises(ValueError, match="loss = 'auto'"):
        make_loss("auto", TrainConfig(), np.ones(3))


def test_device_choice():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device = 'tpu'"):
        TrainConfig(device="tpu").validate()
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device = 'cuda' is not available"):
            resolve_device("cuda")


SIM = SimConfig(n_sessions=150, n_items=50, n_categories=5, seed=3)
TINY = {
    "lstm": LSTMConfig(n_items=50, embed_dim=8, hidden_size=8, num_layers=1),
    "sasrec": SASRecConfig(n_items=50, hidden_size=8, num_blocks=1, num_heads=2, max_positions=25),
    "gru4rec": GRU4RecConfig(n_items=50, hidden_size=8),
    "narm": NARMConfig(n_items=50, embed_dim=8, hidden_size=8),
}


@pytest.mark.parametrize("family", TINY)
@pytest.mark.parametrize("loss", ["full", "sampled", "bpr-max"])
def test_every_family_trains_under_every_objective(family, loss, tmp_path):
    """One epoch: typed events with the configured cutoffs, a finite loss, and a checkpoint
    that rebuilds from the run folder alone."""
    tc = TrainConfig(epochs=1, batch_size=64, lr=1e-2, loss=loss, n_negatives=16, cutoffs=(5, 10), device="cpu")
    config = RunConfig(SIM, TINY[family], tc)
    path = runs.create_run(config, tmp_path)
    events = list(train(config, save=lambda kind, model: runs.save_weights(path, kind, model)))
    start, end = events[0], events[-1]
    assert (start["event"], start["family"], start["loss"], start["device"]) == ("start", family, loss, "cpu")
    assert end["status"] == "completed", end["reason"]
    epoch = next(e for e in events if e["event"] == "epoch")
    assert set(metric_keys((5, 10))) <= set(epoch) and "hit@20" not in epoch
    assert np.isfinite(epoch["train_loss"]) and 0.0 <= epoch["hit@10"] <= 1.0
    model, loaded = runs.load_model(path)
    assert loaded.model == TINY[family] and type(model).__name__ != ""


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_the_same_code_trains_on_cuda():
    tc = TrainConfig(epochs=1, batch_size=64, loss="sampled", n_negatives=16, device="cuda")
    events = list(train(RunConfig(SIM, TINY["sasrec"], tc)))
    assert events[0]["device"].startswith("cuda") and events[-1]["status"] == "completed"
