"""The Bayes-optimal oracle: hand-checked posteriors, Monte Carlo agreement, nothing above it."""
from __future__ import annotations

import functools
import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
import torch

from streamrec.config import SimConfig, TrainConfig
from streamrec.data.splits import (
    all_targets,
    make_split,
    prefix_matrix,
    target_items,
    tokens_from_items,
)
from streamrec.evaluation.baselines import Oracle, default_scorers, evaluate_scorer
from streamrec.evaluation.metrics import standard_error
from streamrec.world.simulator import Catalog, SessionData, simulate

# Three categories of two items each; item 2c is the popular one of category c.
POPULARITY = np.array([0.75, 0.25, 0.6, 0.4, 0.5, 0.5])
HAND = SimConfig(
    n_items=6,
    n_categories=3,
    explorer_share=0.5,
    deep_dive_share=0.5,
    comparison_share=0.0,
    explorer_switch=0.5,
    deep_dive_switch=0.5,
    min_preferred=2,
    max_preferred=2,
)


def hand_oracle(config: SimConfig = HAND) -> Oracle:
    """An oracle on a hand-made three-category catalog (the sessions themselves are unused)."""
    catalog = Catalog(np.array([0, 0, 1, 1, 2, 2]), POPULARITY, np.array([2, 2, 2]))
    data = SessionData(
        items=np.zeros(0, np.int64),
        offsets=np.zeros(1, np.int64),
        catalog=catalog,
        behaviour=np.zeros(0, np.int8),
        preferred=np.zeros((0, 3), bool),
        config=config,
    )
    return Oracle().fit(data, None)


def categories_to_prefix(categories: list[int], max_len: int = 5) -> torch.Tensor:
    """(1, max_len) tokens whose clicks have the given categories (first item of each)."""
    return torch.from_numpy(tokens_from_items([2 * c for c in categories], max_len))


def as_float(*values: Fraction) -> list[float]:
    return [float(v) for v in values]


# Hand derivations (N = 3, p = 1/2 for both behaviours, |S| = 2, P(E) = P(D) = 1/2):
# explorer weight P(E) (1/N) (1 - p + p/N)^same (p/N)^change, next: last 2/3, other 1/6 each;
# deep-dive weight P(D) C(N-m, k-m)/C(N, k) (1/k) (1 - p + p/k)^same (p/k)^change,
# next: last 3/4, other visited 1/4, unvisited (p/k)(k-m)/(N-m).
F = Fraction


@pytest.mark.parametrize(
    "categories, behaviour, next_category",
    [
        # [0]: E 1/2 * 1/3 = 1/6; D 1/2 * 2/3 * 1/2 = 1/6. D next: 3/4, 1/8, 1/8.
        ([0], (F(1, 2), F(1, 2)), (F(17, 24), F(7, 48), F(7, 48))),
        # [0, 1]: E 1/2 * 1/3 * 1/6 = 1/36; D 1/2 * 1/3 * 1/2 * 1/4 = 1/48: 4 : 3.
        # S = {0, 1} under deep dive, so category 2 is reachable only by an explorer.
        ([0, 1], (F(4, 7), F(3, 7)), (F(17, 84), F(59, 84), F(8, 84))),
        # [0, 0, 1]: E 1/36 * 2/3 = 1/54; D 1/48 * 3/4 = 1/64: 32 : 27.
        ([0, 0, 1], (F(32, 59), F(27, 59)), (F(145, 708), F(499, 708), F(64, 708))),
    ],
)
def test_posterior_by_hand(categories, behaviour, next_category):
    oracle = hand_oracle()
    behaviour_probs, next_probs = oracle.posterior(categories_to_prefix(categories))
    expected_behaviour = torch.tensor([as_float(*behaviour) + [0.0]], dtype=torch.float64)
    torch.testing.assert_close(behaviour_probs, expected_behaviour, rtol=1e-12, atol=1e-15)
    expected_next = torch.tensor([as_float(*next_category)], dtype=torch.float64)
    torch.testing.assert_close(next_probs, expected_next, rtol=1e-12, atol=1e-15)
    # Item probabilities: category probability times within-category popularity.
    scores = oracle.score(categories_to_prefix(categories))
    torch.testing.assert_close(
        scores[0], expected_next[0, [0, 0, 1, 1, 2, 2]] * torch.from_numpy(POPULARITY)
    )


