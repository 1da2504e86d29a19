"""The leaderboard: every run on one data set side by side with the baselines and the ceiling.

Runs are grouped by the data they were trained on, with the project's one data identity
(`streamrec.data.identity.data_key`: the simulator settings, or the imported data set and the
hash of its clicks). Everything comes from the run folders: config.json, status.json (final scores, the baselines
and the Bayes-optimal oracle) and metrics.jsonl (the epochs, their timings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamrec.data.identity import data_key, data_label, group_by_data
from streamrec.evaluation.verdict import difference_phrase, verdict
from streamrec.training import runs
from streamrec.training.events import Event, epoch_metric, metric_keys
from streamrec.world.oracle import Oracle

ORACLE = Oracle.name  # the Bayes-optimal ceiling among the baselines
CEILING_SHARE = 0.95  # "time to 95% of the ceiling"
AGAINST_METRICS = ("hit@20", "mrr@20")  # the measures the real-data literature reports
# Row kinds: a trained run, a baseline scorer, the ceiling.
RUN, BASELINE, CEILING = "run", "baseline", "ceiling"
# The table's columns: name and kind, then the test metrics (so they show without scrolling),
# then these.
COLUMNS = (
    AGAINST := "vs best baseline (95% CI)",
    "family",
    "model",
    "objective",
    "parameters",
    "epochs",
    "training time (s)",
    "time to 95% of ceiling (s)",
    "split",
    "status",
)


@dataclass(frozen=True)
class Board:
    """The runs of one data set and split, with their table."""

    key: str  # `data_key` of the runs' data
    label: str  # `data_label` of it
    runs: list[runs.RunInfo]
    table: pd.DataFrame  # name, kind, the metrics, then COLUMNS
    metrics: list[str]  # the metric columns, in cutoff order
    baselines_from: str | None  # the run whose status.json gave the baseline rows


def data_groups(infos: Sequence[runs.RunInfo]) -> list[list[runs.RunInfo]]:
    """Readable runs grouped by `data_key`, in the order of their first run (newest first for
    `runs.list_runs`)."""
    readable = {
        info.run_id: (info, info.config)
        for info in infos if info.config is not None and not info.error
    }
    groups = group_by_data((run_id, config) for run_id, (_, config) in readable.items())
    return [[readable[run_id][0] for run_id in group] for group in groups.values()]


def time_to_share(
    events: Sequence[Event], ceiling: float, metric: str = "hit@10",
    share: float = CEILING_SHARE,
) -> float | None:
    """Training seconds (validation excluded) at the end of the first epoch whose validation
    `metric` reaches `share` of `ceiling`; None when no epoch does (or there is no ceiling)."""
    if not ceiling or not np.isfinite(ceiling):
        return None
    for event in events:
        if event["event"] != "epoch":
            continue
        value = epoch_metric(event, metric)
        if value is not None and value >= share * ceiling:
            for key in ("train_seconds", "elapsed"):  # a run from before train_seconds
                seconds = epoch_metric(event, key)
                if seconds is not None:
                    return seconds
            return float("nan")
    return None


def _training_seconds(events: Sequence[Event]) -> float | None:
    """The run's training time so far: the end event's, else the last epoch's."""
    for event in reversed(events):
        if (event["event"] == "end" or event["event"] == "epoch") and "train_seconds" in event:
            return float(event["train_seconds"])
    return None


def against_best(status: runs.RunStatus) -> str:
    """The run against the best baseline of each AGAINST_METRICS measure, with the paired
    95% session-bootstrap interval: "beats V-SKNN by +0.012 MRR@20 (95% CI +0.006..+0.018)";
    empty where the run stored no interval."""
    paired = status.paired
    phrases = []
    for metric in AGAINST_METRICS:
        rule = verdict(status.final, status.baselines, metric, paired).rule_name
        phrase = None
        if rule is not None and rule in paired:
            phrase = difference_phrase(rule, paired[rule].get(metric) or {}, metric)
        if phrase:
            phrases.append(phrase)
    return "; ".join(phrases)


def _run_row(
    info: runs.RunInfo, events: Sequence[Event], ceiling: float | None, metric: str
) -> dict[str, Any]:
    config = info.config
    assert config is not None  # data_groups keeps readable runs only
    start = next((e for e in events if e["event"] == "start"), None)
    epochs = [e for e in events if e["event"] == "epoch"]
    # The run's own oracle (its split's validation sample), else the board's.
    own = info.status.baselines_valid.get(ORACLE, {}).get(metric)
    ceiling = own if own is not None else ceiling
    return {
        "name": info.run_id,
        "kind": RUN,
        "family": config.model.family,
        "model": config.model.slug(),
        "objective": config.loss if start is None else start.get("loss", config.loss),
        "parameters": None if start is None else start.get("n_params"),
        "epochs": float(epochs[-1]["epoch"]) if epochs else 0.0,
        "training time (s)": _training_seconds(events),
        "time to 95% of ceiling (s)": time_to_share(events, ceiling or np.nan, metric),
        "split": f"{config.train.protocol}, seed {config.train.seed}",
        "status": info.state,
        AGAINST: against_best(info.status),
        **info.status.final,
    }


def _baselines(
    group: Sequence[runs.RunInfo],
) -> tuple[str | None, dict[str, runs.Metrics], dict[str, runs.Metrics]]:
    """(run, test-split scores, validation-sample scores) of the baselines, from the newest
    run of the group that has them (runs of one data set on another split score theirs on
    other held-out sessions: the `split` column tells them apart)."""
    for info in group:
        if info.status.baselines:
            return info.run_id, info.status.baselines, info.status.baselines_valid
    for info in group:  # still training: only the validation sample is scored yet
        if info.status.baselines_valid:
            return None, {}, info.status.baselines_valid
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
    for column in ("family", "model", "objective", "split", AGAINST):
        table[column] = table[column].fillna("")  # baseline rows have no model
    for column in ("parameters", "epochs", "training time (s)", "time to 95% of ceiling (s)",
                   *metrics):
        table[column] = pd.to_numeric(table[column])
    if metrics:
        table = table.sort_values(metrics[0], ascending=False, na_position="last", kind="stable")
    config = group[0].config
    assert config is not None  # data_groups keeps readable runs only
    return Board(
        key=data_key(config),
        label=data_label(config),
        runs=list(group),
        table=table.reset_index(drop=True),
        metrics=metrics,
        baselines_from=source,
    )


def boards(infos: Sequence[runs.RunInfo], metric: str = "hit@10") -> list[Board]:
    """One leaderboard per data group of `infos`."""
    return [board(group, metric) for group in data_groups(infos)]
