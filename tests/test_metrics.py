"""Ranking metrics: exact values on tiny hand-made score arrays."""
import math

import numpy as np
import pytest
import torch

from streamrec.evaluation.metrics import (
    mask_seen,
    metrics_from_ranks,
    paired_difference,
    paired_differences,
    ranks_from_batches,
    session_bootstrap,
    standard_error,
    target_ranks,
    time_to_reach,
)

SCORES = torch.tensor(
    [
        [0.1, 0.5, 0.3, 0.5],
        [0.1, 0.5, 0.3, 0.5],
        [0.1, 0.5, 0.3, 0.5],
        [0.2, 0.2, 0.2, 0.2],
    ]
)


def test_target_ranks_count_ties_against_the_target():
    ranks = target_ranks(SCORES, torch.tensor([1, 2, 0, 3]))
    # item 1 ties item 3 at the top: both rank 2; a constant row ranks every target last.
    assert ranks.tolist() == [2, 3, 4, 4]


def test_mask_seen_sets_prefix_items_to_minus_infinity_without_touching_the_input():
    prefixes = torch.tensor([[0, 0, 2], [3, 1, 0], [0, 0, 0], [4, 4, 0]])  # tokens = item + 1
    masked = mask_seen(SCORES, prefixes)
    inf = -math.inf
    expected = torch.tensor(
        [
            [0.1, inf, 0.3, 0.5],  # left-padded
            [inf, 0.5, inf, 0.5],  # right-padded
            [0.1, 0.5, 0.3, 0.5],  # empty prefix
            [0.2, 0.2, 0.2, inf],  # a repeated item
        ]
    )
    assert torch.equal(masked, expected)
    assert SCORES[0, 1] == 0.5


def test_metrics_from_ranks_by_hand():
    out = metrics_from_ranks(np.array([1, 2, 5, 11, 30]), cutoffs=(3, 10))
    expected = {
        "hit@3": 2 / 5,
        "mrr@3": (1 + 1 / 2) / 5,
        "ndcg@3": (1 + 1 / math.log2(3)) / 5,
        "hit@10": 3 / 5,
        "mrr@10": (1 + 1 / 2 + 1 / 5) / 5,
        "ndcg@10": (1 + 1 / math.log2(3) + 1 / math.log2(6)) / 5,
    }
    assert out.keys() == expected.keys()
    for key, value in expected.items():
        assert out[key] == pytest.approx(value, rel=1e-12), key


def test_metrics_from_ranks_of_no_targets_are_nan():
    out = metrics_from_ranks(np.zeros(0), cutoffs=(10, 20))
    assert sorted(out) == sorted(f"{m}@{k}" for m in ("hit", "mrr", "ndcg") for k in (10, 20))
    assert all(math.isnan(v) for v in out.values())


def test_ranks_from_batches_masks_only_where_prefixes_are_given():
    targets = torch.tensor([0, 2])
    prefixes = torch.tensor([[2], [4]])  # items 1 and 3 seen
    ranks = ranks_from_batches(
        [(SCORES[:2], targets, None), (SCORES[:2], targets, prefixes)]
    )
    # Unmasked: item 0 is last (4), item 2 third (3). Masked: one item above each is gone.
    assert ranks.tolist() == [4, 3, 3, 2]
    assert ranks_from_batches([]).shape == (0,)


def test_standard_error_is_binomial():
    assert standard_error(np.array([1, 20, 3, 50]), 10) == pytest.approx(math.sqrt(0.25 / 4))
    assert math.isnan(standard_error(np.array([1]), 10))


RANKS_A = np.array([1, 5, 12, 2])
RANKS_B = np.array([3, 11, 12, 1])


def test_paired_difference_of_hits_exact():
    # hits a = 1,1,0,1 and b = 1,0,0,1: differences 0,1,0,0, mean 1/4, sample SD 1/2, SE 1/4.
    out = paired_difference(RANKS_A, RANKS_B, "hit", 10)
    assert out == {"mean": 0.25, "se": pytest.approx(0.25), "n": 4}


def test_paired_difference_of_reciprocal_ranks_exact():
    diff = np.array([1 - 1 / 3, 1 / 5 - 1 / 11, 1 / 12 - 1 / 12, 1 / 2 - 1])
    out = paired_difference(RANKS_A, RANKS_B, "mrr", 20)
    assert out["mean"] == pytest.approx(diff.sum() / 4)
    sd = math.sqrt(((diff - diff.mean()) ** 2).sum() / 3)
    assert out["se"] == pytest.approx(sd / 2)
    # Beyond the cutoff a rank counts 0: at k = 10, b's 11 and both 12s drop out.
    assert paired_difference(RANKS_A, RANKS_B, "mrr", 10)["mean"] == pytest.approx(
        (diff[0] + 1 / 5 + diff[3]) / 4
    )


