"""Simulator chart builders: exact values on a tiny hand-made dataset."""

from __future__ import annotations

import re

import numpy as np
import pytest

from streamrec.charts import world_charts as charts
from streamrec.config import SimConfig
from streamrec.world.simulator import Catalog, SessionData, simulate


@pytest.fixture
def tiny() -> SessionData:
    """Items 0-4 in categories [0, 0, 1, 1, 2]; sessions [0 1 2], [3 4], [1 1 1 4]."""
    catalog = Catalog(
        item_category=np.array([0, 0, 1, 1, 2]),
        item_popularity=np.array([0.75, 0.25, 0.5, 0.5, 1.0]),
        category_sizes=np.array([2, 2, 1]),
    )
    return SessionData(
        items=np.array([0, 1, 2, 3, 4, 1, 1, 1, 4]),
        offsets=np.array([0, 3, 5, 9]),
        catalog=catalog,
        behaviour=np.array([0, 1, 1], dtype=np.int8),
        preferred=np.ones((3, 3), dtype=bool),
        config=SimConfig(n_sessions=3, n_items=5, n_categories=3, max_preferred=3),
    )


def test_category_colors_are_distinct_hex_and_stable_as_the_count_grows():
    small, large = charts.category_colors(25), charts.category_colors(300)
    assert large[:25] == small
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in large)
    assert len(set(large)) == len(large)


def test_session_length_histogram_counts_sessions_per_length(tiny):
    bar = charts.session_length_histogram(tiny).data[0]
    assert list(bar.x) == [2, 3, 4]
    assert list(bar.y) == [1, 1, 1]


def test_category_sizes_chart_shows_items_and_click_shares(tiny):
    bar = charts.category_sizes_chart(tiny).data[0]
    assert list(bar.y) == [2, 2, 1]
    np.testing.assert_allclose(bar.customdata[:, 0], [5, 2, 2])
    np.testing.assert_allclose(bar.customdata[:, 1], [500 / 9, 200 / 9, 200 / 9])
    assert list(bar.marker.color) == charts.category_colors(3)


def test_popularity_long_tail_ranks_observed_and_expected_clicks(tiny):
    observed, expected = charts.popularity_long_tail(tiny).data
    assert list(observed.x) == [1, 2, 3, 4, 5]
    assert list(observed.y) == [4, 2, 1, 1, 1]
    # category clicks (5, 2, 2) times the true within-category popularity, sorted
    np.testing.assert_allclose(expected.y, [3.75, 2.0, 1.25, 1.0, 1.0])


def test_behaviour_mix_puts_the_configured_mix_beside_the_drawn_one(tiny):
    configured, simulated = charts.behaviour_mix_chart(tiny).data
    np.testing.assert_allclose(configured.y, [30, 50, 20])
    np.testing.assert_allclose(simulated.y, [100 / 3, 200 / 3, 0])


def test_transition_heatmap_is_row_normalised_within_sessions(tiny):
    z = np.asarray(charts.transition_heatmap(tiny).data[0].z, dtype=float)
    np.testing.assert_allclose(z[0], [0.6, 0.2, 0.2])
    np.testing.assert_allclose(z[1], [0.0, 0.0, 1.0])
    assert np.isnan(z[2]).all()  # category 2 is never followed by a click


def test_transition_heatmap_keeps_the_most_clicked_categories_with_true_row_shares(tiny):
    fig = charts.transition_heatmap(tiny, max_categories=2)
    heat = fig.data[0]
    assert list(heat.x) == ["0", "1"]
    np.testing.assert_allclose(np.asarray(heat.z, dtype=float)[0], [0.6, 0.2])
    assert "2 most clicked of 3" in fig.layout.title.text


def test_session_strips_colour_cells_by_category_and_name_items_on_hover(tiny):
    heat = charts.session_strips(
        [tiny.session(s) for s in range(3)], tiny.item_category, 3, row_labels=["a", "b", "c"]
    ).data[0]
    z = np.asarray(heat.z, dtype=float)
    np.testing.assert_array_equal(z[0, :3], [0, 0, 1])
    assert np.isnan(z[1, 2:]).all()
    assert heat.text[2][3] == "item 4 · category 2"
    assert list(heat.y) == ["a", "b", "c"]


def test_baseline_comparison_puts_the_oracle_last_and_labels_the_metrics():
    scores = {
        "Oracle": {"hit@10": 0.3, "hit@20": 0.4, "mrr@20": 0.2},
        "Popularity": {"hit@10": 0.05, "hit@20": 0.08, "mrr@20": 0.02},
    }
    fig = charts.baseline_comparison(scores)
    assert [t.name for t in fig.data] == ["Popularity", "Oracle (best possible)"]
    assert list(fig.data[1].x) == ["Hit@10", "Hit@20", "MRR@20"]
    assert list(fig.data[1].y) == [0.3, 0.4, 0.2]


def test_every_chart_of_a_simulation_has_a_title_and_axis_titles():
    data = simulate(SimConfig(n_sessions=200, n_items=60, n_categories=5, max_preferred=3))
    figures = [
        charts.session_length_histogram(data),
        charts.category_sizes_chart(data),
        charts.popularity_long_tail(data),
        charts.behaviour_mix_chart(data),
        charts.sample_session_strips(data, n_rows=10),
        charts.transition_heatmap(data),
        charts.baseline_comparison({"Oracle": {"hit@10": 0.1, "hit@20": 0.2, "mrr@20": 0.05}}),
    ]
    for fig in figures:
        assert fig.layout.title.text
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
