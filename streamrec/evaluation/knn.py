"""Session-based nearest neighbours: session kNN, V-SKNN, STAN and VSTAN.

All index the training sessions as item sets and score a prefix by the sessions most similar
to it, reading the prefix whole (every earlier click of the session, not the neural window).
V-SKNN (Ludewig & Jannach 2018) weighs the prefix's clicks by position, samples the most
recent candidate sessions and decays a neighbour's vote by how far back it matched; STAN
(Garg et al. 2019) uses exponential decays for the prefix position, the neighbour's age and
the item's position in the neighbour; VSTAN (Ludewig, Latifi & Jannach 2021) adds V-SKNN's
sequence-aware vote and IDF weighting to STAN. The three share one engine (`_NeighbourVotes`);
each class's SEARCH_SPACE lists its hyper-parameters for a tuner.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch

from streamrec.data.sessions import SessionData
from streamrec.data.splits import PAD, Targets
from streamrec.evaluation.scoring import expand_rows, fallback_levels

# A search space entry, for a tuner: ("int" | "float", low, high, log scale) or
# ("choice", options). Every method's SEARCH_SPACE maps constructor arguments to entries.
SpaceEntry = tuple[str, int | float, int | float, bool] | tuple[str, tuple[Any, ...]]


class _SessionIndex:
    """Training sessions as distinct item sets (CSR), clipped at each one's last training target.

    Later clicks of a session may be validation targets (protocol "example"): they stay
    unseen. Sessions are numbered in data order, or with `recent_first` from the most recent
    (by the time of the last training click, or by session order where the data has no
    times), so that "the most recent sessions" is a prefix of any sorted list of numbers;
    with `shuffle_seed`, in a seeded random order instead (a random sample is then such a
    prefix). Each (session, item) entry keeps the item's last 1-based position in the session.
    """

    def __init__(
        self, data: SessionData, train: Targets, recent_first: bool = False,
        shuffle_seed: int | None = None,
    ) -> None:
        n = data.n_items
        last = np.full(data.n_sessions, -1, dtype=np.int64)
        np.maximum.at(last, train.session, train.position)
        sessions = np.flatnonzero(last >= 0)
        end = data.offsets[sessions] + last[sessions]  # each session's last training click
        if recent_first:
            recency = data.times[end] if data.times is not None else sessions.astype(np.float64)
            sessions = sessions[np.lexsort((-sessions, -recency))]
        if shuffle_seed is not None:
            sessions = np.random.default_rng(shuffle_seed).permutation(sessions)
        end = data.offsets[sessions] + last[sessions]
        self.age_days = None  # (S,) days from each session's last training click to the latest
        if data.times is not None and sessions.size:
            self.age_days = (data.times[end].max() - data.times[end]) / DAY
        lengths = last[sessions] + 1
        local = np.repeat(np.arange(sessions.shape[0]), lengths)
        begin = np.repeat(data.offsets[sessions] - (np.cumsum(lengths) - lengths), lengths)
        clicks = data.items[begin + np.arange(local.shape[0])]
        self.item_clicks = np.bincount(clicks, minlength=n)  # (n_items,) training clicks
        position = np.arange(local.shape[0]) - np.repeat(np.cumsum(lengths) - lengths, lengths) + 1
        pairs, inverse = np.unique(local * n + clicks, return_inverse=True)  # sorted by session
        self.last_position = np.zeros(pairs.shape[0], dtype=np.int64)  # (nnz,) 1-based
        np.maximum.at(self.last_position, inverse.reshape(-1), position)
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
    whole_prefix = True  # the evaluator passes every earlier click, not the neural window
    FALLBACK_WEIGHT = 1e-9
    SEARCH_SPACE: ClassVar[dict[str, SpaceEntry]] = {"k": ("int", 20, 2000, True)}
    CHUNK = 512  # prefixes per similarity pass: bounds the (chunk, n_sessions) overlap matrix

    def __init__(self, k: int = 100) -> None:
        if k < 1:
            raise ValueError(f"k = {k} must be at least 1")
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


# V-SKNN's weightings, named as in session-rec (Ludewig & Jannach 2018): a click at position p
# of a prefix of L clicks weighs w(p, L) in the session vector; a neighbour whose most recent
# shared click is d clicks back (1 = the last click) votes with its similarity times decay(d).
# session-rec's "linear" forms go negative past 10 clicks back; here they stop at 0.
POSITION_WEIGHTS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "linear": lambda p, n: (1 - 0.1 * (n - p)).clamp(min=0),
    "same": lambda p, n: torch.ones_like(p),
    "div": lambda p, n: p / n,  # linear decay from 1 at the last click
    "log": lambda p, n: 1 / torch.log10(n - p + 1.7),
    "quadratic": lambda p, n: (p / n) ** 2,
}
VOTE_DECAYS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda d: (1 - 0.1 * d).clamp(min=0),
    "same": lambda d: torch.ones_like(d),
    "div": lambda d: 1 / d,
    "log": lambda d: 1 / torch.log10(d + 1.7),
    "quadratic": lambda d: 1 / d**2,
}
SAMPLINGS = ("recent", "random")
DAY = 86_400.0  # seconds: STAN's lambda 2 is given in days


class _NeighbourVotes:
    """The engine of V-SKNN, STAN and VSTAN: sampled, weighted session neighbours that vote.

    For one prefix of L clicks (the whole prefix: `whole_prefix` tells the evaluator so), each
    distinct item gets the weight of its latest click, `_prefix_weight(p, L)`; the candidates
    are the `sample_size` most recent (or, with sampling "random", a seeded random sample of
    the) training sessions sharing an item with it; similarity is the cosine between the
    weighted prefix vector and a candidate's binary item set, times `_recency` of the session;
    the k most similar vote for each of their items with similarity x `_vote_weight(p*, L)`
    (p*: the position of the prefix's most recent click the neighbour shares) x the optional
    neighbour-position weight exp(-|q(i) - q(i*)| / lambda_3) (q: an item's last position in
    the neighbour, i*: that shared item) x (1 + idf_weight idf(i)). Ties are broken by the
    last-category fallback with weight 1e-9.
    """

    name = "neighbours"
    whole_prefix = True  # the evaluator passes every earlier click, not the neural window
    FALLBACK_WEIGHT = 1e-9
    CHUNK = 256  # prefixes per pass: bounds the (prefix, candidate session) lists
    SEARCH_SPACE: ClassVar[dict[str, SpaceEntry]] = {}

    def __init__(self, k: int, sample_size: int, sampling: str, seed: int = 0) -> None:
        if k < 1 or sample_size < 1:
            raise ValueError(f"k = {k} and sample_size = {sample_size} must both be at least 1")
        if sampling not in SAMPLINGS:
            raise ValueError(f"sampling = {sampling!r} is not one of {list(SAMPLINGS)}")
        self.k, self.sample_size, self.sampling, self.seed = k, sample_size, sampling, seed
        self.idf_weight = 0.0
        self.lambda_position: float | None = None  # STAN's lambda 3, None: off

    @staticmethod
    def _positive(**values: float | None) -> None:
        for field, value in values.items():
            if value is not None and not value > 0:
                raise ValueError(f"{field} = {value} must be above 0")

    def _prefix_weight(self, p: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _vote_weight(self, p: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _recency(self, age_days: np.ndarray | None) -> torch.Tensor | None:
        """(S,) a weight per training session from its age, or None for none."""
        return None

    def fit(self, data: SessionData, train: Targets) -> _NeighbourVotes:
        """Index training sessions in sampling order, each item's postings cut to the sample.

        A session among the `sample_size` first (most recent, or of a seeded random order) of a
        union of postings is among the `sample_size` first of each posting list it is on, so
        the cut loses nothing.
        """
        index = _SessionIndex(data, train, recent_first=True,
                              shuffle_seed=self.seed if self.sampling == "random" else None)
        self.n_items, self.n_sessions = index.n_items, index.n_sessions
        self.session_ptr, self.session_items = index.session_ptr, index.session_items
        self.item_position = torch.from_numpy(index.last_position)  # (nnz,) 1-based, last click
        self.session_norm = torch.diff(self.session_ptr).double().sqrt()  # (S,) sqrt(|B|)
        self.recency = self._recency(index.age_days)
        item_ptr, item_sessions = index.postings(limit=self.sample_size)
        ones = torch.ones(item_sessions.shape[0], dtype=torch.float64)
        self.postings = _csr(item_ptr, item_sessions, ones, (self.n_items, self.n_sessions))
        # IDF as session-rec's: log(training sessions / the item's training clicks).
        clicks = np.maximum(index.item_clicks, 1)
        self.idf = torch.from_numpy(np.log(max(index.n_sessions, 1) / clicks))  # (n_items,)
        self.levels = fallback_levels(data, train)
        return self

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) summed neighbour votes plus a tie-breaking fallback."""
        return torch.cat([self._score_chunk(chunk) for chunk in torch.split(prefixes, self.CHUNK)])

    def _score_chunk(self, prefixes: torch.Tensor) -> torch.Tensor:
        (b, m), n, s = prefixes.shape, self.n_items, self.n_sessions
        clicked = prefixes != PAD
        length = clicked.sum(dim=1)  # (b,) clicks in each prefix
        rows, cols = torch.nonzero(clicked, as_tuple=True)
        position = cols - (m - length[rows]) + 1  # 1-based within the prefix (left padding)
        # Sorted by (row, item, position): the last of each (row, item) run is its latest click.
        key = torch.sort((rows * n + prefixes[rows, cols] - 1) * (m + 1) + position).values
        code, position = key // (m + 1), key % (m + 1)
        latest = torch.ones_like(code, dtype=torch.bool)
        latest[:-1] = code[1:] != code[:-1]
        code, p = code[latest], position[latest]
        row, item = code // n, code % n
        weight = self._prefix_weight(p.double(), length[row].double())  # (pairs,)
        norm = torch.zeros(b, dtype=torch.float64).index_add_(0, row, weight**2).sqrt()  # (b,)
        row_ptr = torch.searchsorted(row, torch.arange(b + 1))
        # (prefix, session) shared weight of every session sharing an item: a sparse product.
        shared = _csr(row_ptr, item, weight, (b, n)) @ self.postings  # (b, s) CSR
        cand_ptr, cand, dot = shared.crow_indices(), shared.col_indices(), shared.values()
        count = torch.diff(cand_ptr)  # (b,) candidate sessions per row
        cand_row = torch.repeat_interleave(torch.arange(b), count)
        # Sessions are numbered in sampling order, so a row's sample is its `sample_size`
        # smallest numbers.
        sampled = cand <= _smallest(cand, cand_row, count, self.sample_size, s)[cand_row]
        cand_row, cand, dot = cand_row[sampled], cand[sampled], dot[sampled]
        rank = torch.arange(cand.shape[0]) - torch.searchsorted(cand_row, torch.arange(b))[cand_row]
        width = min(self.sample_size, s)
        sim = torch.zeros(b, width, dtype=torch.float64)  # (b, width) of each sampled session
        cosine = dot / (norm[cand_row] * self.session_norm[cand])
        sim[cand_row, rank] = cosine if self.recency is None else cosine * self.recency[cand]
        session = torch.zeros(b, width, dtype=torch.int64)
        session[cand_row, rank] = cand
        top_sim, top = sim.topk(min(self.k, width), dim=1)  # (b, k)
        found = top_sim > 0  # rows with fewer than k candidates leave empty slots
        nb_row = torch.nonzero(found, as_tuple=True)[0]
        nb_sim, nb = top_sim[found], session.gather(1, top)[found]  # (neighbours,)
        owner, flat = expand_rows(self.session_ptr, nb)  # every (neighbour, item) entry
        entry = nb_row[owner] * n + self.session_items[flat]  # as (row, item) codes
        # p* and q(i*): the prefix's most recent click the neighbour shares, and where that
        # item lies in the neighbour (one max over position * bound + neighbour position).
        p_of = torch.zeros(b * n, dtype=torch.int64).index_put_((code,), p)  # (b n,) 0: absent
        bound = int(self.item_position.max()) + 1 if self.item_position.numel() else 1
        star = torch.zeros(nb.shape[0], dtype=torch.int64)
        star.scatter_reduce_(0, owner, p_of[entry] * bound + self.item_position[flat], reduce="amax")
        p_star, q_star = star // bound, star % bound
        vote = nb_sim * self._vote_weight(p_star.double(), length[nb_row].double())  # (nb,)
        votes = vote[owner]  # (entries,)
        if self.lambda_position is not None:
            gap = (self.item_position[flat] - q_star[owner]).abs().double()
            votes = votes * torch.exp(-gap / self.lambda_position)
        if self.idf_weight:
            votes = votes * (1 + self.idf_weight * self.idf[self.session_items[flat]])
        scale = self.FALLBACK_WEIGHT / (2 * self.levels.n_levels)  # fallback in [0, 1e-9)
        scores = self.levels.scores(prefixes, scale).view(-1)  # (b n_items,)
        scores.index_add_(0, entry, votes)
        return scores.view(b, n)


class VSKNN(_NeighbourVotes):
    """Vector-multiplication session kNN, V-SKNN (Ludewig & Jannach 2018, "Evaluation of
    session-based recommendation algorithms"; session-rec's VMContextKNN).

    The prefix vector weighs a click at position p of L by `weighting` ("div": p / L, linear
    decay from 1 at the last click; "same", "linear", "log", "quadratic"; a repeated item keeps
    its latest weight). The candidates are the `sample_size` most recent (`sampling` "recent")
    or randomly chosen ("random", seeded: one fixed random order of the training sessions)
    training sessions sharing an item with the prefix; similarity is the cosine between the
    prefix vector and a candidate's binary item set; the k most similar vote for each of their
    items with similarity x `vote_decay`(d), d being how many clicks back the prefix's most
    recent click shared with that neighbour lies, x (1 + idf_weighting idf(item)) (session-rec's
    IDF weighting: idf = log(training sessions / the item's training clicks); 0: off).

    Defaults are session-rec's (k = 100, sample_size = 1000, "div" weighting and decay, no IDF).
    With k = 10,000 the scores equal a step-by-step port to 1e-8 (tests); with fewer, equally
    similar sessions may take the last places in another order than session-rec's set order.
    """

    name = "V-SKNN"
    SEARCH_SPACE: ClassVar[dict[str, SpaceEntry]] = {
        "k": ("int", 50, 1500, True),
        "sample_size": ("int", 500, 10000, True),
        "sampling": ("choice", SAMPLINGS),
        "weighting": ("choice", tuple(POSITION_WEIGHTS)),
        "vote_decay": ("choice", tuple(VOTE_DECAYS)),
        "idf_weighting": ("float", 0.0, 10.0, False),
    }

    def __init__(
        self, k: int = 100, sample_size: int = 1000, weighting: str = "div",
        vote_decay: str = "div", idf_weighting: float = 0.0, sampling: str = "recent",
        seed: int = 0,
    ) -> None:
        super().__init__(k, sample_size, sampling, seed)
        for field, value, allowed in (
            ("weighting", weighting, POSITION_WEIGHTS), ("vote_decay", vote_decay, VOTE_DECAYS)
        ):
            if value not in allowed:
                raise ValueError(f"{field} = {value!r} is not one of {sorted(allowed)}")
        if not idf_weighting >= 0:
            raise ValueError(f"idf_weighting = {idf_weighting} must be 0 (off) or above")
        self.weighting, self.vote_decay, self.idf_weight = weighting, vote_decay, idf_weighting

    def _prefix_weight(self, p: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        return POSITION_WEIGHTS[self.weighting](p, n)

    def _vote_weight(self, p: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        return VOTE_DECAYS[self.vote_decay](n - p + 1)  # d = clicks back, 1 = the last click


class STAN(_NeighbourVotes):
    """Sequence and Time Aware Neighbourhood, STAN (Garg, Gupta, Malhotra, Vig & Shroff,
    SIGIR 2019).

    Three exponential decays: the prefix vector weighs a click at position p of L by
    exp((p - L) / lambda_1); a neighbour's similarity (cosine) is multiplied by
    exp(-age / lambda_2), its age in days being the time from its last training click to the
    most recent one (the same shift for every neighbour of a prefix as measuring from the
    prefix's own time, so the ranking is the paper's; data without times: no decay); a
    neighbour's vote for its item i is multiplied by exp(-|q(i) - q(i*)| / lambda_3), q being
    positions in the neighbour and i* the prefix's most recent click it shares (session-rec
    takes i* as the neighbour's last shared item instead). Candidates: the `sample_size`
    most recent (or a seeded random sample of the) sessions sharing an item, the k most
    similar vote. Defaults: the paper's and session-rec's STAN (k = 100, sample_size = 5000,
    lambda_1 = 1.02, lambda_2 = 5 days, lambda_3 = 2.05).
    """

    name = "STAN"
    SEARCH_SPACE: ClassVar[dict[str, SpaceEntry]] = {
        "k": ("int", 50, 1500, True),
        "sample_size": ("int", 500, 10000, True),
        "sampling": ("choice", SAMPLINGS),
        "lambda_1": ("float", 0.1, 20.0, True),
        "lambda_2": ("float", 0.1, 100.0, True),
        "lambda_3": ("float", 0.1, 20.0, True),
    }

    def __init__(
        self, k: int = 100, sample_size: int = 5000, lambda_1: float = 1.02,
        lambda_2: float = 5.0, lambda_3: float = 2.05, sampling: str = "recent", seed: int = 0,
    ) -> None:
        super().__init__(k, sample_size, sampling, seed)
        self._positive(lambda_1=lambda_1, lambda_2=lambda_2, lambda_3=lambda_3)
        self.lambda_1, self.lambda_2, self.lambda_3 = lambda_1, lambda_2, lambda_3
        self.lambda_position = lambda_3

    def _prefix_weight(self, p: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        return torch.exp((p - n) / self.lambda_1)

    def _vote_weight(self, p: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        return torch.ones_like(p)

    def _recency(self, age_days: np.ndarray | None) -> torch.Tensor | None:
        return None if age_days is None else torch.from_numpy(np.exp(-age_days / self.lambda_2))


class VSTAN(STAN):
    """VSTAN (Ludewig, Latifi & Jannach 2021, "Empirical analysis of session-based
    recommendation algorithms", UMUAI): STAN plus V-SKNN's sequence-aware vote and IDF.

    On top of STAN's three decays, a neighbour's vote is multiplied by exp((p* - L) /
    lambda_4), p* being the position of the prefix's most recent click it shares (V-SKNN's
    vote decay in STAN's exponential form), and by (1 + lambda_idf idf(item)). Defaults:
    session-rec's VSTAN (lambda_1 = lambda_4 = 1.02, lambda_2 = 5 days, lambda_3 = 2.05,
    lambda_idf = 5).
    """

    name = "VSTAN"
    SEARCH_SPACE: ClassVar[dict[str, SpaceEntry]] = {
        **STAN.SEARCH_SPACE,
        "lambda_4": ("float", 0.1, 20.0, True),
        "lambda_idf": ("float", 0.0, 10.0, False),
    }

    def __init__(
        self, k: int = 100, sample_size: int = 5000, lambda_1: float = 1.02,
        lambda_2: float = 5.0, lambda_3: float = 2.05, lambda_4: float = 1.02,
        lambda_idf: float = 5.0, sampling: str = "recent", seed: int = 0,
    ) -> None:
        super().__init__(k, sample_size, lambda_1, lambda_2, lambda_3, sampling, seed)
        self._positive(lambda_4=lambda_4)
        if not lambda_idf >= 0:
            raise ValueError(f"lambda_idf = {lambda_idf} must be 0 (off) or above")
        self.lambda_4, self.lambda_idf, self.idf_weight = lambda_4, lambda_idf, lambda_idf

    def _vote_weight(self, p: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        return torch.exp((p - n) / self.lambda_4)


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
