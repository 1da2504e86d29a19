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


class PairedDifference(TypedDict, total=False):
    """Mean per-target difference of one measure between two methods, its SE and the count;
    with the targets' sessions also the 95% session-bootstrap interval [lo, hi] and the
    number of sessions it resampled."""

    mean: float
    se: float
    n: int
    lo: float
    hi: float
    sessions: int


BOOTSTRAP_SAMPLES = 2000  # percentile-interval ends settle to ~1e-4 on a 10k-target test set
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95
_DRAW_CELLS = 1 << 22  # session indices drawn at once (32 MiB of int64)


def session_bootstrap(
    diff: np.ndarray,
    sessions: np.ndarray,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = CONFIDENCE,
) -> tuple[float, float]:
    """Percentile interval of the mean of per-target `diff` under a bootstrap over sessions.

    The targets of one session are not independent (one user, one intent), so whole sessions
    are resampled with replacement and all their targets come along: the cluster bootstrap
    (Davison & Hinkley 1997, sec. 3.8; Field & Welsh 2007). A replicate's mean is its summed
    differences over its summed target counts. Vectorised: per-session sums, then blocks of
    (replicates, n_sessions) session indices; seeded, so the interval is reproducible.
    """
    diff = np.asarray(diff, dtype=np.float64)
    sessions = np.asarray(sessions)
    if diff.shape != sessions.shape:
        raise ValueError(f"diff has shape {diff.shape}, sessions {sessions.shape}: one session per target")
    if diff.size == 0:
        return float("nan"), float("nan")
    _, owner = np.unique(sessions, return_inverse=True)
    total = np.bincount(owner, weights=diff)  # (S,) each session's summed difference
    count = np.bincount(owner).astype(np.float64)  # (S,) its targets
    rng = np.random.default_rng(seed)
    n_sessions = total.shape[0]
    block = max(1, _DRAW_CELLS // n_sessions)  # replicates per draw: bounded memory at any size
    means = np.empty(samples)
    for start in range(0, samples, block):
        draw = rng.integers(0, n_sessions, size=(min(block, samples - start), n_sessions))
        means[start:start + draw.shape[0]] = total[draw].sum(axis=1) / count[draw].sum(axis=1)
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


def paired_difference(
    ranks_a: np.ndarray,
    ranks_b: np.ndarray,
    measure: str = "hit",
    k: int = 10,
    sessions: np.ndarray | None = None,
) -> PairedDifference:
    """Mean and standard error of the per-target difference a - b on the same targets, and
    with `sessions` (each target's session id) the 95% session-bootstrap interval lo..hi.

    Paired, as in Smucker, Allan & Carterette (CIKM 2007): both methods rank the same
    targets, so the SE is that of the differences (sample SD / sqrt(n)), far smaller than
    two independent binomial SEs when the methods agree on most targets. "n" is the count.
    The SE treats targets as independent; the interval (`session_bootstrap`) does not.
    """
    a, b = np.asarray(ranks_a), np.asarray(ranks_b)
    if a.shape != b.shape:
        raise ValueError(f"ranks_a has shape {a.shape}, ranks_b {b.shape}: pair the same targets")
    diff = per_target(a, measure, k) - per_target(b, measure, k)
    n = diff.size
    mean = float(diff.mean()) if n else float("nan")
    se = float(diff.std(ddof=1) / np.sqrt(n)) if n >= 2 else float("nan")
    out = PairedDifference(mean=mean, se=se, n=n)
    if sessions is not None:
        out["lo"], out["hi"] = session_bootstrap(diff, sessions)
        out["sessions"] = int(np.unique(sessions).size)
    return out


PAIRED_MEASURES: tuple[tuple[str, int], ...] = (("hit", 10), ("hit", 20), ("mrr", 20))


def paired_differences(
    ranks: np.ndarray,
    others: dict[str, np.ndarray],
    measures: Sequence[tuple[str, int]] = PAIRED_MEASURES,
    sessions: np.ndarray | None = None,
) -> dict[str, dict[str, PairedDifference]]:
    """{other: {"hit@10": paired_difference, ...}} of `ranks` minus each of `others`, with
    session-bootstrap intervals when `sessions` (each target's session) is given."""
    return {
        name: {f"{m}@{k}": paired_difference(ranks, other, m, k, sessions) for m, k in measures}
        for name, other in others.items()
    }


def time_to_reach(times: Sequence[float], values: Sequence[float], level: float) -> float | None:
    """The first of `times` whose value is at least `level`, or None if none reaches it."""
    reached = np.flatnonzero(np.asarray(values, dtype=np.float64) >= level)
    return float(np.asarray(times, dtype=np.float64)[reached[0]]) if reached.size else None
