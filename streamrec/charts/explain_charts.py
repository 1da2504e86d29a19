"""Figures of one session's recommendation: where the attention went, the ranked list, and the
oracle's belief about the hidden behaviour. Data in, figure out.

Clicks sit on numeric axes (position 0..L-1) labelled 'item 302 · cat 4', so a session that
clicks the same item twice keeps two cells. Each figure is built in one `go.Figure(data,
layout)` call: the page rebuilds the ones on screen after every edit of the session, and
Plotly's `update_*` helpers cost ~10x more than the figure itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from streamrec.charts.layout import escape_figure, figure_layout, fitted_margin, legend_below
from streamrec.charts.world_charts import category_colors
from streamrec.data.columns import CATEGORY, ITEM_ID
from streamrec.views.session_view import (
    BEHAVIOUR_NAMES,
    IN_SESSION,
    LABEL,
    PROBABILITY,
    RANK,
    TRUE_NEXT,
    click_labels,
    item_label,
)
from streamrec.world.simulator import BEHAVIOURS

ATTENTION_SCALE = "Blues"
# Both attention heatmaps colour a weight on this one fixed range, so the same blue means the
# same weight in either (a scale fitted to each figure made 0.71 darkest in one, mid-blue in
# the other).
ATTENTION_RANGE = (0.0, 1.0)
ATTENTION_MEANING = (
    "A weight is the share of its attention the model gave a click when it predicted the next "
    "one: each prediction's weights add up to 1 (0.50 is half), and both heatmaps colour "
    "weights on the same 0–1 scale."
)
BAR_COLOR = "#1F77B4"
ORACLE_COLOR = "#3A3A3A"
TRUTH_COLOR = "#D62728"
# Streamlit styles the figure with its own theme; Plotly's default template would only add
# weight (copying it is most of the cost of building a small figure).
TEMPLATE = "none"
# Beyond this many clicks the growth heatmap's cells carry no printed value (hover shows it):
# its n(n+1)/2 labels were the slowest part of redrawing a long session, and at that size
# they are too small to read anyway.
GROWTH_TEXT_UP_TO = 12


def _click_axis(labels: list[str], flat_up_to: int) -> dict[str, Any]:
    """Numeric positions labelled per click; beyond `flat_up_to` clicks the labels slant."""
    return {
        "tickmode": "array",
        "tickvals": list(range(len(labels))),
        "ticktext": labels,
        "tickangle": 0 if len(labels) <= flat_up_to else -40,
        "showgrid": False,
        "zeroline": False,
    }


def _cell_font(n_clicks: int) -> dict[str, int]:
    """Cell text small enough for two decimals to fit a cell of a wide page."""
    return {"size": 12 if n_clicks <= 12 else 10 if n_clicks <= 20 else 9}


def attention_heatmap(
    session: Sequence[int], attention: np.ndarray, item_category: np.ndarray,
    map_name: str | None = None,
) -> go.Figure:
    """One row: the attention weight of each click in the prediction of the next click;
    `map_name` names which of the model's maps it is (e.g. "layer 2 · head 1")."""
    labels = click_labels(session, item_category)
    weights = np.asarray(attention, dtype=np.float64)
    n = len(labels)
    x_axis = _click_axis(labels, flat_up_to=10)
    y_labels = ["next click"]
    heatmap = go.Heatmap(
        z=weights[None, :],
        x=list(range(n)),
        y=[0],
        customdata=np.array(labels, dtype=object)[None, :],
        zmin=ATTENTION_RANGE[0],
        zmax=ATTENTION_RANGE[1],
        colorscale=ATTENTION_SCALE,
        colorbar={"title": {"text": "attention weight"}, "thickness": 14},
        texttemplate="%{z:.2f}",
        textfont=_cell_font(n),
        xgap=2,
        hovertemplate="click %{x}: %{customdata}<br>attention weight %{z:.3f}<extra></extra>",
    )
    layout = figure_layout(
        f"Attention{f' ({map_name})' if map_name else ''} over the session's clicks when "
        "predicting the next click (weights sum to 1)",
        "click in session (oldest → newest)",
        "prediction",
        height=250 if n <= 6 else 300,
        xaxis=x_axis,
        yaxis={"tickmode": "array", "tickvals": [0], "ticktext": y_labels, "showgrid": False},
        margin=fitted_margin(y_labels, labels, x_axis["tickangle"]),
        automargin=False,
        template=TEMPLATE,
    )
    return escape_figure(go.Figure(data=[heatmap], layout=layout))