def test_paired_difference_is_antisymmetric_and_zero_on_itself():
    ab = paired_difference(RANKS_A, RANKS_B, "mrr", 20)
    ba = paired_difference(RANKS_B, RANKS_A, "mrr", 20)
    assert ab["mean"] == pytest.approx(-ba["mean"]) and ab["se"] == pytest.approx(ba["se"])
    assert paired_difference(RANKS_A, RANKS_A) == {"mean": 0.0, "se": 0.0, "n": 4}


def test_paired_difference_rejects_unpaired_targets_and_unknown_measures():
    with pytest.raises(ValueError, match="same targets"):
        paired_difference(RANKS_A, RANKS_B[:3])
    with pytest.raises(ValueError, match="measure = 'ndcg'"):
        paired_difference(RANKS_A, RANKS_B, "ndcg", 10)
    assert math.isnan(paired_difference(np.array([1]), np.array([2]))["se"])


def test_paired_differences_keys_every_other_method_and_measure():
    out = paired_differences(RANKS_A, {"B": RANKS_B, "A": RANKS_A})
    assert list(out) == ["B", "A"] and list(out["B"]) == ["hit@10", "hit@20", "mrr@20"]
    assert out["B"]["hit@10"]["mean"] == 0.25 and out["A"]["mrr@20"]["mean"] == 0.0


def test_session_bootstrap_is_exact_where_resampling_cannot_move_the_mean():
    # One session: every replicate is that session, so the interval is its mean exactly.
    assert session_bootstrap(np.array([1.0, 0.0, 0.5]), np.array([7, 7, 7])) == (0.5, 0.5)
    # Sessions of different sizes but one per-target mean each (1/2): any mix of them has
    # summed differences / summed counts = 1/2, so the interval collapses on it.
    diff = np.array([1.0, 0.0, 0.5, 0.0, 1.0, 1.0, 0.5, 0.0])
    lo, hi = session_bootstrap(diff, np.array([0, 0, 1, 2, 2, 3, 3, 3]))
    assert (lo, hi) == pytest.approx((0.5, 0.5))


def test_session_bootstrap_resamples_sessions_not_targets():
    # Two sessions, means 0 (one target) and 1 (three targets): a replicate draws each session
    # 0, 1 or 2 times; its mean is 0 (both draws the first), 1 (both the second) or 3/4 (one
    # of each), with probabilities 1/4, 1/4, 1/2: the 2.5th percentile is 0, the 97.5th is 1.
    diff, sessions = np.array([0.0, 1.0, 1.0, 1.0]), np.array([5, 9, 9, 9])
    lo, hi = session_bootstrap(diff, sessions, samples=4000)
    assert (lo, hi) == (0.0, 1.0)
    # Seeded: the same call gives the same interval; another seed the same here (degenerate).
    assert session_bootstrap(diff, sessions) == session_bootstrap(diff, sessions)
    with pytest.raises(ValueError, match="one session per target"):
        session_bootstrap(diff, sessions[:3])


def test_session_bootstrap_covers_a_simulated_difference_about_95_percent_of_the_time():
    # Sessions of 1..6 targets with a shared session effect (targets of one session move
    # together) around a true mean difference of 0.02: the 95% interval should hold it in
    # about 95% of 200 simulated test sets; a target-level interval, ignoring the clusters,
    # would be too narrow and cover far less.
    rng = np.random.default_rng(1)
    covered = narrow = 0
    trials = 200
    for trial in range(trials):
        sizes = rng.integers(1, 7, size=300)
        sessions = np.repeat(np.arange(300), sizes)
        effect = rng.normal(0.0, 0.3, size=300)[sessions]
        diff = 0.02 + effect + rng.normal(0.0, 0.1, size=sessions.size)
        lo, hi = session_bootstrap(diff, sessions, samples=500, seed=trial)
        covered += lo <= 0.02 <= hi
        t_lo, t_hi = session_bootstrap(diff, np.arange(diff.size), samples=500, seed=trial)
        narrow += t_lo <= 0.02 <= t_hi
    assert 0.90 <= covered / trials <= 0.99
    assert narrow / trials < 0.85


def test_paired_difference_with_sessions_carries_the_interval():
    sessions = np.array([0, 0, 1, 1])
    out = paired_difference(RANKS_A, RANKS_B, "hit", 10, sessions)
    # hit differences 0,1 | 0,0: session sums 1 and 0, two targets each; a replicate's mean is
    # 0, 1/4 or 1/2, so the interval spans 0..1/2 and holds 0 (level).
    assert out["mean"] == 0.25 and out["sessions"] == 2
    assert (out["lo"], out["hi"]) == (0.0, 0.5)
    assert "lo" not in paired_difference(RANKS_A, RANKS_B, "hit", 10)


def test_time_to_reach_is_the_first_time_at_or_above_the_level():
    times, values = [10.0, 20.0, 30.0], [0.2, 0.5, 0.4]
    assert time_to_reach(times, values, 0.5) == 20.0
    assert time_to_reach(times, values, 0.1) == 10.0
    assert time_to_reach(times, values, 0.6) is None
    assert time_to_reach([], [], 0.0) is None
