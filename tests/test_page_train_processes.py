"""The Train page's "Processes" setting: a run started with 2 trains on 2 torchrun ranks and
completes like any other."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streamrec.config import SimConfig, to_dict
from streamrec.training import jobs, runs

PAGE = "pages/train.py"
TINY_SIM = to_dict(SimConfig(n_sessions=200, n_items=60, n_categories=6, seed=1))
DEADLINE = 240.0  # seconds: launcher, 2 ranks starting, simulation, baselines, 2 epochs, under load


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary models folder for the page; any job still running is stopped after."""
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(tmp_path))
    yield tmp_path
    for info in runs.list_runs(tmp_path):
        if info.state == "running":
            jobs.stop(info.path, timeout=10)


def test_two_processes_started_on_the_page_train_the_run_to_completion(
    open_page: Callable[..., Any], models_dir: Path
) -> None:
    at = open_page(PAGE, sim_config=TINY_SIM)
    assert at.number_input(key="train_processes").value == 1
    for key, value in {"train_lstm_embed_dim": 8, "train_lstm_hidden_size": 16,
                       "train_lstm_num_layers": 1, "train_batch_size": 128, "train_epochs": 2,
                       "train_processes": 2}.items():
        at.number_input(key=key).set_value(value)
    at.run()
    at.button(key="train_start").click().run()
    assert not at.error, [e.value for e in at.error]
    (path,) = [p for p in models_dir.iterdir() if not p.name.startswith(".")]
    deadline = time.monotonic() + DEADLINE
    while runs.read_status(path).state == "running":
        assert time.monotonic() < deadline, "the 2-process run did not finish in time"
        time.sleep(0.5)
    status = runs.read_status(path)
    assert status.state == "completed", status.reason
    assert status.processes == 2 and runs.read_events(path)[0]["processes"] == 2
    runs.load_model(path)
