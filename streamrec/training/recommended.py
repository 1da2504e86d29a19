"""The model a data set trains by default: its tune's winner, or the measured default family.

After `tune --dataset NAME`, the data set's folder holds `recommended.json`: the method that
won on validation (any method, a baseline included) and the best neural family with its model
and training settings. `train --dataset NAME` and the Train page start from that family and
those settings; the file is validated on every read (family, every setting through its config
dataclass, the data set's content hash), and a bad or stale file is reported, never used.

Before any tune, imported logs default to `IMPORTED_DEFAULT_FAMILY`: the family that won most
often at its default settings on the shared samples (benchmarks/bench_default_family.py;
docs/tuning.md). Simulated worlds keep the case study's LSTM.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamrec.config import MODEL_CONFIGS, TrainConfig, from_dict, model_config, to_dict

RECOMMENDED_FILE = "recommended.json"
# Measured by benchmarks/bench_default_family.py on the two shared samples (docs/tuning.md).
IMPORTED_DEFAULT_FAMILY = "sasrec"
SIMULATED_DEFAULT_FAMILY = "lstm"
# Training settings a recommendation may carry (the rest are the run's own: split, device...).
TRAIN_FIELDS = ("epochs", "batch_size", "lr", "step_size", "gamma", "loss", "max_len")


@dataclass(frozen=True)
class Recommendation:
    """A data set's recommended method and its best neural family's settings."""

    family: str  # the neural family to train
    model: dict[str, Any] = field(default_factory=dict)  # its settings (no n_items)
    train: dict[str, Any] = field(default_factory=dict)  # TRAIN_FIELDS only
    winner: str = ""  # the method best on validation (maybe a baseline), its display label
    winner_kind: str = ""  # "baseline" / "neural" / "" (no tune: the measured default)
    metric: str = ""
    valid: float | None = None  # the family's best validation score
    content_hash: str = ""  # the data set's clicks the tune ran on
    tuned: float = 0.0  # Unix time of the tune

    def validate(self) -> Recommendation:
        """ValueError naming the first field that is off; self when valid."""
        if self.family not in MODEL_CONFIGS:
            raise ValueError(f"family {self.family!r} is not one of {', '.join(MODEL_CONFIGS)}")
        model_config(self.family, **self.model).validate()  # unknown or out-of-range settings
        extra = sorted(set(self.train) - set(TRAIN_FIELDS))
        if extra:
            raise ValueError(f"train settings {', '.join(extra)} are not recommendable")
        from_dict(TrainConfig, self.train).validate()
        if self.winner_kind not in ("", "baseline", "neural"):
            raise ValueError(f"winner_kind {self.winner_kind!r} is not baseline or neural")
        for name in ("winner", "metric", "content_hash"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be text")  # noqa: TRY004
        if self.valid is not None and not isinstance(self.valid, (int, float)):
            raise ValueError("valid must be a number")
        return self

    @property
    def tuned_here(self) -> bool:
        """True when a tune chose it (False: the measured default family, no settings)."""
        return bool(self.content_hash)

    def describe(self) -> str:
        """One line for the CLI and the Train page."""
        if not self.tuned_here:
            return (f"{self.family} at its defaults (the family that won most often on the "
                    "shared samples; run `tune` on this data set to choose per data set)")
        head = f"{self.family} with its tuned settings"
        if self.winner_kind == "baseline":
            return (f"{head} (the best neural family; the tune's overall winner on validation "
                    f"is the baseline {self.winner})")
        return f"{head} (the tune's winner on validation {self.metric})"


def write_recommendation(dataset_folder: Path, recommendation: Recommendation) -> Path:
    """Validate and store a data set's recommendation; returns the file."""
    from streamrec.training import runs

    recommendation.validate()
    path = Path(dataset_folder) / RECOMMENDED_FILE
    runs.write_json(path, {**to_dict(recommendation)})
    return path


def read_recommendation(dataset_folder: Path, content_hash: str | None = None) -> Recommendation | None:
    """The stored recommendation, validated; None when there is none. ValueError for a file
    that is unreadable, invalid, or (given `content_hash`) made on other clicks."""
    path = Path(dataset_folder) / RECOMMENDED_FILE
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is unreadable ({exc})") from None
    try:
        recommendation = from_dict(Recommendation, raw).validate()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path} is not a valid recommendation ({exc})") from None
    if content_hash and recommendation.content_hash != content_hash:
        raise ValueError(f"{path} was made on other clicks (the data set was re-imported): "
                         "tune it again")
    return recommendation


def default_for_dataset(name: str, data_root: Path | None = None) -> tuple[Recommendation, str]:
    """(what to train on data set `name`, a note): its tune's recommendation when a valid one
    is stored, else the measured default family; the note says why a stored file was ignored."""
    from streamrec.data.datasets import DatasetError, default_data_root, list_datasets

    root = Path(data_root) if data_root else default_data_root()
    meta = next((info.meta for info in list_datasets(root) if info.name == name), {})
    fallback = Recommendation(IMPORTED_DEFAULT_FAMILY)
    try:
        stored = read_recommendation(root / name, str(meta.get("content_hash", "")) or None)
    except (ValueError, DatasetError) as exc:
        return fallback, f"ignored: {exc}"
    return (stored, "") if stored is not None else (fallback, "")


def from_tune_result(result: dict[str, Any], content_hash: str) -> Recommendation | None:
    """The recommendation a finished tune's result.json makes (None: no neural family ran)."""
    methods = {entry["key"]: entry for entry in result.get("methods", [])}
    neural = methods.get(result.get("best_neural") or "")
    winner = methods.get(result.get("winner") or "")
    if neural is None or winner is None:
        return None
    from streamrec.training.tuning import covering_window

    settings = neural["settings"]
    train = {k: v for k, v in settings["train"].items() if k in TRAIN_FIELDS}
    train["max_len"] = int(result.get("max_len", TrainConfig.max_len))
    model = covering_window(neural["key"], settings["model"], train["max_len"])
    return Recommendation(
        family=neural["key"], model=model, train=train,
        winner=winner["label"], winner_kind=winner["kind"], metric=result["metric"],
        valid=neural["valid"].get(result["metric"]), content_hash=content_hash,
        tuned=time.time(),
    ).validate()
