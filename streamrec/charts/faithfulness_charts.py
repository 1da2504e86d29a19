"""Figures of whether an explanation points at the true cause of a click: the shares of
`insights.faithfulness` per mechanism, and one session's attribution bars per explainer.
Data in, figure out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from streamrec.charts.explain_charts import (
    BAR_COLOR,
    TEMPLATE,
    TRUTH_COLOR,
    click_tick_angle,
    click_tick_font,
)
from streamrec.charts.layout import escape_figure, figure_layout, fitted_margin, legend_below
from streamrec.explain.attribution import (
    GRADIENT_X_INPUT,
    INTEGRATED_GRADIENTS,
    OCCLUSION,
    SHAPLEY,
)
from streamrec.explain.faithfulness import (
    ALL,
    ATTENTION,
    CHANCE,
    EXACT,
    IDEAL,
    LAST_CLICK,
    METHODS,
    POINTER,
    READ_OUT_SHAPLEY,
)

METHOD_COLORS = {
    IDEAL: "#2CA02C",
    ATTENTION: "#636EFA",
    POINTER: "#00A08A",
    OCCLUSION: "#EF553B",
    SHAPLEY: "#AB63FA",
    INTEGRATED_GRADIENTS: "#FFA15A",
    GRADIENT_X_INPUT: "#B6E880",
    EXACT: "#19D3F3",
    READ_OUT_SHAPLEY: "#FF6692",
    LAST_CLICK: "#7F7F7F",
    CHANCE: "#BAB0AC",
}
METHOD_NAMES = {
    IDEAL: "ideal (the oracle's posterior)",
    ATTENTION: "attention",
    POINTER: "copy pointer",
    OCCLUSION: "occlusion",
    SHAPLEY: "Shapley sampling",
    INTEGRATED_GRADIENTS: "integrated gradients",
    GRADIENT_X_INPUT: "gradient × input",
    EXACT: "exact decomposition",
    READ_OUT_SHAPLEY: "Shapley × read-out",
    LAST_CLICK: "always the last click",
    CHANCE: "chance (a random click)",
}
TOP2_OPACITY = 0.35


def faithfulness_bars(table: pd.DataFrame) -> go.Figure:
    """Grouped bars per mechanism: the share of targets whose true cause each explainer ranks
    first (solid, with ±2 standard errors) or in its top two (light bar behind).

    `table` is `Faithfulness.table` (mechanism, method, top, hits, targets, share, se).
    """
    mechanisms = list(dict.fromkeys(table["mechanism"]))
    mechanisms.sort(key=lambda m: m != ALL)  # "all" first, then the table's order
    counts = table.drop_duplicates("mechanism").set_index("mechanism")["targets"]
    x = [f"{m}<br>{int(counts[m]):,} target{'' if counts[m] == 1 else 's'}" for m in mechanisms]
    traces = []
    for method in (m for m in METHODS if m in set(table["method"])):
        for top in (2, 1):  # the top-2 bar first, so the top-1 bar is drawn over it
            rows = table[(table["method"] == method) & (table["top"] == top)]
            rows = rows.set_index("mechanism").reindex(mechanisms)
            traces.append(
                go.Bar(
                    x=x,
                    y=rows["share"] * 100,
                    name=f"{METHOD_NAMES[method]}: top {top}",
                    legendgroup=method,
                    offsetgroup=method,  # top 1 and top 2 of a method share one slot
                    marker={
                        "color": METHOD_COLORS[method],
                        "opacity": 1.0 if top == 1 else TOP2_OPACITY,
                    },
                    # Whiskers on the solid bar only: two sets in one slot would cross.
                    error_y={
                        "type": "data",
                        "array": rows["se"] * 200,
                        "thickness": 1,
                        "visible": top == 1,
                    },
                    customdata=np.stack([rows["hits"], rows["targets"]], axis=1),
                    hovertemplate=(
                        f"{METHOD_NAMES[method]}, top {top}<br>%{{x}}: %{{y:.1f}}%"
                        " (%{customdata[0]:,.0f} of %{customdata[1]:,})<extra></extra>"
                    ),
                )
            )
    layout = figure_layout(
        "Does the explanation point at the true cause? (solid: ranked first; light: in the top 2)",
        "mechanism that produced the predicted click",
        "targets whose cause is ranked first / top 2 (%)",
        height=430,
        yaxis={"range": [0, 105]},
        barmode="group",
        legend=legend_below(-0.3),
        margin={"l": 70, "r": 20, "t": 60, "b": 130},
    )
    return escape_figure(go.Figure(data=traces, layout=layout))


# What each explainer's bars mean: (title, y-axis title, unit scale). Scores are signed: a
# click that pushed the explained score down has a bar below zero.
EXPLAINER_AXES: dict[str, tuple[str, str, float]] = {
    OCCLUSION: (("Occlusion: signed change in P({target}) when each click is kept rather than "
                "dropped"), "P with − P without (percentage points)", 100.0),
    SHAPLEY: ("Shapley values: each click's signed share of P({target})",
              "share of P (percentage points)", 100.0),
    INTEGRATED_GRADIENTS: (("Integrated gradients: each click's signed contribution to "
                           "log P({target})"), "contribution to log P", 1.0),
    GRADIENT_X_INPUT: (("Gradient × input: each click's signed first-order contribution to "
                       "log P({target})"), "gradient · click vector", 1.0),
    EXACT: (("Exact decomposition: each click's signed term of the score of {target} "
            "(terms + bias = the score)"), "term of the logit", 1.0),
    READ_OUT_SHAPLEY: (("Shapley × read-out: each click's positive Shapley share of P({target}), "
                        "weighted by how much the output layer reads it"),
                       "weighted share of P (percentage points)", 100.0),
    ATTENTION: ("Attention: the weight of each click in the prediction of {target}",
                "attention (the model's own scale)", 1.0),
    POINTER: ("Copy pointer: the share of the copy mass on each click when predicting {target}",
              "share of the copy mass", 1.0),
    IDEAL: ("Best possible: the oracle's P(this click caused {target})",
            "P(the click caused it)", 1.0),
}
CAUSE_MARKER = "triangle-down"


def attribution_bars(
    labels: Sequence[str],
    scores: np.ndarray,
    target: str,
    explainer: str = OCCLUSION,
    cause: int | None = None,
    first_click: int = 1,
) -> go.Figure:
    """One signed bar per click: what `explainer` (a METHODS name) gives each click for the
    prediction of `target` (e.g. "item 302"), titled with what it measures.

    `labels` name the clicks (e.g. `session_view.click_labels`); `cause` is the index of the
    click that truly caused the next click: its bar is red and a red marker sits above the
    plot's highest bar, so a tiny bar beside a tall one still shows where the cause is.
    Clicks are numbered from `first_click`, the position of the first one in a cut session.
    """
    labels = list(labels)
    n = len(labels)
    title, y_title, scale = EXPLAINER_AXES[explainer]
    values = np.asarray(scores, dtype=np.float64) * scale
    colors = [TRUTH_COLOR if c == cause else BAR_COLOR for c in range(n)]
    names = [f"click {first_click + c}: {label}" for c, label in enumerate(labels)]
    if cause is not None:
        names[cause] += " (the true cause)"
    x_axis: dict[str, Any] = {
        "tickmode": "array",
        "tickvals": list(range(n)),
        "ticktext": labels,
        "tickangle": click_tick_angle(n),
        "tickfont": click_tick_font(n),
        "showgrid": False,
    }
    traces: list[Any] = [go.Bar(
        x=list(range(n)),
        y=values,
        marker={"color": colors},
        customdata=names,
        showlegend=False,
        hovertemplate=f"%{{customdata}}<br>{y_title}: %{{y:.3g}}<extra></extra>",
    )]
    low, high = float(min(values.min(initial=0.0), 0.0)), float(max(values.max(initial=0.0), 0.0))
    span = (high - low) or 1.0
    y_axis: dict[str, Any] = {"zeroline": True, "zerolinecolor": "#444444",
                              "range": [low - 0.05 * span, high + 0.18 * span]}
    marked = ""
    if cause is not None:
        marked = f"; ▼ red: the true cause, click {first_click + cause}"
        traces.append(go.Scatter(
            x=[cause], y=[high + 0.1 * span], mode="markers", name="the true cause",
            marker={"symbol": CAUSE_MARKER, "size": 14, "color": TRUTH_COLOR},
            hovertemplate=f"{names[cause]}<extra></extra>", showlegend=False,
        ))
    y_ticks = [f"{v:.3g}" for v in (low, high)]
    layout = figure_layout(
        title.format(target=target) + marked,
        "click (oldest → newest)",
        y_title,
        height=300 if n <= 10 else 340,
        xaxis=x_axis,
        yaxis=y_axis,
        margin=fitted_margin(y_ticks, labels, x_axis["tickangle"]),
        automargin=False,
        template=TEMPLATE,
        showlegend=False,
    )
    return escape_figure(go.Figure(data=traces, layout=layout))
