"""Insight chart builders on hand-made frames: the numbers drawn are the numbers given."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamrec.charts import insight_charts as charts
from streamrec.charts.world_charts import category_colors
from streamrec.insights import PATTERNS


def test_attention_by_position_draws_one_line_per_group_right_to_left():
    frame = pd.DataFrame(
        {
            "group": ["a", "a", "b"],
            "position_from_end": [0, 1, 0],
            "mean_attention": [0.7, 0.3, 1.0],
            "n_prefixes": [2, 1, 1],
        }
    )
    fig = charts.attention_by_position(frame, "title")
    assert [t.name for t in fig.data] == ["a", "b"]
    assert list(fig.data[0].y) == [0.7, 0.3] and list(fig.data[1].x) == [0]
    assert fig.layout.xaxis.autorange == "reversed"
    assert fig.layout.title.text == "title" and "last click" in fig.layout.xaxis.title.text
    assert fig.layout.yaxis.type != "log"
    log = charts.attention_by_position(frame, "title", log_y=True)
    assert log.layout.yaxis.type == "log" and "log scale" in log.layout.yaxis.title.text


def test_pattern_shares_are_percentages_of_each_row():
    table = pd.DataFrame(
        [[3, 1, 0, 0, 0], [0, 0, 2, 2, 0]], index=["x", "y"], columns=list(PATTERNS)
    )
    table.index.name = "behaviour"
    fig = charts.pattern_shares(table)
    by_name = {t.name: list(t.x) for t in fig.data}
    assert by_name["recency-dominant"] == [75.0, 0.0]
    assert by_name["anchor-item"] == [25.0, 0.0]
    assert by_name["category-coherent"] == [0.0, 50.0]
    assert fig.layout.yaxis.title.text == "behaviour"


def test_examples_heatmap_aligns_each_prefix_on_the_prediction():
    examples = pd.DataFrame(
        {
            "pattern": ["recency-dominant", "anchor-item"],
            "session_id": [4, 9],
            "prefix_length": [2, 4],
            "items": [[5, 6], [1, 2, 3, 4]],
            "attention": [[0.25, 0.75], [0.4, 0.03, 0.07, 0.5]],
        }
    )
    fig = charts.pattern_examples_heatmap(examples, np.arange(10) % 3)
    (heat,) = fig.data
    z = np.asarray(heat.z, dtype=float)
    assert list(heat.x) == [3, 2, 1, 0]  # clicks back, oldest first
    assert np.isnan(z[0, :2]).all()
    np.testing.assert_allclose(z[0, 2:], [0.25, 0.75])
    np.testing.assert_allclose(z[1], [0.4, 0.03, 0.07, 0.5])
    assert heat.customdata[1][0] == "item 1 · category 1"
    assert list(heat.text[1]) == ["0.40", "", "0.07", "0.50"]  # weights under 5% unlabelled
    assert list(heat.y) == ["recency-dominant · session 4", "anchor-item · session 9"]


def test_embedding_scatter_colours_categories_and_rings_the_pick():
    projection = pd.DataFrame(
        {
            "item_id": [0, 1, 2, 3],
            "category": [0, 0, 2, 2],
            "popularity": [1.0, 0.25, 0.0, 1.0],
            "pc1": [0.0, 1.0, 2.0, 3.0],
            "pc2": [0.0, -1.0, -2.0, -3.0],
        }
    )
    projection.attrs["explained_variance"] = [0.5, 0.25]
    fig = charts.embedding_scatter(projection, 3, highlight=3, neighbours=[1, 2])
    names = [t.name for t in fig.data]
    assert names == ["category 0", "category 2", "picked item", "its nearest neighbours"]
    colors = category_colors(3)
    assert fig.data[0].marker.color == colors[0] and fig.data[1].marker.color == colors[2]
    np.testing.assert_allclose(fig.data[0].marker.size, [18, 3 + 15 * 0.5])
    assert list(fig.data[2].x) == [3.0] and list(fig.data[3].x) == [1.0, 2.0]
    assert (
        fig.data[0].marker.opacity < charts.embedding_scatter(projection, 3).data[0].marker.opacity
    )
    assert fig.layout.xaxis.title.text == "PC1 (50.0% of variance)"
    assert fig.layout.yaxis.title.text == "PC2 (25.0% of variance)"


def test_embedding_scatter_legend_of_25_categories_wraps_below_the_plot():
    """A vertical legend beside the plot ran off the figure with 25 categories."""
    n = 25
    projection = pd.DataFrame(
        {
            "item_id": range(n),
            "category": range(n),
            "popularity": [1.0] * n,
            "pc1": np.arange(n, dtype=float),
            "pc2": np.zeros(n),
        }
    )
    fig = charts.embedding_scatter(projection, n)
    assert len(fig.data) == n
    legend = fig.layout.legend
    assert legend.orientation == "h"  # rows that wrap to the figure's width
    assert legend.y < 0 and legend.yanchor == "top" and legend.x == 0  # under the plot
    assert fig.layout.height == charts.EMBEDDING_HEIGHT


def test_entropy_and_edge_charts_carry_the_reference_lines():
    entropy = pd.DataFrame(
        {
            "prefix_length": [1, 2],
            "mean_entropy": [0.0, 0.5],
            "max_entropy": [0.0, np.log(2)],
            "mean_normalised_entropy": [1.0, 0.5 / np.log(2)],
            "n_prefixes": [3, 3],
        }
    )
    fig = charts.entropy_by_length(entropy)
    assert fig.data[0].name.startswith("uniform attention")
    assert list(fig.data[0].y) == pytest.approx([0.0, np.log(2)])
    edges = pd.DataFrame(
        {"first_click": [0.5, 0.1], "last_click": [0.5, 0.6], "uniform": [0.5, 0.25]}
    )
    fig = charts.edge_share_histogram(edges)
    assert [t.name for t in fig.data] == ["first click", "last click"]
    assert fig.layout.shapes[0].x0 == pytest.approx(0.375)


def test_embedding_scatter_focus_colours_only_the_focused_categories():
    """25 category colours over overlapping points read as one blob: with `focus`, the
    focused categories get distinct saturated colours in the order given, the rest one faint
    grey without a legend entry."""
    n = 25
    projection = pd.DataFrame(
        {
            "item_id": range(n),
            "category": range(n),
            "popularity": [1.0] * n,
            "pc1": np.arange(n, dtype=float),
            "pc2": np.zeros(n),
        }
    )
    fig = charts.embedding_scatter(projection, n, highlight=7, focus=[7, 3, 7])
    by_name = {t.name: t for t in fig.data}
    assert by_name["category 7"].marker.color == charts.FOCUS_COLORS[0]
    assert by_name["category 3"].marker.color == charts.FOCUS_COLORS[1]
    faint = [t for t in fig.data if t.name.startswith("category") and t.name not in
             ("category 7", "category 3")]
    assert len(faint) == n - 2
    assert {t.marker.color for t in faint} == {charts.FAINT}
    assert not any(t.showlegend for t in faint)
    assert by_name["category 7"].marker.opacity > faint[0].marker.opacity
