"""Does attention point at the cause? Attention and leave-one-out occlusion against the truth.

The simulator records, for every click, the mechanism that produced it and, where an earlier
click caused it, that click's position (`SessionData.cause`, `cause_position`). For held-out
targets caused by an earlier click inside the window the model reads, this module asks four
"explainers" to rank the window's clicks and checks whether the cause comes first (top 1) or
among the first two (top 2):

- attention: the model's attention weights in the prediction of the target;
- occlusion: leave-one-out occlusion (Zeiler & Fergus, "Visualizing and understanding
  convolutional networks", ECCV 2014; Li, Monroe & Jurafsky, "Understanding neural networks
  through representation erasure", 2016): drop each click of the window, run the model on the
  remaining clicks and measure how far the true next item's probability falls;
- last click: always the most recent click (then the one before it);
- chance: a uniformly random click, top-k hit probability k / L, averaged over targets;
- copy pointer: for a model with one (the LSTM's `copy` option), the pointer's split of its
  copy mass over the window's clicks (`explain`'s "copy pointer" map), a second attention
  that the model uses to re-click an item.

Whether attention is an explanation is measured here, not assumed (Jain & Wallace, "Attention
is not Explanation", NAACL 2019; Wiegreffe & Pinter, "Attention is not not Explanation",
EMNLP 2019). Ties count against the explainer, as ranks do in `streamrec.evaluation.metrics`.

Only `model.forward_rows(tokens) -> (states, attention | None)` and `model.logits(states)` are
used; a model without attention gets the occlusion, last-click and chance rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import torch

from streamrec.data.columns import SESSION_ID
from streamrec.data.sessions import CAUSES, NO_CAUSE, SessionData
from streamrec.data.splits import PAD, Targets
from streamrec.threads import one_thread

ATTENTION, OCCLUSION, LAST_CLICK, CHANCE = "attention", "occlusion", "last click", "chance"
POINTER = "copy pointer"  # also the name of the map the model's `explain` returns for it
METHODS = (ATTENTION, POINTER, OCCLUSION, LAST_CLICK, CHANCE)
RANKED = (ATTENTION, POINTER, OCCLUSION, LAST_CLICK)  # the methods with a rank per target
TOPS = (1, 2)
ALL = "all"  # the mechanism label of the pooled rows
MIN_WINDOW = 2  # a one-click window has only one candidate: every explainer is right
TABLE_COLUMNS = ("mechanism", "method", "top", "hits", "targets", "share", "se")
# hits: targets whose cause ranks within `top` (for chance, the expected number);
# se: standard error of the share over the targets

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
    explainer (NaN for attention or the pointer when the model has none). `table` is the tidy
    summary.
    """

    targets: pd.DataFrame
    table: pd.DataFrame  # TABLE_COLUMNS, one row per (mechanism, method, top)
    n_sessions: int  # sessions analysed (one target each)
    n_outside: int  # eligible-looking targets skipped: the cause fell before the model's window
    has_attention: bool
    has_pointer: bool = False

    def share(self, method: str, top: int, mechanism: str = ALL) -> float:
        """The share of targets whose cause `method` ranks within `top` (NaN if absent)."""
        rows = self.table[
            (self.table["mechanism"] == mechanism)
            & (self.table["method"] == method)
            & (self.table["top"] == top)
        ]
        return float(rows["share"].iloc[0]) if len(rows) else float("nan")


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


