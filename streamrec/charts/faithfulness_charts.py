"""Figures of whether an explanation points at the true cause of a click: the shares of
`insights.faithfulness` per mechanism, and one session's leave-one-out occlusion bars.
Data in, figure out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from streamrec.charts.explain_charts import BAR_COLOR, TEMPLATE, TRUTH_COLOR
from streamrec.charts.layout import escape_figure, figure_layout, fitted_margin, legend_below
from streamrec.explain.faithfulness import (
    ALL,
    ATTENTION,
    CHANCE,
    LAST_CLICK,
    METHODS,
    OCCLUSION,
    POINTER,
)

METHOD_COLORS = {
    ATTENTION: "#636EFA",
    POINTER: "#00A08A",
    OCCLUSION: "#EF553B",
    LAST_CLICK: "#7F7F7F",
    CHANCE: "#BAB0AC",
}
METHOD_NAMES = {
    ATTENTION: "attention",
    POINTER: "copy pointer",
    OCCLUSION: "occlusion",
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


def occlusion_bars(
    labels: Sequence[str],
    falls: np.ndarray,
    target: str,
    cause: int | None = None,
    first_click: int = 1,
) -> go.Figure:
    """One bar per click: how far P(`target`) falls when that click is dropped, in
    percentage points (`falls` are probabilities).

    `labels` name the clicks (e.g. `session_view.click_labels`); `cause` is the index of the
    click that truly caused the next click (drawn red and named in the title); clicks are
    numbered from `first_click`, the position of the first one in a longer, cut session.
    """
    labels = list(labels)
    n = len(labels)
    falls = np.asarray(falls, dtype=np.float64)
    colors = [TRUTH_COLOR if c == cause else BAR_COLOR for c in range(n)]
    names = [f"click {first_click + c}: {label}" for c, label in enumerate(labels)]
    if cause is not None:
        names[cause] += " (the true cause)"
    x_axis: dict[str, Any] = {
        "tickmode": "array",
        "tickvals": list(range(n)),
        "ticktext": labels,
        "tickangle": 0 if n <= 10 else -40,
        "showgrid": False,
    }
    points = falls * 100  # percentage points: 0.02 reads better than 200µ
    bars = go.Bar(
        x=list(range(n)),
        y=points,
        marker={"color": colors},
        customdata=names,
        hovertemplate="%{customdata}<br>without it, P falls by %{y:.3g} points<extra></extra>",
    )
    marked = f"; red: the true cause, click {first_click + cause}" if cause is not None else ""
    y_ticks = [f"{v:.3g}" for v in (points.min(initial=0.0), points.max(initial=0.0))]
    layout = figure_layout(
        f"Occlusion: drop one click, how far P({target}) falls{marked}",
        "dropped click (oldest → newest)",
        "fall in probability (percentage points)",
        height=300 if n <= 10 else 340,
        xaxis=x_axis,
        yaxis={"zeroline": True, "zerolinecolor": "#444444"},
        margin=fitted_margin(y_ticks, labels, x_axis["tickangle"]),
        automargin=False,
        template=TEMPLATE,
        showlegend=False,
    )
    return escape_figure(go.Figure(data=[bars], layout=layout))
