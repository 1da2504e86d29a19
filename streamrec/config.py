"""Typed configurations, one dataclass per concern, each validated in one place.

Every `validate()` raises `ValueError` naming the field, the value and what is allowed, so
the CLI and the dashboard can show the message as it is.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

ENGINES = ("fast", "reference")
POOLINGS = ("attention", "last")
CELLS = ("lstm", "gru")
PROTOCOLS = ("session", "example")
SOURCES = ("simulator", "dataset")
# SimConfig's order mechanisms, in the order they take their share of one uniform draw.
MECHANISMS = ("anchor_return", "successor_prob", "recall_prob", "repeat_prob")
LOSSES = ("auto", "full", "sampled", "bpr-max")
DEVICES = ("auto", "cpu", "cuda")
# Mixed precision: "auto" is bf16 autocast on a GPU that supports it, else fp32.
PRECISIONS = ("auto", "bf16", "fp32")
# Catalog size above which loss "auto" trains with sampled softmax instead of the family's
# own default: where a full-softmax step costs about twice a sampled one. Measured with
# benchmarks/bench_catalog_scale.py (gru4rec, 256 targets a step, 512 negatives, 1 thread):
# full / sampled = 1.4x at 5,000 items, 1.3x at 10,000, 1.8x at 20,000, 2.7x at 50,000 (load
# ~8); a later run at load ~4.5: 1.1x at 5,000, 2.2x at 20,000, 3.1x at 100,000, 8.8x at 1M.
SAMPLED_ABOVE = 25_000
MAX_CATALOG_PARAMS = 200_000_000  # embedding + output parameters a model may hold

# The allowed values of every text field of the configs, by field name: forms built from
# the dataclasses offer these as options instead of a free text box.
FIELD_CHOICES: dict[str, tuple[str, ...]] = {
    "engine": ENGINES,
    "pooling": POOLINGS,
    "cell": CELLS,
    "protocol": PROTOCOLS,
    "loss": LOSSES,
    "device": DEVICES,
    "precision": PRECISIONS,
    "source": SOURCES,
}

# Rough ceiling on what a simulation may allocate; beyond it the request is a typo, not a plan.
MAX_SIM_BYTES = 4 * 1024**3
BYTES_PER_CLICK = 48  # fast engine peak: a handful of int64/float64 arrays per click


def _check_range(name: str, value: float, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"{name} = {value!r} must be a number in [{lo}, {hi}]")
    if not lo <= value <= hi:
        raise ValueError(f"{name} = {value!r} is out of range: allowed [{lo}, {hi}]")


def _check_int(name: str, value: int, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} = {value!r} must be an integer in [{lo}, {hi}]")  # noqa: TRY004
    _check_range(name, value, lo, hi)


def _check_bool(name: str, value: bool) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name} = {value!r} must be true or false")  # noqa: TRY004


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} = {value!r} is not allowed: choose one of {', '.join(allowed)}")


@dataclass(frozen=True)
class SimConfig:
    """Knobs of the click-session simulator (defaults reproduce the case study)."""

    n_sessions: int = 20_000  # sessions generated before short ones are dropped ("n_users")
    n_items: int = 5_000
    n_categories: int = 25
    seed: int = 42
    category_concentration: float = 2.0  # Dirichlet alpha of the category sizes
    popularity_exponent: float = 0.8  # within-category Zipf exponent: p(rank r) ~ r^-exponent
    explorer_share: float = 0.3  # behaviour mix; normalised, need not sum to 1
    deep_dive_share: float = 0.5
    comparison_share: float = 0.2
    explorer_switch: float = 0.40  # P(switch) after a click, to any category
    deep_dive_switch: float = 0.15  # P(switch) after a click, to a preferred category
    comparison_switch: float = 0.50  # P(switch) after a click, to a preferred category
    min_session_length: int = 5  # drawn uniformly in [min, max], both inclusive
    max_session_length: int = 34
    min_preferred: int = 2  # size of the preferred-category set, uniform in [min, max]
    max_preferred: int = 5
    min_kept_length: int = 3  # shorter sessions (possible only with empty categories) are dropped
    engine: str = "fast"  # "fast" (vectorised) or "reference" (the case study draw for draw)
    # Order mechanisms (docs/scenarios.md), all off by default; fast engine only. Before each
    # click after the first, one of them may replace the category move (stay / switch):
    anchor_return: float = 0.0  # P(back to the first click's category, popularity-weighted)
    successor_prob: float = 0.0  # P(the successor of the latest click, if it has one)
    recall_prob: float = 0.0  # P(the successor of an earlier click, uniform over those with one)
    repeat_prob: float = 0.0  # P(re-click an earlier item of the session)
    repeat_decay: float = 0.5  # repeat picks the click d steps back with weight decay^d

    def validate(self) -> SimConfig:
        """Raise ValueError on the first field out of range; return self when valid."""
        _check_int("n_sessions", self.n_sessions, 1, 2_000_000)
        _check_int("n_categories", self.n_categories, 1, 10_000)
        _check_int("n_items", self.n_items, 1, 1_000_000)
        if self.n_items < self.n_categories:
            raise ValueError(
                f"n_items = {self.n_items} is fewer than n_categories = {self.n_categories}: "
                "every category needs room for at least one item"
            )
        _check_int("seed", self.seed, 0, 2**32 - 1)
        _check_range("category_concentration", self.category_concentration, 1e-3, 1e6)
        _check_range("popularity_exponent", self.popularity_exponent, 0.0, 10.0)
        for name in ("explorer_share", "deep_dive_share", "comparison_share"):
            _check_range(name, getattr(self, name), 0.0, 1.0)
        if self.explorer_share + self.deep_dive_share + self.comparison_share <= 0:
            raise ValueError(
                "behaviour mix (explorer_share, deep_dive_share, comparison_share) is all zero: "
                "at least one share must be positive"
            )
        for name in ("explorer_switch", "deep_dive_switch", "comparison_switch"):
            _check_range(name, getattr(self, name), 0.0, 1.0)
        _check_int("min_session_length", self.min_session_length, 1, 10_000)
        _check_int("max_session_length", self.max_session_length, 1, 10_000)
        if self.min_session_length > self.max_session_length:
            raise ValueError(
                f"min_session_length = {self.min_session_length} is greater than "
                f"max_session_length = {self.max_session_length}"
            )
        _check_int("min_preferred", self.min_preferred, 1, self.n_categories)
        _check_int("max_preferred", self.max_preferred, 1, self.n_categories)
        if self.min_preferred > self.max_preferred:
            raise ValueError(
                f"min_preferred = {self.min_preferred} is greater than "
                f"max_preferred = {self.max_preferred}"
            )
        _check_int("min_kept_length", self.min_kept_length, 2, 10_000)
        _check_choice("engine", self.engine, ENGINES)
        for name in MECHANISMS:
            _check_range(name, getattr(self, name), 0.0, 1.0)
        _check_range("repeat_decay", self.repeat_decay, 0.01, 1.0)
        total = sum(getattr(self, name) for name in MECHANISMS)
        if total > 1.0 + 1e-9:
            raise ValueError(
                f"anchor_return + successor_prob + recall_prob + repeat_prob = {total:.3f} is out "
                "of range: allowed [0, 1] (they share one draw per click)"
            )
        if self.engine == "reference" and self.has_mechanisms:
            raise ValueError(
                f"engine = 'reference' with {self.active_mechanisms()[0]} > 0 is not allowed: the "
                "reference engine replays the case study draw for draw; choose engine 'fast'"
            )
        expected_clicks = self.n_sessions * (self.min_session_length + self.max_session_length) / 2
        if expected_clicks * BYTES_PER_CLICK > MAX_SIM_BYTES:
            raise ValueError(
                f"n_sessions = {self.n_sessions} with sessions up to {self.max_session_length} "
                f"clicks needs about {expected_clicks * BYTES_PER_CLICK / 1024**3:.1f} GiB: "
                f"allowed up to {MAX_SIM_BYTES / 1024**3:.0f} GiB"
            )
        return self

    @property
    def behaviour_mix(self) -> tuple[float, float, float]:
        """Normalised (explorer, deep dive, comparison) probabilities."""
        raw = (self.explorer_share, self.deep_dive_share, self.comparison_share)
        total = sum(raw)
        return tuple(x / total for x in raw)  # type: ignore[return-value]

    @property
    def switch_probs(self) -> tuple[float, float, float]:
        """(explorer, deep dive, comparison) probability of a category switch after a click."""
        return (self.explorer_switch, self.deep_dive_switch, self.comparison_switch)

    def active_mechanisms(self) -> list[str]:
        """Names of the order mechanisms switched on (probability above zero)."""
        return [name for name in MECHANISMS if getattr(self, name) > 0]

    @property
    def has_mechanisms(self) -> bool:
        """True if any order mechanism is on (the case study's world has none)."""
        return bool(self.active_mechanisms())


def _check_catalog_params(config: Any, per_item: int) -> None:
    """Refuse a catalog whose per-item parameters (embeddings, output rows) would not fit."""
    total = per_item * (config.n_items + 1)
    if total > MAX_CATALOG_PARAMS:
        raise ValueError(
            f"n_items = {config.n_items} with {per_item} parameters per item needs {total:,} "
            f"parameters in the embedding and output layers: allowed up to {MAX_CATALOG_PARAMS:,}"
        )


@dataclass(frozen=True)
class LSTMConfig:
    """Architecture of the `lstm` family, the case study's network (defaults are its own)."""

    family: ClassVar[str] = "lstm"
    default_loss: ClassVar[str] = "full"  # what loss "auto" trains with on a small catalog

    n_items: int = 5_000  # catalog size; item ids 0..n_items-1, model tokens shifted by +1
    embed_dim: int = 64
    hidden_size: int = 128
    num_layers: int = 2
    dropout: float = 0.3
    pooling: str = "attention"  # "attention" over all clicks, or "last" hidden state
    cell: str = "lstm"  # "lstm" or "gru"
    # Beyond the case study (off by default; on in the order-carrying scenarios, measured there):
    item_skip: bool = False  # pooled item embeddings join the context: a direct item-to-item path
    copy: bool = False  # a pointer over the session's clicks shares the softmax (re-clicks)

    def validate(self) -> LSTMConfig:
        """Raise ValueError on the first field out of range; return self when valid."""
        _check_int("n_items", self.n_items, 1, 1_000_000)
        _check_int("embed_dim", self.embed_dim, 1, 4096)
        _check_int("hidden_size", self.hidden_size, 1, 4096)
        _check_int("num_layers", self.num_layers, 1, 8)
        _check_range("dropout", self.dropout, 0.0, 0.95)
        _check_choice("pooling", self.pooling, POOLINGS)
        _check_choice("cell", self.cell, CELLS)
        _check_bool("item_skip", self.item_skip)
        _check_bool("copy", self.copy)
        context = self.hidden_size + (self.embed_dim if self.item_skip else 0)
        output_params = (context + 1) * self.n_items + (self.n_items + 1) * self.embed_dim
        if output_params > MAX_CATALOG_PARAMS:
            raise ValueError(
                f"n_items = {self.n_items} with embed_dim = {self.embed_dim} and hidden_size = "
                f"{self.hidden_size} needs {output_params:,} parameters in the embedding and "
                f"output layers: allowed up to {MAX_CATALOG_PARAMS:,}"
            )
        return self

    def slug(self) -> str:
        """A short description for run-folder names."""
        extras = ("-skip" if self.item_skip else "") + ("-copy" if self.copy else "")
        return f"{self.cell}-{self.pooling}-h{self.hidden_size}{extras}"

    def summary(self) -> str:
        """The architecture in a few words, for captions."""
        extras = [name for name, on in (("item skip path", self.item_skip), ("copy pointer", self.copy)) if on]
        return (f"{self.cell.upper()} ({self.num_layers} × {self.hidden_size}) with {self.pooling} pooling"
                + (f", {' and '.join(extras)}" if extras else ""))


@dataclass(frozen=True)
class SASRecConfig:
    """Architecture of the `sasrec` family: causal self-attention (Kang & McAuley, 2018)."""

    family: ClassVar[str] = "sasrec"
    # Measured (bench_zoo, default data): sampled reached 97% of the oracle in one epoch at
    # half the epoch time of full softmax, which needed 1.7 epochs for the same.
    default_loss: ClassVar[str] = "sampled"

    n_items: int = 5_000
    hidden_size: int = 64  # item, position and block width (the paper's d)
    num_blocks: int = 2
    num_heads: int = 2
    dropout: float = 0.2
    max_positions: int = 50  # learned positions; must cover the training max_len

    def validate(self) -> SASRecConfig:
        """Raise ValueError on the first field out of range; return self when valid."""
        _check_int("n_items", self.n_items, 1, 1_000_000)
        _check_int("hidden_size", self.hidden_size, 1, 4096)
        _check_int("num_blocks", self.num_blocks, 1, 12)
        _check_int("num_heads", self.num_heads, 1, 64)
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"num_heads = {self.num_heads} does not divide hidden_size = {self.hidden_size}: "
                "each head needs an equal share of the width"
            )
        _check_range("dropout", self.dropout, 0.0, 0.95)
        _check_int("max_positions", self.max_positions, 1, 1_000)
        _check_catalog_params(self, self.hidden_size)
        return self

    def slug(self) -> str:
        """A short description for run-folder names."""
        return f"sasrec-b{self.num_blocks}-h{self.hidden_size}"

    def summary(self) -> str:
        """The architecture in a few words, for captions."""
        return f"SASRec ({self.num_blocks} blocks × {self.num_heads} heads, width {self.hidden_size})"


