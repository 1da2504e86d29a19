"""Baselines and the Bayes-optimal oracle, behind one small scoring interface.

Every method fits on training information only and scores the full catalog for a batch of
left-padded token prefixes, so the evaluator treats the model and the baselines alike.
Scores are float64: several baselines rank lexicographically (a count, then a fallback
squeezed below one), and float32 would merge those levels once counts reach the thousands.
The neighbour methods live in `streamrec.evaluation.knn`, the shared fallbacks in `streamrec.evaluation.scoring`;
`default_scorers(data)` offers only what the data supports (`left_out_baselines` says why).
A tunable baseline declares its hyper-parameter ranges as its class's `SEARCH_SPACE`.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import ClassVar, Protocol

import numpy as np
import torch

from streamrec.data.sessions import SessionData
from streamrec.data.splits import PAD, Split, Targets, prefix_matrix, target_items
from streamrec.evaluation.knn import STAN, VSKNN, VSTAN, SessionKNN, SpaceEntry
from streamrec.evaluation.metrics import metrics_from_ranks, ranks_from_batches
from streamrec.evaluation.scoring import CategoryLevels, expand_rows, fallback_levels, target_counts
from streamrec.training.stopping import ShouldStop, check
from streamrec.world.oracle import Oracle


class Scorer(Protocol):
    """What the evaluator needs from any method: fit on training targets, score prefixes.

    A scorer may also offer `rank(prefixes, targets) -> (B,) ranks` equal to ranking its
    `score` (the oracle does, to skip the (B, n_items) matrix); the evaluator then uses it.
    """

    name: str

    def fit(self, data: SessionData, train: Targets) -> Scorer:
        """Learn from the training targets of `data`; return self."""
        ...

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, M) left-padded tokens -> (B, n_items) scores, higher is better."""
        ...


