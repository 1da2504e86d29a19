"""Simulator: the reference engine reproduces the case study exactly; the fast engine
generates the same process (checked statistically against the reference)."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from streamrec.config import SimConfig
from streamrec.data.columns import CLICK_COLUMNS
from streamrec.world.simulator import (
    BEHAVIOURS,
    COMPARISON,
    DEEP_DIVE,
    EXPLORER,
    dataset_stats,
    simulate,
)


def digest(data) -> str:
    """SHA-256 of int64 session lengths followed by int64 item ids (the fixtures' format)."""
    lengths, items = data.lengths.astype(np.int64), data.items.astype(np.int64)
    return hashlib.sha256(lengths.tobytes() + items.tobytes()).hexdigest()


@pytest.fixture(scope="module")
def reference():
    return simulate(SimConfig(engine="reference"))


@pytest.fixture(scope="module")
def fast():
    return simulate(SimConfig(engine="fast", seed=7))


def test_reference_reproduces_case_study_default(reference):
    assert reference.n_sessions == 20_000
    assert reference.n_clicks == 388_307
    assert reference.session(0)[:5].tolist() == [302, 310, 365, 268, 4525]
    assert digest(reference) == "a8f895aaa4b92e597e50207dfe52afecd870b5cfd1cc8d174f5d14a8573ff355"


def test_reference_reproduces_small_fixture():
    data = simulate(SimConfig(n_sessions=500, n_items=300, n_categories=7, seed=0, engine="reference"))
    assert data.n_clicks == 9_693
    assert digest(data) == "2029a8c9cd8e424d229b8f603e321b107ec1122bb28fe7fae1163d32368a9c5e"


def test_engines_are_deterministic_and_seed_sensitive():
    small = SimConfig(n_sessions=300, n_items=200, n_categories=6)
    assert digest(simulate(small)) == digest(simulate(small))
    other = SimConfig(n_sessions=300, n_items=200, n_categories=6, seed=43)
    assert digest(simulate(small)) != digest(simulate(other))


def _stay_rates(data) -> np.ndarray:
    """P(next click in the same category) per behaviour."""
    cats = data.catalog.item_category[data.items]
    same = cats[1:] == cats[:-1]
    session_of = np.repeat(np.arange(data.n_sessions), data.lengths)
    inner = session_of[1:] == session_of[:-1]
    behaviour = data.behaviour[session_of[1:]]
    return np.array([same[inner & (behaviour == b)].mean() for b in range(3)])


def test_fast_matches_reference_statistically(reference, fast):
    # 20,000 sessions each: a share's standard error is <= 0.0035, so 0.02 is ~4 SE of the
    # difference; a mean length's SE is 0.06, so 0.3 is ~3.5 SE.
    assert abs(reference.lengths.mean() - fast.lengths.mean()) < 0.3
    assert reference.lengths.min() == fast.lengths.min() == 5
    assert reference.lengths.max() == fast.lengths.max() == 34
    mix_ref = np.bincount(reference.behaviour, minlength=3) / reference.n_sessions
    mix_fast = np.bincount(fast.behaviour, minlength=3) / fast.n_sessions
    assert np.abs(mix_ref - mix_fast).max() < 0.02
    assert np.abs(mix_fast - np.array([0.3, 0.5, 0.2])).max() < 0.02
    # Stay-in-category rate per behaviour: ~50k-190k transitions each, SE < 0.002.
    np.testing.assert_allclose(_stay_rates(reference), _stay_rates(fast), atol=0.01)
    # Categories are entered uniformly (sizes do not matter): visit shares ~ 1/25 each.
    for data in (reference, fast):
        shares = np.bincount(data.catalog.item_category[data.items], minlength=25) / data.n_clicks
        assert np.abs(shares - 1 / 25).max() < 0.01


def test_stay_rates_follow_the_switch_probabilities(fast):
    # Explorer: stays with 1 - p + p/N. Deep dive / comparison: 1 - p + p * E[1/k], k in 2..5.
    inv_k = np.mean([1 / k for k in range(2, 6)])
    expected = np.array([1 - 0.4 + 0.4 / 25, 1 - 0.15 + 0.15 * inv_k, 1 - 0.5 + 0.5 * inv_k])
    np.testing.assert_allclose(_stay_rates(fast), expected, atol=0.01)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_within_category_popularity_matches_truth(engine):
    data = simulate(SimConfig(n_sessions=4000, n_items=400, n_categories=5, engine=engine))
    counts = np.bincount(data.items, minlength=400).astype(float)
    cats = data.catalog.item_category
    for c in range(5):
        in_c = cats == c
        observed = counts[in_c] / counts[in_c].sum()
        # Total variation distance to the true Zipf weights; ~15k clicks per category.
        assert 0.5 * np.abs(observed - data.item_popularity[in_c]).sum() < 0.06


def test_hidden_truth_is_consistent(fast):
    cats = fast.catalog.item_category
    for s in range(200):
        visited = set(cats[fast.session(s)].tolist())
        preferred = set(fast.preferred_categories(s).tolist())
        assert 2 <= len(preferred) <= 5
        if fast.behaviour[s] in (DEEP_DIVE, COMPARISON):
            assert visited <= preferred
        else:
            assert fast.behaviour[s] == EXPLORER
            assert cats[fast.session(s)[0]] in preferred


def test_popularity_is_zipf_within_each_category(reference):
    sizes = reference.catalog.category_sizes
    assert sizes.sum() == 5000
    first = reference.item_popularity[:sizes[0]]
    np.testing.assert_allclose(first[0] / first[1], 2**0.8)
    assert first.sum() == pytest.approx(1.0)


def test_empty_categories_end_sessions_in_both_engines():
    # 30 categories over 31 items: the Dirichlet rounding leaves some categories empty.
    for engine in ("fast", "reference"):
        data = simulate(SimConfig(n_sessions=400, n_items=31, n_categories=30, seed=3,
                                  category_concentration=0.2, engine=engine))
        assert (data.catalog.category_sizes == 0).any()
        assert (data.lengths >= 3).all()
        clicked = np.unique(data.catalog.item_category[data.items])
        assert (data.catalog.category_sizes[clicked] > 0).all()


def test_to_frame_and_stats(fast):
    frame = fast.to_frame()
    assert tuple(frame.columns) == (*CLICK_COLUMNS, "cause", "cause_position")
    assert len(frame) == fast.n_clicks
    assert frame.groupby("session_id")["position"].max().add(1).tolist()[:5] == fast.lengths[:5].tolist()
    stats = dataset_stats(fast)
    assert stats["clicks"] == fast.n_clicks
    assert stats["prediction_targets"] == fast.n_clicks - fast.n_sessions
    assert sum(stats[f"share_{b}"] for b in BEHAVIOURS) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"n_items": 5, "n_categories": 10, "min_preferred": 1, "max_preferred": 2}, "n_items"),
        ({"explorer_switch": 1.5}, "explorer_switch"),
        ({"deep_dive_switch": -0.1}, "deep_dive_switch"),
        ({"explorer_share": 0.0, "deep_dive_share": 0.0, "comparison_share": 0.0}, "behaviour mix"),
        ({"min_session_length": 10, "max_session_length": 5}, "min_session_length"),
        ({"min_preferred": 4, "max_preferred": 3}, "min_preferred"),
        ({"max_preferred": 30}, "max_preferred"),
        ({"n_sessions": 2_000_000, "max_session_length": 5000}, "n_sessions"),
        ({"engine": "turbo"}, "engine"),
        ({"n_sessions": 0}, "n_sessions"),
        ({"popularity_exponent": float("nan")}, "popularity_exponent"),
    ],
)
def test_bad_configs_raise_naming_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        simulate(SimConfig(**changes))


@pytest.mark.parametrize(("n_users", "n_items", "n_categories", "seed"), [(300, 200, 6, 11), (200, 40, 12, 3)])
def test_reference_equals_the_case_study_code(n_users, n_items, n_categories, seed):
    """Draw for draw against the case study's generator kept verbatim in benchmarks/."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from casestudy_generator import generate_realistic_sessions

    sessions, item_to_category = generate_realistic_sessions(n_users, n_items, n_categories, seed)
    data = simulate(SimConfig(n_sessions=n_users, n_items=n_items, n_categories=n_categories,
                              seed=seed, engine="reference"))
    assert data.n_sessions == len(sessions)
    assert data.items.tolist() == [int(i) for s in sessions for i in s]
    for item, cat in item_to_category.items():
        assert data.item_category[item] == cat
