"""Attention aggregates, pattern rules and embedding figures: exact values on hand-made inputs,
and the session-parallel profile checked against the per-prefix forward pass."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from streamrec import insights
from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data.splits import make_split, prefix_matrix
from streamrec.insights import ANCHOR, COHERENT, MIXED, RECENCY, SHORT, AttentionProfile
from streamrec.model import LSTMRecommender
from streamrec.world.simulator import simulate


def profile_of(rows: list[list[float]], behaviour: list[int] | None = None) -> AttentionProfile:
    """A profile from attention vectors given click by click; prefix p is session p."""
    max_len = max(len(r) for r in rows)
    n = len(rows)
    weights = np.zeros((n, max_len), dtype=np.float32)
    items = np.full((n, max_len), -1, dtype=np.int64)
    for p, row in enumerate(rows):
        weights[p, : len(row)] = row
        items[p, : len(row)] = np.arange(len(row)) + 10 * p
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    return AttentionProfile(
        weights=weights,
        items=items,
        lengths=lengths,
        session=np.arange(n, dtype=np.int64),
        position=lengths.copy(),
        behaviour=np.array(behaviour or [0] * n, dtype=np.int8),
        prefix_one_category=np.array([p % 2 == 0 for p in range(n)]),
        session_one_category=np.zeros(n, dtype=bool),
        max_len=max_len,
        n_sessions=n,
    )


# Three prefixes: 3 clicks, 1 click, 2 clicks.
SMALL = [[0.2, 0.3, 0.5], [1.0], [0.4, 0.6]]


def test_from_end_puts_the_last_click_first():
    p = profile_of(SMALL)
    back = insights.from_end(p.weights, p.lengths)
    np.testing.assert_allclose(back, [[0.5, 0.3, 0.2], [1.0, 0, 0], [0.6, 0.4, 0]], atol=1e-7)


def test_mean_by_position_averages_over_prefixes_long_enough():
    frame = insights.mean_by_position(profile_of(SMALL))
    assert frame["position_from_end"].tolist() == [0, 1, 2]
    np.testing.assert_allclose(frame["mean_attention"], [(0.5 + 1 + 0.6) / 3, 0.35, 0.2], atol=1e-7)
    assert frame["n_prefixes"].tolist() == [3, 2, 1]
    assert set(frame["group"]) == {"all prefixes"}


def test_mean_by_position_per_behaviour_and_per_length_bucket():
    p = profile_of(SMALL, behaviour=[1, 1, 2])
    frame = insights.mean_by_position(p, "behaviour").set_index(["group", "position_from_end"])
    np.testing.assert_allclose(frame.loc[("deep dive", 0), "mean_attention"], 0.75, atol=1e-7)
    np.testing.assert_allclose(frame.loc[("comparison", 1), "mean_attention"], 0.4, atol=1e-7)
    assert ("explorer", 0) not in frame.index  # no explorer prefix
    by_length = insights.mean_by_position(p, "length")
    assert set(by_length["group"]) == {"1–3 clicks"}  # max_len 3: one bucket
    with pytest.raises(ValueError, match="by = 'colour'"):
        insights.mean_by_position(p, "colour")


@pytest.mark.parametrize(
    ("max_len", "buckets"),
    [
        (25, [(1, 5), (6, 10), (11, 15), (16, 25)]),
        (8, [(1, 5), (6, 8)]),
        (3, [(1, 3)]),
        (30, [(1, 5), (6, 10), (11, 15), (16, 25), (26, 30)]),
        (6, [(1, 5), (6, 6)]),
    ],
)
def test_length_buckets(max_len, buckets):
    assert insights.length_buckets(max_len) == buckets


def test_edge_shares_skip_single_clicks():
    frame = insights.edge_shares(profile_of(SMALL))
    assert frame["prefix_length"].tolist() == [3, 2]
    np.testing.assert_allclose(frame["first_click"], [0.2, 0.4], atol=1e-7)
    np.testing.assert_allclose(frame["last_click"], [0.5, 0.6], atol=1e-7)
    np.testing.assert_allclose(frame["uniform"], [1 / 3, 1 / 2])
    assert frame["behaviour"].tolist() == ["explorer", "explorer"]
    labelled = insights.edge_shares(profile_of(SMALL, behaviour=[1, 0, 2]))
    assert labelled["behaviour"].tolist() == ["deep dive", "comparison"]


def test_entropy_uniform_is_log_length_and_one_hot_is_zero():
    p = profile_of([[0.25] * 4, [0, 0, 0, 1.0], [0.5, 0.5]])
    np.testing.assert_allclose(
        insights.entropy(p.weights), [math.log(4), 0.0, math.log(2)], atol=1e-6
    )
    np.testing.assert_allclose(
        insights.normalised_entropy(p.weights, p.lengths), [1, 0, 1], atol=1e-6
    )
    frame = insights.entropy_by_length(p)
    assert frame["prefix_length"].tolist() == [2, 4]
    np.testing.assert_allclose(frame["mean_entropy"], [math.log(2), math.log(4) / 2], atol=1e-6)
    np.testing.assert_allclose(frame["max_entropy"], [math.log(2), math.log(4)])
    np.testing.assert_allclose(frame["mean_normalised_entropy"], [1.0, 0.5], atol=1e-6)
    assert frame["n_prefixes"].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("weights", "pattern"),
    [
        ([0.1, 0.1, 0.3, 0.5], RECENCY),  # last two hold 80%
        ([0.0, 0.0, 0.0, 0.0, 1.0], RECENCY),  # last-state pooling
        ([0.4, 0.05, 0.05, 0.5], ANCHOR),  # first and last high, middle low
        ([0.3, 0.05, 0.05, 0.6], ANCHOR),  # also recency, but anchor is checked first
        ([0.2, 0.11, 0.11, 0.58], RECENCY),  # middle 0.11 > half the first (0.1): no anchor
        ([0.1, 0.05, 0.05, 0.8], RECENCY),  # first below 15%: no anchor
        ([0.25, 0.25, 0.25, 0.25], COHERENT),  # uniform: spread, and no anchor
        ([0.22, 0.22, 0.26, 0.30], COHERENT),  # last two 56%, entropy ~0.99 of log 4
        ([0.05, 0.6, 0.05, 0.05, 0.25], MIXED),  # entropy 0.68 of log 5, last two 30%
        ([1 / 3] * 3, SHORT),  # 3 clicks: too short to tell
        ([1.0], SHORT),
    ],
)
def test_pattern_rules(weights, pattern):
    p = profile_of([weights])
    assert insights.classify_patterns(p.weights, p.lengths).tolist() == [pattern]


def test_pattern_counts_and_examples():
    rows = [
        [0.1, 0.1, 0.3, 0.5],  # recency, explorer
        [0.4, 0.05, 0.05, 0.5],  # anchor, deep dive
        [0.25, 0.25, 0.25, 0.25],  # coherent, deep dive
        [0.5, 0.5],  # too short, comparison
        [0.0, 0.0, 0.2, 0.8],  # recency, deep dive
    ]
    p = profile_of(rows, behaviour=[0, 1, 1, 2, 1])
    counts = insights.pattern_counts(p)
    assert list(counts.columns) == list(insights.PATTERNS)
    assert counts.loc["explorer"].tolist() == [1, 0, 0, 0, 0]
    assert counts.loc["deep dive"].tolist() == [1, 1, 1, 0, 0]
    assert counts.loc["comparison"].tolist() == [0, 0, 0, 0, 1]
    assert counts.loc["all"].tolist() == [2, 1, 1, 0, 1]
    by_coherence = insights.pattern_counts(p, "one_category")
    assert by_coherence.loc["one-category prefix"].tolist() == [2, 0, 1, 0, 0]  # rows 0, 2, 4
    assert by_coherence.loc["multi-category prefix"].tolist() == [0, 1, 0, 0, 1]
    table = insights.pattern_table(p)
    assert list(table.index) == list(insights.PATTERNS)
    assert list(table.columns) == [
        "explorer",
        "deep dive",
        "comparison",
        "multi-category prefix",
        "one-category prefix",
        "all",
    ]
    assert table["deep dive"].tolist() == [1, 1, 1, 0, 0]
    assert table["one-category prefix"].tolist() == [2, 0, 1, 0, 0]
    assert table["all"].tolist() == [2, 1, 1, 0, 1]

    examples = insights.pattern_examples(p, per_pattern=5)
    assert examples["pattern"].tolist() == ["recency-dominant"] * 2 + [
        "anchor-item",
        "category-coherent",
    ]
    anchor = examples[examples["pattern"] == "anchor-item"].iloc[0]
    assert anchor["session_id"] == 1 and anchor["behaviour"] == "deep dive"
    assert anchor["items"] == [10, 11, 12, 13]
    np.testing.assert_allclose(anchor["attention"], [0.4, 0.05, 0.05, 0.5], atol=1e-7)
    assert len(insights.pattern_examples(p, per_pattern=1)) == 3


def test_profile_summary():
    summary = insights.profile_summary(profile_of(SMALL + [[0.1, 0.1, 0.3, 0.5]]))
    assert summary["prefixes"] == 4
    np.testing.assert_allclose(summary["mean last-click share"], (0.5 + 0.6 + 0.5) / 3, atol=1e-7)
    np.testing.assert_allclose(summary["mean first-click share"], (0.2 + 0.4 + 0.1) / 3, atol=1e-7)
    assert summary["share too short"] == 0.75
    assert summary["share recency-dominant"] == 0.25


def test_check_comparable_refuses_different_data_or_split():
    base = RunConfig()
    insights.check_comparable(base, RunConfig(model=LSTMConfig(pooling="last")))
    with pytest.raises(ValueError, match="different simulated data.*n_items 5000 vs 4000"):
        insights.check_comparable(
            base, RunConfig(SimConfig(n_items=4000), LSTMConfig(n_items=4000))
        )
    with pytest.raises(ValueError, match="hold out different sessions.*seed 42 vs 7"):
        insights.check_comparable(base, RunConfig(train=TrainConfig(seed=7)))


# ---- The profile itself ------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    """Tiny data and an untrained tiny model (weights are random but fixed)."""
    sim = SimConfig(n_sessions=60, n_items=40, n_categories=3, max_preferred=2, seed=3)
    data = simulate(sim)
    torch.manual_seed(0)
    model = LSTMRecommender(LSTMConfig(n_items=40, embed_dim=8, hidden_size=8, num_layers=1))
    return data, model.eval()


def test_profile_matches_the_per_prefix_forward_pass(tiny):
    data, model = tiny
    config = RunConfig(data.config, model.config, TrainConfig(max_len=6))
    held_out = insights.held_out_targets(data, config)
    seen = []
    p = insights.attention_profile(
        model, data, held_out, max_len=6, n_sessions=4, progress=seen.append, rows_per_batch=3
    )
    assert p.n_sessions == 4 and np.unique(p.session).size == 4
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    tokens = prefix_matrix(data, insights.sample_targets(held_out, 4), 6)  # left-padded
    with torch.no_grad():
        _, reference = model(torch.from_numpy(tokens))
    reference = reference.numpy()
    for row in range(len(p)):
        length = p.lengths[row]
        assert length == min(p.position[row], 6)
        np.testing.assert_allclose(p.weights[row, :length], reference[row, 6 - length :], atol=1e-5)
        assert (p.weights[row, length:] == 0).all() and (p.items[row, length:] == -1).all()
        assert p.items[row, :length].tolist() == (tokens[row, 6 - length :] - 1).tolist()
        cats = data.item_category[p.items[row, :length]]
        assert p.prefix_one_category[row] == (np.unique(cats).size == 1)
        session = data.session(p.session[row])
        assert p.session_one_category[row] == (np.unique(data.item_category[session]).size == 1)
        assert p.behaviour[row] == data.behaviour[p.session[row]]
    np.testing.assert_allclose(p.weights.sum(axis=1), 1.0, atol=1e-5)
    assert p.lengths.max() == 6  # some prefixes are cut to the window


def test_profile_runs_on_one_thread_and_restores_the_setting(tiny):
    data, model = tiny
    held_out = insights.held_out_targets(data, RunConfig(data.config, model.config))
    before = torch.get_num_threads()
    threads = []
    insights.attention_profile(
        model, data, held_out, 5, 3, progress=lambda _: threads.append(torch.get_num_threads())
    )
    assert threads and set(threads) == {1}
    assert torch.get_num_threads() == before


def test_sample_targets_keeps_every_target_of_the_drawn_sessions(tiny):
    data, _ = tiny
    held_out = insights.held_out_targets(data, RunConfig(data.config, LSTMConfig(n_items=40)))
    sample = insights.sample_targets(held_out, 3, seed=1)
    chosen = np.unique(sample.session)
    assert chosen.size == 3
    assert len(sample) == int((data.lengths[chosen] - 1).sum())
    assert len(insights.sample_targets(held_out, 10_000)) == len(held_out)
    with pytest.raises(ValueError, match="n_sessions = 0"):
        insights.sample_targets(held_out, 0)


def test_training_clicks_count_the_training_targets(tiny):
    data, _ = tiny
    config = RunConfig(data.config, LSTMConfig(n_items=40))
    clicks = insights.training_clicks(data, config)
    train = make_split(data, config.train).train
    assert clicks.shape == (40,) and clicks.sum() == len(train)
    expected = np.zeros(40, dtype=np.int64)
    for s, pos in zip(train.session, train.position):
        expected[data.session(s)[pos]] += 1
    np.testing.assert_array_equal(clicks, expected)


# ---- Embeddings --------------------------------------------------------------------------


def model_with_vectors(vectors: np.ndarray) -> LSTMRecommender:
    """A model whose item i has the given vector (row i + 1 of the embedding)."""
    n, dim = vectors.shape
    model = LSTMRecommender(LSTMConfig(n_items=n, embed_dim=dim, hidden_size=4, num_layers=1))
    with torch.no_grad():
        model.item_embedding.weight[1:] = torch.tensor(vectors, dtype=torch.float32)
    return model


def at_angles(degrees: list[float]) -> np.ndarray:
    rad = np.radians(degrees)
    return np.stack([np.cos(rad), np.sin(rad)], axis=1)


# Category 0 around 0°, category 1 around 90°; item 2 (category 0) sits at 80°, among category 1.
ANGLES = [0, 10, 80, 90, 95, 170]
CATEGORIES = np.array([0, 0, 0, 1, 1, 1])


def test_chance_purity():
    assert insights.chance_purity(np.array([0, 0, 0, 1])) == pytest.approx(0.5)
    assert insights.chance_purity(CATEGORIES) == pytest.approx(2 * 0.5 * 0.4)


def test_category_purity_on_hand_made_vectors():
    model = model_with_vectors(at_angles(ANGLES))
    # Nearest neighbour of each item: 1, 0, 3 (other category), 4, 3, 4.
    purity = insights.category_purity_at_k(model, CATEGORIES, k=1, chunk=4)
    assert purity.purity == pytest.approx(5 / 6)
    assert purity.chance == pytest.approx(0.4)
    assert purity.lift == pytest.approx(5 / 6 / 0.4)
    assert (purity.k, purity.n_items) == (1, 6)
    # Two neighbours: 0 -> {1, 2}, 1 -> {0, 2}, 2 -> {3, 4}, 3 -> {4, 2}, 4 -> {3, 2}, 5 -> {4, 3}.
    two = insights.category_purity_at_k(model, CATEGORIES, k=2, chunk=2)
    assert two.purity == pytest.approx((1 + 1 + 0 + 0.5 + 0.5 + 1) / 6)
    only = insights.category_purity_at_k(model, CATEGORIES, k=1, items=np.array([0, 1, 3, 4]))
    assert only.purity == 1.0 and only.chance == pytest.approx(1 / 3) and only.n_items == 4
    with pytest.raises(ValueError, match="k = 6"):
        insights.category_purity_at_k(model, CATEGORIES, k=6)
    with pytest.raises(ValueError, match="different runs"):
        insights.category_purity_at_k(model, CATEGORIES[:5], k=1)


def test_nearest_neighbours_by_cosine():
    model = model_with_vectors(at_angles(ANGLES) * np.array([[1], [3], [1], [2], [1], [1]]))
    frame = insights.nearest_neighbours(model, 2, k=2, item_category=CATEGORIES)
    assert frame["item_id"].tolist() == [3, 4]
    np.testing.assert_allclose(frame["cosine"], np.cos(np.radians([10, 15])), atol=1e-6)
    assert frame["category"].tolist() == [1, 1] and frame["rank"].tolist() == [1, 2]
    with pytest.raises(ValueError, match="item = 6"):
        insights.nearest_neighbours(model, 6)
    with pytest.raises(ValueError, match="k = 0"):
        insights.nearest_neighbours(model, 0, k=0)


def test_pca_of_points_on_a_line_and_on_a_cross():
    line = np.outer([-1.0, 0.0, 1.0], [3.0, 4.0]) + 7.0
    coords, ratio = insights.pca_2d(line)
    np.testing.assert_allclose(coords[:, 0], [-5, 0, 5], atol=1e-9)
    np.testing.assert_allclose(coords[:, 1], 0, atol=1e-9)
    np.testing.assert_allclose(ratio, [1, 0], atol=1e-12)
    cross = np.array([[2.0, 0], [-2, 0], [0, 1], [0, -1]])
    coords, ratio = insights.pca_2d(cross)
    np.testing.assert_allclose(coords, [[2, 0], [-2, 0], [0, 1], [0, -1]], atol=1e-9)
    np.testing.assert_allclose(ratio, [0.8, 0.2])
    coords, ratio = insights.pca_2d(np.array([[1.0], [3.0]]))  # one dimension: PC2 is flat
    np.testing.assert_allclose(coords, [[-1, 0], [1, 0]])
    np.testing.assert_allclose(ratio, [1, 0])


def test_pca_agrees_with_the_svd_of_the_centred_matrix():
    x = np.random.default_rng(0).normal(size=(300, 8)) * np.arange(1, 9)
    coords, ratio = insights.pca_2d(x)
    centred = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    reference = u[:, :2] * s[:2]
    np.testing.assert_allclose(np.abs(coords), np.abs(reference), atol=1e-8)
    np.testing.assert_allclose(ratio, s[:2] ** 2 / (s**2).sum(), atol=1e-12)


def test_embedding_projection_frame():
    model = model_with_vectors(np.array([[2.0, 0], [-2, 0], [0, 1], [0, -1]]))
    frame = insights.embedding_projection(
        model, np.array([0, 0, 1, 1]), np.array([0.6, 0.4, 0.5, 0.5])
    )
    assert list(frame.columns) == ["item_id", "category", "popularity", "pc1", "pc2"]
    np.testing.assert_allclose(frame[["pc1", "pc2"]], [[2, 0], [-2, 0], [0, 1], [0, -1]], atol=1e-6)
    np.testing.assert_allclose(frame.attrs["explained_variance"], [0.8, 0.2], atol=1e-6)
    with pytest.raises(ValueError, match="3 items but the model has 4"):
        insights.embedding_projection(model, np.array([0, 0, 1]), np.array([1.0, 1, 1]))


def test_structure_grade_follows_the_lift():
    grades = {
        lift: insights.structure_grade(lift)
        for lift in (float("nan"), 1.0, 1.09, 1.1, 1.4, 1.99, 2.0, 4.99, 5.0, 11.5)
    }
    assert [g.level for g in grades.values()] == [
        "none", "none", "none", "little", "little", "little", "some", "some", "clear", "clear"
    ]
    assert [g.color for g in grades.values()][::3] == ["gray", "orange", "blue", "green"]
    assert grades[1.4].badge == "little structure"
    assert grades[5.0].badge == "clear structure"


def test_purity_sentence_is_graded_by_the_figure():
    weak = insights.Purity(purity=0.0644, chance=0.046, k=10, n_items=5000)  # 1.4x chance
    assert insights.purity_sentence(weak) == (
        "Of each item's 10 nearest neighbours, 6.4% share its category, against 4.6% for random "
        "neighbours (1.4× chance): little category structure: most neighbours come from other "
        "categories."
    )
    demo = insights.Purity(purity=0.53, chance=0.046, k=10, n_items=5000)  # the README's figure
    assert insights.purity_sentence(demo).endswith(
        "(11.5× chance): clear category structure, learned from the sessions alone (the model "
        "never sees categories)."
    )
    some = insights.Purity(purity=0.15, chance=0.05, k=10, n_items=100)
    assert "(3.0× chance): some category structure" in insights.purity_sentence(some)
