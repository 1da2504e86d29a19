"""Baselines and the Bayes-optimal oracle, behind one small scoring interface.

Every method fits on training information only and scores the full catalog for a batch of
left-padded token prefixes, so the evaluator treats the model and the baselines alike.
Scores are float64: several baselines rank lexicographically (a count, then a fallback
squeezed below one), and float32 would merge those levels once counts reach the thousands.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import torch

from streamrec.data import PAD, Split, Targets, prefix_matrix, target_items
from streamrec.metrics import metrics_from_ranks, ranks_from_batches
from streamrec.oracle import Oracle
from streamrec.sessions import SessionData


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


def _train_pairs(data: SessionData, train: Targets) -> tuple[np.ndarray, np.ndarray]:
    """(previous click, target click) item ids of every training target."""
    at = data.offsets[train.session] + train.position
    return data.items[at - 1], data.items[at]


def _expand(ptr: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For CSR row pointers: (index into `rows`, flat entry index) of every entry of those rows."""
    # numpy's repeat is an order of magnitude faster than torch.repeat_interleave on CPU.
    start = ptr.numpy()[rows.numpy()]
    counts = ptr.numpy()[rows.numpy() + 1] - start
    owner = np.repeat(np.arange(rows.shape[0]), counts)
    shift = np.repeat(start - (np.cumsum(counts) - counts), counts)  # row start minus run start
    return torch.from_numpy(owner), torch.from_numpy(np.arange(owner.shape[0]) + shift)


class _CategoryLevels:
    """Last-category popularity as exact float levels, shared by three baselines as fallback.

    Every item of the last click's category ranks above every other item; within each group,
    by the dense rank of its training count (tied counts stay tied).
    """

    def __init__(self, data: SessionData, counts: np.ndarray) -> None:
        distinct, level = np.unique(counts, return_inverse=True)
        self.level = torch.from_numpy(level.astype(np.float64))  # (n_items,)
        self.n_levels = int(distinct.shape[0])
        category = data.item_category.astype(np.int64)
        self.category = torch.from_numpy(category)  # (n_items,)
        members = np.argsort(category, kind="stable")
        self.members = torch.from_numpy(members)  # item ids grouped by category
        self.category_ptr = torch.from_numpy(
            np.searchsorted(category[members], np.arange(data.catalog.n_categories + 1))
        )

    def scores(self, prefixes: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """(B, n_items) levels in [0, 2 n_levels), times scale; no click: global popularity."""
        scores = (self.level * scale).repeat(prefixes.shape[0], 1)  # (B, n_items)
        last = prefixes[:, -1]  # (B,) left padding puts the last click in the last column
        rows = torch.nonzero(last != PAD).squeeze(1)
        # Lift the last category's items, a few hundred per row, instead of testing all items.
        owner, flat = _expand(self.category_ptr, self.category[last[rows] - 1])
        scores[rows[owner], self.members[flat]] += self.n_levels * scale
        return scores

    def fallback(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) the same order squeezed into [0, 1), below any count of one or more."""
        return self.scores(prefixes, 1.0 / (2 * self.n_levels))


def _target_counts(data: SessionData, train: Targets) -> np.ndarray:
    """(n_items,) how often each item is a training target."""
    return np.bincount(target_items(data, train), minlength=data.catalog.n_items)


class GlobalPopularity:
    """Most frequent training targets first, whatever the prefix."""

    name = "Popularity"

    def fit(self, data: SessionData, train: Targets) -> GlobalPopularity:
        """Count training target items."""
        self.counts = torch.from_numpy(_target_counts(data, train).astype(np.float64))
        return self

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) training counts, the same row for every prefix."""
        return self.counts.repeat(prefixes.shape[0], 1)


class LastCategoryPopularity:
    """Popular items of the last click's category, then every other item by popularity."""

    name = "Last-category popularity"

    def fit(self, data: SessionData, train: Targets) -> LastCategoryPopularity:
        """Count training target items."""
        self.levels = _CategoryLevels(data, _target_counts(data, train))
        return self

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) category-first popularity levels."""
        return self.levels.scores(prefixes)


class MarkovChain:
    """First-order transitions last click -> next click, counted on training transitions.

    Score = transition count + last-category popularity squeezed into [0, 1): every observed
    successor ranks above every unobserved one, equal counts are ordered by the fallback, and
    an unseen last item is ranked by the fallback alone.
    """

    name = "Markov chain"

    def fit(self, data: SessionData, train: Targets) -> MarkovChain:
        """Count (previous, target) pairs into CSR rows, one row per previous item."""
        n = data.catalog.n_items
        prev, nxt = _train_pairs(data, train)
        codes, counts = np.unique(prev * n + nxt, return_counts=True)  # sorted by prev, next
        self.row_ptr = torch.from_numpy(np.searchsorted(codes, np.arange(n + 1) * n))  # (n+1,)
        self.successor = torch.from_numpy(codes % n)  # (nnz,)
        self.count = torch.from_numpy(counts.astype(np.float64))  # (nnz,)
        self.levels = _CategoryLevels(data, _target_counts(data, train))
        return self

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) transition counts from the last click, ties broken by the fallback."""
        scores = self.levels.fallback(prefixes)  # (B, n_items)
        rows = torch.nonzero(prefixes[:, -1] != PAD).squeeze(1)
        owner, flat = _expand(self.row_ptr, prefixes[rows, -1] - 1)
        scores[rows[owner], self.successor[flat]] += self.count[flat]
        return scores


