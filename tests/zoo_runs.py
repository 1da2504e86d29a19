"""Tiny runs of every model family, trained through the worker's own code path, for the page
tests (leaderboard, Recommend, Attention patterns) and the browser test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamrec.config import MODEL_CONFIGS, RunConfig, SimConfig, TrainConfig, model_config
from streamrec.training import jobs, runs

TINY_SIM = SimConfig(n_sessions=160, n_items=40, n_categories=4, max_preferred=3, seed=3)
# Each family at a size that trains an epoch in about a second on one thread.
TINY_MODELS: dict[str, dict[str, Any]] = {
    "lstm": {"embed_dim": 8, "hidden_size": 8, "num_layers": 1},
    "sasrec": {"hidden_size": 8, "num_blocks": 2, "num_heads": 2},
    "gru4rec": {"hidden_size": 8},
    "narm": {"embed_dim": 8, "hidden_size": 8},
}
assert set(TINY_MODELS) == set(MODEL_CONFIGS), "a new family needs its tiny size here"


def tiny_config(family: str, epochs: int = 1, **train: Any) -> RunConfig:
    """A tiny, valid run config of `family` on the tiny simulator."""
    return RunConfig(
        TINY_SIM,
        model_config(family, n_items=TINY_SIM.n_items, **TINY_MODELS[family]),
        TrainConfig(epochs=epochs, batch_size=128, **train),
    ).validate()


def train_tiny_runs(root: Path, epochs: int = 1) -> dict[str, Path]:
    """One completed run per family in `root`, named `tiny-<family>` (baselines scored)."""
    paths = {}
    for family in MODEL_CONFIGS:
        path = runs.create_run(tiny_config(family, epochs), root, f"tiny-{family}")
        status = jobs.run_training(path)
        assert status.state == "completed", status.reason
        paths[family] = path
    return paths
