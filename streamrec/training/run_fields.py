"""Type and range checks for what a run folder's JSON files hold (status.json, metrics.jsonl).

`runs` reads the files and calls these on what it read: a field of the wrong type or out of
range names its file, field and value, so the run is flagged with that reason and skipped
instead of a page or command failing later on, e.g., `"created": "yesterday"` or a metric
that is a string. Fields these checks do not know are left alone (newer writers may add some).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

STATES = ("created", "running", "completed", "stopped", "failed")
_SHOWN = 40  # characters of a bad value quoted in a message


class FieldError(ValueError):
    """A field of a run file with the wrong type or out of range."""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def is_number(value: Any) -> bool:
    """True for an int or float (bool excluded: JSON true is not a number)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any, low: float = -math.inf, high: float = math.inf, finite: bool = True) -> bool:
    if not is_number(value):
        return False
    if math.isnan(value) or math.isinf(value):
        return not finite
    return bool(low <= value <= high)


def _time(value: Any) -> bool:  # Unix seconds, up to the year ~5000
    return _number(value, 0.0, 1e11)


def _nonneg(value: Any) -> bool:
    return _number(value, 0.0)


def _score(value: Any) -> bool:  # a metric or a loss: NaN allowed (a diverged run records it)
    return value is None or _number(value, finite=False)


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _scores(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and _score(v) for k, v in value.items())


def _table(value: Any) -> bool:  # baselines: rule name -> metric -> score
    return isinstance(value, dict) and all(isinstance(k, str) and _scores(v) for k, v in value.items())


def _paired(value: Any) -> bool:  # rule -> metric -> {"mean", "se", "n"}
    return isinstance(value, dict) and all(isinstance(k, str) and _table(v) for k, v in value.items())


def _flat(value: Any) -> bool:  # numbers, texts or nulls, one level
    return isinstance(value, dict) and all(
        isinstance(k, str) and (v is None or isinstance(v, str) or _score(v)) for k, v in value.items()
    )


def _texts(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


STATUS_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "state": (lambda v: v in STATES, f"one of {', '.join(STATES)}"),
    "reason": (_text, "a text"),
    "phase": (_text, "a text"),
    "token": (_text, "a text"),
    "report_split": (lambda v: v in ("test", "valid"), "'test' or 'valid'"),
    "created": (_time, "a Unix time in seconds"),
    "started": (_time, "a Unix time in seconds"),
    "finished": (_time, "a Unix time in seconds"),
    "heartbeat": (_time, "a Unix time in seconds"),
    "pid": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**31, "a process id"),
    "processes": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1024,
                  "a count of training processes from 1 to 1024"),
    "best_epoch": (lambda v: v is None or _nonneg(v), "a number >= 0"),
    "progress": (lambda v: _number(v, 0.0, 1.0), "a number in [0, 1]"),
    "eta": (lambda v: v is None or _nonneg(v), "seconds >= 0"),
    "final": (lambda v: v is None or _scores(v), "metric -> number"),
    "baselines": (_table, "rule -> metric -> number"),
    "baselines_valid": (_table, "rule -> metric -> number"),
    "baselines_valid_targets": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                                "a count >= 0"),
    "baselines_left_out": (_texts, "rule -> reason"),
    "paired": (_paired, "rule -> metric -> {mean, se, n}"),
    "to_oracle": (lambda v: v is None or _flat(v), "an object of numbers"),
}


def check_status(status: Mapping[str, Any]) -> None:
    """FieldError naming the first status field of the wrong type or out of range."""
    for name, (ok, allowed) in STATUS_FIELDS.items():
        if name in status and not ok(status[name]):
            raise FieldError(f"status.json field {name!r} = {_show(status[name])} is not {allowed}")


# What each known event kind holds (streamrec/training/events.py); a field not named here is
# left unchecked, except ranking metrics ("hit@10", ...), which are always numbers.
_EVENT_TEXT = {
    "start": {"family", "loss", "device"},
    "end": {"status", "reason", "report_split"},
}
_EVENT_NUMBERS = {
    "start": {"processes", "n_params", "n_train_targets", "n_valid_targets", "n_report_targets", "n_rows",
              "batches_per_epoch", "epochs", "time"},
    "batch": {"batch", "step", "loss", "lr", "progress", "elapsed", "eta"},
    "epoch": {"train_loss", "valid_loss", "lr", "epoch_seconds", "train_seconds", "elapsed"},
    "end": {"best_epoch", "elapsed", "train_seconds", "steps"},
}
EVENT_KINDS = tuple(_EVENT_NUMBERS)


def check_event(event: Mapping[str, Any]) -> None:
    """FieldError naming the first field of a known event kind that is not of its type;
    an event of a kind this version does not know is left unchecked."""
    kind = event.get("event")
    if kind not in _EVENT_NUMBERS:
        return
    for name, value in event.items():
        if name in _EVENT_TEXT.get(kind, ()):
            ok, allowed = isinstance(value, str), "a text"
        elif name == "best":
            ok, allowed = isinstance(value, bool), "true or false"
        elif name == "final":
            ok, allowed = value is None or _scores(value), "metric -> number"
        elif name == "epoch":
            ok, allowed = _number(value, 0.0, 1e9), "an epoch number >= 0"
        elif name in _EVENT_NUMBERS[kind] or "@" in name:
            ok, allowed = _score(value), "a number"
        else:
            continue
        if not ok:
            raise FieldError(f"{kind} event field {name!r} = {_show(value)} is not {allowed}")
