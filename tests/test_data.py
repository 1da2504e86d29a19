"""Splits, prefixes, rows and batches."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import random_split

from streamrec.config import SimConfig, TrainConfig
from streamrec.data.splits import (
    all_targets,
    batches,
    build_rows,
    make_split,
    prefix_matrix,
    target_items,
    tokens_from_items,
)
from streamrec.world.simulator import Catalog, SessionData, simulate


def tiny_data() -> SessionData:
    """Two sessions: [3, 1, 4, 1, 5] and [9, 2]."""
    catalog = Catalog(np.zeros(10, np.int64), np.full(10, 0.1), np.array([10]))
    return SessionData(
        items=np.array([3, 1, 4, 1, 5, 9, 2]), offsets=np.array([0, 5, 7]), catalog=catalog,
        behaviour=np.zeros(2, np.int8), preferred=np.ones((2, 1), bool),
        config=SimConfig(n_sessions=2, n_items=10, n_categories=1, min_preferred=1, max_preferred=1),
    )


def test_targets_and_prefixes_by_hand():
    data = tiny_data()
    targets = all_targets(data)
    assert targets.session.tolist() == [0, 0, 0, 0, 1]
    assert targets.position.tolist() == [1, 2, 3, 4, 1]
    assert target_items(data, targets).tolist() == [1, 4, 1, 5, 2]
    # Tokens are ids + 1, left-padded, last max_len clicks.
    assert prefix_matrix(data, targets, 3).tolist() == [
        [0, 0, 4], [0, 4, 2], [4, 2, 5], [2, 5, 2], [0, 0, 10],
    ]
    assert tokens_from_items([3, 1, 4, 1], 3).tolist() == [[2, 5, 2]]


def test_rows_by_hand():
    data = tiny_data()
    rows = build_rows(data, all_targets(data), max_len=3)
    # Session 0: main row covers targets at positions 1..3; position 4 needs a window row
    # starting at click 1 (its prefix is the last 3 clicks 1, 4, 1).
    assert rows.tokens.tolist() == [[4, 2, 5, 2], [10, 3, 0, 0], [2, 5, 2, 6]]
    assert rows.loss_mask.astype(int).tolist() == [[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 1, 0]]
    assert rows.target_index.tolist() == [[0, 1, 2, -1], [4, -1, -1, -1], [-1, -1, 3, -1]]


def test_session_split_is_disjoint_and_covers_everything():
    data = simulate(SimConfig(n_sessions=500, n_items=200, n_categories=6))
    split = make_split(data, TrainConfig(valid_fraction=0.1, test_fraction=0.2))
    groups = [set(split.train.session), set(split.valid.session), set(split.test.session)]
    assert all(not (a & b) for i, a in enumerate(groups) for b in groups[i + 1:])
    assert len(groups[1]) == 50 and len(groups[2]) == 100
    assert len(split.train) + len(split.valid) + len(split.test) == data.n_clicks - data.n_sessions
    assert split.report is split.test


def test_example_split_reproduces_torch_random_split():
    data = simulate(SimConfig(n_sessions=300, n_items=200, n_categories=6))
    split = make_split(data, TrainConfig(protocol="example", seed=42))
    n = data.n_clicks - data.n_sessions
    n_val = int(0.2 * n)
    train_ds, val_ds = random_split(range(n), [n - n_val, n_val], generator=torch.Generator().manual_seed(42))
    examples = all_targets(data)
    assert np.array_equal(split.train.position, examples.position[list(train_ds.indices)])
    assert np.array_equal(split.valid.session, examples.session[list(val_ds.indices)])
    assert len(split.test) == 0 and split.report is split.valid


def test_batches_cover_every_row_once_with_about_batch_size_targets():
    data = simulate(SimConfig(n_sessions=400, n_items=200, n_categories=6))
    rows = build_rows(data, all_targets(data), 10)
    for rng in (None, np.random.default_rng(0)):
        parts = batches(rows, 64, rng)
        assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(len(rows)))
        sizes = [rows.loss_mask[p].sum() for p in parts]
        assert max(sizes) < 64 + 10  # a batch closes with the row that crosses the limit
        assert np.mean(sizes[:-1]) >= 60


def test_split_with_too_large_fractions_is_an_error():
    data = simulate(SimConfig(n_sessions=20, n_items=50, n_categories=5))
    with pytest.raises(ValueError, match="valid_fraction"):
        make_split(data, TrainConfig(valid_fraction=0.5, test_fraction=0.5))


def test_rows_when_max_len_exceeds_every_session():
    data = tiny_data()
    rows = build_rows(data, all_targets(data), max_len=50)
    assert rows.tokens.shape == (2, 5) and rows.n_targets == 5


def test_sample_is_seeded_ordered_and_capped():
    targets = all_targets(simulate(SimConfig(n_sessions=100, n_items=60, n_categories=6)))
    sample = targets.sample(50, seed=3)
    assert len(sample) == 50
    keys = set(zip(targets.session.tolist(), targets.position.tolist()))
    assert set(zip(sample.session.tolist(), sample.position.tolist())) <= keys
    assert np.all(np.diff(sample.session * 1000 + sample.position) > 0)  # original order
    assert np.array_equal(targets.sample(50, seed=3).position, sample.position)
    assert targets.sample(len(targets), seed=3) is targets
