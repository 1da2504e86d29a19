"""The oracle under the order mechanisms: equal to brute-force enumeration of the hidden state,
in agreement with Monte Carlo draws of the simulator, and above every baseline."""
from __future__ import annotations

import functools
import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from streamrec.config import SimConfig, TrainConfig
from streamrec.data.sessions import NO_SUCCESSOR, Catalog, SessionData
from streamrec.data.splits import (
    all_targets,
    make_split,
    prefix_matrix,
    target_items,
    tokens_from_items,
)
from streamrec.evaluation.baselines import Oracle, default_scorers, evaluate_scorer
from streamrec.evaluation.metrics import standard_error, target_ranks
from streamrec.world.scenarios import SCENARIOS
from streamrec.world.simulator import simulate

# Three categories: items 0-2, 3-4, 5-6. Chains 0 -> 1 -> 2 and 5 -> 6; item 3, 4 stand alone.
CATEGORY = np.array([0, 0, 0, 1, 1, 2, 2])
POPULARITY = np.array([0.5, 0.3, 0.2, 0.6, 0.4, 0.7, 0.3])
SUCCESSOR = np.array([1, 2, NO_SUCCESSOR, NO_SUCCESSOR, NO_SUCCESSOR, 6, NO_SUCCESSOR])
HAND = SimConfig(
    n_items=7, n_categories=3, explorer_share=0.3, deep_dive_share=0.5, comparison_share=0.2,
    min_preferred=1, max_preferred=2, anchor_return=0.1, successor_prob=0.3, recall_prob=0.15,
    repeat_prob=0.2, repeat_decay=0.5,
)


def hand_oracle(config: SimConfig = HAND) -> Oracle:
    catalog = Catalog(CATEGORY, POPULARITY, np.array([3, 2, 2]), SUCCESSOR)
    data = SessionData(np.zeros(0, np.int64), np.zeros(1, np.int64), catalog,
                       np.zeros(0, np.int8), np.zeros((0, 3), bool), config)
    return Oracle().fit(data, None)


def step_probs(config: SimConfig, history: list[int], behaviour: int, preferred: tuple) -> np.ndarray:
    """P(next item | history, behaviour, preferred set), straight from the generative story."""
    y = np.arange(len(CATEGORY))
    last = history[-1]
    n_cats = len(set(CATEGORY.tolist()))
    p = config.switch_probs[behaviour]
    if behaviour == 0:  # explorer: a switch goes to any category
        target = np.full(n_cats, 1 / n_cats)
    else:
        target = np.isin(np.arange(n_cats), preferred) / len(preferred)
    move_cat = (1 - p) * (np.arange(n_cats) == CATEGORY[last]) + p * target
    probs = np.zeros(len(y))
    has_next = SUCCESSOR[last] != NO_SUCCESSOR
    candidates = [SUCCESSOR[i] for i in history[:-1] if SUCCESSOR[i] != NO_SUCCESSOR]
    move = 1 - config.anchor_return - config.repeat_prob
    move -= config.successor_prob * has_next + config.recall_prob * bool(candidates)
    probs += move * move_cat[CATEGORY] * POPULARITY
    probs += config.anchor_return * (CATEGORY == CATEGORY[history[0]]) * POPULARITY
    if has_next:
        probs[SUCCESSOR[last]] += config.successor_prob
    for item in candidates:
        probs[item] += config.recall_prob / len(candidates)
    weights = config.repeat_decay ** np.arange(len(history))[::-1]
    for item, weight in zip(history, weights / weights.sum()):
        probs[item] += config.repeat_prob * weight
    return probs