def test_deep_dive_alone_never_leaves_the_two_visited_categories():
    config = replace(HAND, explorer_share=0.0)
    _, next_probs = hand_oracle(config).posterior(categories_to_prefix([2, 0, 0]))
    # m = k = 2: S = {0, 2}. Last category 0 keeps 1 - p + p/k = 3/4.
    torch.testing.assert_close(
        next_probs, torch.tensor([[0.75, 0.0, 0.25]], dtype=torch.float64), rtol=0, atol=1e-15
    )


def test_a_window_reads_like_a_session_start_without_empty_categories():
    oracle = hand_oracle()
    # The same three clicks as a full window (max_len 3: the session may have started earlier)
    # and as a whole session (max_len 5).
    window = oracle.posterior(categories_to_prefix([1, 1, 0], max_len=3))
    start = oracle.posterior(categories_to_prefix([1, 1, 0], max_len=5))
    for a, b in zip(window, start):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=0)


def test_empty_and_impossible_prefixes_fall_back_to_the_prior():
    config = replace(HAND, explorer_share=0.0)
    behaviour, next_probs = hand_oracle(config).posterior(
        torch.cat([categories_to_prefix([]), categories_to_prefix([0, 1, 2])])
    )
    # Before any click: the prior mix, and by symmetry every category alike. A deep diver
    # with |S| = 2 cannot visit three categories: the prior again.
    expected_behaviour = torch.tensor([[0.0, 1.0, 0.0]] * 2, dtype=torch.float64)
    torch.testing.assert_close(behaviour, expected_behaviour, rtol=0, atol=1e-15)
    torch.testing.assert_close(next_probs, torch.full((2, 3), 1 / 3, dtype=torch.float64))


# Monte Carlo: simulate() many short sessions and compare the oracle with the empirical next
# category and behaviour among targets whose visible prefix has the same category sequence.
MC_CONFIGS = {
    # Default switch probabilities and behaviour mix, no empty category.
    "no-empty": SimConfig(
        n_sessions=150_000, n_items=60, n_categories=6, seed=1, min_session_length=3,
        max_session_length=7, min_preferred=2, max_preferred=4,
    ),
    # Seed 23 gives sizes [9, 0, 8, 0, 10, 3]: two empty categories end sessions, which
    # reweighs behaviours by survival. High switch rates make that effect large.
    "two-empty": SimConfig(
        n_sessions=300_000, n_items=30, n_categories=6, category_concentration=0.4, seed=23,
        explorer_switch=0.9, deep_dive_switch=0.5, comparison_switch=0.9, min_kept_length=4,
        min_session_length=3, max_session_length=7, min_preferred=2, max_preferred=4,
    ),
}
MIN_GROUP = 500  # targets per category sequence before its frequencies are compared
MAX_Z = 4.5  # over a few hundred cells, P(|z| > 4.5 anywhere) is about 0.3% under the oracle


def clustered_z(session: np.ndarray, group: np.ndarray, outcome: np.ndarray, probs: np.ndarray):
    """(G, C) z-scores of observed minus predicted counts, robust to sessions giving many targets.

    A session contributes several windows to the same table, so its targets are not
    independent; the variance is summed over sessions (clusters) instead of targets.
    """
    n_groups, n_out = probs.shape
    residual = np.eye(n_out)[outcome] - probs[group]  # (N, C)
    keys, inverse = np.unique(session * n_groups + group, return_inverse=True)
    per_session = np.zeros((keys.shape[0], n_out))
    np.add.at(per_session, inverse, residual)
    total = np.zeros((n_groups, n_out))
    variance = np.zeros((n_groups, n_out))
    np.add.at(total, keys % n_groups, per_session)
    np.add.at(variance, keys % n_groups, per_session**2)
    return np.where(variance > 0, total / np.sqrt(np.where(variance > 0, variance, 1)), 0.0)


