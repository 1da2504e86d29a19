"""The layout shared by every chart: title, axis titles, height, margins and the legend."""

from __future__ import annotations

import plotly.graph_objects as go

from streamrec.charts.layout import (
    HEIGHT,
    MARGIN,
    figure_layout,
    finish,
    fitted_margin,
    legend_below,
    text_px,
)


def test_figure_layout_merges_axis_settings_under_the_titles():
    layout = figure_layout("t", "x (s)", "y (count)", 300, xaxis={"range": [0, 1]}, template="none")
    assert layout == {
        "title": {"text": "t"},
        "xaxis": {"title": {"text": "x (s)"}, "range": [0, 1]},
        "yaxis": {"title": {"text": "y (count)"}},
        "height": 300,
        "margin": MARGIN,
        "template": "none",
    }
    assert "legend" not in layout
    assert figure_layout("t", "x", "y", legend=legend_below(-0.3))["legend"] == {
        "orientation": "h",
        "y": -0.3,
    }


def test_applied_to_a_built_figure_it_keeps_what_the_figure_set():
    fig = go.Figure(go.Bar(x=[1], y=[2]))
    fig.update_layout(barmode="stack", margin={"b": 90}, legend={"traceorder": "normal"})
    assert fig.update_layout(figure_layout("t", "x", "y", legend=legend_below())) is fig
    assert fig.layout.barmode == "stack"
    assert (fig.layout.title.text, fig.layout.xaxis.title.text) == ("t", "x")
    assert fig.layout.yaxis.title.text == "y" and fig.layout.height == HEIGHT
    assert (fig.layout.margin.l, fig.layout.margin.b) == (MARGIN["l"], MARGIN["b"])  # replaced
    legend = fig.layout.legend
    assert (legend.orientation, legend.y, legend.traceorder) == ("h", -0.22, "normal")  # merged


def test_finish_is_figure_layout_applied_to_the_figure():
    fig = go.Figure(go.Bar(x=[1], y=[2]))
    fig.update_layout(barmode="group")
    out = finish(fig, "t", "x", "y", 300, margin={**MARGIN, "b": 90}, legend=legend_below(-0.3))
    assert out is fig and fig.layout.barmode == "group"
    expected = go.Figure(go.Bar(x=[1], y=[2]))
    expected.update_layout(barmode="group")
    expected.update_layout(
        figure_layout("t", "x", "y", 300, margin={**MARGIN, "b": 90}, legend=legend_below(-0.3))
    )
    assert fig.to_json() == expected.to_json()
    assert (fig.layout.margin.b, fig.layout.legend.y, fig.layout.height) == (90, -0.3, 300)


def test_fitted_margin_grows_with_the_labels_it_must_hold():
    short = fitted_margin(["a"], ["item 1 · cat 0"])
    assert fitted_margin(["after click 12 (item 302 · cat 4)"])["l"] > short["l"]
    slanted = fitted_margin(["a"], ["item 4999 · cat 24"], x_angle=-40)
    assert slanted["b"] > short["b"]  # a slanted label hangs deeper than a flat one
    assert slanted["l"] >= text_px("item 4999 · cat 24") * 0.76  # and reaches left of its tick
    moved = fitted_margin(["a"], ["item 1 · cat 0"], top=90, right=40)
    assert moved == {**short, "t": 90, "r": 40}


def test_without_automargin_both_axes_keep_the_given_margin():
    layout = figure_layout("t", "x", "y", margin={"l": 1, "r": 2, "t": 3, "b": 4}, automargin=False)
    for axis in ("xaxis", "yaxis"):
        assert layout[axis]["automargin"] is False and layout[axis]["ticklabeloverflow"] == "allow"
    assert "automargin" not in figure_layout("t", "x", "y")["xaxis"]
