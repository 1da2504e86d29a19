"""Which explanation points at the true cause of a click? Every explainer against the truth
and against the best possible.

The simulator records, for every click, the mechanism that produced it and, where an earlier
click caused it, that click's position (`SessionData.cause`, `cause_position`). For held-out
targets caused by an earlier click inside the window the model reads, every explainer ranks
the window's clicks and we check whether the cause comes first (top 1) or among the first two
(top 2):

- ideal: the oracle's exact posterior P(click j caused the next click | prefix, next click)
  (`streamrec.explain.ideal`); no explainer that sees only the clicks can beat its top-1
  rate on average, so every other rate is also reported as a share of it;
- attention: the model's attention weights in the prediction of the target (the weights
  `forward_rows` returns, else the first map of its own `explain` names, e.g. SASRec's
  rollout);
- copy pointer: for a model with one (the LSTM's `copy` option), the pointer's split of its
  copy mass over the window's clicks;
- occlusion (leave one out; Zeiler & Fergus, ECCV 2014; Li, Monroe & Jurafsky, 2016),
  Shapley value sampling, integrated gradients and gradient x input: Captum's, through the
  model seam (`streamrec.explain.attribution`), for P(true next item);
- exact decomposition: for a family that offers one (`decompose`, the LSTM's), its logit
  split exactly over the clicks;
- Shapley x read-out: for the same families, a click's Shapley value (its positive part)
  weighted by the softmax over the clicks of its exact-decomposition term (`read_out_shapley`):
  credit needs both that the click's presence raises P(true next) and that the output layer
  reads it for that item. A combination chosen by measurement, not derived;
- last click: always the most recent click (then the one before it);
- chance: a uniformly random click, top-k hit probability k / L, averaged over targets.

Whether attention is an explanation is measured here, not assumed (Jain & Wallace, "Attention
is not Explanation", NAACL 2019; Wiegreffe & Pinter, "Attention is not not Explanation",
EMNLP 2019). Ties count against the explainer, as ranks do in `streamrec.evaluation.metrics`;
the ideal breaks its exact ties towards the later click (any rule does as well on a tie).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch

from streamrec.data.columns import SESSION_ID
from streamrec.data.sessions import CAUSES, NO_CAUSE, SessionData
from streamrec.data.splits import Targets
from streamrec.explain.attribution import (
    GRADIENT_X_INPUT,
    INTEGRATED_GRADIENTS,
    OCCLUSION,
    SHAPLEY,
    attribute,
    methods_for,
)
from streamrec.threads import one_thread

IDEAL, ATTENTION, LAST_CLICK, CHANCE = "ideal", "attention", "last click", "chance"
POINTER = "copy pointer"  # also the name of the map the model's `explain` returns for it
EXACT = "exact decomposition"  # a family's own per-click split of its logit (`decompose`)
READ_OUT_SHAPLEY = "shapley x read-out"  # Shapley gated by the decomposition (`read_out_shapley`)
METHODS = (IDEAL, ATTENTION, POINTER, OCCLUSION, SHAPLEY, INTEGRATED_GRADIENTS, GRADIENT_X_INPUT,
           EXACT, READ_OUT_SHAPLEY, LAST_CLICK, CHANCE)
RANKED = tuple(m for m in METHODS if m != CHANCE)  # the methods with a rank per target
MODEL_METHODS = (ATTENTION, POINTER, OCCLUSION, SHAPLEY, INTEGRATED_GRADIENTS, GRADIENT_X_INPUT,
                 EXACT, READ_OUT_SHAPLEY)
TOPS = (1, 2)
ALL = "all"  # the mechanism label of the pooled rows
MIN_WINDOW = 2  # a one-click window has only one candidate: every explainer is right
TABLE_COLUMNS = ("mechanism", "method", "top", "hits", "targets", "share", "se", "of_ideal")
# hits: targets whose cause ranks within `top` (for chance, the expected number);
# se: standard error of the share over the targets; of_ideal: share / the ideal's share

Progress = Callable[[float], None]


class RowModel(Protocol):
    """The two calls of the model seam this analysis needs."""

    def forward_rows(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(states (B, T, H), attention (B, T, T) or None) for right-padded rows (B, T)."""
        ...

    def logits(self, states: torch.Tensor) -> torch.Tensor:
        """Catalog logits (..., n_items) from states (..., H)."""
        ...