class GlobalPopularity:
    """Most frequent training targets first, whatever the prefix."""

    name = "Popularity"

    def fit(self, data: SessionData, train: Targets) -> GlobalPopularity:
        """Count training target items."""
        self.counts = torch.from_numpy(target_counts(data, train).astype(np.float64))
        return self

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) training counts, the same row for every prefix."""
        return self.counts.repeat(prefixes.shape[0], 1)


class LastCategoryPopularity:
    """Popular items of the last click's category, then every other item by popularity."""

    name = "Last-category popularity"

    def fit(self, data: SessionData, train: Targets) -> LastCategoryPopularity:
        """Count training target items."""
        self.levels = CategoryLevels(data, target_counts(data, train))
        return self

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) category-first popularity levels."""
        return self.levels.scores(prefixes)


# SR's rule weights by the gap g >= 1 between antecedent and successor, named as in
# session-rec; "linear" stops at 0 (session-rec's goes negative past 10 clicks).
RULE_WEIGHTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda g: np.maximum(1 - 0.1 * g, 0.0),
    "same": lambda g: np.ones_like(g, dtype=np.float64),
    "div": lambda g: 1 / g,
    "log": lambda g: 1 / np.log10(g + 1.7),
    "quadratic": lambda g: 1 / g**2,
}


class SequentialRules:
    """Sequential rules, SR (Ludewig & Jannach 2018, "Evaluation of session-based recommendation
    algorithms"; Kamehkhosh, Jannach & Ludewig 2017).

    A rule a -> b gains w(g) each time b follows a by g <= `steps` clicks in a training
    session (the target b is a training target); `weighting` names w: "div" 1 / g (the
    default), "same" 1, "linear" 1 - g / 10, "log" 1 / log10(g + 1.7), "quadratic" 1 / g^2.
    With `pruning` N > 0 only each antecedent's N heaviest rules are kept. A prefix scores
    every item by the rules from its last click. "div" and "same" weights are counted in
    units of 1 / lcm(1..steps), so sums stay exact integers and the fallback squeezed into
    [0, 1) (last-category popularity, or popularity where the data has no categories) orders
    only equal weights and items no rule reaches; the other weightings add the fallback with
    weight 1e-9. An unseen last item is ranked by the fallback alone.
    """

    name = "Sequential rules"
    MAX_STEPS = 20  # lcm(1..20) ~ 2.3e8 keeps every weight sum exact in float64
    FALLBACK_WEIGHT = 1e-9
    SEARCH_SPACE: ClassVar[dict[str, SpaceEntry]] = {
        "steps": ("int", 1, MAX_STEPS, False),
        "weighting": ("choice", tuple(RULE_WEIGHTS)),
        "pruning": ("int", 0, 50, False),
    }

    def __init__(self, steps: int = 10, weighting: str = "div", pruning: int = 0) -> None:
        if not 1 <= steps <= self.MAX_STEPS:
            raise ValueError(f"steps = {steps} is out of range: allowed 1..{self.MAX_STEPS}")
        if weighting not in RULE_WEIGHTS:
            raise ValueError(f"weighting = {weighting!r} is not one of {sorted(RULE_WEIGHTS)}")
        if pruning < 0:
            raise ValueError(f"pruning = {pruning} must be 0 (off) or a number of rules to keep")
        self.steps, self.weighting, self.pruning = steps, weighting, pruning
        self.exact = weighting in ("div", "same")
        # A rule at gap g weighs unit // g ("div") or unit ("same"), in exact integers.
        self.unit = math.lcm(*range(1, steps + 1)) if weighting == "div" else 1

    def fit(self, data: SessionData, train: Targets) -> SequentialRules:
        """Sum rule weights into CSR rows, one row per antecedent item."""
        n = data.n_items
        at = data.offsets[train.session] + train.position  # (N,) each target's click index
        gaps = np.minimum(train.position, self.steps)  # (N,) earlier clicks within the window
        owner = np.repeat(np.arange(len(train)), gaps)
        gap = np.arange(owner.shape[0]) - np.repeat(np.cumsum(gaps) - gaps, gaps) + 1
        prev, nxt = data.items[at[owner] - gap], data.items[at[owner]]
        codes, inverse = np.unique(prev * n + nxt, return_inverse=True)  # sorted by prev, next
        per_click = self.unit // gap if self.weighting == "div" else RULE_WEIGHTS[self.weighting](gap)
        weight = np.bincount(inverse, weights=per_click, minlength=codes.shape[0])
        if self.pruning:
            codes, weight = self._prune(codes, weight, n)
        self.row_ptr = torch.from_numpy(np.searchsorted(codes, np.arange(n + 1) * n))  # (n+1,)
        self.successor = torch.from_numpy(codes % n)  # (nnz,)
        self.weight = torch.from_numpy(weight.astype(np.float64))  # (nnz,)
        self.levels = fallback_levels(data, train)
        return self

    def _prune(self, codes: np.ndarray, weight: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Each antecedent's `pruning` heaviest rules (ties: the smaller successor id), in
        (antecedent, successor) order."""
        prev = codes // n
        by_weight = np.lexsort((codes % n, -weight, prev))  # per antecedent, heaviest first
        start = np.searchsorted(prev[by_weight], prev[by_weight])  # each run's first index
        keep = np.sort(by_weight[np.arange(codes.shape[0]) - start < self.pruning])
        return codes[keep], weight[keep]

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) rule weights from the last click, ties broken by the fallback."""
        if self.exact:
            scores = self.levels.fallback(prefixes)  # (B, n_items) in [0, 1)
        else:
            scores = self.levels.scores(prefixes, self.FALLBACK_WEIGHT / (2 * self.levels.n_levels))
        rows = torch.nonzero(prefixes[:, -1] != PAD).squeeze(1)
        owner, flat = expand_rows(self.row_ptr, prefixes[rows, -1] - 1)
        scores[rows[owner], self.successor[flat]] += self.weight[flat]
        return scores


class MarkovChain(SequentialRules):
    """First-order transitions last click -> next click: sequential rules with a one-click window.

    Score = transition count + the fallback squeezed into [0, 1): every observed successor
    ranks above every unobserved one, equal counts are ordered by the fallback, and an unseen
    last item is ranked by the fallback alone.
    """

    name = "Markov chain"

    def __init__(self) -> None:
        super().__init__(steps=1)


def evaluate_scorer(
    scorer: Scorer,
    data: SessionData,
    targets: Targets,
    max_len: int,
    cutoffs: Sequence[int] = (10, 20),
    exclude_seen: bool = False,
    batch_size: int = 512,
    should_stop: ShouldStop | None = None,
) -> tuple[dict[str, float], np.ndarray]:
    """(metrics, 1-based ranks) of a fitted scorer on `targets`, streamed in batches; raises
    StopRequested between batches once `should_stop()` is true. A scorer with `whole_prefix`
    reads every earlier click of a target's session (a batch is as wide as its longest
    prefix), the others the last `max_len`.

    512 rows keep a float64 score matrix of a 5,000-item catalog at 20 MB: 2048-row batches
    (80 MB, fresh pages on every allocation) measured nearly twice as slow overall.
    """

    whole = getattr(scorer, "whole_prefix", False)  # kNN methods read every earlier click

    def batches() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start in range(0, len(targets), batch_size):
            check(should_stop)
            part = targets.take(np.arange(start, min(start + batch_size, len(targets))))
            width = max(1, int(part.position.max())) if whole else max_len
            prefixes = torch.from_numpy(prefix_matrix(data, part, width))
            yield prefixes, torch.from_numpy(target_items(data, part))

    rank = getattr(scorer, "rank", None)  # a scorer may rank its targets without the matrix
    with torch.inference_mode():
        if rank is not None and not exclude_seen:
            parts = [rank(prefixes, items).numpy() for prefixes, items in batches()]
            ranks = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        else:
            ranks = ranks_from_batches(
                (scorer.score(prefixes), items, prefixes if exclude_seen else None)
                for prefixes, items in batches()
            )
    return metrics_from_ranks(ranks, cutoffs), ranks


def left_out_baselines(data: SessionData) -> dict[str, str]:
    """Baselines `data` cannot support, each with the reason to show in its place."""
    left_out = {}
    if not data.has_categories:
        left_out[LastCategoryPopularity.name] = "no categories in this log"
    if not data.has_truth:
        left_out[Oracle.name] = "no ceiling is known for real data"
    return left_out


def default_scorers(data: SessionData | None = None) -> list[Scorer]:
    """Unfitted baselines in display order, the oracle last: those `data` supports (all if None)."""
    left_out = left_out_baselines(data) if data is not None else {}
    every: list[Scorer] = [
        GlobalPopularity(), LastCategoryPopularity(), MarkovChain(), SequentialRules(),
        SessionKNN(), VSKNN(), STAN(), VSTAN(), Oracle(),
    ]
    return [scorer for scorer in every if scorer.name not in left_out]


def score_baselines(
    data: SessionData,
    split: Split,
    max_len: int,
    cutoffs: Sequence[int] = (10, 20),
    exclude_seen: bool = False,
    targets: Targets | None = None,
    should_stop: ShouldStop | None = None,
) -> dict[str, tuple[dict[str, float], np.ndarray]]:
    """(metrics, per-target ranks) of every scorer `data` supports, fitted on `split.train`, on
    `targets` (default: report); the ranks pair with a model's for `paired_differences`.

    Raises StopRequested between scorers and batches once `should_stop()` is true.
    """
    targets = split.report if targets is None else targets
    results = {}
    for scorer in default_scorers(data):
        check(should_stop)
        results[scorer.name] = evaluate_scorer(
            scorer.fit(data, split.train), data, targets, max_len, cutoffs, exclude_seen,
            should_stop=should_stop,
        )
    return results


def evaluate_baselines(
    data: SessionData,
    split: Split,
    max_len: int,
    cutoffs: Sequence[int] = (10, 20),
    exclude_seen: bool = False,
    targets: Targets | None = None,
    should_stop: ShouldStop | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics of every scorer `data` supports, fitted on `split.train`, on `targets` (default:
    report); `left_out_baselines(data)` says why the others are missing.

    Raises StopRequested between scorers and batches once `should_stop()` is true.
    """
    scored = score_baselines(data, split, max_len, cutoffs, exclude_seen, targets, should_stop)
    return {name: metrics for name, (metrics, _) in scored.items()}
