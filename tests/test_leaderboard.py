"""The leaderboard's grouping, time to 95% of the ceiling and table, on hand-written run folders."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from streamrec.config import DataConfig, RunConfig
from streamrec.evaluation import leaderboard
from streamrec.training import runs
from tests.zoo_runs import tiny_config

EPOCHS = [
    {"event": "epoch", "epoch": 1, "hit@10": 0.20, "train_seconds": 4.0},
    {"event": "epoch", "epoch": 2, "hit@10": 0.38, "train_seconds": 9.0},
    {"event": "epoch", "epoch": 3, "hit@10": 0.39, "train_seconds": 14.0},
]


def test_time_to_share_is_the_first_epoch_at_95_percent_of_the_ceiling():
    assert leaderboard.time_to_share(EPOCHS, ceiling=0.40) == 9.0  # 0.38 >= 0.95 * 0.40
    assert leaderboard.time_to_share(EPOCHS, ceiling=0.40, share=0.97) == 14.0
    assert leaderboard.time_to_share(EPOCHS, ceiling=0.50) is None  # never reached
    assert leaderboard.time_to_share(EPOCHS, ceiling=float("nan")) is None  # no oracle
    assert leaderboard.time_to_share([], ceiling=0.4) is None


def info(config: RunConfig, name: str) -> runs.RunInfo:
    return runs.RunInfo(path=Path("/nowhere") / name, status=runs.RunStatus(), config=config)


def test_runs_are_grouped_by_data_not_by_model_or_split():
    lstm, sasrec = tiny_config("lstm"), tiny_config("sasrec")
    other_sim = dataclasses.replace(lstm, sim=dataclasses.replace(lstm.sim, seed=99))
    other_split = dataclasses.replace(lstm, train=dataclasses.replace(lstm.train, seed=7))
    imported = dataclasses.replace(lstm, data=DataConfig(source="dataset", dataset="logs"))
    infos = [info(lstm, "a"), info(other_sim, "b"), info(sasrec, "c"), info(other_split, "d"),
             info(imported, "e"), runs.RunInfo(path=Path("/nowhere/x"), error="broken")]
    groups = [[i.run_id for i in group] for group in leaderboard.data_groups(infos)]
    assert groups == [["a", "c", "d"], ["b"], ["e"]]


def fake_run(root: Path, family: str, final: float, epochs: list[dict], **status) -> Path:
    """A run folder with the given final Hit@10, epoch events and status fields."""
    path = runs.create_run(tiny_config(family), root, f"run-{family}")
    runs.append_event(path, {"event": "start", "loss": "full", "n_params": 1234})
    for event in epochs:
        runs.append_event(path, event)
    runs.append_event(path, {"event": "end", "train_seconds": epochs[-1]["train_seconds"]})
    runs.write_status(path, state="completed", final={"hit@10": final, "hit@20": final + 0.1,
                                                     "mrr@10": 0.1, "mrr@20": 0.11,
                                                     "ndcg@10": 0.12, "ndcg@20": 0.13},
                      **status)
    return path


def test_board_rows_runs_baselines_and_ceiling_sorted_by_the_first_metric(tmp_path):
    oracle = {"hit@10": 0.45, "hit@20": 0.6}
    fake_run(tmp_path, "lstm", 0.30, EPOCHS,
             baselines={"Oracle": oracle, "Popularity": {"hit@10": 0.05, "hit@20": 0.09}},
             baselines_valid={"Oracle": {"hit@10": 0.40}})
    fake_run(tmp_path, "gru4rec", 0.41, EPOCHS[:1])
    (board,) = leaderboard.boards(runs.list_runs(tmp_path))
    table = board.table.set_index("name")
    assert list(table.index) == ["Oracle", "run-gru4rec", "run-lstm", "Popularity"]
    assert list(table["kind"]) == ["ceiling", "run", "run", "baseline"]
    assert table.loc["run-lstm", "family"] == "lstm"
    assert table.loc["run-lstm", "parameters"] == 1234
    assert table.loc["run-lstm", "training time (s)"] == 14.0
    assert table.loc["run-lstm", "time to 95% of ceiling (s)"] == 9.0  # valid oracle 0.40
    assert np.isnan(table.loc["run-gru4rec", "time to 95% of ceiling (s)"])  # 0.20 < 0.38
    assert table.loc["Oracle", "hit@20"] == pytest.approx(0.6)  # test scores for the rows
    assert board.metrics[:2] == ["hit@10", "mrr@10"]
    assert board.baselines_from == "run-lstm"
    assert table.loc["run-lstm", "split"] == "session, seed 42"
    assert board.label.startswith("custom simulator (n_sessions 160")


def test_run_rows_say_how_they_stand_against_the_best_baseline_with_the_interval(tmp_path):
    # final hit@20 = 0.40, mrr@20 = 0.11; the best baseline is V-SKNN on both measures.
    cell = {"se": 0.01, "n": 100}  # stored cells carry the SE and count beside the interval
    paired = {"V-SKNN": {"hit@20": {"mean": 0.05, "lo": 0.02, "hi": 0.08, **cell},
                         "mrr@20": {"mean": -0.004, "lo": -0.01, "hi": 0.002, **cell}},
              "Popularity": {"hit@20": {"mean": 0.3, "lo": 0.2, "hi": 0.4, **cell}}}
    fake_run(tmp_path, "lstm", 0.30, EPOCHS, paired=paired,
             baselines={"V-SKNN": {"hit@20": 0.35, "mrr@20": 0.114},
                        "Popularity": {"hit@20": 0.1, "mrr@20": 0.02}})
    table = leaderboard.boards(runs.list_runs(tmp_path))[0].table.set_index("name")
    assert table.loc["run-lstm", leaderboard.AGAINST] == (
        "beats V-SKNN by +0.050 Hit@20 (95% CI +0.020..+0.080); "
        "level with V-SKNN on MRR@20 (-0.004, 95% CI -0.010..+0.002)"
    )
    assert table.loc["V-SKNN", leaderboard.AGAINST] == ""  # baselines have no paired cell
