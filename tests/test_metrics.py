"""Ranking metrics: exact values on tiny hand-made score arrays."""
import math

import numpy as np
import pytest
import torch

from streamrec.metrics import (
    mask_seen,
    metrics_from_ranks,
    ranks_from_batches,
    standard_error,
    target_ranks,
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