def attention_growth_heatmap(
    session: Sequence[int], growth: np.ndarray, item_category: np.ndarray, first_click: int = 1,
    map_name: str | None = None,
) -> go.Figure:
    """Row t: the attention over clicks 1..t in the prediction made right after click t
    (`map_name`: which of the model's maps).

    Cells right of the diagonal (clicks not yet made) are left blank. Colours use the fixed
    ATTENTION_RANGE shared with `attention_heatmap` (the first row's single weight is 1, the
    darkest blue). Rows are numbered from `first_click`, the position of `session[0]` in a
    longer, cut session.
    """
    labels = click_labels(session, item_category)
    n = len(labels)
    z = np.asarray(growth, dtype=np.float64).copy()  # (L, L)
    z[np.triu_indices(n, k=1)] = np.nan
    rows = [f"after click {first_click + t} ({labels[t]})" for t in range(n)]
    x_axis = _click_axis(labels, flat_up_to=6)
    heatmap = go.Heatmap(
        z=z,
        x=list(range(n)),
        y=list(range(n)),
        customdata=np.array([[f"{r}<br>weight of {c}" for c in labels] for r in rows]),
        zmin=ATTENTION_RANGE[0],
        zmax=ATTENTION_RANGE[1],
        colorscale=ATTENTION_SCALE,
        colorbar={"title": {"text": "attention weight"}, "thickness": 14},
        texttemplate="%{z:.2f}" if n <= GROWTH_TEXT_UP_TO else "",
        textfont=_cell_font(n),
        xgap=1,
        ygap=1,
        hoverongaps=False,
        hovertemplate="%{customdata}: %{z:.3f}<extra></extra>",
    )
    layout = figure_layout(
        f"How the attention{f' ({map_name})' if map_name else ''} shifts as the session grows "
        "(row t: prediction after click t)",
        "attended click (oldest → newest)",
        "prediction made",
        height=max(300, 26 * n + 170),
        xaxis=x_axis,
        yaxis={
            "tickmode": "array",
            "tickvals": list(range(n)),
            "ticktext": rows,
            "autorange": "reversed",
            "showgrid": False,
            "zeroline": False,
        },
        plot_bgcolor="white",
        margin=fitted_margin(rows, labels, x_axis["tickangle"]),
        automargin=False,
        template=TEMPLATE,
    )
    return escape_figure(go.Figure(data=[heatmap], layout=layout))


def top_k_bars(
    table: pd.DataFrame,
    n_categories: int,
    oracle_probs: np.ndarray | None = None,
    title: str = "Model's top items (colour: category; ◆ oracle's probability)",
) -> go.Figure:
    """Horizontal bars of a top-K table's probabilities, each bar in its category's colour
    (one colour for a table without categories, e.g. an imported log's).

    `oracle_probs` (n_items,) adds the oracle's probability of each listed item as a marker;
    items already in the session are hatched and the true next item is starred.
    """
    if CATEGORY in table:
        colors = category_colors(n_categories)
        names = [item_label(int(i), int(c)) for i, c in zip(table[ITEM_ID], table[CATEGORY])]
        bar_colors = [colors[c] for c in table[CATEGORY]]
    else:
        extra = table[LABEL] if LABEL in table else [""] * len(table)
        names = [f"item {i}" + (f" · {x}" if x else "") for i, x in zip(table[ITEM_ID], extra)]
        bar_colors = [BAR_COLOR] * len(table)
    labels = [
        f"#{r} {'★ ' if t else ''}{name}"
        for r, name, t in zip(table[RANK], names, table[TRUE_NEXT])
    ]
    probs = table[PROBABILITY].to_numpy()
    traces: list[Any] = [
        go.Bar(
            x=probs,
            y=labels,
            orientation="h",
            name="model's probability",
            marker={
                "color": bar_colors,
                "pattern": {"shape": ["/" if s else "" for s in table[IN_SESSION]]},
            },
            hovertemplate="%{y}<br>model probability %{x:.4f}<extra></extra>",
            showlegend=False,
        )
    ]
    if oracle_probs is not None:
        traces.append(
            go.Scatter(
                x=np.asarray(oracle_probs)[table[ITEM_ID].to_numpy()],
                y=labels,
                mode="markers",
                name="oracle's probability",
                marker={"symbol": "diamond", "size": 9, "color": ORACLE_COLOR},
                hovertemplate="%{y}<br>oracle probability %{x:.4f}<extra></extra>",
            )
        )
    layout = figure_layout(
        title,
        "probability of being the next click",
        "rank and item (hatched: already clicked)",
        height=max(300, 24 * len(labels) + 170),
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": labels,
            "autorange": "reversed",
        },
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        margin=fitted_margin(labels, top=90, right=40),  # the legend sits above the plot
        automargin=False,
        template=TEMPLATE,
    )
    return escape_figure(go.Figure(data=traces, layout=layout))


def behaviour_posterior_chart(
    posterior: np.ndarray, prior: Sequence[float], truth: str | None = None
) -> go.Figure:
    """The oracle's P(hidden behaviour | clicks) beside the prior mix; the true one outlined."""
    names = [BEHAVIOUR_NAMES[b] + (" (true)" if b == truth else "") for b in BEHAVIOURS]
    posterior = np.asarray(posterior, dtype=np.float64)
    traces = [
        go.Bar(
            x=posterior,
            y=names,
            orientation="h",
            name="after these clicks",
            marker={
                "color": BAR_COLOR,
                "line": {
                    "color": TRUTH_COLOR,
                    "width": [3.0 if b == truth else 0.0 for b in BEHAVIOURS],
                },
            },
            text=[f"{p:.0%}" for p in posterior],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.1%} after these clicks<extra></extra>",
        ),
        go.Scatter(
            x=list(prior),
            y=names,
            mode="markers",
            name="before any click (behaviour mix)",
            marker={
                "symbol": "line-ns-open",
                "size": 22,
                "color": ORACLE_COLOR,
                "line": {"width": 3},
            },
            hovertemplate="%{y}: %{x:.1%} before any click<extra></extra>",
        ),
    ]
    layout = figure_layout(
        "Hidden behaviour: the oracle's belief",
        "probability (%)",
        "behaviour",
        height=300,
        xaxis={"range": [0, 1.08], "tickformat": ".0%"},
        yaxis={"autorange": "reversed"},
        legend=legend_below(-0.35),
        margin=fitted_margin(names, ["100%"]),
        automargin=False,
        template=TEMPLATE,
    )
    return escape_figure(go.Figure(data=traces, layout=layout))
