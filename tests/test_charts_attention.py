"""Figures of the Recommend page: the values they carry, their labels, titles and axes."""

from __future__ import annotations

import numpy as np
import pytest

from streamrec.charts.explain_charts import (
    ATTENTION_MEANING,
    ATTENTION_RANGE,
    GROWTH_TEXT_UP_TO,
    SCORE_MEANING,
    attention_growth_heatmap,
    attention_heatmap,
    behaviour_posterior_chart,
    click_tick_angle,
    top_k_bars,
)
from streamrec.charts.world_charts import category_colors
from streamrec.views.session_view import top_k_table

CATEGORY = np.array([0, 0, 1, 2, 1])
SESSION = [3, 0, 3]  # item 3 twice: two separate cells


def assert_titled(fig) -> None:
    layout = fig.layout
    assert layout.title.text and layout.xaxis.title.text and layout.yaxis.title.text


def test_attention_heatmap_one_cell_per_click_with_values_and_labels():
    fig = attention_heatmap(SESSION, np.array([0.25, 0.25, 0.5]), CATEGORY)
    assert_titled(fig)
    heatmap = fig.data[0]
    assert heatmap.z.tolist() == [[0.25, 0.25, 0.5]]
    assert heatmap.texttemplate == "%{z:.2f}"
    assert heatmap.colorbar.title.text == "share of the attention (0–1)"
    assert list(fig.layout.xaxis.tickvals) == [0, 1, 2]
    labels = ["item 3 · cat 2", "item 0 · cat 0", "item 3 · cat 2"]
    assert list(fig.layout.xaxis.ticktext) == labels


def test_a_named_map_says_which_map_it_is():
    fig = attention_heatmap(SESSION, np.array([0.25, 0.25, 0.5]), CATEGORY, "layer 2 · head 1")
    assert fig.layout.title.text.startswith("Attention (layer 2 · head 1) over the session's")
    growth = attention_growth_heatmap(SESSION, np.eye(3), CATEGORY, map_name="rollout")
    assert growth.layout.title.text.startswith("How the attention (rollout) shifts")


def test_growth_heatmap_leaves_future_clicks_blank():
    growth = np.array([[1.0, 0.0, 0.0], [0.4, 0.6, 0.0], [0.2, 0.3, 0.5]])
    fig = attention_growth_heatmap(SESSION, growth, CATEGORY)
    assert_titled(fig)
    z = fig.data[0].z
    assert np.isnan(z[0, 1]) and np.isnan(z[0, 2]) and np.isnan(z[1, 2])
    np.testing.assert_array_equal(z[np.tril_indices(3)], growth[np.tril_indices(3)])
    assert fig.data[0].texttemplate == "%{z:.2f}"
    assert (fig.data[0].zmin, fig.data[0].zmax) == (0.0, 1.0)
    assert fig.layout.yaxis.ticktext[2] == "3"  # "prediction after click 3"; the item on the x axis
    assert fig.layout.yaxis.title.text == "prediction after click"
    assert "after click 3 (item 3 · cat 2)" in fig.data[0].customdata[2][0]
    cut = attention_growth_heatmap(SESSION, growth, CATEGORY, first_click=9)
    assert cut.layout.yaxis.ticktext[0] == "9"


def test_both_heatmaps_colour_weights_on_one_fixed_scale():
    """0.71 must be the same blue in both, whatever else each figure holds."""
    one = attention_heatmap(SESSION, np.array([0.71, 0.19, 0.1]), CATEGORY).data[0]
    growth = np.array([[1.0, 0.0, 0.0], [0.29, 0.71, 0.0], [0.1, 0.2, 0.7]])
    other = attention_growth_heatmap(SESSION, growth, CATEGORY).data[0]
    for heatmap in (one, other):
        assert (heatmap.zmin, heatmap.zmax) == ATTENTION_RANGE == (0.0, 1.0)
        assert heatmap.colorscale == one.colorscale
    assert "add up to 1" in ATTENTION_MEANING and "same 0–1 scale" in ATTENTION_MEANING


def test_an_unnormalised_map_is_neither_titled_nor_coloured_as_shares():
    """NARM's local attention reads 1.03, 0.91, 0.55: not shares of anything."""
    fig = attention_heatmap(SESSION, np.array([1.03, 0.91, 0.55]), CATEGORY, "local attention",
                            normalised=False)
    assert "weights sum to 1" not in fig.layout.title.text
    assert "not normalised" in fig.layout.title.text
    heatmap = fig.data[0]
    assert heatmap.zmax == pytest.approx(1.03) and heatmap.zmin == 0.0
    assert "not normalised" in heatmap.colorbar.title.text and "score" in heatmap.hovertemplate
    growth = attention_growth_heatmap(SESSION, np.tril(np.full((3, 3), 1.4)), CATEGORY,
                                      normalised=False).data[0]
    assert growth.zmax == pytest.approx(1.4) and "not normalised" in growth.colorbar.title.text
    assert "not normalised" in SCORE_MEANING


def test_click_labels_stand_upright_beyond_three_clicks_so_a_phone_screen_holds_them():
    assert click_tick_angle(3) == 0 and click_tick_angle(4) == -90
    fig = attention_heatmap([0, 1, 2, 3, 4], np.full(5, 0.2), np.arange(5) % 3)
    assert fig.layout.xaxis.tickangle == -90
    assert fig.layout.margin.b > 80  # room for the slanted labels below the plot


def test_growth_heatmap_of_a_long_session_leaves_values_to_the_hover():
    n = GROWTH_TEXT_UP_TO + 1
    growth = np.tril(np.full((n, n), 1.0 / n))
    fig = attention_growth_heatmap([0] * n, growth, CATEGORY)
    assert fig.data[0].texttemplate == ""
    assert "%{z:.3f}" in fig.data[0].hovertemplate
    shorter = attention_growth_heatmap([0] * (n - 1), growth[:-1, :-1], CATEGORY)
    assert shorter.data[0].texttemplate == "%{z:.2f}"


def test_top_k_bars_colour_by_category_and_mark_seen_and_true_next():
    table = top_k_table(np.array([3, 1, 4]), np.array([0.5, 0.3, 0.2]), CATEGORY, [1], 4)
    oracle = np.array([0.0, 0.1, 0.0, 0.6, 0.3])
    fig = top_k_bars(table, 3, oracle)
    assert_titled(fig)
    bars, markers = fig.data
    colors = category_colors(3)
    assert list(bars.y) == ["#1 item 3 · cat 2", "#2 item 1 · cat 0", "#3 ★ item 4 · cat 1"]
    assert list(bars.x) == [0.5, 0.3, 0.2]
    assert list(bars.marker.color) == [colors[2], colors[0], colors[1]]
    assert list(bars.marker.pattern.shape) == ["", "/", ""]
    assert list(markers.x) == [0.6, 0.1, 0.3]


def test_behaviour_chart_marks_the_true_behaviour():
    fig = behaviour_posterior_chart(np.array([0.1, 0.7, 0.2]), (0.3, 0.5, 0.2), "deep_dive")
    assert_titled(fig)
    posterior, prior = fig.data
    assert list(posterior.y) == ["explorer", "deep dive (true)", "comparison"]
    assert list(posterior.x) == [0.1, 0.7, 0.2]
    assert list(posterior.marker.line.width) == [0.0, 3.0, 0.0]
    assert list(prior.x) == [0.3, 0.5, 0.2]
    assert list(behaviour_posterior_chart(np.ones(3) / 3, (0.3, 0.5, 0.2)).data[0].y) == [
        "explorer",
        "deep dive",
        "comparison",
    ]