def drop_one(tokens: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every leave-one-out variant of every row: (V, T) tokens with click j of row i removed,
    their row i (V,) and dropped click j (V,), V = lengths.sum(), rows in (i, j) order."""
    row = np.repeat(np.arange(lengths.shape[0]), lengths)
    dropped = np.arange(row.shape[0]) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cols = np.arange(tokens.shape[1])[None, :]
    source = cols + (cols >= dropped[:, None])  # skip the dropped column
    variants = np.take_along_axis(tokens[row], np.minimum(source, tokens.shape[1] - 1), axis=1)
    variants[source >= lengths[row][:, None]] = PAD
    return variants, row, dropped


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
def last_output(
    model: RowModel,
    tokens: np.ndarray,
    lengths: np.ndarray,
    items: np.ndarray,
    rows_per_batch: int = 1024,
    want_attention: bool = True,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """For each row: P(items[r] | its clicks) after its last click, and the attention of that
    prediction over the row's clicks ((N, T), None if the model has none or it is not wanted).

    Rows run in batches of similar length, each cut to its longest row.
    """
    probs, maps = last_output_maps(model, tokens, lengths, items, rows_per_batch,
                                   (ATTENTION,) if want_attention else (), progress)
    return probs, maps.get(ATTENTION)


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
    """`last_output` with every wanted map the model has, by name: ATTENTION (the weights
    `forward_rows` returns) and POINTER (the "copy pointer" map of `explain`), each (N, T)."""
    n, width = tokens.shape
    probs = np.zeros(n, dtype=np.float64)
    explain = getattr(model, "explain", None)  # asked once whether it names a pointer, not per batch
    if POINTER in wanted and (explain is None or POINTER not in explain(torch.tensor([[1, 2]]))):
        wanted = tuple(name for name in wanted if name != POINTER)
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
        found: dict[str, torch.Tensor | None] = {ATTENTION: weights}
        if POINTER in maps and explain is not None:
            found[POINTER] = explain(rows)[POINTER]
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
) -> Faithfulness:
    """Attention, occlusion, last click and chance against the recorded causes.

    One target per session: drawn (seeded) among the held-out targets of a session that an
    earlier click inside the model's window caused, from at most `n_sessions` such sessions.
    Runs on one torch thread, session-parallel over windows, the drop-one variants batched.
    """
    if n_sessions < 1:
        raise ValueError(f"n_sessions = {n_sessions} must be at least 1")
    caused, cause_at, n_outside = caused_targets(data, held_out, max_len)
    picked = one_per_session(caused, n_sessions, seed)
    targets, cause_at = caused.take(picked), cause_at[picked]
    tokens, lengths = windows(data, targets, max_len)
    truth = data.items[data.offsets[targets.session] + targets.position]
    n = len(targets)

    def step(done: float, share: float) -> Progress | None:
        return None if progress is None else (lambda f: progress(done + share * f))

    with evaluating(model), one_thread():
        full, maps = last_output_maps(
            model, tokens, lengths, truth, rows_per_batch, progress=step(0.0, 0.1)
        )
        variants, row, dropped = drop_one(tokens, lengths)
        without, _ = last_output(
            model, variants, lengths[row] - 1, truth[row], rows_per_batch, False, step(0.1, 0.9)
        )
    fall = np.zeros(tokens.shape, dtype=np.float64)  # (N, T) P(true next) lost by dropping j
    fall[row, dropped] = full[row] - without
    recency = np.broadcast_to(np.arange(tokens.shape[1], dtype=np.float64), tokens.shape)
    ranks = {
        OCCLUSION: cause_rank(fall, lengths, cause_at),
        LAST_CLICK: cause_rank(recency, lengths, cause_at),
    }
    for name, weights in maps.items():
        ranks[name] = cause_rank(weights, lengths, cause_at)
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
    return Faithfulness(
        targets=frame,
        table=summary_table(frame, ATTENTION in maps, POINTER in maps),
        n_sessions=n,
        n_outside=n_outside,
        has_attention=ATTENTION in maps,
        has_pointer=POINTER in maps,
    )


def _methods(has_attention: bool, has_pointer: bool) -> list[str]:
    absent = {ATTENTION: not has_attention, POINTER: not has_pointer}
    return [m for m in METHODS if not absent.get(m, False)]


def summary_table(targets: pd.DataFrame, has_attention: bool = True, has_pointer: bool = False) -> pd.DataFrame:
    """Tidy shares per mechanism (and ALL), explainer and top-k from the per-target frame."""
    methods = _methods(has_attention, has_pointer)
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
    return pd.DataFrame.from_records(records, columns=list(TABLE_COLUMNS))


def occlusion(model: RowModel, session: np.ndarray | list[int], item: int) -> np.ndarray:
    """(L,) how far P(item | session) falls when each click of `session` is dropped (negative:
    it rises); `session` is the item ids the model reads (already cut to max_len), 2+ clicks.
    """
    items = np.asarray(session, dtype=np.int64)
    if items.size < MIN_WINDOW:
        raise ValueError(
            f"the session has {items.size} click(s): dropping one needs at least {MIN_WINDOW}"
        )
    tokens = (items + 1)[None, :]  # (1, L)
    variants, _, _ = drop_one(tokens, np.array([items.size]))  # (L, L)
    rows = np.concatenate([tokens, variants])  # (L + 1, L): the session, then each variant
    lengths = np.concatenate([[items.size], np.full(items.size, items.size - 1)])
    with evaluating(model), one_thread():  # one pass: a causal model reads each row's own clicks
        probs, _ = last_output(model, rows, lengths, np.full(rows.shape[0], item), rows.shape[0],
                               want_attention=False)
    drops: np.ndarray = probs[0] - probs[1:]
    return drops


def markdown_table(result: Faithfulness) -> str:
    """The result as a Markdown table (for the README): one row per mechanism and, per
    explainer, the percent of targets whose cause it ranks first / in its top two."""
    methods = _methods(result.has_attention, result.has_pointer)
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