@dataclass(frozen=True)
class GRU4RecConfig:
    """Architecture of the `gru4rec` family (Hidasi et al., 2016; Hidasi & Karatzoglou, 2018)."""

    family: ClassVar[str] = "gru4rec"
    default_loss: ClassVar[str] = "sampled"  # as the official code trains it

    n_items: int = 5_000
    hidden_size: int = 128
    num_layers: int = 1
    embed_dim: int = 0  # 0: the input embedding is the output one (the "constrained" embedding)
    dropout_embed: float = 0.0
    dropout_hidden: float = 0.0

    def validate(self) -> GRU4RecConfig:
        """Raise ValueError on the first field out of range; return self when valid."""
        _check_int("n_items", self.n_items, 1, 1_000_000)
        _check_int("hidden_size", self.hidden_size, 1, 4096)
        _check_int("num_layers", self.num_layers, 1, 8)
        _check_int("embed_dim", self.embed_dim, 0, 4096)
        _check_range("dropout_embed", self.dropout_embed, 0.0, 0.95)
        _check_range("dropout_hidden", self.dropout_hidden, 0.0, 0.95)
        _check_catalog_params(self, self.hidden_size + 1 + self.embed_dim)
        return self

    def slug(self) -> str:
        """A short description for run-folder names."""
        return f"gru4rec-h{self.hidden_size}"

    def summary(self) -> str:
        """The architecture in a few words, for captions."""
        return f"GRU4Rec ({self.num_layers} × GRU {self.hidden_size}) with its last state"