@dataclass(frozen=True)
class Faithfulness:
    """How often each explainer ranks the true cause first or second, per mechanism.

    `targets` has one row per analysed target (one per session): where it is, its mechanism,
    the window length L, how many clicks back the cause is, and the cause's rank under each
    explainer (NaN for one the model or the data does not have). `table` is the tidy summary.
    """

    targets: pd.DataFrame
    table: pd.DataFrame  # TABLE_COLUMNS, one row per (mechanism, method, top)
    n_sessions: int  # sessions analysed (one target each)
    n_outside: int  # eligible-looking targets skipped: the cause fell before the model's window
    has_attention: bool
    has_pointer: bool = False
    methods: tuple[str, ...] = field(default=())  # the explainers measured, in METHODS order
    seconds: dict[str, float] = field(default_factory=dict)  # time per explainer

    def share(self, method: str, top: int, mechanism: str = ALL, column: str = "share") -> float:
        """The share of targets whose cause `method` ranks within `top` (NaN if absent);
        `column="of_ideal"` gives it as a share of the ideal's."""
        rows = self.table[
            (self.table["mechanism"] == mechanism)
            & (self.table["method"] == method)
            & (self.table["top"] == top)
        ]
        return float(rows[column].iloc[0]) if len(rows) else float("nan")

    def balanced(self, method: str) -> float:
        """The mean of `method`'s top-1 rates over the mechanisms (each cause counts equally)."""
        rows = self.table[(self.table["method"] == method) & (self.table["top"] == 1)
                          & (self.table["mechanism"] != ALL)]
        return float(rows["share"].mean()) if len(rows) else float("nan")

    def most_faithful(self) -> str:
        """The model's explainer (not the ideal, the last click or chance) with the highest
        mean top-1 rate over the mechanisms, so that one right only about the last click does
        not win on a world's mix of causes alone; ties go to the earlier in METHODS."""
        candidates = [m for m in self.methods if m in MODEL_METHODS]
        return max(candidates, key=lambda m: (self.balanced(m), -METHODS.index(m)))


def caused_targets(
    data: SessionData, targets: Targets, max_len: int
) -> tuple[Targets, np.ndarray, int]:
    """The targets caused by an earlier click the model can see, the cause's index in the
    model's window, and how many caused targets were skipped because the cause fell before it.

    Windows shorter than MIN_WINDOW clicks are left out (one candidate: nothing to rank).
    """
    if not data.has_causes:
        what = f"data set {data.name!r}" if data.name else "this data set"
        raise ValueError(
            f"{what} records no cause per click (only simulated data made since causes are "
            "recorded has them): attention cannot be checked against the truth"
        )
    assert data.cause_position is not None
    flat = data.offsets[targets.session] + targets.position
    cause = data.cause_position[flat]
    window = np.minimum(targets.position, max_len)
    start = targets.position - window
    caused = cause != NO_CAUSE
    inside = caused & (cause >= start)
    keep = np.flatnonzero(inside & (window >= MIN_WINDOW))
    return targets.take(keep), (cause - start)[keep], int((caused & ~inside).sum())


def one_per_session(targets: Targets, n_sessions: int, seed: int = 0) -> np.ndarray:
    """Indices of one target per session (drawn with `seed`), from at most `n_sessions` sessions."""
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(len(targets))
    _, first = np.unique(targets.session[shuffled], return_index=True)
    picked = shuffled[first]  # one per session, sessions in id order
    if picked.size > n_sessions:
        picked = rng.choice(picked, size=n_sessions, replace=False)
    return np.sort(picked)


def windows(data: SessionData, targets: Targets, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, max_len) right-padded tokens of the clicks each target's prediction reads, and (N,) L."""
    lengths = np.minimum(targets.position, max_len)
    starts = data.offsets[targets.session] + targets.position - lengths
    cols = np.arange(max_len)[None, :]
    inside = cols < lengths[:, None]
    tokens = np.zeros((len(targets), max_len), dtype=np.int64)
    tokens[inside] = data.items[(starts[:, None] + cols)[inside]] + 1
    return tokens, lengths