def brute_force(config: SimConfig, session: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(3,) P(behaviour | session), (n_items,) P(next | session), enumerating every preferred set."""
    n_cats = 3
    joint_b, joint_next = np.zeros(3), np.zeros(len(CATEGORY))
    sizes = range(config.min_preferred, config.max_preferred + 1)
    for b, share in enumerate(config.behaviour_mix):
        for k in sizes:
            for preferred in itertools.combinations(range(n_cats), k):
                w = share / len(sizes) / math.comb(n_cats, k)
                w *= (CATEGORY[session[0]] in preferred) / k * POPULARITY[session[0]]
                for t in range(1, len(session)):
                    w *= step_probs(config, session[:t], b, preferred)[session[t]]
                joint_b[b] += w
                joint_next += w * step_probs(config, session, b, preferred)
    return joint_b / joint_b.sum(), joint_next / joint_b.sum()


@pytest.mark.parametrize("session", [[0], [0, 1], [0, 1, 5, 3], [3, 5, 6, 0, 3], [5, 5, 6, 1]])
@pytest.mark.parametrize(
    "changes",
    [{}, {"anchor_return": 0.6, "successor_prob": 0, "recall_prob": 0, "repeat_prob": 0},
     {"repeat_decay": 1.0}, {"explorer_share": 0.0, "max_preferred": 3}],
)
def test_equals_brute_force_enumeration(session, changes):
    config = replace(HAND, **changes)
    behaviour, next_category, next_item = hand_oracle(config).predict(
        torch.from_numpy(tokens_from_items(session, 6))
    )
    expected_behaviour, expected_next = brute_force(config, session)
    np.testing.assert_allclose(behaviour[0].numpy(), expected_behaviour, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(next_item[0].numpy(), expected_next, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(
        next_category[0].numpy(), np.bincount(CATEGORY, expected_next), rtol=1e-10, atol=1e-14
    )


def test_exact_only_for_windows_covering_whole_sessions():
    oracle = hand_oracle()
    assert oracle.exact_for(HAND.max_session_length)
    assert not oracle.exact_for(HAND.max_session_length - 1)
    assert hand_oracle(replace(HAND, anchor_return=0, successor_prob=0, recall_prob=0,
                               repeat_prob=0)).exact_for(2)


# Monte Carlo: small worlds, one mechanism at a time and all together. Whole sessions are seen
# (max_len = the longest session), where the oracle is exact.
SMALL = SimConfig(n_sessions=30_000, n_items=40, n_categories=4, seed=5, min_session_length=3,
                  max_session_length=8, min_preferred=2, max_preferred=3)
MC_CONFIGS = {
    "anchor": replace(SMALL, anchor_return=0.4),
    "successor": replace(SMALL, successor_prob=0.5),
    "recall": replace(SMALL, recall_prob=0.4),
    "repeat": replace(SMALL, repeat_prob=0.4, repeat_decay=0.4),
    "all": replace(SMALL, anchor_return=0.15, successor_prob=0.25, recall_prob=0.15,
                   repeat_prob=0.2, repeat_decay=0.7),
}
MAX_Z = 4.5  # ~60 cells per world: P(|z| > 4.5 anywhere) is below 0.1% under the oracle
POSITION_GROUPS = np.array([0, 0, 1, 2, 2, 3, 3, 3, 3] + [3] * 200)  # t = 1 | 2 | 3-4 | 5+
FEATURES = ("last item", "successor of last", "an earlier item", "successor of an earlier item",
            "anchor's category", "last click's category", "a new category", "oracle's top 1",
            "oracle's top 10")


def feature_masks(data: SessionData, prefixes: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """(F, B, n_items) which candidate next items have each feature, given the prefix."""
    b, n_items = probs.shape
    item = prefixes - 1
    valid = prefixes > 0
    category = torch.from_numpy(data.item_category)
    successor = torch.from_numpy(
        data.catalog.successor if data.catalog.successor is not None
        else np.full(n_items, NO_SUCCESSOR)
    )

    def one_hot(index: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(b, n_items + 1, dtype=torch.bool)
        out.scatter_(1, torch.where(keep, index, n_items), True)
        return out[:, :n_items]

    cats = torch.where(valid, category[item.clamp(min=0)], -1)
    succ = torch.where(valid, successor[item.clamp(min=0)], NO_SUCCESSOR)
    earlier_valid = valid.clone()
    earlier_valid[:, -1] = False
    first = cats.gather(1, (prefixes.shape[1] - valid.sum(1, keepdim=True)))
    visited = torch.zeros(b, data.catalog.n_categories + 1, dtype=torch.bool)
    visited.scatter_(1, cats % (data.catalog.n_categories + 1), True)
    rank = probs.argsort(1, descending=True).argsort(1)
    return torch.stack([
        one_hot(item[:, -1:], valid[:, -1:]),
        one_hot(succ[:, -1:], succ[:, -1:] != NO_SUCCESSOR),
        one_hot(item, earlier_valid),
        one_hot(succ, earlier_valid & (succ != NO_SUCCESSOR)),
        category[None, :] == first,
        category[None, :] == cats[:, -1:],
        ~visited[:, category],
        rank < 1,
        rank < 10,
    ])


def agreement_z(data: SessionData, oracle: Oracle, max_len: int, limit: int = 60_000):
    """(features, position groups) clustered z of observed minus predicted feature counts."""
    targets = all_targets(data)
    targets = targets.take(np.arange(min(limit, len(targets))))
    n_groups = POSITION_GROUPS.max() + 1
    keys = targets.session * n_groups + POSITION_GROUPS[targets.position - 1]
    residual = np.zeros((len(FEATURES), len(targets)))
    for start in range(0, len(targets), 4096):
        part = targets.take(np.arange(start, min(start + 4096, len(targets))))
        prefixes = torch.from_numpy(prefix_matrix(data, part, max_len))
        probs = oracle.score(prefixes)
        masks = feature_masks(data, prefixes, probs)  # (F, B, n_items)
        observed = masks[:, torch.arange(len(part)), torch.from_numpy(target_items(data, part))]
        predicted = (masks.double() * probs[None]).sum(2)
        residual[:, start : start + len(part)] = (observed.double() - predicted).numpy()
    cluster, inverse = np.unique(keys, return_inverse=True)
    per_cluster = np.zeros((len(FEATURES), cluster.shape[0]))
    for f in range(len(FEATURES)):
        per_cluster[f] = np.bincount(inverse, residual[f], minlength=cluster.shape[0])
    group = cluster % n_groups
    total = np.stack([np.bincount(group, row, minlength=n_groups) for row in per_cluster])
    variance = np.stack([np.bincount(group, row**2, minlength=n_groups) for row in per_cluster])
    return total / np.sqrt(np.maximum(variance, 1e-12))


@functools.cache
def simulated(name: str) -> SessionData:
    return simulate(MC_CONFIGS[name])


@pytest.mark.parametrize("name", list(MC_CONFIGS))
def test_next_item_agrees_with_monte_carlo(name):
    data = simulated(name)
    config = MC_CONFIGS[name]
    z = agreement_z(data, Oracle().fit(data, None), config.max_session_length)
    assert np.abs(z).max() < MAX_Z, dict(zip(FEATURES, np.abs(z).max(1).round(1)))


@pytest.mark.parametrize("name, wrong", [("repeat", {"repeat_decay": 0.9}),
                                         ("successor", {"successor_prob": 0.35}),
                                         ("anchor", {"anchor_return": 0.25})])
def test_monte_carlo_check_catches_a_wrong_parameter(name, wrong):
    data = simulated(name)
    wrong_data = replace(data, config=replace(data.config, **wrong))
    z = agreement_z(wrong_data, Oracle().fit(wrong_data, None), SMALL.max_session_length)
    assert np.abs(z).max() > MAX_Z


def no_baseline_above_oracle(config: SimConfig, max_len: int) -> dict[str, tuple[float, float]]:
    """Hit@10 and its standard error per scorer; asserts the oracle is not beaten beyond 3 SE."""
    data = simulate(config)
    split = make_split(data, TrainConfig())
    out = {}
    for scorer in default_scorers():
        _, ranks = evaluate_scorer(scorer.fit(data, split.train), data, split.report, max_len)
        out[scorer.name] = ((ranks <= 10).mean(), standard_error(ranks, 10))
    oracle_hit, oracle_se = out.pop(Oracle.name)
    for name, (hit, se) in out.items():
        assert hit <= oracle_hit + 3 * math.sqrt(oracle_se**2 + se**2), (name, hit, oracle_hit)
    return out


@pytest.mark.parametrize("name", list(MC_CONFIGS))
def test_no_baseline_beats_the_oracle(name):
    config = replace(MC_CONFIGS[name], n_sessions=3000, n_items=400, n_categories=8)
    no_baseline_above_oracle(config, config.max_session_length)


@pytest.mark.parametrize("name", ["all", "repeat", "plain"])
def test_rank_equals_ranking_the_full_scores(name):
    data = simulated("all") if name == "all" else simulate(
        replace(SMALL, n_sessions=1000, n_items=300, **({"repeat_prob": 0.5} if name == "repeat" else {}))
    )
    oracle = Oracle().fit(data, None)
    assert oracle.block_key is not None  # the simulator's catalogs take the binary-search path
    targets = all_targets(data).take(np.arange(2000))
    for max_len in (SMALL.max_session_length, 3):
        prefixes = torch.from_numpy(prefix_matrix(data, targets, max_len))
        items = torch.from_numpy(target_items(data, targets))
        expected = target_ranks(oracle.score(prefixes), items)
        torch.testing.assert_close(oracle.rank(prefixes, items).int(), expected, rtol=0, atol=0)
    # Every rank, not only those the sampled targets hit: each item of one prefix as target.
    prefix = prefixes[:1].expand(data.n_items, -1)
    every = torch.arange(data.n_items)
    torch.testing.assert_close(oracle.rank(prefix, every).int(),
                               target_ranks(oracle.score(prefix), every), rtol=0, atol=0)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_agrees_with_monte_carlo(name):
    """Each scenario's settings on a smaller catalog (the dense check scores every item)."""
    scenario = SCENARIOS[name]
    data = simulate(scenario.config(n_sessions=4000, n_items=300, n_categories=10))
    z = agreement_z(data, Oracle().fit(data, None), scenario.max_len, limit=25_000)
    assert np.abs(z).max() < MAX_Z, dict(zip(FEATURES, np.abs(z).max(1).round(1)))


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_baseline_beats_the_oracle_in_any_scenario(name):
    scenario = SCENARIOS[name]
    no_baseline_above_oracle(scenario.config(n_sessions=2500, n_items=1000), scenario.max_len)


def test_before_the_first_click_only_the_category_draw_counts():
    _, next_category, next_item = hand_oracle().predict(torch.from_numpy(tokens_from_items([], 6)))
    # The first category is uniform over S, so by symmetry over all three; no mechanism acts.
    np.testing.assert_allclose(next_category[0].numpy(), [1 / 3] * 3, rtol=1e-12)
    np.testing.assert_allclose(next_item[0].numpy(), POPULARITY / 3, rtol=1e-12)