@dataclass(frozen=True)
class NARMConfig:
    """Architecture of the `narm` family: neural attentive session model (Li et al., 2017)."""

    family: ClassVar[str] = "narm"
    default_loss: ClassVar[str] = "full"

    n_items: int = 5_000
    embed_dim: int = 50  # the paper's sizes
    hidden_size: int = 100
    num_layers: int = 1
    dropout_embed: float = 0.25
    dropout_context: float = 0.5

    def validate(self) -> NARMConfig:
        """Raise ValueError on the first field out of range; return self when valid."""
        _check_int("n_items", self.n_items, 1, 1_000_000)
        _check_int("embed_dim", self.embed_dim, 1, 4096)
        _check_int("hidden_size", self.hidden_size, 1, 4096)
        _check_int("num_layers", self.num_layers, 1, 8)
        _check_range("dropout_embed", self.dropout_embed, 0.0, 0.95)
        _check_range("dropout_context", self.dropout_context, 0.0, 0.95)
        _check_catalog_params(self, self.embed_dim)
        return self

    def slug(self) -> str:
        """A short description for run-folder names."""
        return f"narm-h{self.hidden_size}"

    def summary(self) -> str:
        """The architecture in a few words, for captions."""
        return f"NARM (GRU {self.hidden_size}, items {self.embed_dim}) with local attention"


