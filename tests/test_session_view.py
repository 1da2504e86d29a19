"""The Recommend page's pure helpers: exact values on tiny hand-made inputs, and agreement
with the engine they wrap (recommend, the oracle)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from streamrec.baselines import Oracle
from streamrec.config import ModelConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data import Split, Targets, make_split, tokens_from_items
from streamrec.model import SessionRecommender
from streamrec.recommend import parse_items, recommend
from streamrec.session_view import (
    SampledSession,
    catalog_summary,
    click_labels,
    format_session,
    held_out_sessions,
    item_label,
    one_thread,
    option_labels,
    oracle_view,
    rank_of,
    sample_session,
    session_update,
    top_k,
    top_k_table,
)
from streamrec.simulator import Catalog, SessionData, simulate

CATEGORY = np.array([0, 0, 1, 2, 1])  # item -> category of a 5-item catalog


def tiny_data() -> SessionData:
    """Three sessions by hand: [0, 1, 2], [3, 4], [2, 2, 1, 0]; behaviours 1, 0, 1."""
    items = np.array([0, 1, 2, 3, 4, 2, 2, 1, 0])
    catalog = Catalog(CATEGORY, np.full(5, 0.5), np.array([2, 2, 1]))
    preferred = np.array([[True, True, False], [False, False, True], [True, False, True]])
    return SessionData(
        items=items,
        offsets=np.array([0, 3, 5, 9]),
        catalog=catalog,
        behaviour=np.array([1, 0, 1], dtype=np.int8),
        preferred=preferred,
        config=SimConfig(n_items=5, n_categories=3),
    )


def test_labels():
    assert item_label(302, 4) == "item 302 · cat 4"
    assert click_labels([3, 0, 3], CATEGORY) == [
        "item 3 · cat 2",
        "item 0 · cat 0",
        "item 3 · cat 2",
    ]
    assert option_labels(CATEGORY) == [
        "0 · category 0",
        "1 · category 0",
        "2 · category 1",
        "3 · category 2",
        "4 · category 1",
    ]


def test_format_session_reads_back_with_parse_items():
    assert format_session([302, 310, 365]) == "302, 310, 365"
    assert format_session(np.array([4, 4, 0])) == "4, 4, 0"
    assert parse_items(format_session([4, 4, 0]), 5) == [4, 4, 0]


def test_catalog_summary():
    config = RunConfig(SimConfig(n_items=5_000, n_categories=25, n_sessions=20_000, seed=7))
    assert catalog_summary(config) == (
        "5,000 items in 25 categories, 20,000 simulated sessions (seed 7, fast engine)"
    )


def test_top_k_breaks_ties_by_item_id_and_rank_counts_ties_against_the_item():
    probs = np.array([0.1, 0.3, 0.1, 0.4, 0.1])
    items, values = top_k(probs, 3)
    assert items.tolist() == [3, 1, 0]
    assert values.tolist() == [0.4, 0.3, 0.1]
    assert [rank_of(probs, i) for i in range(5)] == [5, 2, 5, 1, 5]


def test_top_k_table_exact():
    table = top_k_table(np.array([3, 1, 4]), np.array([0.5, 0.25, 0.125]), CATEGORY, [1, 2, 1], 4)
    expected = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "item_id": [3, 1, 4],
            "category": [2, 0, 1],
            "probability": [0.5, 0.25, 0.125],
            "in_session": [False, True, False],
            "true_next": [False, False, True],
        }
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert not top_k_table(np.array([3]), np.array([1.0]), CATEGORY, [3])["true_next"].any()


def test_sampled_session_knows_the_next_click_of_its_proper_prefixes():
    sample = SampledSession(7, (4, 2, 2, 0), "deep_dive", (1, 2))
    assert sample.true_next([4]) == 2
    assert sample.true_next([4, 2, 2]) == 0
    assert sample.true_next(np.array([4, 2])) == 2
    assert sample.true_next([4, 2, 2, 0]) is None  # the whole session: nothing came next
    assert sample.true_next([2, 2]) is None  # not a prefix
    assert sample.true_next([]) is None


def test_held_out_sessions_and_sampling():
    data = tiny_data()
    empty = Targets(np.zeros(0, np.int64), np.zeros(0, np.int64))
    report = Targets(np.array([2, 2, 1, 2]), np.array([1, 2, 1, 3]))
    split = Split("session", train=empty, valid=empty, test=report)
    assert held_out_sessions(data, split).tolist() == [1, 2]
    assert held_out_sessions(data, split, behaviour=1).tolist() == [2]
    assert held_out_sessions(data, split, behaviour=2).tolist() == []

    sample = sample_session(data, np.array([2]), np.random.default_rng(0))
    assert sample == SampledSession(2, (2, 2, 1, 0), "deep_dive", (0, 2))
    with pytest.raises(ValueError, match="no held-out session"):
        sample_session(data, np.array([], dtype=np.int64), np.random.default_rng(0))


@pytest.fixture(scope="module")
def small_oracle() -> Oracle:
    data = simulate(SimConfig(n_sessions=200, n_items=40, n_categories=6))
    return Oracle().fit(data, make_split(data, TrainConfig()).train)


def test_oracle_view_is_the_oracle_posterior_and_score(small_oracle):
    session = [3, 3, 17, 3]
    view = oracle_view(small_oracle, session, max_len=3)
    tokens = torch.from_numpy(tokens_from_items(session, 3))
    behaviour, next_category = small_oracle.posterior(tokens)
    np.testing.assert_array_equal(view.behaviour, behaviour[0].numpy())
    np.testing.assert_array_equal(view.next_category, next_category[0].numpy())
    np.testing.assert_array_equal(view.probs, small_oracle.score(tokens)[0].numpy())
    assert view.probs.sum() == pytest.approx(1.0)


def test_oracle_view_excluding_seen_items_renormalises_the_rest(small_oracle):
    session = [3, 3, 17]
    full = oracle_view(small_oracle, session, max_len=25).probs
    masked = oracle_view(small_oracle, session, max_len=25, exclude_seen=True).probs
    assert masked[[3, 17]].tolist() == [0.0, 0.0]
    rest = np.setdiff1d(np.arange(40), session)
    np.testing.assert_allclose(masked[rest], full[rest] / full[rest].sum())


def test_session_update_agrees_with_recommend_and_the_oracle(small_oracle):
    torch.manual_seed(0)
    model = SessionRecommender(ModelConfig(n_items=40, embed_dim=8, hidden_size=8)).eval()
    category = small_oracle.item_category.numpy()
    session = [5, 1, 5, 30]
    update = session_update(model, small_oracle, session, 4, 3, category, true_next=1)
    rec = recommend(model, session, 4, 3)
    np.testing.assert_array_equal(update.rec.top_items, rec.top_items)
    np.testing.assert_allclose(update.rec.attention, rec.attention)
    pd.testing.assert_frame_equal(
        update.model_table, top_k_table(rec.top_items, rec.top_probs, category, session, 1)
    )
    items, probs = top_k(oracle_view(small_oracle, session, 3).probs, 4)
    pd.testing.assert_frame_equal(
        update.oracle_table, top_k_table(items, probs, category, session, 1)
    )


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
