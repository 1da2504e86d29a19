"""The Bayes-optimal oracle: exact P(next item | prefix) under the simulator's true parameters.

It is the ceiling no model can beat on average, and what the dashboard draws as "best
possible". It shares the baselines' scoring interface (fit, score) so the evaluator treats
it like any other method.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from streamrec.config import SimConfig
from streamrec.data.sessions import NO_SUCCESSOR, Catalog, SessionData
from streamrec.data.splits import PAD, Targets


class _Clicks(NamedTuple):
    """A prefix batch as the order mechanisms read it, each (B, M) unless noted."""

    valid: torch.Tensor  # a click, not padding
    item: torch.Tensor  # item index, -1 at padding
    successor: torch.Tensor  # the item's successor, NO_SUCCESSOR if none (or padding)
    has_next: torch.Tensor  # the item has a successor
    n: torch.Tensor  # (B,) visible clicks
    first_category: torch.Tensor  # (B, 1) category of the first visible click (the anchor)


def _log_choose(n: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """log C(n, r), -inf where r < 0 or r > n."""
    ok = (r >= 0) & (r <= n)
    n, r = n.clamp(min=0), r.clamp(min=0)
    value = torch.lgamma(n + 1) - torch.lgamma(r + 1) - torch.lgamma((n - r).clamp(min=0) + 1)
    return torch.where(ok, value, -math.inf)


def _length_factor(rho: np.ndarray, max_len: int, config: SimConfig) -> np.ndarray:
    """(n_branches, max_len + 1) P(length evidence | branch, n visible clicks), up to a constant.

    With n < max_len the target is click n; with n = max_len it is click t >= max_len, and the
    t - max_len clicks before the window each survived with probability rho. The session also
    has to reach min_kept_length clicks. Lengths the config cannot produce are ignored.
    """
    t = np.arange(max(max_len, config.max_session_length) + 1)
    need = np.maximum(t + 1, config.min_kept_length)  # clicks the session must have
    span = config.max_session_length - config.min_session_length + 1
    reach = np.clip((config.max_session_length - need + 1) / span, 0.0, 1.0)  # P(L >= need)
    after = need - 1 - t  # clicks after the target that must survive
    short = np.where(reach[:max_len] > 0, reach[:max_len], 1.0) * rho[:, None] ** after[:max_len]
    tail = reach[max_len:] if reach[max_len:].any() else np.ones(t.shape[0] - max_len)
    window = (tail * rho[:, None] ** (t[max_len:] - max_len + after[max_len:])).sum(axis=1)
    return np.concatenate([short, window[:, None]], axis=1)


class Oracle:
    """Bayes-optimal next-item probabilities under the simulator's true parameters.

    Hidden: behaviour b, preferred set S (|S| = k uniform, S uniform given k). An explorer is
    exactly a deep diver whose S is all N categories (its first category, uniform over a
    random S, is uniform over all N), so every branch is "switch with probability p to a
    category uniform over S". Given S, item likelihoods depend on categories only, so the
    posterior depends on the visible category sequence through m = |visited set V|, the
    counts of same-category and changed-category steps, and the prefix length:

        P(b, k, visible) ~ P(b) P(k) P(V in S | k) (1/k) (1 - p + p/k)^n_same (p/k)^n_change,

    with P(V in S | k) = C(N - m, k - m) / C(N, k). The next category is the last one w.p.
    1 - p + p/k, any other of V w.p. p/k, and an unvisited one w.p. (p/k) (k - m) / (N - m).

    A window (the last max_len clicks, the session start unseen) needs no other formula:
    given S, the chain is symmetric over the members of S, so the category of every click,
    not only the first, is uniform over S; for an explorer, uniform over all N.

    Order mechanisms (streamrec.world.mechanisms) keep this shape: every mechanism lands in a visited
    category, so the visited set still lies inside S and S's posterior is still uniform over
    the supersets of V. A click's likelihood becomes a mixture, the same for every branch except
    through the category move's term, so the forward pass over the visible clicks sums per
    branch log(mechanisms(x_t) + move_weight_t pop(x_t) ((1 - p) [same] + p / k)); the next
    click mixes the mechanisms' exact item probabilities with the move's category posterior.
    Those terms read the session's first click (anchor) and every earlier click (recall,
    repeat): exact when the prefix is the whole session so far, so scenarios with mechanisms
    set max_len to their longest session (`exact_for`); a window that misses the session
    start is read as if it were the start, an approximation.

    Empty categories (small catalogs) end a session: a click is never in one, and a target
    exists only if its category is non-empty, which is a likelihood, not a renormalisation
    per branch. The branch therefore also carries e = |S & empty|: the session survives a
    step w.p. rho = 1 - p e / k, which weighs branches by how many clicks were needed before
    a window and after the target (to reach min_kept_length). Without empty categories
    every rho is 1 and these factors cancel. Session length is independent of everything else.
    """

    name = "Oracle"

    def fit(self, data: SessionData, train: Targets) -> Oracle:
        """Read the true parameters; the training targets are not needed."""
        config, catalog = data.require_truth(), data.require_catalog()
        n_cats = catalog.n_categories
        self.config = config
        self.nonempty = torch.from_numpy(catalog.category_sizes > 0)  # (N,)
        self.n_full = int(self.nonempty.sum())
        n_empty = n_cats - self.n_full
        self.item_category = torch.from_numpy(catalog.item_category.astype(np.int64))
        self.popularity = torch.from_numpy(catalog.item_popularity.astype(np.float64))
        mix, switch = config.behaviour_mix, config.switch_probs
        sizes = range(config.min_preferred, config.max_preferred + 1)
        rows = [(0, switch[0], n_cats, n_empty, math.log(mix[0]) if mix[0] else -math.inf)]
        for b in (1, 2):
            for k in sizes:
                for e in range(max(0, k - self.n_full), min(k, n_empty) + 1):
                    prior = math.log(mix[b]) - math.log(len(sizes)) if mix[b] else -math.inf
                    prior += (
                        math.lgamma(n_empty + 1) - math.lgamma(e + 1) - math.lgamma(n_empty - e + 1)
                        - math.lgamma(n_cats + 1) + math.lgamma(k + 1) + math.lgamma(n_cats - k + 1)
                    )  # log C(n_empty, e) / C(N, k); C(n_full - m, k - m - e) needs the prefix
                    rows.append((b, switch[b], k, e, prior))
        table = np.array(rows, dtype=np.float64)
        table = table[np.isfinite(table[:, 4])]  # a zero behaviour share has no branches
        self.behaviour = torch.from_numpy(table[:, 0].astype(np.int64))  # (nb,)
        self.switch, self.k, self.e, self.log_prior = (
            torch.from_numpy(np.ascontiguousarray(c)) for c in table[:, 1:].T
        )  # (nb,) each
        self.rho = (1 - self.switch * self.e / self.k).numpy()
        self.mechanisms = config.has_mechanisms
        if self.mechanisms and n_empty:
            raise ValueError(
                f"the catalog has {n_empty} empty categories with order mechanisms on: the "
                "simulator fills every category when a mechanism is on"
            )
        successor = catalog.successor
        if successor is None:
            successor = np.full(catalog.n_items, NO_SUCCESSOR, dtype=np.int64)
        self.successor = torch.from_numpy(successor.astype(np.int64))
        self._index_blocks(catalog)
        return self

    def _index_blocks(self, catalog: Catalog) -> None:
        """Keys for `rank`: category + 1 - popularity, sorted if each category is one block of
        items in falling popularity (the simulator's catalogs); else None (rank goes dense)."""
        category, popularity = catalog.item_category, catalog.item_popularity
        key = category + 1.0 - popularity
        sizes = np.bincount(category, minlength=catalog.n_categories)
        self.block_key = None
        if np.all(np.diff(key) >= 0) and np.all(popularity > 0):
            self.block_key = torch.from_numpy(key)
            self.block_start = torch.from_numpy(np.concatenate([[0], np.cumsum(sizes)[:-1]]))
            self.block_size = torch.from_numpy(sizes)

    def exact_for(self, max_len: int) -> bool:
        """True if prefixes of at most max_len clicks get the exact posterior (see the class)."""
        return not self.mechanisms or max_len >= self.config.max_session_length

    def predict(self, prefixes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, 3) P(behaviour), (B, N) P(next category), (B, n_items) P(next item) | prefix."""
        behaviour, categories, index, weight = self._next(prefixes)
        items = self.item_probs(categories).scatter_add_(1, index, weight)
        next_category = categories.scatter_add(1, self.item_category[index], weight)
        return behaviour, next_category, items

    def posterior(self, prefixes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3) P(behaviour | prefix) and (B, N) P(next click's category | prefix)."""
        behaviour, next_category, _ = self.predict(prefixes)
        return behaviour, next_category

    def _posterior(
        self, prefixes: torch.Tensor, clicks: _Clicks | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3) P(behaviour | prefix), (B, N) P(next category | prefix, a category move)."""
        n_cats, full = self.nonempty.shape[0], float(self.n_full)
        valid = prefixes != PAD  # (B, M), left-padded: the clicks are contiguous
        cats = torch.where(valid, self.item_category[(prefixes - 1).clamp(min=0)], n_cats)
        visited = torch.zeros(prefixes.shape[0], n_cats + 1, dtype=torch.bool)
        visited.scatter_(1, cats, True)
        visited = visited[:, :n_cats]  # (B, N), column N collected the padding
        pair = valid[:, 1:] & valid[:, :-1]  # (B, M-1)
        n_same = (pair & (cats[:, 1:] == cats[:, :-1])).sum(1, keepdim=True).double()  # (B, 1)
        n_change = (pair & (cats[:, 1:] != cats[:, :-1])).sum(1, keepdim=True).double()
        n = valid.sum(1)  # (B,)
        m = visited.sum(1, keepdim=True).double()  # (B, 1)
        started = (n > 0)[:, None]  # (B, 1)

        p, k, e = self.switch[None, :], self.k[None, :], self.e[None, :]  # (1, nb)
        length = torch.from_numpy(_length_factor(self.rho, prefixes.shape[1], self.config))
        if self.mechanisms:
            steps = self._steps_loglik(clicks or self._clicks(prefixes), cats)
        else:
            steps = n_same * torch.log1p(-p + p / k) + torch.xlogy(n_change, p / k)
        log_w = (
            self.log_prior[None, :]
            + _log_choose(full - m, k - m - e)  # the other members of S among unvisited ones
            + torch.where(started, -torch.log(k) + steps, 0.0)
            + torch.log(length.T[n])
        )  # (B, nb)
        best = log_w.max(1, keepdim=True).values
        w = torch.exp(log_w - torch.where(torch.isfinite(best), best, 0.0))  # (B, nb)

        # Before the first click, the "next" category is the first: a forced switch into S.
        p_step = torch.where(started, p, 1.0)  # (B, nb)
        unvisited = torch.where(
            full - m > 0, p_step / k * (k - m - e).clamp(min=0) / (full - m).clamp(min=1), 0.0
        )  # P(next = one given non-empty unvisited category | branch)
        stay = 1 - p_step  # extra mass on the last category
        visited_extra = p_step / k - unvisited  # extra mass on every visited category
        mass = stay + visited_extra * m + unvisited * full  # (B, nb) P(next exists | branch)
        joint = w * mass  # (B, nb)
        total = joint.sum(1, keepdim=True)  # (B, 1)

        last = torch.zeros(prefixes.shape[0], n_cats + 1, dtype=torch.float64)
        last.scatter_(1, cats[:, -1:], 1.0)
        next_cat = (
            (w * stay).sum(1, keepdim=True) * last[:, :n_cats]
            + (w * visited_extra).sum(1, keepdim=True) * visited
            + (w * unvisited).sum(1, keepdim=True) * self.nonempty
        )  # (B, N)
        behaviour = torch.zeros(prefixes.shape[0], 3, dtype=torch.float64)
        behaviour.index_add_(1, self.behaviour, joint)
        # A prefix the config cannot produce (e.g. hand-typed) falls back to the prior.
        possible = total > 0
        safe = torch.where(possible, total, 1.0)
        prior = torch.tensor(self.config.behaviour_mix, dtype=torch.float64)[None, :]
        behaviour = torch.where(possible, behaviour / safe, prior)
        next_cat = torch.where(possible, next_cat / safe, self.nonempty / full)
        return behaviour, next_cat

    def _clicks(self, prefixes: torch.Tensor) -> _Clicks:
        """What the mechanisms read from left-padded prefixes."""
        valid = prefixes != PAD
        item = prefixes - 1  # (B, M), -1 at padding
        successor = torch.where(valid, self.successor[item.clamp(min=0)], NO_SUCCESSOR)
        n = valid.sum(1)  # (B,)
        first = item.gather(1, (prefixes.shape[1] - n).clamp(max=prefixes.shape[1] - 1)[:, None])
        return _Clicks(valid, item, successor, successor != NO_SUCCESSOR, n,
                       self.item_category[first.clamp(min=0)])  # first: (B, 1)

    def _repeat_weights(self, t: torch.Tensor) -> torch.Tensor:
        """sum_{d < t} decay^d: the normaliser of a repeat over t earlier clicks."""
        q = self.config.repeat_decay
        t = t.double()
        return t if q >= 1.0 else (1 - q**t) / (1 - q)

    def _steps_loglik(self, clicks: _Clicks, cats: torch.Tensor) -> torch.Tensor:
        """(B, nb) log-likelihood of every visible click after the first, per branch."""
        c = self.config
        b, width = clicks.item.shape
        col = torch.arange(width)
        step = clicks.valid.clone()
        step[:, 1:] &= clicks.valid[:, :-1]
        step[:, 0] = False  # (B, M) click t >= 1 of its session
        pop = self.popularity[clicks.item.clamp(min=0)]  # (B, M)
        same = torch.zeros_like(step)
        same[:, 1:] = cats[:, 1:] == cats[:, :-1]
        has_prev = torch.zeros_like(step)
        has_prev[:, 1:] = clicks.has_next[:, :-1]
        earlier = torch.zeros(b, width, dtype=torch.float64)  # recall candidates: clicks <= t-2
        earlier[:, 2:] = clicks.has_next.cumsum(1)[:, :-2].double()
        successor_hit = torch.zeros_like(step)
        successor_hit[:, 1:] = clicks.item[:, 1:] == clicks.successor[:, :-1]
        before = col[None, :] < col[:, None]  # (M, M) [j, i]: i < j
        recalled = (
            (clicks.successor[:, None, :] == clicks.item[:, :, None])
            & clicks.has_next[:, None, :] & (col[None, :] < col[:, None] - 1)
        ).sum(2).double()  # (B, M) earlier clicks (<= t-2) whose successor is click t
        decay = torch.where(before, c.repeat_decay ** (col[:, None] - 1 - col[None, :]).double(), 0.0)
        repeated = torch.where(
            (clicks.item[:, None, :] == clicks.item[:, :, None]) & clicks.valid[:, None, :],
            decay, 0.0,
        ).sum(2)  # (B, M) sum over earlier clicks i of the same item as click j: decay^(j-1-i)
        position = col[None, :] - (width - clicks.n[:, None])  # (B, M) t of each column
        repeat = repeated / self._repeat_weights(position.clamp(min=1))
        mechanisms = (
            c.anchor_return * pop * (cats == clicks.first_category)
            + c.successor_prob * successor_hit.double()
            + c.recall_prob * recalled / earlier.clamp(min=1)
            + c.repeat_prob * repeat
        )  # (B, M)
        move = 1 - c.anchor_return - c.repeat_prob - c.successor_prob * has_prev.double()
        move = (move - c.recall_prob * (earlier > 0).double()) * pop  # (B, M)
        p, k = self.switch[None, None, :], self.k[None, None, :]
        loglik = torch.log(
            mechanisms[..., None] + move[..., None] * ((1 - p) * same[..., None] + p / k)
        )  # (B, M, nb)
        return torch.where(step[..., None], loglik, 0.0).sum(1)

    def _next(
        self, prefixes: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """P(next item | prefix) in parts: (B, 3) P(behaviour), (B, N) the category-level part
        (times popularity), and (B, K) item indices with (B, K) probabilities to add to them
        (the item-level mechanisms; zero weight where an entry is unused)."""
        if not self.mechanisms:
            behaviour, move = self._posterior(prefixes)
            empty = torch.zeros(prefixes.shape[0], 0)
            return behaviour, move, empty.long(), empty.double()
        c = self.config
        clicks = self._clicks(prefixes)
        behaviour, move = self._posterior(prefixes, clicks)
        width = prefixes.shape[1]
        started = clicks.n > 0
        has_last = clicks.has_next[:, -1]
        earlier = clicks.has_next[:, :-1].sum(1)  # recall candidates: all but the latest click
        move_share = 1 - c.anchor_return - c.repeat_prob - c.successor_prob * has_last.double()
        move_share = torch.where(started, move_share - c.recall_prob * (earlier > 0).double(), 1.0)
        categories = move_share[:, None] * move  # (B, N)
        categories.scatter_add_(
            1, clicks.first_category, (c.anchor_return * started.double())[:, None]
        )
        recall = clicks.has_next.clone()
        recall[:, -1] = False
        steps_back = (width - 1 - torch.arange(width)).double()  # (M,)
        repeat = c.repeat_prob * c.repeat_decay ** steps_back[None, :] / self._repeat_weights(
            clicks.n.clamp(min=1)
        )[:, None]  # (B, M)
        index = torch.cat(
            [clicks.successor[:, -1:], clicks.successor, clicks.item], dim=1
        ).clamp(min=0)  # (B, 1 + 2M): successor of the last click, recall, repeat
        weight = torch.cat([
            c.successor_prob * has_last.double()[:, None],
            torch.where(recall, c.recall_prob / earlier.clamp(min=1).double()[:, None], 0.0),
            torch.where(clicks.valid, repeat, 0.0),
        ], dim=1)  # (B, 1 + 2M)
        return behaviour, categories, index, weight

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) P(next item | prefix): category probability times item popularity, plus
        the order mechanisms' item probabilities."""
        _, categories, index, weight = self._next(prefixes)
        return self.item_probs(categories).scatter_add_(1, index, weight)

    def rank(self, prefixes: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """(B,) 1-based rank of each target item under `score`, without the (B, n_items) matrix.

        Ties count against the target (as metrics.target_ranks), with scores within a relative
        1e-12 of the target's counted as ties. Outside the mechanisms' few items, an item scores
        q[category] * popularity, and popularity falls with the item index inside each category
        block, so the items of category c at or above a score v are a prefix of the block:
        one binary search per (row, category). The mechanisms' items are then recounted.
        """
        if self.block_key is None:
            scores = self.score(prefixes)
            return (scores >= scores.gather(1, targets[:, None])).sum(1)
        _, q, index, weight = self._next(prefixes)  # (B, N), (B, K), (B, K)
        n_items = self.item_category.shape[0]
        # The mechanisms' distinct items and their summed mass: sort, then sum runs of one item.
        index, order = torch.where(weight > 0, index, n_items).sort(1)
        run = torch.ones_like(index, dtype=torch.bool)
        run[:, 1:] = index[:, 1:] != index[:, :-1]
        run = run.cumsum(1) - 1  # (B, K) which run each entry is in
        extra = torch.zeros_like(weight).scatter_add_(1, run, weight.gather(1, order))  # (B, K)
        index = torch.full_like(index, n_items).scatter_(1, run, index)  # (B, K) run's item
        first = index < n_items  # a run that is a real item (entries past the last run: none)
        index = index.clamp(max=n_items - 1)
        target_extra = torch.where(first & (index == targets[:, None]), extra, 0.0).sum(1)  # (B,)
        category = self.item_category
        value = q.gather(1, category[targets][:, None])[:, 0] * self.popularity[targets]
        level = (value + target_extra) * (1 - 1e-12)  # (B,) what an item must reach to count
        # Items of category c above the level: popularity >= level / q_c, i.e. key <= c + 1 - that.
        query = torch.arange(q.shape[1], dtype=torch.float64) + 1 - level[:, None] / q  # (B, N)
        query = torch.where(q > 0, query, -math.inf)
        count = torch.searchsorted(self.block_key, query, right=True) - self.block_start
        dense = count.clamp(min=0).minimum(self.block_size).sum(1)  # (B,)
        # Recount the mechanisms' items by their full scores.
        base = q.gather(1, category[index]) * self.popularity[index]  # (B, K)
        counted = self.block_key[index] <= query.gather(1, category[index])
        full = (base + extra) >= level[:, None]
        rank = dense + ((full.long() - counted.long()) * first).sum(1)
        return torch.where(level > 0, rank, category.shape[0])  # an impossible target: last

    def item_probs(self, next_category: torch.Tensor) -> torch.Tensor:
        """(B, n_items) item probabilities from (B, N) next-category probabilities."""
        return next_category[:, self.item_category] * self.popularity[None, :]