AnyModelConfig = LSTMConfig | SASRecConfig | GRU4RecConfig | NARMConfig
# Family name -> its settings; config.json's model section names one ("lstm" when absent).
MODEL_CONFIGS: dict[str, type[AnyModelConfig]] = {
    cls.family: cls for cls in (LSTMConfig, SASRecConfig, GRU4RecConfig, NARMConfig)
}


def model_config(family: str, **fields: Any) -> AnyModelConfig:
    """The settings dataclass of a family by name; ValueError naming the known families."""
    _check_choice("family", family, tuple(MODEL_CONFIGS))
    return MODEL_CONFIGS[family](**fields)


@dataclass(frozen=True)
class TrainConfig:
    """Training and evaluation settings."""

    epochs: int = 8  # the defaults below were tuned for time to quality (see README)
    batch_size: int = 512  # target clicks per batch (whole session rows are packed up to it)
    lr: float = 6e-3
    step_size: int = 3  # StepLR: multiply the learning rate by gamma every step_size epochs
    gamma: float = 0.3
    clip_norm: float = 5.0  # gradient-norm clipping; 0 disables
    max_len: int = 25  # a prediction sees at most the last max_len clicks
    protocol: str = "session"  # "session": hold out whole sessions; "example": case study split
    valid_fraction: float = 0.1  # protocol "session": share of sessions for validation
    test_fraction: float = 0.1  # protocol "session": share of sessions for the final table
    example_valid_fraction: float = 0.2  # protocol "example": share of prefix examples held out
    cutoffs: tuple[int, ...] = (10, 20)
    exclude_seen: bool = False  # drop items already in the session from the ranking
    seed: int = 42
    log_every: int = 10  # emit a train-loss event every N batches
    max_seconds: float = 0.0  # stop after this much training time; 0 = no limit
    keep_last: bool = True  # keep last.safetensors beside best (the shipped demo drops it)
    # Objective: "full" softmax over the catalog; "sampled" softmax over the batch's targets
    # plus n_negatives items drawn by popularity**sample_alpha, with logQ correction (Jean et
    # al., 2015; Yi et al., 2019); "bpr-max" over the same candidates (Hidasi & Karatzoglou,
    # 2018); "auto": sampled above SAMPLED_ABOVE items, else the family's default_loss.
    loss: str = "auto"
    n_negatives: int = 512  # beside the batch's own targets; 2048 measured no better (README)
    sample_alpha: float = 0.75  # 0: uniform negatives, 1: by popularity
    bpreg: float = 1.0  # bpr-max: weight of the score regulariser
    device: str = "auto"  # "auto": cuda when present, else cpu
    # Training matmuls under torch.autocast in bfloat16 ("bf16"), or not ("fp32"); "auto":
    # bf16 on a GPU that supports it, else fp32. Evaluation always ranks in fp32.
    precision: str = "auto"

    def validate(self) -> TrainConfig:
        """Raise ValueError on the first field out of range; return self when valid."""
        _check_int("epochs", self.epochs, 1, 10_000)
        _check_int("batch_size", self.batch_size, 1, 65_536)
        _check_range("lr", self.lr, 1e-7, 10.0)
        _check_int("step_size", self.step_size, 1, 10_000)
        _check_range("gamma", self.gamma, 1e-4, 1.0)
        _check_range("clip_norm", self.clip_norm, 0.0, 1e6)
        _check_int("max_len", self.max_len, 1, 1_000)
        _check_choice("protocol", self.protocol, PROTOCOLS)
        _check_range("valid_fraction", self.valid_fraction, 0.01, 0.5)
        _check_range("test_fraction", self.test_fraction, 0.0, 0.5)
        _check_range("example_valid_fraction", self.example_valid_fraction, 0.01, 0.5)
        if not self.cutoffs or any(
            isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in self.cutoffs
        ):
            raise ValueError(f"cutoffs = {self.cutoffs!r} must be one or more positive integers")
        if len(set(self.cutoffs)) != len(self.cutoffs):
            raise ValueError(
                f"cutoffs = {','.join(map(str, self.cutoffs))} repeats a cutoff: "
                "give distinct positive integers, e.g. 10,20"
            )
        _check_int("seed", self.seed, 0, 2**32 - 1)
        _check_int("log_every", self.log_every, 1, 100_000)
        _check_range("max_seconds", self.max_seconds, 0.0, 1e7)
        _check_choice("loss", self.loss, LOSSES)
        _check_int("n_negatives", self.n_negatives, 0, 1_000_000)
        _check_range("sample_alpha", self.sample_alpha, 0.0, 1.0)
        _check_range("bpreg", self.bpreg, 0.0, 100.0)
        _check_choice("device", self.device, DEVICES)
        _check_choice("precision", self.precision, PRECISIONS)
        return self


