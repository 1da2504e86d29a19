"""The ideal explainer (streamrec.explain.ideal): equal to brute-force enumeration of the hidden
state and of every mechanism on tiny worlds, and calibrated against the recorded causes of
fresh simulator draws."""
from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from streamrec.config import SimConfig
from streamrec.data.sessions import CAUSES, NO_SUCCESSOR, Catalog, SessionData
from streamrec.data.splits import all_targets, tokens_from_items
from streamrec.explain.ideal import (
    ANCHOR,
    RECALL,
    REPEAT,
    STAY,
    SUCCESSOR,
    SWITCH,
    cause_posterior,
    fit_oracle,
    full_prefixes,
    ideal_attribution,
)
from streamrec.world.simulator import simulate

# Three categories: items 0-2, 3-4, 5-6. Chains 0 -> 1 -> 2 and 5 -> 6; items 3, 4 stand alone.
CATEGORY = np.array([0, 0, 0, 1, 1, 2, 2])
POPULARITY = np.array([0.5, 0.3, 0.2, 0.6, 0.4, 0.7, 0.3])
SUCCESSOR_OF = np.array([1, 2, NO_SUCCESSOR, NO_SUCCESSOR, NO_SUCCESSOR, 6, NO_SUCCESSOR])
HAND = SimConfig(
    n_items=7, n_categories=3, explorer_share=0.3, deep_dive_share=0.5, comparison_share=0.2,
    min_preferred=1, max_preferred=2, anchor_return=0.1, successor_prob=0.3, recall_prob=0.15,
    repeat_prob=0.2, repeat_decay=0.5,
)


def hand_data(config: SimConfig) -> SessionData:
    catalog = Catalog(CATEGORY, POPULARITY, np.array([3, 2, 2]), SUCCESSOR_OF)
    return SessionData(np.zeros(0, np.int64), np.zeros(1, np.int64), catalog,
                       np.zeros(0, np.int8), np.zeros((0, 3), bool), config)


def step_causes(config: SimConfig, history: list[int], behaviour: int, preferred: tuple) -> np.ndarray:
    """(len(CAUSES), len(history) + 1, n_items) P(mechanism m acting on click j draws item x |
    history, behaviour, preferred set), straight from the generative story; column
    len(history) holds the switch (no click)."""
    n_items, n_cats, t = len(CATEGORY), 3, len(history)
    out = np.zeros((len(CAUSES), t + 1, n_items))
    last = history[-1]
    p = config.switch_probs[behaviour]
    target = np.full(n_cats, 1 / n_cats) if behaviour == 0 else np.isin(np.arange(n_cats), preferred) / len(preferred)
    has_next = SUCCESSOR_OF[last] != NO_SUCCESSOR
    candidates = [j for j in range(t - 1) if SUCCESSOR_OF[history[j]] != NO_SUCCESSOR]
    move = 1 - config.anchor_return - config.repeat_prob
    move -= config.successor_prob * has_next + config.recall_prob * bool(candidates)
    out[STAY, t - 1] = move * (1 - p) * (CATEGORY == CATEGORY[last]) * POPULARITY
    out[SWITCH, t] = move * p * target[CATEGORY] * POPULARITY
    out[ANCHOR, 0] += config.anchor_return * (CATEGORY == CATEGORY[history[0]]) * POPULARITY
    if has_next:
        out[SUCCESSOR, t - 1, SUCCESSOR_OF[last]] += config.successor_prob
    for j in candidates:
        out[RECALL, j, SUCCESSOR_OF[history[j]]] += config.recall_prob / len(candidates)
    weights = config.repeat_decay ** np.arange(t)[::-1]
    for j, (item, weight) in enumerate(zip(history, weights / weights.sum())):
        out[REPEAT, j, item] += config.repeat_prob * weight
    return out


def brute_force(config: SimConfig, session: list[int], nxt: int) -> np.ndarray:
    """(len(CAUSES), len(session) + 1) P(cause | session, next), enumerating every hidden state."""
    joint = np.zeros((len(CAUSES), len(session) + 1))
    sizes = range(config.min_preferred, config.max_preferred + 1)
    for b, share in enumerate(config.behaviour_mix):
        for k in sizes:
            for preferred in itertools.combinations(range(3), k):
                w = share / len(sizes) / math.comb(3, k)
                w *= (CATEGORY[session[0]] in preferred) / k * POPULARITY[session[0]]
                for t in range(1, len(session)):
                    w *= step_causes(config, session[:t], b, preferred)[..., session[t]].sum()
                joint += w * step_causes(config, session, b, preferred)[..., nxt]
    return joint / joint.sum()


@pytest.mark.parametrize("session", [[0], [0, 1], [0, 1, 5, 3], [3, 5, 6, 0, 3], [5, 5, 6, 1]])
@pytest.mark.parametrize(
    "changes",
    [{}, {"anchor_return": 0.6, "successor_prob": 0, "recall_prob": 0, "repeat_prob": 0},
     {"repeat_decay": 1.0}, {"explorer_share": 0.0, "max_preferred": 3},
     {"anchor_return": 0, "successor_prob": 0, "recall_prob": 0, "repeat_prob": 0}],
)
def test_equals_brute_force_enumeration(session, changes):
    config = replace(HAND, **changes)
    oracle = fit_oracle(hand_data(config))
    width = 6
    prefixes = torch.from_numpy(np.repeat(tokens_from_items(session, width), len(CATEGORY), axis=0))
    post = cause_posterior(oracle, prefixes, torch.arange(len(CATEGORY)))
    _, _, items = oracle.predict(prefixes[:1])
    for nxt in range(len(CATEGORY)):
        if items[0, nxt] == 0:
            continue  # an impossible next click has no posterior
        expected = brute_force(config, session, nxt)
        got = post.joint[nxt, :, width - len(session):].numpy()
        np.testing.assert_allclose(got, expected[:, :-1], rtol=1e-9, atol=1e-13)
        assert post.switch[nxt].item() == pytest.approx(expected[SWITCH, -1], rel=1e-9, abs=1e-13)
        assert post.likelihood[nxt].item() == pytest.approx(items[0, nxt].item(), rel=1e-9)
        total = post.joint[nxt].sum() + post.switch[nxt]
        assert total.item() == pytest.approx(1.0, abs=1e-12)


