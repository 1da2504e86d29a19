"""Typed training events: what the trainer yields, the worker appends to metrics.jsonl and the
pages read. They are TypedDicts, so each event stays a plain JSON object.

An `EpochEvent` also carries one ranking metric per configured cutoff K, flattened beside its
fixed fields: `hit@K`, `mrr@K` and `ndcg@K` (`metric_keys` names them).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, TypedDict, cast


class StartEvent(TypedDict):
    """Sizes of the split and the model, before the first batch."""

    event: Literal["start"]
    family: str  # the model family, e.g. "lstm"
    loss: str  # the objective trained ("auto" resolved)
    device: str
    processes: int  # training processes (torchrun ranks); 1 without torchrun
    n_params: int
    n_train_targets: int
    n_valid_targets: int
    n_report_targets: int
    n_rows: int
    batches_per_epoch: int
    epochs: int
    time: float  # Unix time


class BatchEvent(TypedDict):
    """Every `log_every` batches: the mean train loss since the last one, progress and ETA."""

    event: Literal["batch"]
    epoch: int
    batch: int
    step: int
    loss: float
    lr: float
    progress: float  # 0..1 of the whole run
    elapsed: float  # seconds since the start, validation included
    eta: float  # seconds


class EpochEvent(TypedDict):
    """After each epoch (or at a stop): losses, timings, plus the metrics of `metric_keys`."""

    event: Literal["epoch"]
    epoch: float  # fractional when stopped mid-epoch
    train_loss: float
    valid_loss: float  # full-catalog cross-entropy, whatever the training objective
    lr: float
    epoch_seconds: float
    train_seconds: float  # cumulative, validation excluded
    elapsed: float
    best: bool


class EndEvent(TypedDict):
    """The run's outcome and the best checkpoint's metrics on the report split."""

    event: Literal["end"]
    status: Literal["completed", "stopped", "failed"]
    reason: str
    best_epoch: float
    final: dict[str, float]  # keys of `metric_keys`
    report_split: Literal["test", "valid"]
    elapsed: float
    train_seconds: float
    steps: int


Event = StartEvent | BatchEvent | EpochEvent | EndEvent


def metric_keys(cutoffs: Sequence[int]) -> list[str]:
    """The ranking-metric keys an epoch event and a final dict carry for these cutoffs."""
    return [f"{name}@{k}" for k in cutoffs for name in ("hit", "mrr", "ndcg")]


KINDS = ("start", "batch", "epoch", "end")


def as_event(obj: object) -> Event | None:
    """`obj` (one parsed metrics.jsonl line) as the event the trainer wrote, or None when it is
    not one (not an object, or no known "event" kind). Fields are not checked one by one: a
    run's metrics file can hold many thousands of lines, and readers tolerate a missing field."""
    if not isinstance(obj, dict) or obj.get("event") not in KINDS:
        return None
    return cast(Event, obj)


def epoch_metric(event: EpochEvent, key: str) -> float | None:
    """A value an epoch event carries by name: one of `metric_keys` ("hit@10"), flattened
    beside the fixed fields, or a fixed numeric field; None if the event has no such number."""
    value = cast(Mapping[str, object], event).get(key)
    return float(value) if isinstance(value, (int, float)) else None
