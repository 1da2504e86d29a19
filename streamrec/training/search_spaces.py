"""What `tune` searches: one entry per method, baselines and neural families alike.

A baseline's space is its class's `SEARCH_SPACE` (streamrec.evaluation: constructor argument ->
("int" | "float", low, high, log) or ("choice", options)), the one place its ranges are
written; a neural family's space draws its model settings and the training settings. Adding a
method is one entry in `METHODS`. The ranges are the ones session-rec's and the papers' own
tuning used for these methods, cut to what a budget of minutes can cover on two cores.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from streamrec.config import MODEL_CONFIGS, TrainConfig
from streamrec.evaluation.baselines import (
    GlobalPopularity,
    LastCategoryPopularity,
    MarkovChain,
    Scorer,
    SequentialRules,
)
from streamrec.evaluation.knn import STAN, VSKNN, VSTAN, SessionKNN, SpaceEntry


class Suggest(Protocol):
    """The part of `optuna.Trial` a space uses (so this module needs no optuna import)."""

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        """One of `choices`."""
        ...

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        """A float in [low, high]."""
        ...

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        """An int in [low, high]."""
        ...


NeuralSpace = Callable[[Suggest], tuple[dict[str, Any], dict[str, Any]]]  # (model, train)


@dataclass(frozen=True)
class Method:
    """One tunable method: a baseline (`scorer` + `space`) or a neural family (`neural`)."""

    key: str  # CLI name, e.g. "vsknn", "gru4rec"
    label: str  # display name: the scorer's name or the family in capitals
    kind: Literal["baseline", "neural"]
    scorer: Callable[..., Scorer] | None = None  # baseline constructor
    space: dict[str, SpaceEntry] = field(default_factory=dict)  # baseline: kwarg -> range
    neural: NeuralSpace | None = None  # neural: settings drawn per trial

    @classmethod
    def baseline(cls, key: str, scorer: Any) -> Method:
        """A baseline searched over the `SEARCH_SPACE` its class itself declares (none, e.g. the
        Markov chain, a subclass of SR with its settings fixed: one setting)."""
        return cls(key, scorer.name, "baseline", scorer, dict(vars(scorer).get("SEARCH_SPACE", {})))

    @property
    def grid_size(self) -> int | None:
        """How many distinct settings a baseline has (None: unbounded, a neural family or a
        baseline with a real-valued setting)."""
        if self.kind == "neural":
            return None
        sizes = []
        for entry in self.space.values():
            if len(entry) == 2:  # ("choice", options)
                sizes.append(len(entry[1]))
            elif entry[0] == "int":
                sizes.append(int(entry[2]) - int(entry[1]) + 1)
            else:
                return None
        return math.prod(sizes)

    def suggest(self, trial: Suggest) -> dict[str, Any]:
        """A baseline's constructor kwargs, or a neural family's {"model": .., "train": ..}."""
        if self.kind == "baseline":
            return {name: _suggest(trial, name, entry) for name, entry in self.space.items()}
        assert self.neural is not None
        model, train = self.neural(trial)
        return {"model": model, "train": train}

    def defaults(self) -> dict[str, Any]:
        """The method's current defaults as trial parameters: the first trial of every search,
        so a tuned setting is never worse on validation than the untuned one."""
        if self.kind == "baseline":
            assert self.scorer is not None
            signature = inspect.signature(self.scorer)
            return {name: default for name, entry in self.space.items()
                    if _inside(default := signature.parameters[name].default, entry)}
        assert self.neural is not None
        recorder = _Defaults(MODEL_CONFIGS[self.key]())
        self.neural(recorder)
        return recorder.params

    def build(self, settings: dict[str, Any]) -> Scorer:
        """A baseline scorer with these settings (ValueError for a neural family)."""
        if self.scorer is None:
            raise ValueError(f"{self.label} is trained, not built as a scorer")
        return self.scorer(**settings)


def _suggest(trial: Suggest, name: str, entry: SpaceEntry) -> Any:
    """One setting drawn from a `SEARCH_SPACE` entry."""
    if len(entry) == 2:  # ("choice", options)
        return trial.suggest_categorical(name, list(entry[1]))
    kind, low, high, log = entry
    if kind == "int":
        return trial.suggest_int(name, int(low), int(high), log=bool(log))
    return trial.suggest_float(name, float(low), float(high), log=bool(log))


def _inside(value: Any, entry: SpaceEntry) -> bool:
    """True if `value` is a setting the entry's range allows (a default outside is not tried)."""
    if len(entry) == 2:  # ("choice", options)
        return value in entry[1]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return bool(entry[1] <= value <= entry[2])