class SessionKNN:
    """Session-based kNN (Jannach & Ludewig 2017) over the training sessions' item sets.

    Similarity is the cosine between item sets, |A & B| / sqrt(|A| |B|); an item scores the
    sum of the similarities of the k nearest sessions that contain it. The last-category
    fallback is added with weight 1e-9, so it only orders items the neighbours leave tied
    (all of them, for a prefix that shares no item with any training session).
    """

    name = "Session kNN"
    FALLBACK_WEIGHT = 1e-9
    CHUNK = 512  # prefixes per similarity pass: bounds the (chunk, n_sessions) overlap matrix

    def __init__(self, k: int = 100) -> None:
        self.k = k

    def fit(self, data: SessionData, train: Targets) -> SessionKNN:
        """Index each training session's clicks up to its last training target."""
        n = data.catalog.n_items
        last = np.full(data.n_sessions, -1, dtype=np.int64)
        np.maximum.at(last, train.session, train.position)
        sessions = np.flatnonzero(last >= 0)
        # Later clicks may be validation targets (protocol "example"): they stay unseen.
        lengths = last[sessions] + 1
        local = np.repeat(np.arange(sessions.shape[0]), lengths)
        begin = np.repeat(data.offsets[sessions] - (np.cumsum(lengths) - lengths), lengths)
        clicks = data.items[begin + np.arange(local.shape[0])]
        pairs = np.unique(local * n + clicks)  # distinct (session, item), sorted by session
        owner, item = pairs // n, pairs % n
        self.n_items, self.n_sessions = n, int(sessions.shape[0])
        self.session_ptr = torch.from_numpy(np.searchsorted(owner, np.arange(self.n_sessions + 1)))
        self.session_items = torch.from_numpy(item)  # (nnz,)
        self.session_size = torch.diff(self.session_ptr).double()  # (S,)
        self.session_scale = self.session_size.float().rsqrt()  # (S,) 1 / sqrt(|B|)
        by_item = np.argsort(item, kind="stable")
        self.item_ptr = torch.from_numpy(np.searchsorted(item[by_item], np.arange(n + 1)))
        self.item_sessions = torch.from_numpy(owner[by_item])  # (nnz,) postings per item
        self.posting_scale = self.session_scale[self.item_sessions]  # (nnz,) 1 / sqrt(|B|)
        self.levels = _CategoryLevels(data, _target_counts(data, train))
        return self

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) summed neighbour similarities plus a tie-breaking fallback."""
        return torch.cat([self._score_chunk(chunk) for chunk in prefixes.split(self.CHUNK)])

    def _score_chunk(self, prefixes: torch.Tensor) -> torch.Tensor:
        b, n, s = prefixes.shape[0], self.n_items, self.n_sessions
        rows, cols = torch.nonzero(prefixes != PAD, as_tuple=True)
        pairs = torch.unique(rows * n + prefixes[rows, cols] - 1)  # distinct (row, item)
        row, item = pairs // n, pairs % n
        size = torch.bincount(row, minlength=b).clamp(min=1).double()  # (b,) prefix set sizes
        owner, flat = _expand(self.item_ptr, item)  # every (prefix item, session) posting
        # |A & B| / sqrt(|B|) orders a row's sessions as the cosine does (|A| is fixed per row).
        closeness = torch.zeros(b * s, dtype=torch.float32)
        closeness.index_add_(0, row[owner] * s + self.item_sessions[flat], self.posting_scale[flat])
        k = min(self.k, s)
        top_closeness, top = closeness.view(b, s).topk(k, dim=1)  # (b, k)
        # A cell sums |A & B| equal terms 1 / sqrt(|B|), so dividing one out recovers the count.
        overlap = torch.round(top_closeness / self.session_scale[top]).double()
        sim = overlap / torch.sqrt(size[:, None] * self.session_size[top])  # (b, k) cosine
        owner, flat = _expand(self.session_ptr, top.reshape(-1))
        scale = self.FALLBACK_WEIGHT / (2 * self.levels.n_levels)  # fallback in [0, 1e-9)
        scores = self.levels.scores(prefixes, scale)  # (b, n_items)
        scores.index_put_(
            (owner // k, self.session_items[flat]), sim.reshape(-1)[owner], accumulate=True
        )
        return scores


def evaluate_scorer(
    scorer: Scorer,
    data: SessionData,
    targets: Targets,
    max_len: int,
    cutoffs: Sequence[int] = (10, 20),
    exclude_seen: bool = False,
    batch_size: int = 512,
) -> tuple[dict[str, float], np.ndarray]:
    """(metrics, 1-based ranks) of a fitted scorer on `targets`, streamed in batches.

    512 rows keep a float64 score matrix of a 5,000-item catalog at 20 MB: 2048-row batches
    (80 MB, fresh pages on every allocation) measured nearly twice as slow overall.
    """

    def batches() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start in range(0, len(targets), batch_size):
            part = targets.take(np.arange(start, min(start + batch_size, len(targets))))
            prefixes = torch.from_numpy(prefix_matrix(data, part, max_len))
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


def default_scorers() -> list[Scorer]:
    """Unfitted baselines in display order, the oracle last."""
    return [GlobalPopularity(), LastCategoryPopularity(), MarkovChain(), SessionKNN(), Oracle()]


def score_baselines(
    data: SessionData,
    split: Split,
    max_len: int,
    cutoffs: Sequence[int] = (10, 20),
    exclude_seen: bool = False,
    targets: Targets | None = None,
) -> dict[str, tuple[dict[str, float], np.ndarray]]:
    """(metrics, per-target ranks) of every default scorer fitted on `split.train`, on
    `targets` (default: report); the ranks pair with a model's for `paired_differences`."""
    targets = split.report if targets is None else targets
    return {
        scorer.name: evaluate_scorer(
            scorer.fit(data, split.train), data, targets, max_len, cutoffs, exclude_seen
        )
        for scorer in default_scorers()
    }


def evaluate_baselines(
    data: SessionData,
    split: Split,
    max_len: int,
    cutoffs: Sequence[int] = (10, 20),
    exclude_seen: bool = False,
    targets: Targets | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics of every default scorer fitted on `split.train`, on `targets` (default: report)."""
    scored = score_baselines(data, split, max_len, cutoffs, exclude_seen, targets)
    return {name: metrics for name, (metrics, _) in scored.items()}
