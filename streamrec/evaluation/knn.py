"""Session-based nearest neighbours: session kNN and its vector form V-SKNN.

Both index the training sessions as item sets and score a prefix by the sessions most similar
to it; V-SKNN (Ludewig & Jannach 2018) weighs the prefix's clicks by position, samples the
most recent candidate sessions and decays a neighbour's vote by how far back it matched.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch

from streamrec.data.sessions import SessionData
from streamrec.data.splits import PAD, Targets
from streamrec.evaluation.scoring import expand_rows, fallback_levels


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
        self.levels = fallback_levels(data, train)
        return self

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) summed neighbour similarities plus a tie-breaking fallback."""
        return torch.cat([self._score_chunk(chunk) for chunk in torch.split(prefixes, self.CHUNK)])

    def _score_chunk(self, prefixes: torch.Tensor) -> torch.Tensor:
        b, n, s = prefixes.shape[0], self.n_items, self.n_sessions
        rows, cols = torch.nonzero(prefixes != PAD, as_tuple=True)
        pairs = torch.unique(rows * n + prefixes[rows, cols] - 1)  # distinct (row, item)
        row, item = pairs // n, pairs % n
        size = torch.bincount(row, minlength=b).clamp(min=1).double()  # (b,) prefix set sizes
        owner, flat = expand_rows(self.item_ptr, item)  # every (prefix item, session) posting
        # |A & B| / sqrt(|B|) orders a row's sessions as the cosine does (|A| is fixed per row).
        closeness = torch.zeros(b * s, dtype=torch.float32)
        closeness.index_add_(0, row[owner] * s + self.item_sessions[flat], self.posting_scale[flat])
        k = min(self.k, s)
        top_closeness, top = closeness.view(b, s).topk(k, dim=1)  # (b, k)
        # A cell sums |A & B| equal terms 1 / sqrt(|B|), so dividing one out recovers the count.
        overlap = torch.round(top_closeness / self.session_scale[top]).double()
        sim = overlap / torch.sqrt(size[:, None] * self.session_size[top])  # (b, k) cosine
        owner, flat = expand_rows(self.session_ptr, top.reshape(-1))
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
_POSITION_WEIGHTS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "same": lambda p: torch.ones_like(p),
    "div": lambda p: p,  # linear decay from the last click
    "quadratic": lambda p: p**2,
}
_VOTE_DECAYS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
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

    Defaults are session-rec's (k = 100, sample_size = 1000, "div" weighting and decay) with
    its cosine similarity; `weighting` and `vote_decay` also take "same" and "quadratic".
    On the YOOCHOOSE sample the scores equal VMContextKNN's to 1e-9 when every sampled session
    votes; with k = 100 they differ only in which of equally similar sessions take the last
    places, which session-rec leaves to set order.
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
        self.levels = fallback_levels(data, train)
        return self

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) summed neighbour votes plus a tie-breaking fallback."""
        return torch.cat([self._score_chunk(chunk) for chunk in torch.split(prefixes, self.CHUNK)])

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
        # smallest numbers.
        sampled = cand <= _smallest(cand, cand_row, count, self.sample_size, s)[cand_row]
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
        owner, flat = expand_rows(self.session_ptr, nb)  # every (neighbour, item) entry
        entry = nb_row[owner] * n + self.session_items[flat]  # as (row, item) codes
        # A neighbour's decay comes from the prefix's most recent click it shares.
        vote_of = torch.zeros(b * n, dtype=torch.float64).index_put_((code,), vote)  # (b n,)
        decay = torch.zeros(nb.shape[0], dtype=torch.float64)
        decay.scatter_reduce_(0, owner, vote_of[entry], reduce="amax")
        scale = self.FALLBACK_WEIGHT / (2 * self.levels.n_levels)  # fallback in [0, 1e-9)
        scores = self.levels.scores(prefixes, scale).view(-1)  # (b n_items,)
        scores.index_add_(0, entry, (nb_sim * decay)[owner])
        return scores.view(b, n)


def _smallest(
    values: torch.Tensor, row: torch.Tensor, count: torch.Tensor, n: int, bound: int
) -> torch.Tensor:
    """(rows,) the n-th smallest of each row's distinct values in [0, bound), or `bound` for a
    row with at most n values: a histogram over buckets finds the bucket, then one bucket's
    values are laid out as bits. No sort; shifts and masks, as int64 division is slow."""
    rows, width = count.shape[0], 1 << _BUCKET_BITS
    n_buckets = (bound >> _BUCKET_BITS) + 1
    bucket = values >> _BUCKET_BITS
    cum = torch.bincount(row * n_buckets + bucket, minlength=rows * n_buckets)
    cum = cum.view(rows, n_buckets).cumsum(1)  # (rows, n_buckets) values up to each bucket
    at = torch.searchsorted(cum, torch.full((rows, 1), n, dtype=cum.dtype)).squeeze(1)
    before = cum.gather(1, (at - 1).clamp(min=0)[:, None]).squeeze(1) * (at > 0)
    inside = bucket == at[row]  # the values in each row's n-th value's bucket
    present = torch.zeros(rows, width, dtype=torch.bool)
    present[row[inside], values[inside] & (width - 1)] = True
    offset = torch.searchsorted(present.cumsum(1), (n - before)[:, None]).squeeze(1)
    return torch.where(count > n, at * width + offset, bound)


_BUCKET_BITS = 8  # 256 values per histogram bucket in `_smallest`


def _csr(ptr: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A CSR sparse matrix; torch's beta-state notice about CSR support is silenced here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(ptr, cols, values, size=size, check_invariants=False)