class _Defaults:
    """A stand-in trial that answers every suggestion with the family's or training's default
    (when it lies in the space), recording the answers as trial parameters."""

    def __init__(self, model: object) -> None:
        self.sources = (model, TrainConfig())
        self.params: dict[str, Any] = {}

    def _default(self, name: str, fallback: Any) -> Any:
        value = next((getattr(s, name) for s in self.sources if hasattr(s, name)), fallback)
        self.params[name] = value
        return value

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        """The default if it is one of `choices`, else the first choice."""
        value = self._default(name, choices[0])
        if value not in choices:
            value = self.params[name] = choices[0]
        return value

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        """The default clipped into [low, high]."""
        value = self.params[name] = min(max(float(self._default(name, low)), low), high)
        return value

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        """The default clipped into [low, high]."""
        value = self.params[name] = min(max(int(self._default(name, low)), low), high)
        return value


def _optimiser(trial: Suggest, lr: tuple[float, float]) -> dict[str, Any]:
    """Training settings every family draws: epochs, batch, learning rate and its decay."""
    epochs = trial.suggest_int("epochs", 2, 10)
    return {
        "epochs": epochs,
        "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256, 512]),
        "lr": trial.suggest_float("lr", lr[0], lr[1], log=True),
        "step_size": max(1, epochs // 2),
        "gamma": trial.suggest_categorical("gamma", [0.3, 0.5, 1.0]),
    }


def _lstm(trial: Suggest) -> tuple[dict[str, Any], dict[str, Any]]:
    model = {
        "cell": trial.suggest_categorical("cell", ["lstm", "gru"]),
        "pooling": trial.suggest_categorical("pooling", ["attention", "last"]),
        "num_layers": trial.suggest_int("num_layers", 1, 2),
        "hidden_size": trial.suggest_categorical("hidden_size", [64, 128, 256]),
        "embed_dim": trial.suggest_categorical("embed_dim", [64, 128]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "item_skip": trial.suggest_categorical("item_skip", [False, True]),
        "copy": trial.suggest_categorical("copy", [False, True]),
        "transitions": trial.suggest_int("transitions", 0, 2),
    }
    return model, _optimiser(trial, (1e-3, 1e-2))


def _gru4rec(trial: Suggest) -> tuple[dict[str, Any], dict[str, Any]]:
    model = {
        "hidden_size": trial.suggest_categorical("hidden_size", [64, 128, 256, 384]),
        "dropout_embed": trial.suggest_float("dropout_embed", 0.0, 0.5),
        "dropout_hidden": trial.suggest_float("dropout_hidden", 0.0, 0.5),
    }
    train = _optimiser(trial, (1e-3, 2e-2))
    train["loss"] = trial.suggest_categorical("loss", ["full", "sampled", "bpr-max"])
    return model, train


def _narm(trial: Suggest) -> tuple[dict[str, Any], dict[str, Any]]:
    model = {
        "embed_dim": trial.suggest_categorical("embed_dim", [50, 100, 200]),
        "hidden_size": trial.suggest_categorical("hidden_size", [100, 200]),
        "dropout_embed": trial.suggest_float("dropout_embed", 0.0, 0.5),
        "dropout_context": trial.suggest_float("dropout_context", 0.0, 0.6),
    }
    return model, _optimiser(trial, (5e-4, 1e-2))


def _sasrec(trial: Suggest) -> tuple[dict[str, Any], dict[str, Any]]:
    model = {
        "hidden_size": trial.suggest_categorical("hidden_size", [64, 128]),
        "num_blocks": trial.suggest_int("num_blocks", 1, 3),
        "num_heads": trial.suggest_categorical("num_heads", [1, 2]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
    }
    train = _optimiser(trial, (5e-4, 1e-2))
    train["loss"] = trial.suggest_categorical("loss", ["full", "sampled"])
    return model, train


METHODS: dict[str, Method] = {m.key: m for m in (
    Method.baseline("popularity", GlobalPopularity),
    Method.baseline("category-popularity", LastCategoryPopularity),
    Method.baseline("markov", MarkovChain),
    Method.baseline("sr", SequentialRules),
    Method.baseline("sknn", SessionKNN),
    Method.baseline("vsknn", VSKNN),
    Method.baseline("stan", STAN),
    Method.baseline("vstan", VSTAN),
    Method("lstm", "LSTM", "neural", neural=_lstm),
    Method("gru4rec", "GRU4Rec", "neural", neural=_gru4rec),
    Method("narm", "NARM", "neural", neural=_narm),
    Method("sasrec", "SASRec", "neural", neural=_sasrec),
)}


def parse_methods(text: str | None) -> list[Method]:
    """Methods named in a comma list of keys or labels (any case); all of them for None/''."""
    if not text:
        return list(METHODS.values())
    by_name = {name.lower(): m for m in METHODS.values() for name in (m.key, m.label)}
    chosen: list[Method] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        method = by_name.get(part.lower())
        if method is None:
            raise ValueError(f"methods = {part!r} is not a method: choose from {', '.join(METHODS)}")
        if method not in chosen:
            chosen.append(method)
    if not chosen:
        raise ValueError(f"methods = {text!r} names no method: choose from {', '.join(METHODS)}")
    return chosen
