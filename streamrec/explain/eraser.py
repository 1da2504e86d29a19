"""Faithfulness without ground truth: comprehensiveness and sufficiency (DeYoung et al.,
"ERASER: A Benchmark to Evaluate Rationalized NLP Models", ACL 2020), for data that record no
cause per click (imported logs).

For each held-out target (one per session, a window of 2+ clicks) and each explainer, the
explainer's top-k clicks are the rationale, k = 1..K (K = min(MAX_K, L - 1)):

- comprehensiveness: P(true next | all clicks) - P(true next | the rationale removed): how much
  the prediction falls without the clicks the explainer names (the deletion curve); higher is
  more faithful;
- sufficiency: P(true next | all clicks) - P(true next | the rationale alone): how much is lost
  keeping only them (the insertion curve); lower is more faithful.

Each is averaged over k (ERASER's AOPC, area over the perturbation curve) and over targets.
Clicks are removed as occlusion removes them (`attribution`). A random ranking is the
baseline every explainer should beat.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from streamrec.data.sessions import SessionData
from streamrec.data.splits import Targets
from streamrec.explain.attribution import _kept_probability
from streamrec.explain.faithfulness import (
    CHANCE,
    IDEAL,
    MIN_WINDOW,
    RowModel,
    evaluating,
    model_scores,
    one_per_session,
    windows,
)
from streamrec.threads import one_thread

MAX_K = 3  # rationales of 1, 2 and 3 clicks (sessions are short: a median window holds ~5)
RANDOM = "random"  # a random ranking of the clicks: the baseline
ERASER_COLUMNS = ("method", "comprehensiveness", "sufficiency", "comprehensiveness_se",
                  "sufficiency_se", "targets")

Progress = Callable[[float], None]


@torch.no_grad()
def _probabilities(model: RowModel, tokens: np.ndarray, presence: np.ndarray, items: np.ndarray,
                   rows_per_batch: int) -> np.ndarray:
    """(N,) P(items[r] | the clicks of row r where presence is True), in batches."""
    forward = _kept_probability(model)
    out = np.zeros(tokens.shape[0], dtype=np.float64)
    for start in range(0, tokens.shape[0], rows_per_batch):
        part = slice(start, start + rows_per_batch)
        out[part] = forward(torch.from_numpy(presence[part]).double(), torch.from_numpy(tokens[part]),
                            torch.from_numpy(items[part].astype(np.int64))).double().numpy()
    return out


def rationale_curves(
    model: RowModel, tokens: np.ndarray, lengths: np.ndarray, items: np.ndarray,
    full: np.ndarray, scores: np.ndarray, rows_per_batch: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """(N,) comprehensiveness and sufficiency AOPC of one explainer's (N, T) scores: the mean
    over k = 1..min(MAX_K, L - 1) of the fall in P without / with only its top-k clicks."""
    n, width = tokens.shape
    inside = np.arange(width)[None, :] < lengths[:, None]
    order = np.argsort(-np.where(inside, scores, -np.inf), axis=1, kind="stable")  # best first
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(width)[None, :].repeat(n, 0), axis=1)
    comp = np.zeros(n)
    suff = np.zeros(n)
    ks = np.minimum(MAX_K, lengths - 1)
    with evaluating(model), one_thread():
        for k in range(1, MAX_K + 1):
            rows = np.flatnonzero(ks >= k)
            if rows.size == 0:
                break
            top = (rank[rows] < k) & inside[rows]
            without = _probabilities(model, tokens[rows], inside[rows] & ~top, items[rows], rows_per_batch)
            alone = _probabilities(model, tokens[rows], top, items[rows], rows_per_batch)
            comp[rows] += full[rows] - without
            suff[rows] += full[rows] - alone
    return comp / ks, suff / ks


def measure_eraser(
    model: RowModel,
    data: SessionData,
    held_out: Targets,
    max_len: int,
    n_sessions: int = 2000,
    seed: int = 0,
    rows_per_batch: int = 1024,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """ERASER_COLUMNS per explainer of the model (and the random baseline), over one held-out
    target per session with a window of 2+ clicks; needs no recorded causes."""
    lengths_all = np.minimum(held_out.position, max_len)
    eligible = held_out.take(np.flatnonzero(lengths_all >= MIN_WINDOW))
    targets = eligible.take(one_per_session(eligible, n_sessions, seed))
    tokens, lengths = windows(data, targets, max_len)
    truth = data.items[data.offsets[targets.session] + targets.position]
    full, scores, _ = model_scores(model, tokens, lengths, truth, rows_per_batch=rows_per_batch,
                                   progress=None if progress is None else (lambda f: progress(0.5 * f)),
                                   seed=seed)
    scores[RANDOM] = np.random.default_rng(seed).random(tokens.shape)
    records = []
    names = [m for m in scores if m not in (IDEAL, CHANCE)]
    for i, name in enumerate(names):
        comp, suff = rationale_curves(model, tokens, lengths, truth, full, scores[name], rows_per_batch)
        n = max(len(comp), 1)
        records.append((name, float(comp.mean()), float(suff.mean()), float(comp.std() / np.sqrt(n)),
                        float(suff.std() / np.sqrt(n)), len(comp)))
        if progress is not None:
            progress(0.5 + 0.5 * (i + 1) / len(names))
    return pd.DataFrame.from_records(records, columns=list(ERASER_COLUMNS))


def eraser_markdown(table: pd.DataFrame) -> str:
    """The ERASER table as Markdown, in percentage points of P(true next)."""
    lines = ["| explainer | comprehensiveness (higher: better) | sufficiency (lower: better) |",
             "|---|---:|---:|"]
    for row in table.itertuples():
        lines.append(f"| {row.method} | {100 * row.comprehensiveness:.2f} ± {200 * row.comprehensiveness_se:.2f} "
                     f"| {100 * row.sufficiency:.2f} ± {200 * row.sufficiency_se:.2f} |")
    return "\n".join(lines)
