"""The layout shared by every chart: title, axis titles, height, margins and the legend."""

from __future__ import annotations

import plotly.graph_objects as go

from streamrec.charts.layout import HEIGHT, MARGIN, figure_layout, finish, legend_below


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
