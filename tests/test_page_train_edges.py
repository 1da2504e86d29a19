"""Rough edges of a newcomer's walk (issue #18), each seen the way a user sees it: a stopped
run's verdict, the scenario box after a reload, the status line on real data, and the
Data page's split settings. Runs are written as the worker writes them (no training)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data.sources import open_data
from streamrec.model.lstm import LSTMRecommender
from streamrec.training import jobs, runs
from streamrec.world.scenarios import SCENARIOS

PAGE = "pages/train.py"
SIM = SimConfig(n_sessions=80, n_items=40, n_categories=4, max_preferred=3)
CONFIG = RunConfig(SIM, LSTMConfig(n_items=40, embed_dim=8, hidden_size=8, num_layers=1),
                   TrainConfig(epochs=2))
VALID = {"hit@10": 0.30, "mrr@10": 0.12}
BASELINES_VALID = {"Popularity": {"hit@10": 0.20}, "Oracle": {"hit@10": 0.40}}


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "models"
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(root))
    return root


def stopped_run(root: Path, best_valid: dict[str, float]) -> Path:
    """A run stopped by the user during its second epoch: a best checkpoint, no held-out score."""
    path = runs.create_run(CONFIG, root, "stopped")
    torch.manual_seed(0)
    runs.save_weights(path, "best", LSTMRecommender(CONFIG.model))
    data, split = open_data(CONFIG)
    runs.save_catalog(path, data.item_category, data.item_popularity)
    runs.save_data(path, data, split)
    runs.append_event(path, {"event": "epoch", "epoch": 1.0, "best": True, "valid_loss": 3.0,
                             **VALID})
    runs.write_status(path, state="stopped", reason="stop requested", phase="done",
                      best_epoch=1.0, final={}, best_valid=best_valid,
                      baselines_valid=BASELINES_VALID)
    return path


def messages(at: Any) -> str:
    return " ".join(e.value for kind in ("info", "warning", "caption") for e in at.get(kind))


@pytest.mark.parametrize("scored", [True, False])
def test_a_stopped_run_shows_its_validation_verdict_labelled_as_validation(
    open_page: Callable[..., Any], models: Path, scored: bool
) -> None:
    stopped_run(models, VALID if scored else {})
    at = open_page(PAGE, train_run="stopped")
    assert not at.exception, [e.message for e in at.exception]
    text = messages(at)
    assert "Training stopped" in text
    assert ("Is the model worth it?" in text) == scored
    if scored:
        assert "On the validation sessions (the run was stopped before its held-out scoring" in text
        assert "Hit@10 0.300: 50% above the best simple rule (Popularity, 0.200)" in text
        assert "75% of the best possible (0.400)" in text


def test_the_worker_records_the_best_epochs_validation_scores() -> None:
    epochs = [{"event": "epoch", "epoch": 1.0, "best": True, "hit@10": 0.2, "valid_loss": 3.0},
              {"event": "epoch", "epoch": 2.0, "best": True, "hit@10": 0.3, "mrr@10": 0.1},
              {"event": "epoch", "epoch": 3.0, "best": False, "hit@10": 0.25}]
    assert jobs.best_validation(epochs) == {"hit@10": 0.3, "mrr@10": 0.1}
    assert jobs.best_validation([]) == {}


def running_run(root: Path, config: RunConfig, phase: str) -> Path:
    """A run that reads as training now (this process's pid, a fresh heartbeat)."""
    path = runs.create_run(config, root, "live")
    runs.write_status(path, state="running", pid=os.getpid(), heartbeat=time.time(), phase=phase)
    return path


def test_the_scenario_box_shows_the_running_runs_scenario_after_a_reload(
    open_page: Callable[..., Any], models: Path
) -> None:
    scenario = SCENARIOS["streaming"]
    sim = scenario.config(n_sessions=200)
    config = RunConfig(sim, LSTMConfig(n_items=sim.n_items, embed_dim=8, hidden_size=8),
                       TrainConfig(epochs=1, max_len=scenario.max_len))
    running_run(models, config, "training")
    at = open_page(PAGE)  # a fresh session: what a reload gives
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="train_scenario").value == "streaming"
    assert scenario.story in messages(at)


@pytest.mark.parametrize("simulated", [True, False])
def test_the_baselines_phase_mentions_the_oracle_only_on_simulated_data(
    open_page: Callable[..., Any], models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    simulated: bool,
) -> None:
    config = CONFIG
    if not simulated:
        from streamrec.data.datasets import Dataset, content_hash, save_dataset
        from streamrec.data.sources import dataset_config
        from tests.test_sessions import log_data

        data_root = tmp_path / "data"
        save_dataset(Dataset("shop", log_data(), 1, content_hash(log_data(), 1)), data_root)
        monkeypatch.setenv("STREAMREC_DATA_DIR", str(data_root))
        config = dataset_config(CONFIG, "shop")
    running_run(models, config, "baselines")
    at = open_page(PAGE)
    assert not at.exception, [e.message for e in at.exception]
    bar = at.get("progress")[0].proto.text
    assert bar.startswith("Scoring the baselines")
    assert ("oracle" in bar) == simulated


@pytest.mark.parametrize(("split", "shown", "hidden"), [
    ("given", {"data_valid_days"}, {"data_test_days", "data_test_fraction", "data_seed"}),
    ("time", {"data_test_days", "data_valid_days"}, {"data_test_fraction", "data_seed"}),
    ("random", {"data_test_fraction", "data_seed"}, {"data_test_days"}),
])
def test_the_import_form_shows_only_the_settings_of_the_chosen_split(
    open_page: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    split: str, shown: set[str], hidden: set[str],
) -> None:
    log = tmp_path / "clicks.csv"
    log.write_text("session_id,item_id,timestamp\n" + "".join(
        f"{s},i{(s + k) % 9},{1_400_000_000 + 60 * s + k}\n" for s in range(30) for k in range(3)))
    monkeypatch.setenv("STREAMREC_DATA_DIR", str(tmp_path / "data"))
    at = open_page("pages/data.py")
    at.segmented_control(key="data_log_how").set_value("Path on the server").run()
    at.text_input(key="data_log_path").input(str(log)).run()
    at.selectbox(key="data_split").set_value(split).run()
    assert not at.exception, [e.message for e in at.exception]
    keys = {w.key for w in at.number_input}
    assert shown <= keys and not hidden & keys
