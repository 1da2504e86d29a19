"""Faithfulness figures: the values they carry, their labels, titles and axes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from streamrec.charts.faithfulness_charts import EXPLAINER_AXES, attribution_bars, faithfulness_bars
from streamrec.explain.attribution import INTEGRATED_GRADIENTS, OCCLUSION, SHAPLEY
from streamrec.explain.faithfulness import METHODS, summary_table
from streamrec.views.session_view import click_labels

CATEGORY = np.array([0, 0, 1, 2, 1])


def assert_titled(fig) -> None:
    layout = fig.layout
    assert layout.title.text and layout.xaxis.title.text and layout.yaxis.title.text


def table() -> pd.DataFrame:
    """Three targets: anchor (window 4, attention rank 1, occlusion 2, last 4), repeat x2."""
    targets = pd.DataFrame(
        {
            "mechanism": ["anchor", "repeat", "repeat"],
            "window": [4, 2, 5],
            "attention rank": [1, 2, 3],
            "occlusion rank": [2, 1, 1],
            "last click rank": [4, 1, 2],
        }
    )
    return summary_table(targets)


def test_faithfulness_bars_group_methods_per_mechanism_with_top_two_behind():
    fig = faithfulness_bars(table())
    assert_titled(fig)
    assert fig.layout.barmode == "group"
    names = [t.name for t in fig.data]
    assert names == [
        "attention: top 2", "attention: top 1",
        "occlusion: top 2", "occlusion: top 1",
        "always the last click: top 2", "always the last click: top 1",
        "chance (a random click): top 2", "chance (a random click): top 1",
    ]
    assert list(fig.data[0].x) == ["all<br>3 targets", "anchor<br>1 target", "repeat<br>2 targets"]
    attention_top1, occlusion_top1 = fig.data[1], fig.data[3]
    np.testing.assert_allclose(attention_top1.y, [100 / 3, 100, 0])
    np.testing.assert_allclose(occlusion_top1.y, [200 / 3, 0, 100])
    np.testing.assert_allclose(fig.data[0].y, [200 / 3, 100, 50])  # attention, top 2
    np.testing.assert_allclose(fig.data[7].y, [100 * (1 / 4 + 1 / 2 + 1 / 5) / 3, 25, 35])
    assert fig.data[0].offsetgroup == fig.data[1].offsetgroup == "attention"
    assert fig.data[0].marker.opacity < fig.data[1].marker.opacity == 1.0
    np.testing.assert_allclose(attention_top1.error_y.array[0], 200 * np.sqrt(2 / 9 / 3))
    assert attention_top1.error_y.visible and not fig.data[0].error_y.visible
    assert "%" in fig.layout.yaxis.title.text


def test_faithfulness_bars_without_attention_have_three_methods():
    frame = table()
    fig = faithfulness_bars(frame[frame["method"] != "attention"])
    assert len(fig.data) == 6 and "attention" not in fig.data[0].name


def test_attribution_bars_signed_one_bar_per_click_with_a_visible_cause_marker():
    labels = click_labels([3, 0, 3], CATEGORY)
    fig = attribution_bars(labels, np.array([0.1, -0.5, 0.001]), "item 4", OCCLUSION, cause=2)
    assert_titled(fig)
    bar, marker = fig.data
    np.testing.assert_allclose(bar.y, [10, -50, 0.1])  # percentage points, signed
    assert "percentage points" in fig.layout.yaxis.title.text
    title = fig.layout.title.text
    assert title.startswith("Occlusion: signed change in P(item 4)") and "true cause, click 3" in title
    assert list(fig.layout.xaxis.ticktext) == ["item 3 · cat 2", "item 0 · cat 0", "item 3 · cat 2"]
    assert bar.marker.color[2] != bar.marker.color[0] == bar.marker.color[1]
    assert bar.customdata[2] == "click 3: item 3 · cat 2 (the true cause)"
    # The cause's bar is tiny beside a -50 bar: the marker sits above every bar, inside the axis.
    assert list(marker.x) == [2] and marker.y[0] > bar.y.max()
    low, high = fig.layout.yaxis.range
    assert low < -50 and marker.y[0] < high
    cut = attribution_bars(labels, np.zeros(3), "item 4", SHAPLEY, cause=2, first_click=8)
    assert "click 10" in cut.layout.title.text and cut.data[0].customdata[0] == "click 8: item 3 · cat 2"
    assert cut.layout.title.text.startswith("Shapley values")
    plain = attribution_bars(labels[:2], np.zeros(2), "item 4", INTEGRATED_GRADIENTS)
    assert "true cause" not in plain.layout.title.text and len(plain.data) == 1
    assert len(set(plain.data[0].marker.color)) == 1


def test_every_explainer_has_a_title_that_says_what_its_bars_measure():
    labels = click_labels([3, 0], CATEGORY)
    for method in METHODS:
        if method in EXPLAINER_AXES:
            fig = attribution_bars(labels, np.array([0.2, 0.1]), "item 4", method)
            assert "item 4" in fig.layout.title.text, method
