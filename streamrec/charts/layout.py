"""The layout every chart shares: a title, axis titles with units, a height and margins.

`figure_layout` builds it as a plain dict, for figures built in one `go.Figure(data, layout)`
call; `finish` applies it to a figure built trace by trace. Where a legend goes is the
caller's choice (`legend_below` for the usual horizontal row under the plot).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

MARGIN = {"l": 60, "r": 20, "t": 60, "b": 50}
HEIGHT = 360


def legend_below(y: float = -0.22) -> dict[str, Any]:
    """A horizontal legend under the plot; `y` (in plot heights) clears the x-axis title."""
    return {"orientation": "h", "y": y}


def figure_layout(
    title: str,
    x_title: str,
    y_title: str,
    height: int = HEIGHT,
    *,
    margin: dict[str, int] | None = None,
    legend: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Title, axis titles, height, margins and legend, merged with per-figure settings.

    `xaxis` and `yaxis` in `extra` are merged into the axis that carries the title; any other
    key of `extra` (e.g. `template`) goes into the layout as given.
    """
    layout = {
        "title": {"text": title},
        "xaxis": {"title": {"text": x_title}, **extra.pop("xaxis", {})},
        "yaxis": {"title": {"text": y_title}, **extra.pop("yaxis", {})},
        "height": height,
        "margin": MARGIN if margin is None else margin,
    }
    if legend is not None:
        layout["legend"] = legend
    return {**layout, **extra}


def finish(
    fig: go.Figure, title: str, x_title: str, y_title: str, height: int = HEIGHT, **layout: Any
) -> go.Figure:
    """`fig` with `figure_layout(title, x_title, y_title, height, **layout)` applied over what
    it already set."""
    return fig.update_layout(figure_layout(title, x_title, y_title, height, **layout))