@contextmanager
def evaluating(model: RowModel) -> Iterator[None]:
    """The model in eval mode (no dropout) inside, its previous mode restored after."""
    module = model if isinstance(model, torch.nn.Module) else None
    was_training = module is not None and module.training
    if module is not None:
        module.eval()
    try:
        yield
    finally:
        if module is not None:
            module.train(was_training)


@torch.no_grad()
def last_output_maps(
    model: RowModel,
    tokens: np.ndarray,
    lengths: np.ndarray,
    items: np.ndarray,
    rows_per_batch: int = 1024,
    wanted: tuple[str, ...] = (ATTENTION, POINTER),
    progress: Progress | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """For each row: P(items[r] | its clicks) after its last click, and every wanted map the
    model has of that prediction over the row's clicks, by name: ATTENTION (the weights
    `forward_rows` returns) and POINTER (the "copy pointer" map of `explain`), each (N, T).

    Rows run in batches of similar length, each cut to its longest row.
    """
    n, width = tokens.shape
    probs = np.zeros(n, dtype=np.float64)
    explain = getattr(model, "explain", None)  # asked once which maps it names, not per batch
    names = list(explain(torch.tensor([[1, 2]]))) if explain is not None else []
    if POINTER not in names:
        wanted = tuple(name for name in wanted if name != POINTER)
    own = [name for name in names if name != POINTER and " · " not in name]
    summary = own[0] if own else None  # e.g. SASRec's rollout, when forward_rows has no weights
    maps = {name: np.zeros((n, width), dtype=np.float32) for name in wanted}
    order = np.argsort(-lengths, kind="stable")
    for start in range(0, n, rows_per_batch):
        index = order[start : start + rows_per_batch]
        t = int(lengths[index].max())
        rows = torch.from_numpy(tokens[index, :t])
        states, weights = model.forward_rows(rows)
        last = torch.from_numpy(lengths[index] - 1)  # (B,)
        batch = torch.arange(index.size)
        logits = model.logits(states[batch, last])  # (B, n_items)
        log_p = torch.log_softmax(logits.float(), dim=-1)[batch, torch.from_numpy(items[index])]
        probs[index] = log_p.exp().double().numpy()
        named = explain(rows) if explain is not None and (POINTER in maps or (
            weights is None and summary is not None and ATTENTION in maps)) else {}
        found: dict[str, torch.Tensor | None] = {
            ATTENTION: weights if weights is not None else named.get(summary or "")}
        if POINTER in maps:
            found[POINTER] = named[POINTER]
        for name in list(maps):
            value = found[name]
            if value is None:
                del maps[name]  # the model has no such map
            else:
                maps[name][index, :t] = value[batch, last].numpy()  # (B, t)
        if progress is not None:
            progress(min(1.0, (start + index.size) / n))
    return probs, maps


def cause_rank(scores: np.ndarray, lengths: np.ndarray, cause: np.ndarray) -> np.ndarray:
    """(N,) 1-based rank of the cause's score among the row's first L scores, ties against it."""
    inside = np.arange(scores.shape[1])[None, :] < lengths[:, None]
    own = scores[np.arange(scores.shape[0]), cause][:, None]
    ranks: np.ndarray = ((scores >= own) & inside).sum(axis=1)
    return ranks


def measure_faithfulness(
    model: RowModel,
    data: SessionData,
    held_out: Targets,
    max_len: int,
    n_sessions: int = 2000,
    seed: int = 0,
    rows_per_batch: int = 1024,
    progress: Progress | None = None,
    explainers: Sequence[str] | None = None,
) -> Faithfulness:
    """Every explainer (or those named in `explainers`) against the recorded causes, and the
    ideal one where the data come from a known world.

    One target per session: drawn (seeded) among the held-out targets of a session that an
    earlier click inside the model's window caused, from at most `n_sessions` such sessions.
    Runs on one torch thread, session-parallel over windows; no explainer holds more than
    `rows_per_batch` rows of catalog logits at a time.
    """
    import time

    from streamrec.explain.ideal import ideal_attribution

    if n_sessions < 1:
        raise ValueError(f"n_sessions = {n_sessions} must be at least 1")
    wanted = tuple(explainers) if explainers is not None else METHODS
    unknown = [m for m in wanted if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown explainer {unknown[0]!r}: one of {', '.join(METHODS)}")
    caused, cause_at, n_outside = caused_targets(data, held_out, max_len)
    picked = one_per_session(caused, n_sessions, seed)
    targets, cause_at = caused.take(picked), cause_at[picked]
    tokens, lengths = windows(data, targets, max_len)
    truth = data.items[data.offsets[targets.session] + targets.position]
    n = len(targets)
    full, scores, seconds = model_scores(model, tokens, lengths, truth, wanted, rows_per_batch,
                                         progress, seed)
    if IDEAL in wanted and data.config is not None:
        clock = time.perf_counter()
        ideal = np.zeros(tokens.shape, dtype=np.float64)
        posterior, _ = ideal_attribution(data, targets, lengths)
        ideal[:, : posterior.shape[1]] = posterior
        # Exact ties (one item recalled through two clicks) go to the later click.
        scores[IDEAL] = ideal + 1e-12 * np.arange(tokens.shape[1])[None, :]
        seconds[IDEAL] = time.perf_counter() - clock
    ranks = {name: cause_rank(values, lengths, cause_at) for name, values in scores.items()}
    assert data.cause is not None
    mechanism = np.asarray(CAUSES, dtype=object)[
        data.cause[data.offsets[targets.session] + targets.position]
    ]
    frame = pd.DataFrame(
        {
            SESSION_ID: targets.session,
            "position": targets.position,
            "mechanism": mechanism,
            "window": lengths,
            "cause_back": lengths - 1 - cause_at,  # 0 = the last click
            "p_true_next": full,
            **{f"{method} rank": ranks.get(method, np.full(n, np.nan)) for method in RANKED},
        }
    )
    methods = tuple(m for m in METHODS if m in ranks or (m == CHANCE and CHANCE in wanted))
    return Faithfulness(
        targets=frame,
        table=summary_table(frame, methods),
        n_sessions=n,
        n_outside=n_outside,
        has_attention=ATTENTION in ranks,
        has_pointer=POINTER in ranks,
        methods=methods,
        seconds=seconds,
    )


@torch.no_grad()
def decomposition(model: Any, tokens: np.ndarray, lengths: np.ndarray, items: np.ndarray,
                  rows_per_batch: int = 1024) -> np.ndarray:
    """(N, T) the model's exact per-click terms of each row's logit of items[r] (`decompose`),
    in batches of similar length."""
    out = np.zeros(tokens.shape, dtype=np.float64)
    order = np.argsort(-lengths, kind="stable")
    for start in range(0, len(order), rows_per_batch):
        index = order[start : start + rows_per_batch]
        t = int(lengths[index].max())
        terms, _ = model.decompose(torch.from_numpy(tokens[index, :t]),
                                   torch.from_numpy(items[index].astype(np.int64)))
        out[index, :t] = terms.double().numpy()
    return out


def read_out_shapley(shapley: np.ndarray, terms: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(N, T) Shapley values weighted by the model's read-out: max(Shapley, 0) of each click
    times the softmax over the row's first L clicks of its exact-decomposition term (a
    vanishing share of that softmax is added, so a row without a positive Shapley value
    follows the decomposition instead of tying). 0 beyond a row's clicks.

    Shapley sampling credits every click whose presence raises P(item) in some coalition, so
    it spreads a stay over all the clicks of the category; the decomposition credits the
    clicks the output layer reads, mostly the latest, so it misses a long-range cause. The
    product asks for both. Measured against the ideal in docs/faithfulness.md.
    """
    inside = np.arange(terms.shape[1])[None, :] < np.asarray(lengths)[:, None]
    logits = np.where(inside, terms, -np.inf)
    peak = logits.max(axis=1, keepdims=True)
    weights = np.exp(logits - np.where(np.isfinite(peak), peak, 0.0))
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-300)
    scored = weights * (np.maximum(shapley, 0.0) + 1e-9 * np.abs(shapley).max(axis=1, keepdims=True)
                       + 1e-300)
    out: np.ndarray = np.where(inside, scored, 0.0)
    return out


def model_scores(
    model: RowModel,
    tokens: np.ndarray,
    lengths: np.ndarray,
    items: np.ndarray,
    wanted: Sequence[str] = METHODS,
    rows_per_batch: int = 1024,
    progress: Progress | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, float]]:
    """P(items[r] | window r), every wanted explainer of the model by name ((N, T) scores over
    the windows' clicks) and the seconds each took, on one torch thread in eval mode."""
    import time

    captum = [m for m in methods_for(model) if m in wanted]
    steps = 1 + len(captum)
    seconds: dict[str, float] = {}

    def step(done: int) -> Progress | None:
        return None if progress is None else (lambda f: progress((done + f) / steps))

    scores: dict[str, np.ndarray] = {}
    with evaluating(model), one_thread():
        clock = time.perf_counter()
        full, maps = last_output_maps(model, tokens, lengths, items, rows_per_batch,
                                      tuple(m for m in (ATTENTION, POINTER) if m in wanted), step(0))
        seconds["attention and pointer"] = time.perf_counter() - clock
        scores.update(maps)
        for done, method in enumerate(captum, start=1):
            clock = time.perf_counter()
            scores[method] = attribute(model, tokens, lengths, items, method, rows_per_batch,
                                       step(done), seed)
            seconds[method] = time.perf_counter() - clock
        terms = None  # the exact decomposition, when the model has one and it is needed
        if callable(getattr(model, "decompose", None)) and (EXACT in wanted or READ_OUT_SHAPLEY in wanted):
            clock = time.perf_counter()
            terms = decomposition(model, tokens, lengths, items, rows_per_batch)
            seconds[EXACT] = time.perf_counter() - clock
            if EXACT in wanted:
                scores[EXACT] = terms
        if terms is not None and READ_OUT_SHAPLEY in wanted:
            clock = time.perf_counter()
            shapley = scores[SHAPLEY] if SHAPLEY in scores else attribute(
                model, tokens, lengths, items, SHAPLEY, rows_per_batch, seed=seed)
            scores[READ_OUT_SHAPLEY] = read_out_shapley(shapley, terms, lengths)
            seconds[READ_OUT_SHAPLEY] = time.perf_counter() - clock  # the product, if Shapley ran
    if LAST_CLICK in wanted:
        scores[LAST_CLICK] = np.broadcast_to(np.arange(tokens.shape[1], dtype=np.float64), tokens.shape)
    return full, scores, seconds


def summary_table(targets: pd.DataFrame, methods: Sequence[str] | None = None) -> pd.DataFrame:
    """Tidy shares per mechanism (and ALL), explainer and top-k from the per-target frame;
    `methods` defaults to every ranked column with a rank, and chance. `of_ideal` is each
    share over the ideal's for the same mechanism and top (NaN without the ideal)."""
    if methods is None:
        methods = [m for m in METHODS if m == CHANCE or (
            f"{m} rank" in targets and targets[f"{m} rank"].notna().any())]
    records = []
    groups = [(ALL, targets)] + [
        (name, targets[targets["mechanism"] == name])
        for name in CAUSES
        if (targets["mechanism"] == name).any()
    ]
    for mechanism, rows in groups:
        n = len(rows)
        for method in methods:
            for top in TOPS:
                if method == CHANCE:  # the hit probability of a uniformly random ranking
                    values = np.minimum(top, rows["window"]) / rows["window"]
                else:
                    values = (rows[f"{method} rank"] <= top).astype(np.float64)
                values = np.asarray(values, dtype=np.float64)
                share = float(values.mean()) if n else float("nan")
                se = float(values.std() / np.sqrt(n)) if n else float("nan")
                records.append((mechanism, method, top, float(values.sum()), n, share, se))
    table = pd.DataFrame.from_records(records, columns=list(TABLE_COLUMNS[:-1]))
    ideal = table[table["method"] == IDEAL].set_index(["mechanism", "top"])["share"]
    key = pd.MultiIndex.from_frame(table[["mechanism", "top"]])
    best = ideal.reindex(key).to_numpy() if len(ideal) else np.full(len(table), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["of_ideal"] = np.where(best > 0, table["share"].to_numpy() / best, np.nan)
    return table


def occlusion(model: RowModel, session: np.ndarray | list[int], item: int) -> np.ndarray:
    """(L,) how far P(item | session) falls when each click of `session` is dropped (negative:
    it rises), by Captum's FeatureAblation; `session` is the item ids the model reads
    (already cut to max_len), 2+ clicks.
    """
    items = np.asarray(session, dtype=np.int64)
    if items.size < MIN_WINDOW:
        raise ValueError(
            f"the session has {items.size} click(s): dropping one needs at least {MIN_WINDOW}"
        )
    with evaluating(model), one_thread():
        falls = attribute(model, (items + 1)[None, :], np.array([items.size]), np.array([item]),
                          OCCLUSION)
    return np.asarray(falls[0])


def markdown_table(result: Faithfulness) -> str:
    """The result as a Markdown table (for the README): one row per mechanism and, per
    explainer, the percent of targets whose cause it ranks first / in its top two."""
    methods = list(result.methods) or list(dict.fromkeys(result.table["method"]))
    table = result.table.set_index(["mechanism", "method", "top"])
    header = "| mechanism (targets) | " + " | ".join(methods) + " |"
    lines = [
        header,
        "|---|" + "---:|" * len(methods),
    ]
    for mechanism in dict.fromkeys(result.table["mechanism"]):
        n = int(table.loc[(mechanism, methods[0], 1), "targets"])
        cells = [
            f"{100 * table.loc[(mechanism, m, 1), 'share']:.1f} / "
            f"{100 * table.loc[(mechanism, m, 2), 'share']:.1f}"
            for m in methods
        ]
        lines.append(f"| {mechanism} ({n:,}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def share_of_ideal_table(result: Faithfulness) -> str:
    """Markdown: each explainer's top-1 rate as a percent of the ideal's, per mechanism
    (empty without the ideal)."""
    if IDEAL not in result.methods:
        return ""
    methods = [m for m in result.methods if m not in (IDEAL,)]
    lines = ["| mechanism | ideal top 1 | " + " | ".join(methods) + " |",
             "|---|---:|" + "---:|" * len(methods)]
    for mechanism in dict.fromkeys(result.table["mechanism"]):
        cells = [f"{100 * result.share(m, 1, mechanism, 'of_ideal'):.0f}%" for m in methods]
        lines.append(f"| {mechanism} | {100 * result.share(IDEAL, 1, mechanism):.1f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def json_table(result: Faithfulness) -> dict[str, Any]:
    """The whole table as one JSON-ready object: explainer -> mechanism -> {top1, top2,
    top1_of_ideal, top2_of_ideal, targets} (and "mean over mechanisms" -> {top1}); plus the ideal's own rates under "ideal", the most
    faithful explainer, the counts and the seconds per explainer."""
    explainers: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for method in result.methods:
        rows = result.table[result.table["method"] == method]
        per: dict[str, dict[str, float | int | None]] = {}
        for mechanism in dict.fromkeys(rows["mechanism"]):
            cell: dict[str, float | int | None] = {}
            for top in TOPS:
                share = result.share(method, top, mechanism)
                of_ideal = result.share(method, top, mechanism, "of_ideal")
                cell[f"top{top}"] = round(share, 6)
                cell[f"top{top}_of_ideal"] = None if np.isnan(of_ideal) else round(of_ideal, 6)
            cell["targets"] = int(rows[rows["mechanism"] == mechanism]["targets"].iloc[0])
            per[str(mechanism)] = cell
        per["mean over mechanisms"] = {"top1": round(result.balanced(method), 6)}
        explainers[method] = per
    return {
        "explainers": explainers,
        "ideal": explainers.get(IDEAL),
        "most_faithful": result.most_faithful() if any(m in MODEL_METHODS for m in result.methods) else None,
        "n_sessions": result.n_sessions,
        "n_outside": result.n_outside,
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }
