"""Ranking metrics over the full catalog: pure, vectorised functions returning plain dicts.

Tie handling is pessimistic, by choice: a target's rank is the number of items scoring at
least as high as it (itself included), so a model that gives every item the same score
ranks every target last, never first.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypedDict

import numpy as np
import torch

NEG_INF = float("-inf")


def target_ranks(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(B,) 1-based rank of each target in its row of (B, n_items) scores, ties counted against it."""
    target_scores = scores.gather(1, targets.view(-1, 1))  # (B, 1)
    # int32 accumulation: half the time of the default int64 sum over the bool matrix.
    return (scores >= target_scores).sum(dim=1, dtype=torch.int32)


def mask_seen(scores: torch.Tensor, prefixes: torch.Tensor) -> torch.Tensor:
    """Scores with the items of each (left- or right-padded) token prefix set to -inf."""
    out = scores.clone()
    rows = torch.arange(prefixes.shape[0]).unsqueeze(1).expand_as(prefixes)
    seen = prefixes != 0
    out[rows[seen], prefixes[seen] - 1] = NEG_INF
    return out


def metrics_from_ranks(ranks: np.ndarray, cutoffs: Sequence[int] = (10, 20)) -> dict[str, float]:
    """Hit@K, MRR@K and NDCG@K (one relevant item per target) from 1-based ranks."""
    ranks = np.asarray(ranks, dtype=np.float64)
    out: dict[str, float] = {}
    if ranks.size == 0:
        for k in cutoffs:
            out[f"hit@{k}"] = out[f"mrr@{k}"] = out[f"ndcg@{k}"] = float("nan")
        return out
    for k in cutoffs:
        within = ranks <= k
        out[f"hit@{k}"] = float(within.mean())
        out[f"mrr@{k}"] = float(np.where(within, 1.0 / ranks, 0.0).mean())
        out[f"ndcg@{k}"] = float(np.where(within, 1.0 / np.log2(ranks + 1.0), 0.0).mean())
    return out


def ranks_from_batches(
    batches: Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]],
) -> np.ndarray:
    """Concatenate target ranks over (scores, targets, seen-prefixes-or-None) batches."""
    parts = []
    for scores, targets, prefixes in batches:
        if prefixes is not None:
            scores = mask_seen(scores, prefixes)
        parts.append(target_ranks(scores, targets).cpu().numpy())
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def standard_error(ranks: np.ndarray, k: int) -> float:
    """Standard error of Hit@k over the targets (binomial), for 'beyond noise' judgements."""
    ranks = np.asarray(ranks)
    if ranks.size < 2:
        return float("nan")
    hit = (ranks <= k).mean()
    return float(np.sqrt(hit * (1 - hit) / ranks.size))


def per_target(ranks: np.ndarray, measure: str, k: int) -> np.ndarray:
    """(N,) each target's Hit@k (0 or 1) or reciprocal rank within k (0 beyond), from ranks."""
    ranks = np.asarray(ranks, dtype=np.float64)
    within = ranks <= k
    if measure == "hit":
        return within.astype(np.float64)
    if measure == "mrr":
        return np.where(within, 1.0 / ranks, 0.0)
    raise ValueError(f"measure = {measure!r} is not allowed: choose one of hit, mrr")


class PairedDifference(TypedDict):
    """Mean per-target difference of one measure between two methods, its SE and the count."""

    mean: float
    se: float
    n: int


def paired_difference(
    ranks_a: np.ndarray, ranks_b: np.ndarray, measure: str = "hit", k: int = 10
) -> PairedDifference:
    """Mean and standard error of the per-target difference a - b on the same targets.

    Paired, as in Smucker, Allan & Carterette (CIKM 2007): both methods rank the same
    targets, so the SE is that of the differences (sample SD / sqrt(n)), far smaller than
    two independent binomial SEs when the methods agree on most targets. "n" is the count.
    """
    a, b = np.asarray(ranks_a), np.asarray(ranks_b)
    if a.shape != b.shape:
        raise ValueError(f"ranks_a has shape {a.shape}, ranks_b {b.shape}: pair the same targets")
    diff = per_target(a, measure, k) - per_target(b, measure, k)
    n = diff.size
    mean = float(diff.mean()) if n else float("nan")
    se = float(diff.std(ddof=1) / np.sqrt(n)) if n >= 2 else float("nan")
    return PairedDifference(mean=mean, se=se, n=n)


PAIRED_MEASURES: tuple[tuple[str, int], ...] = (("hit", 10), ("mrr", 20))


def paired_differences(
    ranks: np.ndarray,
    others: dict[str, np.ndarray],
    measures: Sequence[tuple[str, int]] = PAIRED_MEASURES,
) -> dict[str, dict[str, PairedDifference]]:
    """{other: {"hit@10": paired_difference, ...}} of `ranks` minus each of `others`."""
    return {
        name: {f"{m}@{k}": paired_difference(ranks, other, m, k) for m, k in measures}
        for name, other in others.items()
    }


def time_to_reach(times: Sequence[float], values: Sequence[float], level: float) -> float | None:
    """The first of `times` whose value is at least `level`, or None if none reaches it."""
    reached = np.flatnonzero(np.asarray(values, dtype=np.float64) >= level)
    return float(np.asarray(times, dtype=np.float64)[reached[0]]) if reached.size else None
