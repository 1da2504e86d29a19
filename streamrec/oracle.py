"""The Bayes-optimal oracle: exact P(next item | prefix) under the simulator's true parameters.

It is the ceiling no model can beat on average, and what the dashboard draws as "best
possible". It shares the baselines' scoring interface (fit, score) so the evaluator treats
it like any other method.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from streamrec.config import SimConfig
from streamrec.data import PAD, Targets
from streamrec.sessions import SessionData


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
        config, catalog = data.config, data.catalog
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
        return self

    def posterior(self, prefixes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3) P(behaviour | prefix) and (B, N) P(next click's category | prefix)."""
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
        log_w = (
            self.log_prior[None, :]
            + _log_choose(full - m, k - m - e)  # the other members of S among unvisited ones
            + torch.where(
                started,
                -torch.log(k) + n_same * torch.log1p(-p + p / k) + torch.xlogy(n_change, p / k),
                0.0,
            )
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

    def score(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) P(next item | prefix): category probability times item popularity."""
        _, next_cat = self.posterior(prefixes)
        return self.item_probs(next_cat)

    def item_probs(self, next_category: torch.Tensor) -> torch.Tensor:
        """(B, n_items) item probabilities from (B, N) next-category probabilities."""
        return next_category[:, self.item_category] * self.popularity[None, :]