@functools.cache
def simulated(name: str) -> SessionData:
    return simulate(MC_CONFIGS[name])


@pytest.mark.parametrize("name", list(MC_CONFIGS))
@pytest.mark.parametrize("max_len", [3, 2])  # 3: mostly whole sessions; 2: mostly windows
def test_posterior_matches_monte_carlo(name, max_len):
    data = simulated(name)
    assert (data.catalog.category_sizes == 0).sum() == {"no-empty": 0, "two-empty": 2}[name]
    oracle = Oracle().fit(data, None)
    targets = all_targets(data)
    tokens = prefix_matrix(data, targets, max_len)
    categories = np.where(tokens > 0, data.item_category[np.maximum(tokens - 1, 0)], -1)
    code = (categories + 1) @ (data.catalog.n_categories + 1) ** np.arange(max_len)  # (N,)
    _, first, group = np.unique(code, return_index=True, return_inverse=True)
    # group: (N,) which category sequence each target's prefix shows
    posterior = oracle.posterior(torch.from_numpy(tokens[first]))
    behaviour, next_category = (p.numpy() for p in posterior)  # (G, 3), (G, N)
    observed = data.item_category[target_items(data, targets)]

    counts = np.zeros_like(next_category)
    np.add.at(counts, (group, observed), 1)
    assert (counts[next_category == 0] == 0).all()  # nothing happens that the oracle rules out
    big = np.bincount(group) >= MIN_GROUP
    assert big.sum() >= 10
    z_next = clustered_z(targets.session, group, observed, next_category)[big]
    z_behaviour = clustered_z(
        targets.session, group, data.behaviour[targets.session], behaviour
    )[big]
    assert np.abs(z_next).max() < MAX_Z
    assert np.abs(z_behaviour).max() < MAX_Z


def test_probabilities_sum_to_one_and_skip_empty_categories():
    data = simulate(replace(MC_CONFIGS["two-empty"], n_sessions=500))
    targets = all_targets(data)
    scores = Oracle().fit(data, None).score(torch.from_numpy(prefix_matrix(data, targets, 4)))
    torch.testing.assert_close(scores.sum(1), torch.ones(len(targets), dtype=torch.float64))
    empty = np.flatnonzero(data.catalog.category_sizes == 0)
    assert (scores[:, torch.from_numpy(np.isin(data.item_category, empty))] == 0).all()


def no_baseline_above_oracle(config: SimConfig) -> dict[str, tuple[float, float]]:
    """Hit@10 and its standard error per scorer, on the session protocol's report targets."""
    data = simulate(config)
    split = make_split(data, TrainConfig())
    out = {}
    for scorer in default_scorers():
        _, ranks = evaluate_scorer(scorer.fit(data, split.train), data, split.report, 25)
        out[scorer.name] = ((ranks <= 10).mean(), standard_error(ranks, 10))
    oracle_hit, oracle_se = out.pop(Oracle.name)
    for name, (hit, se) in out.items():
        # Three standard errors of the difference, treating the two estimates as independent
        # (they share targets, so the true error of the difference is smaller: conservative).
        margin = 3 * math.sqrt(oracle_se**2 + se**2)
        assert hit <= oracle_hit + margin, (name, hit, oracle_hit, margin)
    return out


def test_no_baseline_beats_the_oracle_on_a_small_catalog():
    no_baseline_above_oracle(SimConfig(n_sessions=3000, n_items=1000, n_categories=10))


@pytest.mark.slow
def test_no_baseline_beats_the_oracle_on_the_case_study_config():
    no_baseline_above_oracle(SimConfig())