def test_rejects_an_empty_prefix():
    oracle = fit_oracle(hand_data(HAND))
    with pytest.raises(ValueError, match="at least one click"):
        cause_posterior(oracle, torch.zeros(1, 3, dtype=torch.long), torch.tensor([0]))


# Monte Carlo: a small world with every mechanism on, sessions seen whole (the oracle is exact).
WORLD = SimConfig(n_sessions=20_000, n_items=40, n_categories=4, seed=11, min_session_length=3,
                  max_session_length=8, min_preferred=2, max_preferred=3, anchor_return=0.15,
                  successor_prob=0.25, recall_prob=0.15, repeat_prob=0.2, repeat_decay=0.6)
MAX_Z = 4.5  # ~20 bins and 7 mechanisms: P(|z| > 4.5 anywhere) is far below 0.1% if calibrated


@pytest.fixture(scope="module")
def draws() -> tuple[SessionData, np.ndarray, np.ndarray, np.ndarray]:
    data = simulate(WORLD)
    targets = all_targets(data)
    window = targets.position.copy()  # the whole prefix is the window
    clicks, mechanisms = ideal_attribution(data, targets, window)
    flat = data.offsets[targets.session] + targets.position
    return data, clicks, mechanisms, flat, window


def test_click_attribution_is_calibrated_against_recorded_causes(draws):
    data, clicks, _, flat, window = draws
    cause_at = data.cause_position[flat]  # NO_CAUSE (-1) for a switch: no click is the cause
    inside = np.arange(clicks.shape[1])[None, :] < window[:, None]
    p = clicks[inside]
    hit = (np.arange(clicks.shape[1])[None, :] == cause_at[:, None])[inside]
    edges = np.linspace(0, 1, 11)
    checked = 0
    for lo, hi in itertools.pairwise(edges):
        chosen = (p > lo) & (p <= hi)
        if chosen.sum() < 200:
            continue
        expected, observed = p[chosen].mean(), hit[chosen].mean()
        se = math.sqrt(max(expected * (1 - expected), 1e-4) / chosen.sum())
        assert abs(observed - expected) < MAX_Z * se, (lo, hi, observed, expected, chosen.sum())
        checked += 1
    assert checked >= 6  # the posterior spreads over the whole range, so most bins are tested
    # The top choice names the recorded cause as often as the posterior says it will.
    top, best = clicks.argmax(1), clicks.max(1)
    observed = (top == cause_at).mean()
    se = math.sqrt((best * (1 - best)).sum()) / len(best)
    assert abs(observed - best.mean()) < MAX_Z * se, (observed, best.mean())


def test_mechanism_posterior_is_calibrated(draws):
    data, _, mechanisms, flat, _ = draws
    recorded = data.cause[flat]
    for m, name in enumerate(CAUSES):
        if name == "first":
            continue
        expected = mechanisms[:, m].mean()
        observed = (recorded == m).mean()
        se = math.sqrt((mechanisms[:, m] * (1 - mechanisms[:, m])).sum()) / len(recorded)
        assert abs(observed - expected) < MAX_Z * se + 1e-9, (name, observed, expected)


def test_full_prefixes_start_at_the_session_start():
    data = simulate(replace(WORLD, n_sessions=50))
    targets = all_targets(data)
    prefixes = full_prefixes(data, targets)
    for row in (0, 5, len(targets) - 1):
        s, t = targets.session[row], targets.position[row]
        clicks = prefixes[row][prefixes[row] > 0] - 1
        np.testing.assert_array_equal(clicks, data.items[data.offsets[s]:data.offsets[s] + t])


def test_the_faithfulness_table_measures_every_explainer_against_the_ideal(draws):
    from streamrec.config import LSTMConfig
    from streamrec.explain import faithfulness as fa
    from streamrec.model import build_model

    data = draws[0]
    torch.manual_seed(0)
    model = build_model(LSTMConfig(n_items=WORLD.n_items, embed_dim=6, hidden_size=8,
                                   num_layers=1, item_skip=True, copy=True))
    result = fa.measure_faithfulness(model, data, all_targets(data), WORLD.max_session_length, 400)
    assert set(result.methods) == set(fa.METHODS)  # the LSTM has every explainer
    assert result.share(fa.IDEAL, 1, column="of_ideal") == pytest.approx(1.0)
    best = result.share(fa.IDEAL, 1)
    se = math.sqrt(best * (1 - best) / result.n_sessions)
    for method in result.methods:  # no explainer beats the ideal over all targets beyond noise
        assert result.share(method, 1) <= best + 3 * se, method
        assert result.share(method, 1, column="of_ideal") == pytest.approx(result.share(method, 1) / best)
    table = fa.json_table(result)
    assert table["ideal"]["all"]["top1"] == pytest.approx(best, abs=1e-6)
    assert table["most_faithful"] in fa.MODEL_METHODS