@dataclass(frozen=True)
class DataConfig:
    """Where a run's sessions come from: the simulator (the `sim` section) or an imported log."""

    source: str = "simulator"  # "simulator" or "dataset"
    dataset: str = ""  # name of an imported data set (source "dataset"), see streamrec.data.datasets
    content_hash: str = ""  # the imported clicks' hash, checked when the run's data is opened

    def validate(self) -> DataConfig:
        """Raise ValueError on an unknown source or a dataset source without a name."""
        _check_choice("source", self.source, SOURCES)
        if self.source == "dataset" and not self.dataset:
            raise ValueError("data.dataset = '' : name the imported data set to train on")
        if self.source == "simulator" and self.dataset:
            raise ValueError(
                f"data.dataset = {self.dataset!r} is set but data.source = 'simulator': "
                "choose source 'dataset' to train on an imported log"
            )
        return self

    @property
    def is_simulated(self) -> bool:
        """True when the sessions come from the simulator."""
        return self.source == "simulator"


T = TypeVar("T")


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build a config dataclass from a dict, rejecting unknown keys with a clear message."""
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")  # noqa: TRY004
    names = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown field(s) {', '.join(unknown)}")
    kwargs = dict(data)
    if "cutoffs" in kwargs and isinstance(kwargs["cutoffs"], list):
        kwargs["cutoffs"] = tuple(kwargs["cutoffs"])
    return cls(**kwargs)


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass."""
    data = dataclasses.asdict(config)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def model_from_dict(data: dict[str, Any]) -> AnyModelConfig:
    """A family's settings from config.json's model section; no "family" key means lstm."""
    if not isinstance(data, dict):
        raise ValueError(f"model: expected a mapping, got {type(data).__name__}")  # noqa: TRY004
    fields = dict(data)
    family = fields.pop("family", LSTMConfig.family)
    _check_choice("family", family, tuple(MODEL_CONFIGS))
    return from_dict(MODEL_CONFIGS[family], fields)


