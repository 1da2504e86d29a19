"""Typed configurations, one dataclass per concern, each validated in one place.

Every `validate()` raises `ValueError` naming the field, the value and what is allowed, so
the CLI and the dashboard can show the message as it is.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from streamrec import memory

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



def setting(
    default: Any,
    label: str,
    help: str = "",
    unit: str = "",
    lo: float | None = None,
    hi: float | None = None,
    speed: bool = False,
) -> Any:
    """A config field with what forms, the CLI and `validate()` need, as its metadata: the
    label, a one-line help, the unit, the allowed range [lo, hi] (checked by `validate()`),
    and whether the field changes the time of a training epoch (`speed`, read by the
    time estimate's cache key)."""
    info = {"label": label, "help": help, "unit": unit, "lo": lo, "hi": hi, "speed": speed}
    return field(default=default, metadata=info)


@dataclass(frozen=True)
class FieldInfo:
    """One config field as a form or a flag shows it (from `setting` metadata)."""

    name: str
    default: Any
    label: str
    help: str
    unit: str
    lo: float | None
    hi: float | None
    speed: bool

    @property
    def choices(self) -> tuple[str, ...] | None:
        """The allowed values of a text field, else None."""
        return FIELD_CHOICES.get(self.name) if isinstance(self.default, str) else None


def field_infos(config: Any) -> dict[str, FieldInfo]:
    """Name -> FieldInfo of every field of a config dataclass (or instance), in field order;
    a field declared without `setting` gets its name as label and no range."""
    out = {}
    for f in dataclasses.fields(config):
        meta = f.metadata
        out[f.name] = FieldInfo(
            name=f.name,
            default=f.default,
            label=meta.get("label") or f.name.replace("_", " ").capitalize(),
            help=meta.get("help", ""),
            unit=meta.get("unit", ""),
            lo=meta.get("lo"),
            hi=meta.get("hi"),
            speed=bool(meta.get("speed", False)),
        )
    return out


def _check_declared(config: Any) -> None:
    """Check every field against its declared kind and range, in field order: on/off fields
    are booleans, text fields one of FIELD_CHOICES, numbers inside [lo, hi]."""
    for info in field_infos(config).values():
        value = getattr(config, info.name)
        if isinstance(info.default, bool):
            _check_bool(info.name, value)
        elif info.choices is not None:
            _check_choice(info.name, value, info.choices)
        elif info.lo is not None and info.hi is not None:
            if isinstance(info.default, int):
                _check_int(info.name, value, int(info.lo), int(info.hi))
            else:
                _check_range(info.name, value, info.lo, info.hi)


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

    # "n_users" in the case study
    n_sessions: int = setting(20_000, "Sessions", "Sessions drawn before too-short ones are dropped.",
                              "sessions", 1, 2_000_000, speed=True)
    n_items: int = setting(5_000, "Items", "Catalog size; at least one item per category.",
                           "items", 1, 1_000_000, speed=True)
    n_categories: int = setting(25, "Categories", "", "categories", 1, 10_000, speed=True)
    seed: int = setting(42, "Seed", "Same seed and settings, same sessions.", "", 0, 2**32 - 1)
    category_concentration: float = setting(
        2.0, "Dirichlet concentration of category sizes",
        "Low: a few big categories; high: categories of similar size.", "", 1e-3, 1e6)
    popularity_exponent: float = setting(
        0.8, "Popularity exponent",
        "Zipf exponent inside a category: p(rank r) ~ r^-exponent. 0 is uniform.", "", 0.0, 10.0)
    explorer_share: float = setting(
        0.3, "Explorer share", "Shares are normalised; they need not sum to 1.", "", 0.0, 1.0)
    deep_dive_share: float = setting(0.5, "Deep-dive share", "", "", 0.0, 1.0)
    comparison_share: float = setting(0.2, "Comparison share", "", "", 0.0, 1.0)
    explorer_switch: float = setting(
        0.40, "Explorer: P(switch)", "After a click, to any category.", "", 0.0, 1.0)
    deep_dive_switch: float = setting(
        0.15, "Deep dive: P(switch)", "After a click, to a preferred category.", "", 0.0, 1.0)
    comparison_switch: float = setting(
        0.50, "Comparison: P(switch)", "After a click, to a preferred category.", "", 0.0, 1.0)
    min_session_length: int = setting(
        5, "Min session length (clicks)", "Uniform in [min, max].", "clicks", 1, 10_000, speed=True)
    max_session_length: int = setting(
        34, "Max session length (clicks)", "", "clicks", 1, 10_000, speed=True)
    # The preferred-category set's size is uniform in [min, max], both within n_categories.
    min_preferred: int = setting(
        2, "Min preferred categories", "Size of a session's preferred set.", "categories",
        speed=True)
    max_preferred: int = setting(5, "Max preferred categories", "", "categories", speed=True)
    min_kept_length: int = setting(
        3, "Min kept length (clicks)",
        "Shorter sessions are dropped (only empty categories make them).", "clicks", 2, 10_000,
        speed=True)
    engine: str = setting(
        "fast", "Engine", "fast: vectorised; reference: the case study, draw for draw.")
    # Order mechanisms (docs/scenarios.md), all off by default; fast engine only. Before each
    # click after the first, one of them may replace the category move (stay / switch):
    anchor_return: float = setting(
        0.0, "P(back to the anchor)", "An item of the first click's category.", "", 0.0, 1.0)
    successor_prob: float = setting(
        0.0, "P(successor)", "The next item of the latest click's chain.", "", 0.0, 1.0)
    recall_prob: float = setting(
        0.0, "P(recall)", "The next item of an earlier click's chain.", "", 0.0, 1.0)
    repeat_prob: float = setting(
        0.0, "P(repeat)", "An earlier click again, recent ones likelier.", "", 0.0, 1.0)
    repeat_decay: float = setting(
        0.5, "Repeat decay", "A repeat picks the click d steps back ~ decay^d.", "", 0.01, 1.0)

    def validate(self) -> SimConfig:
        """Raise ValueError on the first field out of range; return self when valid."""
        _check_declared(self)
        if self.n_items < self.n_categories:
            raise ValueError(
                f"n_items = {self.n_items} is fewer than n_categories = {self.n_categories}: "
                "every category needs room for at least one item"
            )
        if self.explorer_share + self.deep_dive_share + self.comparison_share <= 0:
            raise ValueError(
                "behaviour mix (explorer_share, deep_dive_share, comparison_share) is all zero: "
                "at least one share must be positive"
            )
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
        return self.check_memory(memory.MAX_SIM_BYTES)

    def memory_bytes(self) -> int:
        """Measured estimate of the peak memory simulating this config takes (streamrec.memory)."""
        return memory.simulation_bytes(
            self.n_sessions, self.n_items, self.min_session_length, self.max_session_length
        )

    def check_memory(self, limit: int) -> SimConfig:
        """Raise ValueError naming the sizes when simulating would need more than `limit`
        bytes; return self otherwise."""
        needed = self.memory_bytes()
        if needed > limit:
            raise ValueError(
                f"n_sessions = {self.n_sessions} with sessions of {self.min_session_length}-"
                f"{self.max_session_length} clicks over n_items = {self.n_items} needs about "
                f"{memory.describe(needed)} to simulate: allowed up to {memory.describe(limit)}"
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


CHAIN_WIDTH = 16  # next clicks kept per item by the LSTM's transition heads (its counted chain)


@dataclass(frozen=True)
class LSTMConfig:
    """Architecture of the `lstm` family, the case study's network (defaults are its own)."""

    family: ClassVar[str] = "lstm"
    default_loss: ClassVar[str] = "full"  # what loss "auto" trains with on a small catalog

    # Catalog size; item ids 0..n_items-1, model tokens shifted by +1.
    n_items: int = setting(5_000, "Items", "", "items", 1, 1_000_000, speed=True)
    embed_dim: int = setting(64, "Embedding size", "", "", 1, 4096, speed=True)
    hidden_size: int = setting(128, "Hidden size", "", "", 1, 4096, speed=True)
    num_layers: int = setting(2, "Layers", "", "", 1, 8, speed=True)
    dropout: float = setting(0.3, "Dropout", "", "", 0.0, 0.95)
    pooling: str = setting(
        "attention", "Pooling", "attention: weigh every click; last: the final hidden state.",
        speed=True)
    cell: str = setting("lstm", "Recurrent cell", speed=True)
    # Beyond the case study (off by default; on in the order-carrying scenarios, measured there):
    item_skip: bool = setting(
        False, "Item skip path",
        "The pooled item embeddings join the context: an item's successor is learned from a "
        "few transitions. On in the order scenarios.", speed=True)
    copy: bool = setting(
        False, "Copy pointer (re-clicks)",
        "A pointer over the session's own clicks shares the softmax, so re-clicking an item "
        "already seen is one mode of the output. On in the order scenarios.", speed=True)
    transitions: int = setting(
        0, "Transition heads",
        "Each head points at the session's clicks and mixes in what followed each of them in "
        "the training log (its counted first-order chain): a series picked up again, the "
        "first click's intent. 0 = off.", "", 0, 4, speed=True)

    def validate(self) -> LSTMConfig:
        """Raise ValueError on the first field out of range; return self when valid."""
        _check_declared(self)
        context = self.hidden_size + (self.embed_dim if self.item_skip else 0)
        output_params = (context + 1) * self.n_items + (self.n_items + 1) * self.embed_dim
        output_params += (2 * CHAIN_WIDTH + 2) * self.n_items if self.transitions else 0  # the heads' chain
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
        extras += f"-trans{self.transitions}" if self.transitions else ""
        return f"{self.cell}-{self.pooling}-h{self.hidden_size}{extras}"

    def summary(self) -> str:
        """The architecture in a few words, for captions."""
        extras = [name for name, on in (("item skip path", self.item_skip), ("copy pointer", self.copy)) if on]
        if self.transitions:
            extras.append(f"{self.transitions} transition head{'s' if self.transitions > 1 else ''}")
        return (f"{self.cell.upper()} ({self.num_layers} × {self.hidden_size}) with {self.pooling} pooling"
                + (f", {' and '.join(extras)}" if extras else ""))


@dataclass(frozen=True)
class SASRecConfig:
    """Architecture of the `sasrec` family: causal self-attention (Kang & McAuley, 2018)."""

    family: ClassVar[str] = "sasrec"
    # Measured (bench_zoo, default data): sampled reached 97% of the oracle in one epoch at
    # half the epoch time of full softmax, which needed 1.7 epochs for the same.
    default_loss: ClassVar[str] = "sampled"

    n_items: int = setting(5_000, "Items", "", "items", 1, 1_000_000, speed=True)
    hidden_size: int = setting(  # item, position and block width (the paper's d)
        64, "Hidden size", "", "", 1, 4096, speed=True)
    num_blocks: int = setting(2, "Self-attention blocks", "", "", 1, 12, speed=True)
    num_heads: int = setting(2, "Attention heads", "", "", 1, 64, speed=True)
    dropout: float = setting(0.2, "Dropout", "", "", 0.0, 0.95)
    max_positions: int = setting(
        50, "Learned positions", "Must cover the max length.", "clicks", 1, 1_000, speed=True)

    def validate(self) -> SASRecConfig:
        """Raise ValueError on the first field out of range; return self when valid."""
        _check_declared(self)
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"num_heads = {self.num_heads} does not divide hidden_size = {self.hidden_size}: "
                "each head needs an equal share of the width"
            )
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

    n_items: int = setting(5_000, "Items", "", "items", 1, 1_000_000, speed=True)
    hidden_size: int = setting(128, "Hidden size", "", "", 1, 4096, speed=True)
    num_layers: int = setting(1, "Layers", "", "", 1, 8, speed=True)
    # 0: the input embedding is the output one (the "constrained" embedding)
    embed_dim: int = setting(
        0, "Embedding size", "gru4rec: 0 ties the input embedding to the output one.", "", 0, 4096,
        speed=True)
    dropout_embed: float = setting(0.0, "Dropout embed", "", "", 0.0, 0.95)
    dropout_hidden: float = setting(0.0, "Dropout hidden", "", "", 0.0, 0.95)

    def validate(self) -> GRU4RecConfig:
        """Raise ValueError on the first field out of range; return self when valid."""
        _check_declared(self)
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

    n_items: int = setting(5_000, "Items", "", "items", 1, 1_000_000, speed=True)
    embed_dim: int = setting(50, "Embedding size", "", "", 1, 4096, speed=True)  # the paper's sizes
    hidden_size: int = setting(100, "Hidden size", "", "", 1, 4096, speed=True)
    num_layers: int = setting(1, "Layers", "", "", 1, 8, speed=True)
    dropout_embed: float = setting(0.25, "Dropout embed", "", "", 0.0, 0.95)
    dropout_context: float = setting(0.5, "Dropout context", "", "", 0.0, 0.95)

    def validate(self) -> NARMConfig:
        """Raise ValueError on the first field out of range; return self when valid."""
        _check_declared(self)
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

    # The defaults were tuned for time to quality (docs/results-simulator.md).
    epochs: int = setting(8, "Epochs", "Passes over the training targets.", "epochs", 1, 10_000)
    batch_size: int = setting(
        512, "Batch size (target clicks per batch)",
        "Whole sessions are packed up to this many next-click targets, so 256 means 256 examples.",
        "targets", 1, 65_536, speed=True)
    lr: float = setting(6e-3, "Learning rate (Adam)", "", "", 1e-7, 10.0)
    step_size: int = setting(
        3, "StepLR step (epochs)", "Multiply the learning rate by gamma every this many epochs.",
        "epochs", 1, 10_000)
    gamma: float = setting(0.3, "StepLR gamma", "", "", 1e-4, 1.0)
    clip_norm: float = setting(
        5.0, "Gradient clipping (max norm)", "0 turns clipping off.", "", 0.0, 1e6, speed=True)
    max_len: int = setting(
        25, "Max length (clicks seen)", "A prediction sees at most this many last clicks.",
        "clicks", 1, 1_000, speed=True)
    protocol: str = setting(
        "session", "Evaluation protocol",
        "session: hold out whole sessions (validation and test); example: the case study's "
        "random split of prefixes.", speed=True)
    valid_fraction: float = setting(
        0.1, "Validation share", "protocol session: share of sessions for validation.", "",
        0.01, 0.5, speed=True)
    test_fraction: float = setting(
        0.1, "Test share", "protocol session: share of sessions for the final table.", "",
        0.0, 0.5, speed=True)
    example_valid_fraction: float = setting(
        0.2, "Held-out example share", "protocol example: share of prefix examples held out.",
        "", 0.01, 0.5, speed=True)
    cutoffs: tuple[int, ...] = setting((10, 20), "Cutoffs K", "Hit@K, MRR@K and NDCG@K for each.")
    exclude_seen: bool = setting(
        False, "Exclude seen items", "Drop items already in the session from the ranking.")
    seed: int = setting(42, "Seed", "", "", 0, 2**32 - 1)
    log_every: int = setting(
        10, "Log every", "Emit a train-loss event every this many batches.", "batches", 1, 100_000)
    max_seconds: float = setting(
        0.0, "Time limit", "Stop after this much training time; 0 = no limit.", "s", 0.0, 1e7)
    keep_last: bool = setting(
        True, "Keep the last checkpoint", "Keep last.safetensors beside best.")
    # Objective: "full" softmax over the catalog; "sampled" softmax over the batch's targets
    # plus n_negatives items drawn by popularity**sample_alpha, with logQ correction (Jean et
    # al., 2015; Yi et al., 2019); "bpr-max" over the same candidates (Hidasi & Karatzoglou,
    # 2018); "auto": sampled above SAMPLED_ABOVE items, else the family's default_loss.
    loss: str = setting(
        "auto", "Objective",
        "full: softmax over the whole catalog; sampled: softmax over the batch's targets and "
        "popularity-sampled negatives with logQ correction; bpr-max: GRU4Rec's ranking loss over "
        "the same candidates; auto: the family's own choice (sampled on big catalogs). "
        "Evaluation always ranks the full catalog.", speed=True)
    n_negatives: int = setting(  # 2048 measured no better (docs/results-simulator.md)
        512, "Sampled negatives",
        "sampled and bpr-max: items drawn beside the batch's own targets.", "items",
        0, 1_000_000, speed=True)
    sample_alpha: float = setting(
        0.75, "Negative sampling exponent", "0: uniform negatives; 1: drawn by popularity.", "",
        0.0, 1.0)
    bpreg: float = setting(
        1.0, "BPR-max score regulariser", "bpr-max: weight of the score regulariser.", "",
        0.0, 100.0)
    device: str = setting(
        "auto", "Device", "auto: a GPU when one is present, else the CPU.", speed=True)
    # bf16 autocast changes the time of a step, so the estimate keys on it (speed=True).
    precision: str = setting(
        "auto", "Precision",
        "bf16: training matmuls under torch.autocast in bfloat16; fp32: none; auto: bf16 on a "
        "GPU that supports it, else fp32. Evaluation always ranks in fp32.", speed=True)

    def validate(self) -> TrainConfig:
        """Raise ValueError on the first field out of range; return self when valid."""
        _check_declared(self)
        if not self.cutoffs or any(
            isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in self.cutoffs
        ):
            raise ValueError(f"cutoffs = {self.cutoffs!r} must be one or more positive integers")
        if len(set(self.cutoffs)) != len(self.cutoffs):
            raise ValueError(
                f"cutoffs = {','.join(map(str, self.cutoffs))} repeats a cutoff: "
                "give distinct positive integers, e.g. 10,20"
            )
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
