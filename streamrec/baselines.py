"""Baselines and the Bayes-optimal oracle, behind one small scoring interface.

Every method fits on training information only and scores the full catalog for a batch of
left-padded token prefixes, so the evaluator treats the model and the baselines alike.
Scores are float64: several baselines rank lexicographically (a count, then a fallback
squeezed below one), and float32 would merge those levels once counts reach the thousands.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import torch

from streamrec.data import PAD, Split, Targets, prefix_matrix, target_items
from streamrec.metrics import metrics_from_ranks, ranks_from_batches
from streamrec.oracle import Oracle
from streamrec.sessions import SessionData


class Scorer(Protocol):
    """What the evaluator needs from any method: fit on training targets, score prefixes."""

    name: str

    def fit(self, data: SessionData, train: Targets) -> Scorer:
        """Learn from the training targets of `data`; return self."""
        ...

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, M) left-padded tokens -> (B, n_items) scores, higher is better."""
        ...


def _expand(ptr: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For CSR row pointers: (index into `rows`, flat entry index) of every entry of those rows."""
    # numpy's repeat is an order of magnitude faster than torch.repeat_interleave on CPU.
    start = ptr.numpy()[rows.numpy()]
    counts = ptr.numpy()[rows.numpy() + 1] - start
    owner = np.repeat(np.arange(rows.shape[0]), counts)
    shift = np.repeat(start - (np.cumsum(counts) - counts), counts)  # row start minus run start
    return torch.from_numpy(owner), torch.from_numpy(np.arange(owner.shape[0]) + shift)


class _PopularityLevels:
    """Global popularity as exact float levels: the fallback where the data has no categories.

    Every item's level is the dense rank of its training count (tied counts stay tied).
    """

    def __init__(self, counts: np.ndarray) -> None:
        distinct, level = np.unique(counts, return_inverse=True)
        self.level = torch.from_numpy(level.astype(np.float64))  # (n_items,)
        self.n_levels = int(distinct.shape[0])

    def scores(self, prefixes: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """(B, n_items) levels in [0, n_levels), times scale, the same row for every prefix."""
        return (self.level * scale).repeat(prefixes.shape[0], 1)  # (B, n_items)

    def fallback(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) the same order squeezed into [0, 1), below any count of one or more."""
        return self.scores(prefixes, 1.0 / (2 * self.n_levels))


class _CategoryLevels(_PopularityLevels):
    """Last-category popularity as exact float levels, the fallback of several baselines.

    Every item of the last click's category ranks above every other item; within each group,
    by the dense rank of its training count (tied counts stay tied).
    """

    def __init__(self, data: SessionData, counts: np.ndarray) -> None:
        super().__init__(counts)
        category = data.item_category.astype(np.int64)
        self.category = torch.from_numpy(category)  # (n_items,)
        members = np.argsort(category, kind="stable")
        self.members = torch.from_numpy(members)  # item ids grouped by category
        self.category_ptr = torch.from_numpy(
            np.searchsorted(category[members], np.arange(data.catalog.n_categories + 1))
        )

    def scores(self, prefixes: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """(B, n_items) levels in [0, 2 n_levels), times scale; no click: global popularity."""
        scores = super().scores(prefixes, scale)  # (B, n_items)
        last = prefixes[:, -1]  # (B,) left padding puts the last click in the last column
        rows = torch.nonzero(last != PAD).squeeze(1)
        # Lift the last category's items, a few hundred per row, instead of testing all items.
        owner, flat = _expand(self.category_ptr, self.category[last[rows] - 1])
        scores[rows[owner], self.members[flat]] += self.n_levels * scale
        return scores


def _target_counts(data: SessionData, train: Targets) -> np.ndarray:
    """(n_items,) how often each item is a training target."""
    return np.bincount(target_items(data, train), minlength=data.n_items)


def _fallback_levels(data: SessionData, train: Targets) -> _PopularityLevels:
    """Last-category popularity where the data has categories, else global popularity."""
    counts = _target_counts(data, train)
    return _CategoryLevels(data, counts) if data.has_categories else _PopularityLevels(counts)


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


class SequentialRules:
    """Sequential rules, SR (Ludewig & Jannach 2018, "Evaluation of session-based recommendation
    algorithms"; Kamehkhosh et al. 2017).

    A rule a -> b gains 1 / g each time b follows a by g <= `steps` clicks in a training
    session (their default "div" weighting; the target b is a training target). A prefix
    scores every item by the rules from its last click. Weights are counted in units of
    1 / lcm(1..steps), so sums stay exact integers and the fallback squeezed into [0, 1)
    (last-category popularity, or popularity where the data has no categories) orders only
    equal weights and items no rule reaches: an unseen last item is ranked by it alone.
    """

    name = "Sequential rules"
    MAX_STEPS = 20  # lcm(1..20) ~ 2.3e8 keeps every weight sum exact in float64

    def __init__(self, steps: int = 10) -> None:
        if not 1 <= steps <= self.MAX_STEPS:
            raise ValueError(f"steps = {steps} is out of range: allowed 1..{self.MAX_STEPS}")
        self.steps = steps
        self.unit = math.lcm(*range(1, steps + 1))  # a rule at gap g weighs unit // g

    def fit(self, data: SessionData, train: Targets) -> SequentialRules:
        """Sum rule weights into CSR rows, one row per antecedent item."""
        n = data.n_items
        at = data.offsets[train.session] + train.position  # (N,) each target's click index
        gaps = np.minimum(train.position, self.steps)  # (N,) earlier clicks within the window
        owner = np.repeat(np.arange(len(train)), gaps)
        gap = np.arange(owner.shape[0]) - np.repeat(np.cumsum(gaps) - gaps, gaps) + 1
        prev, nxt = data.items[at[owner] - gap], data.items[at[owner]]
        codes, inverse = np.unique(prev * n + nxt, return_inverse=True)  # sorted by prev, next
        weight = np.bincount(inverse, weights=self.unit // gap, minlength=codes.shape[0])
        self.row_ptr = torch.from_numpy(np.searchsorted(codes, np.arange(n + 1) * n))  # (n+1,)
        self.successor = torch.from_numpy(codes % n)  # (nnz,)
        self.weight = torch.from_numpy(weight.astype(np.float64))  # (nnz,) integer-valued
        self.levels = _fallback_levels(data, train)
        return self

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) rule weights from the last click, ties broken by the fallback."""
        scores = self.levels.fallback(prefixes)  # (B, n_items)
        rows = torch.nonzero(prefixes[:, -1] != PAD).squeeze(1)
        owner, flat = _expand(self.row_ptr, prefixes[rows, -1] - 1)
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


class _SessionIndex:
    """Training sessions as distinct item sets (CSR), clipped at each one's last training target.

    Later clicks of a session may be validation targets (protocol "example"): they stay
    unseen. Sessions are numbered in data order, or with `recent_first` from the most recent
    (by the time of the last training click, or by session order where the data has no
    times), so that "the most recent sessions" is a prefix of any sorted list of numbers.
    """

    def __init__(self, data: SessionData, train: Targets, recent_first: bool = False) -> None:
        n = data.n_items
        last = np.full(data.n_sessions, -1, dtype=np.int64)
        np.maximum.at(last, train.session, train.position)
        sessions = np.flatnonzero(last >= 0)
        if recent_first:
            end = data.offsets[sessions] + last[sessions]  # each session's last training click
            recency = data.times[end] if data.times is not None else sessions.astype(np.float64)
            sessions = sessions[np.lexsort((-sessions, -recency))]
        lengths = last[sessions] + 1
        local = np.repeat(np.arange(sessions.shape[0]), lengths)
        begin = np.repeat(data.offsets[sessions] - (np.cumsum(lengths) - lengths), lengths)
        clicks = data.items[begin + np.arange(local.shape[0])]
        pairs = np.unique(local * n + clicks)  # distinct (session, item), sorted by session
        self.owner, self.item = pairs // n, pairs % n
        self.n_items, self.n_sessions = n, int(sessions.shape[0])
        self.session_ptr = torch.from_numpy(np.searchsorted(self.owner, np.arange(self.n_sessions + 1)))
        self.session_items = torch.from_numpy(self.item)  # (nnz,)

    def postings(self, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(item_ptr (n_items+1,), sessions) of each item, most recent first, at most `limit`."""
        by_item = np.argsort(self.item, kind="stable")  # sessions stay in recency order
        item, owner = self.item[by_item], self.owner[by_item]
        ptr = np.searchsorted(item, np.arange(self.n_items + 1))
        if limit is not None:
            keep = np.arange(item.shape[0]) - ptr[item] < limit
            item, owner = item[keep], owner[keep]
            ptr = np.searchsorted(item, np.arange(self.n_items + 1))
        return torch.from_numpy(ptr), torch.from_numpy(owner)


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
        """Index each training session's distinct items, and each item's sessions."""
        index = _SessionIndex(data, train)
        self.n_items, self.n_sessions = index.n_items, index.n_sessions
        self.session_ptr, self.session_items = index.session_ptr, index.session_items
        self.session_size = torch.diff(self.session_ptr).double()  # (S,)
        self.session_scale = self.session_size.float().rsqrt()  # (S,) 1 / sqrt(|B|)
        self.item_ptr, self.item_sessions = index.postings()
        self.posting_scale = self.session_scale[self.item_sessions]  # (nnz,) 1 / sqrt(|B|)
        self.levels = _fallback_levels(data, train)
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


# V-SKNN's weightings, named as in session-rec: a click at position p of a window of L clicks
# weighs (p / L), (p / L)^2 or 1 in the session vector; a neighbour whose most recent shared
# click is d clicks back (1 = the last click) votes with its similarity times decay(d). The
# cosine ignores the common 1 / L, so the vector holds the integers p, p^2 or 1: sums are exact.
_POSITION_WEIGHTS = {
    "same": lambda p: torch.ones_like(p),
    "div": lambda p: p,  # linear decay from the last click
    "quadratic": lambda p: p**2,
}
_VOTE_DECAYS = {
    "same": lambda d: torch.ones_like(d),
    "div": lambda d: 1 / d,
    "quadratic": lambda d: 1 / d**2,
}


class VSKNN:
    """Vector-multiplication session kNN, V-SKNN (Ludewig & Jannach 2018, "Evaluation of
    session-based recommendation algorithms"; session-rec's VMContextKNN).

    The prefix is a vector over its distinct items, a click at position p of L weighing p / L
    (linear decay from 1 at the last click; a repeated item keeps its latest weight). The
    candidates are the `sample_size` most recent training sessions sharing an item with the
    prefix; similarity is the cosine between the prefix vector and a candidate's binary item
    set, sum of shared weights / (||w|| sqrt(|B|)); the k most similar vote for each of their
    items with similarity / d, d being how many clicks back the prefix's most recent click
    shared with that neighbour lies. Ties are broken by the fallback with weight 1e-9.
    """

    name = "V-SKNN"
    FALLBACK_WEIGHT = 1e-9
    CHUNK = 256  # prefixes per pass: bounds the (prefix, candidate session) lists

    def __init__(
        self, k: int = 100, sample_size: int = 1000, weighting: str = "div", vote_decay: str = "div"
    ) -> None:
        if k < 1 or sample_size < 1:
            raise ValueError(f"k = {k} and sample_size = {sample_size} must both be at least 1")
        for field, value, allowed in (
            ("weighting", weighting, _POSITION_WEIGHTS), ("vote_decay", vote_decay, _VOTE_DECAYS)
        ):
            if value not in allowed:
                raise ValueError(f"{field} = {value!r} is not one of {sorted(allowed)}")
        self.k, self.sample_size = k, sample_size
        self.weighting, self.vote_decay = weighting, vote_decay

    def fit(self, data: SessionData, train: Targets) -> VSKNN:
        """Index training sessions most recent first, each item's postings cut to the sample.

        A session among the `sample_size` most recent of a union of postings is among the
        `sample_size` most recent of each posting list it is on, so the cut loses nothing.
        """
        index = _SessionIndex(data, train, recent_first=True)
        self.n_items, self.n_sessions = index.n_items, index.n_sessions
        self.session_ptr, self.session_items = index.session_ptr, index.session_items
        self.session_norm = torch.diff(self.session_ptr).double().sqrt()  # (S,) sqrt(|B|)
        item_ptr, item_sessions = index.postings(limit=self.sample_size)
        ones = torch.ones(item_sessions.shape[0], dtype=torch.float64)
        self.postings = _csr(item_ptr, item_sessions, ones, (self.n_items, self.n_sessions))
        self.levels = _fallback_levels(data, train)
        return self

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) summed neighbour votes plus a tie-breaking fallback."""
        return torch.cat([self._score_chunk(chunk) for chunk in prefixes.split(self.CHUNK)])

    def _score_chunk(self, prefixes: torch.Tensor) -> torch.Tensor:
        (b, m), n, s = prefixes.shape, self.n_items, self.n_sessions
        clicked = prefixes != PAD
        length = clicked.sum(dim=1)  # (b,) clicks in each window
        rows, cols = torch.nonzero(clicked, as_tuple=True)
        position = cols - (m - length[rows]) + 1  # 1-based within the window (left padding)
        # Sorted by (row, item, position): the last of each (row, item) run is its latest click.
        key = torch.sort((rows * n + prefixes[rows, cols] - 1) * (m + 1) + position).values
        code, position = key // (m + 1), key % (m + 1)
        latest = torch.ones_like(code, dtype=torch.bool)
        latest[:-1] = code[1:] != code[:-1]
        code, p = code[latest], position[latest]
        row, item = code // n, code % n
        weight = _POSITION_WEIGHTS[self.weighting](p).double()  # (pairs,) integer-valued
        vote = _VOTE_DECAYS[self.vote_decay]((length[row] - p + 1).double())  # d = clicks back
        norm = torch.zeros(b, dtype=torch.float64).index_add_(0, row, weight**2).sqrt()  # (b,)
        row_ptr = torch.searchsorted(row, torch.arange(b + 1))
        # (prefix, session) shared weight of every session sharing an item: a sparse product.
        shared = _csr(row_ptr, item, weight, (b, n)) @ self.postings  # (b, s) CSR
        cand_ptr, cand, dot = shared.crow_indices(), shared.col_indices(), shared.values()
        count = torch.diff(cand_ptr)  # (b,) candidate sessions per row
        cand_row = torch.repeat_interleave(torch.arange(b), count)
        # Sessions are numbered most recent first, so a row's sample is its `sample_size`
        # smallest numbers: cut each crowded row at the sample_size-th smallest.
        cut = torch.full((b,), s, dtype=torch.int64)
        crowded = torch.nonzero(count > self.sample_size, as_tuple=True)[0]
        if crowded.shape[0]:
            lists = torch.full((crowded.shape[0], int(count.max())), s, dtype=torch.int64)
            owner, flat = _expand(cand_ptr, crowded)
            lists[owner, flat - cand_ptr[crowded][owner]] = cand[flat]
            cut[crowded] = lists.kthvalue(self.sample_size, dim=1).values
        sampled = cand <= cut[cand_row]
        cand_row, cand, dot = cand_row[sampled], cand[sampled], dot[sampled]
        rank = torch.arange(cand.shape[0]) - torch.searchsorted(cand_row, torch.arange(b))[cand_row]
        width = min(self.sample_size, s)
        sim = torch.zeros(b, width, dtype=torch.float64)  # (b, width) cosine of each sampled
        sim[cand_row, rank] = dot / (norm[cand_row] * self.session_norm[cand])
        session = torch.zeros(b, width, dtype=torch.int64)
        session[cand_row, rank] = cand
        top_sim, top = sim.topk(min(self.k, width), dim=1)  # (b, k)
        found = top_sim > 0  # rows with fewer than k candidates leave empty slots
        nb_row = torch.nonzero(found, as_tuple=True)[0]
        nb_sim, nb = top_sim[found], session.gather(1, top)[found]  # (neighbours,)
        owner, flat = _expand(self.session_ptr, nb)  # every (neighbour, item) entry
        entry = nb_row[owner] * n + self.session_items[flat]  # as (row, item) codes
        # A neighbour's decay comes from the prefix's most recent click it shares.
        vote_of = torch.zeros(b * n, dtype=torch.float64).index_put_((code,), vote)  # (b n,)
        decay = torch.zeros(nb.shape[0], dtype=torch.float64)
        decay.scatter_reduce_(0, owner, vote_of[entry], reduce="amax")
        scale = self.FALLBACK_WEIGHT / (2 * self.levels.n_levels)  # fallback in [0, 1e-9)
        scores = self.levels.scores(prefixes, scale).view(-1)  # (b n_items,)
        scores.index_add_(0, entry, (nb_sim * decay)[owner])
        return scores.view(b, n)


def _csr(ptr: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A CSR sparse matrix; torch's beta-state notice about CSR support is silenced here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(ptr, cols, values, size=size, check_invariants=False)


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

    def batches() -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]]:
        for start in range(0, len(targets), batch_size):
            part = targets.take(np.arange(start, min(start + batch_size, len(targets))))
            prefixes = torch.from_numpy(prefix_matrix(data, part, max_len))
            items = torch.from_numpy(target_items(data, part))
            yield scorer.score(prefixes), items, prefixes if exclude_seen else None

    with torch.inference_mode():
        ranks = ranks_from_batches(batches())
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
        SessionKNN(), VSKNN(), Oracle(),
    ]
    return [scorer for scorer in every if scorer.name not in left_out]


def evaluate_baselines(
    data: SessionData,
    split: Split,
    max_len: int,
    cutoffs: Sequence[int] = (10, 20),
    exclude_seen: bool = False,
    targets: Targets | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics of every scorer `data` supports, fitted on `split.train`, on `targets` (default:
    report); `left_out_baselines(data)` says why the others are missing."""
    targets = split.report if targets is None else targets
    return {
        scorer.name: evaluate_scorer(
            scorer.fit(data, split.train), data, targets, max_len, cutoffs, exclude_seen
        )[0]
        for scorer in default_scorers(data)
    }
