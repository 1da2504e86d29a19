"""The leaderboard: every run on one data set side by side with the baselines and the ceiling.

Runs are grouped by the data they were trained and held out on, with the one identity the
insight pages use (`streamrec.insights.check_comparable`: same data source, same simulator
settings, same split), so every score in a group is measured on the same test sessions.
Everything comes from the run folders: config.json, status.json (final scores, the baselines
and the Bayes-optimal oracle) and metrics.jsonl (the epochs, their timings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamrec import runs
from streamrec.config import RunConfig
from streamrec.events import metric_keys
from streamrec.insights import check_comparable

ORACLE = "Oracle"  # the name the baselines module gives the Bayes-optimal ceiling
CEILING_SHARE = 0.95  # "time to 95% of the ceiling"
# Row kinds: a trained run, a baseline scorer, the ceiling.
RUN, BASELINE, CEILING = "run", "baseline", "ceiling"
# The table's columns: name and kind, then the test metrics (so they show without scrolling),
# then these.
COLUMNS = (
    "family",
    "model",
    "objective",
    "parameters",
    "epochs",
    "training time (s)",
    "time to 95% of ceiling (s)",
    "status",
)


@dataclass(frozen=True)
class Board:
    """The runs of one data set and split, with their table."""

    label: str
    runs: list[runs.RunInfo]
    table: pd.DataFrame  # name, kind, the metrics, then COLUMNS
    metrics: list[str]  # the metric columns, in cutoff order
    baselines_from: str | None  # the run whose status.json gave the baseline rows


def data_groups(infos: Sequence[runs.RunInfo]) -> list[list[runs.RunInfo]]:
    """Readable runs grouped by the data and split they were trained and tested on, in the
    order of their first run (newest first for `runs.list_runs`)."""
    groups: list[list[runs.RunInfo]] = []
    for info in infos:
        if info.config is None or info.error:
            continue
        for group in groups:
            try:
                check_comparable(group[0].config, info.config)  # type: ignore[arg-type]
            except ValueError:
                continue
            group.append(info)
            break
        else:
            groups.append([info])
    return groups


def data_label(config: RunConfig) -> str:
    """'data set yoochoose-100k · its own test split' or 'simulated: 50,000 sessions, 5,000
    items, seed 7 · session split, seed 42'."""
    tc = config.train
    if not config.data.is_simulated:
        return f"data set {config.data.dataset} · its own test split, seed {tc.seed}"
    sim = config.sim
    return (
        f"simulated: {sim.n_sessions:,} sessions, {sim.n_items:,} items, "
        f"{sim.n_categories:,} categories, seed {sim.seed} · {tc.protocol} split, seed {tc.seed}"
    )


def time_to_share(
    events: Sequence[Mapping[str, Any]], ceiling: float, metric: str = "hit@10",
    share: float = CEILING_SHARE,
) -> float | None:
    """Training seconds (validation excluded) at the end of the first epoch whose validation
    `metric` reaches `share` of `ceiling`; None when no epoch does (or there is no ceiling)."""
    if not ceiling or not np.isfinite(ceiling):
        return None
    for event in events:
        if event.get("event") == "epoch" and event.get(metric, -np.inf) >= share * ceiling:
            return float(event.get("train_seconds", event.get("elapsed", np.nan)))
    return None


def _training_seconds(events: Sequence[Mapping[str, Any]]) -> float | None:
    """The run's training time so far: the end event's, else the last epoch's."""
    for event in reversed(events):
        if event.get("event") in ("end", "epoch") and "train_seconds" in event:
            return float(event["train_seconds"])
    return None


def _run_row(info: runs.RunInfo, events: Sequence[Mapping[str, Any]], ceiling: float | None,
             metric: str) -> dict[str, Any]:
    config = info.config
    assert config is not None  # data_groups keeps readable runs only
    start = next((e for e in events if e.get("event") == "start"), {})
    epochs = [e for e in events if e.get("event") == "epoch"]
    return {
        "name": info.run_id,
        "kind": RUN,
        "family": config.model.family,
        "model": config.model.slug(),
        "objective": start.get("loss", config.loss),
        "parameters": start.get("n_params"),
        "epochs": float(epochs[-1]["epoch"]) if epochs else 0.0,
        "training time (s)": _training_seconds(events),
        "time to 95% of ceiling (s)": time_to_share(events, ceiling or np.nan, metric),
        "status": info.state,
        **(info.status.get("final") or {}),
    }


def _baselines(group: Sequence[runs.RunInfo]) -> tuple[str | None, dict, dict]:
    """(run, test-split scores, validation-sample scores) of the baselines, from the newest
    run of the group that has them."""
    for info in group:
        if info.status.get("baselines"):
            return info.run_id, info.status["baselines"], info.status.get("baselines_valid", {})
    for info in group:  # still training: only the validation sample is scored yet
        if info.status.get("baselines_valid"):
            return None, {}, info.status["baselines_valid"]
    return None, {}, {}


def board(group: Sequence[runs.RunInfo], metric: str = "hit@10") -> Board:
    """The leaderboard of one data group: a row per run, per baseline and for the ceiling.

    Time to 95% compares each epoch's validation `metric` with the oracle's on the validation
    sample scored before training (the same split, a seeded sample of its targets)."""
    source, test_scores, valid_scores = _baselines(group)
    ceiling = valid_scores.get(ORACLE, {}).get(metric)
    rows = [_run_row(info, runs.read_events(info.path), ceiling, metric) for info in group]
    for name, scores in test_scores.items():
        kind = CEILING if name == ORACLE else BASELINE
        rows.append({"name": name, "kind": kind, "status": "", **scores})
    cutoffs = sorted({k for info in group for k in info.config.train.cutoffs})  # type: ignore[union-attr]
    metrics = [m for m in metric_keys(cutoffs) if any(m in row for row in rows)]
    table = pd.DataFrame(rows, columns=["name", "kind", *metrics, *COLUMNS])
    for column in ("family", "model", "objective"):
        table[column] = table[column].fillna("")  # baseline rows have no model
    for column in ("parameters", "epochs", "training time (s)", "time to 95% of ceiling (s)",
                   *metrics):
        table[column] = pd.to_numeric(table[column])
    if metrics:
        table = table.sort_values(metrics[0], ascending=False, na_position="last", kind="stable")
    return Board(
        label=data_label(group[0].config),  # type: ignore[arg-type]
        runs=list(group),
        table=table.reset_index(drop=True),
        metrics=metrics,
        baselines_from=source,
    )


def boards(infos: Sequence[runs.RunInfo], metric: str = "hit@10") -> list[Board]:
    """One leaderboard per data group of `infos`."""
    return [board(group, metric) for group in data_groups(infos)]