@dataclass(frozen=True)
class RunConfig:
    """Everything needed to rebuild a run: the data, the model and how it was trained."""

    sim: SimConfig = field(default_factory=SimConfig)
    model: AnyModelConfig = field(default_factory=LSTMConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)

    @property
    def loss(self) -> str:
        """The objective training uses: the configured one, with "auto" resolved."""
        if self.train.loss != "auto":
            return self.train.loss
        return "sampled" if self.model.n_items > SAMPLED_ABOVE else self.model.default_loss

    def validate(self) -> RunConfig:
        """Validate every part and their consistency."""
        self.sim.validate()
        self.model.validate()
        self.train.validate()
        self.data.validate()
        if self.data.is_simulated and self.model.n_items != self.sim.n_items:
            raise ValueError(
                f"model.n_items = {self.model.n_items} differs from sim.n_items = "
                f"{self.sim.n_items}: the output layer must cover the catalog"
            )
        if max(self.train.cutoffs) > self.sim.n_items:
            raise ValueError(
                f"cutoffs = {','.join(map(str, self.train.cutoffs))} is out of range: "
                f"allowed 1-{self.sim.n_items} (the catalog's n_items)"
            )
        t, n = self.train, self.sim.n_sessions
        if t.protocol == "session" and max(1, round(t.valid_fraction * n)) + round(
            t.test_fraction * n
        ) >= n:
            raise ValueError(
                f"n_sessions = {n} is too few: valid_fraction = {t.valid_fraction} and "
                f"test_fraction = {t.test_fraction} leave no training sessions"
            )
        positions = getattr(self.model, "max_positions", None)
        if positions is not None and self.train.max_len > positions:
            raise ValueError(
                f"max_len = {self.train.max_len} is more than model max_positions = {positions}: "
                f"allowed up to {positions}"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready nested dict."""
        model = {"family": self.model.family, **to_dict(self.model)}
        out = {"sim": to_dict(self.sim), "model": model, "train": to_dict(self.train)}
        if not self.data.is_simulated:  # simulator runs keep the three-section file of old
            out["data"] = to_dict(self.data)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Rebuild from `to_dict` output; unknown keys are an error."""
        if not isinstance(data, dict):
            raise ValueError(f"run config: expected a mapping, got {type(data).__name__}")  # noqa: TRY004
        unknown = sorted(set(data) - {"sim", "model", "train", "data"})
        if unknown:
            raise ValueError(f"run config: unknown section(s) {', '.join(unknown)}")
        return cls(
            sim=from_dict(SimConfig, data.get("sim", {})),
            model=model_from_dict(data.get("model", {})),
            train=from_dict(TrainConfig, data.get("train", {})),
            data=from_dict(DataConfig, data.get("data", {})),
        )
