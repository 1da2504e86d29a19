"""The layout every chart shares: a title, axis titles with units, a height and margins.

`figure_layout` builds it as a plain dict, for figures built in one `go.Figure(data, layout)`
call; `finish` applies it to a figure built trace by trace. Every chart leaves through
`finish` or `escape_figure`, which escapes the text Plotly would render as HTML (an item id
`<a href=...>` from an imported log must show as text, never become a link). Where a legend goes is the
caller's choice (`legend_below` for the usual horizontal row under the plot).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from streamrec.text import escape_plotly

MARGIN = {"l": 60, "r": 20, "t": 60, "b": 50}
HEIGHT = 360

# Streamlit's chart theme (1.67): tick labels 12 px, axis titles 14 px, axis titles 24 px (y)
# and 20 px (x) from their tick labels. CHAR_EM is a generous average advance of its sans
# font, so an estimated label is a little wider than the drawn one, never narrower.
TICK_PX = 12
AXIS_TITLE_PX = 14
Y_TITLE_GAP, X_TITLE_GAP = 24, 20
TICK_GAP = 6  # tick mark and padding between the axis line and its labels
CHAR_EM = 0.56
SLACK = 6


def legend_below(y: float = -0.22) -> dict[str, Any]:
    """A horizontal legend under the plot; `y` (in plot heights) clears the x-axis title."""
    return {"orientation": "h", "y": y}


def text_px(text: str, size: int = TICK_PX) -> float:
    """Estimated width in pixels of one line of chart text."""
    return len(text) * CHAR_EM * size


def fitted_margin(
    y_labels: Sequence[str],
    x_labels: Sequence[str] = ("0.00",),
    x_angle: float = 0.0,
    *,
    top: int = MARGIN["t"],
    right: int = MARGIN["r"],
) -> dict[str, int]:
    """Margins that hold the tick labels and axis titles, for a figure drawn with automargin off.

    Plotly's automargin measures every tick label in the browser and then lays the figure out a
    second time; on a page that redraws its charts after every edit that was ~70 ms of a
    ~300 ms update (benchmarks/bench_pages.py). Estimating the room from the label text once,
    here, costs nothing. `x_angle` is the tick angle of slanted x labels (e.g. -40).
    """
    widest_y = max((text_px(label) for label in y_labels), default=0.0)
    left = widest_y + TICK_GAP + Y_TITLE_GAP + AXIS_TITLE_PX + SLACK
    widest_x = max((text_px(label) for label in x_labels), default=0.0)
    angle = math.radians(abs(x_angle))
    x_depth = widest_x * math.sin(angle) + TICK_PX * math.cos(angle)
    # A slanted label hangs left of its tick: the first one must not leave the figure.
    left = max(left, widest_x * math.cos(angle) if x_angle else 0.0)
    bottom = x_depth + TICK_GAP + X_TITLE_GAP + AXIS_TITLE_PX + SLACK
    return {"l": math.ceil(left), "r": right, "t": top, "b": math.ceil(bottom)}


def figure_layout(
    title: str,
    x_title: str,
    y_title: str,
    height: int = HEIGHT,
    *,
    margin: dict[str, int] | None = None,
    legend: dict[str, Any] | None = None,
    automargin: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """Title, axis titles, height, margins and legend, merged with per-figure settings.

    `xaxis` and `yaxis` in `extra` are merged into the axis that carries the title; any other
    key of `extra` (e.g. `template`) goes into the layout as given. With `automargin=False`
    the axes keep `margin` as given (see `fitted_margin`) instead of growing it in the browser,
    and draw every tick label without measuring whether it overflows the figure.
    """
    fixed = {} if automargin else {"automargin": False, "ticklabeloverflow": "allow"}
    layout = {
        "title": {"text": title},
        "xaxis": {"title": {"text": x_title}, **fixed, **extra.pop("xaxis", {})},
        "yaxis": {"title": {"text": y_title}, **fixed, **extra.pop("yaxis", {})},
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
    it already set, its text escaped (`escape_figure`)."""
    return escape_figure(fig.update_layout(figure_layout(title, x_title, y_title, height, **layout)))


# Trace properties that carry data text Plotly renders (labels, hover text, legend names);
# templates (hovertemplate, texttemplate) are the charts' own and stay as written.
_TRACE_TEXT = ("x", "y", "text", "hovertext", "customdata", "name", "labels")


def _has_text(value: Any) -> bool:
    """True if `value` (a string, or a nested list or array) holds a string Plotly would
    render differently once escaped; numeric data is never copied."""
    if isinstance(value, str):
        return escape_plotly(value) != value
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "OUS" and _has_text(value.tolist())
    if isinstance(value, (list, tuple)):
        return any(_has_text(v) for v in value)
    return False


def _escaped(value: Any) -> Any:
    """`value` with every string in it escaped: a string, or a (nested) list or array."""
    if isinstance(value, str):
        return escape_plotly(value)
    if isinstance(value, np.ndarray):
        return np.array(_escaped(value.tolist()), dtype=object)
    if isinstance(value, (list, tuple)):
        return [_escaped(v) for v in value]
    return value


def escape_figure(fig: go.Figure) -> go.Figure:
    """`fig` with the text in its traces (axis values, labels, hover text, custom data, legend
    names) and in its layout (titles, tick labels, annotations) escaped for Plotly."""
    for trace in fig.data:
        for name in _TRACE_TEXT:
            if name in trace and _has_text(trace[name]):
                trace[name] = _escaped(trace[name])
    layout = fig.layout
    if layout.title.text:
        layout.title.text = escape_plotly(layout.title.text)
    for axis in [layout[k] for k in layout if k.startswith(("xaxis", "yaxis", "coloraxis"))]:
        if getattr(axis, "title", None) is not None and axis.title.text:
            axis.title.text = escape_plotly(axis.title.text)
        if _has_text(getattr(axis, "ticktext", None)):
            axis.ticktext = _escaped(axis.ticktext)
    for note in layout.annotations:
        if note.text:
            note.text = escape_plotly(note.text)
    return fig
