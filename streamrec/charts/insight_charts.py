"""Figures of what a model learned: attention over many sessions, and its item embeddings.

Pure builders over the frames of `streamrec.insights`: data in, figure out. The attention
charts count clicks back from the prediction (0 = the last click) and draw that axis
right to left, so a session reads left to right as it was clicked.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative, sample_colorscale

from streamrec.charts.layout import MARGIN, finish, legend_below
from streamrec.charts.world_charts import category_colors
from streamrec.data.columns import CATEGORY, ITEM_ID, SESSION_ID
from streamrec.data.items import ItemNames
from streamrec.insights.patterns import PATTERNS

PATTERN_COLORS = dict(zip(PATTERNS, ("#EF553B", "#636EFA", "#00CC96", "#AB63FA", "#B0B7C3")))
_LINES = qualitative.Plotly
BACK_AXIS = "clicks before the prediction (0 = last click)"
HEIGHT = 380


def attention_by_position(
    frame: pd.DataFrame, title: str = "Mean attention by click position", log_y: bool = False
) -> go.Figure:
    """One line per group: mean attention on the k-th click before the prediction.

    `frame` is `insights.mean_by_position` output (group, position_from_end,
    mean_attention, n_prefixes). A log y-axis shows how fast the weight decays behind a
    dominant last click (zero weights drop out of it).
    """
    fig = go.Figure()
    for i, (group, rows) in enumerate(frame.groupby("group", sort=False)):
        fig.add_trace(
            go.Scatter(
                x=rows["position_from_end"],
                y=rows["mean_attention"],
                customdata=rows["n_prefixes"],
                mode="lines+markers",
                name=str(group),
                line={"color": _LINES[i % len(_LINES)]},
                marker={"size": 5},
                hovertemplate=(
                    f"{group}<br>%{{x}} clicks back: mean weight %{{y:.3f}}"
                    "<br>over %{customdata:,} prefixes<extra></extra>"
                ),
            )
        )
    fig.update_xaxes(autorange="reversed", dtick=2)
    if log_y:
        fig.update_yaxes(type="log", exponentformat="power")
    else:
        fig.update_yaxes(rangemode="tozero")
    scale = ", log scale" if log_y else ""
    return finish(
        fig,
        title,
        BACK_AXIS,
        f"mean attention weight (share of 1{scale})",
        HEIGHT,
        legend=legend_below(),
    )


def edge_share_histogram(frame: pd.DataFrame) -> go.Figure:
    """Distributions of the attention share on the first and on the last click of a prefix.

    `frame` is `insights.edge_shares` output; the dotted line is the mean uniform share 1/L.
    """
    fig = go.Figure()
    for column, name, color in (
        ("first_click", "first click", _LINES[1]),
        ("last_click", "last click", _LINES[0]),
    ):
        fig.add_trace(
            go.Histogram(
                x=frame[column],
                name=name,
                xbins={"start": 0.0, "end": 1.0 + 1e-9, "size": 0.05},
                histnorm="percent",
                marker_color=color,
                opacity=0.65,
                hovertemplate=f"{name}: share %{{x}}<br>%{{y:.1f}}% of prefixes<extra></extra>",
            )
        )
    fig.update_layout(barmode="overlay")
    if len(frame):
        uniform = float(frame["uniform"].mean())
        fig.add_vline(
            x=uniform, line_dash="dot", annotation_text=f"uniform 1/L (mean {uniform:.2f})"
        )
    fig.update_xaxes(range=[0, 1])
    return finish(
        fig,
        f"Attention on the first and the last click ({len(frame):,} prefixes of 2+ clicks)",
        "share of the prefix's attention on that click",
        "prefixes (%)",
        HEIGHT,
        legend=legend_below(),
    )


def entropy_by_length(frame: pd.DataFrame) -> go.Figure:
    """Mean attention entropy per prefix length against uniform attention's log(L)."""
    fig = go.Figure(
        [
            go.Scatter(
                x=frame["prefix_length"],
                y=frame["max_entropy"],
                mode="lines",
                name="uniform attention, log(L) (maximum)",
                line={"dash": "dash", "color": "#7F7F7F"},
                hovertemplate="L = %{x}: log(L) = %{y:.2f} nats<extra></extra>",
            ),
            go.Scatter(
                x=frame["prefix_length"],
                y=frame["mean_entropy"],
                customdata=np.stack(
                    [frame["mean_normalised_entropy"], frame["n_prefixes"]], axis=1
                ),
                mode="lines+markers",
                name="model (mean)",
                line={"color": _LINES[0]},
                hovertemplate=(
                    "L = %{x}: mean entropy %{y:.2f} nats"
                    "<br>%{customdata[0]:.0%} of the maximum, %{customdata[1]:,} prefixes"
                    "<extra></extra>"
                ),
            ),
        ]
    )
    fig.update_yaxes(rangemode="tozero")
    return finish(
        fig,
        "How spread out the attention is, by prefix length",
        "prefix length L (clicks)",
        "attention entropy (nats)",
        HEIGHT,
        legend=legend_below(),
    )


def pattern_shares(
    table: pd.DataFrame, title: str = "Attention patterns by hidden behaviour"
) -> go.Figure:
    """Stacked horizontal bars: the share of each group's prefixes in each pattern.

    `table` is `insights.pattern_counts` output (groups as rows, patterns as columns).
    """
    totals = table.sum(axis=1).replace(0, np.nan)
    shares = table.div(totals, axis=0) * 100
    labels = [str(i) for i in table.index]
    fig = go.Figure(
        [
            go.Bar(
                y=labels,
                x=shares[pattern],
                customdata=table[pattern],
                orientation="h",
                name=pattern,
                marker_color=PATTERN_COLORS[pattern],
                hovertemplate=(
                    f"%{{y}}: %{{x:.1f}}% {pattern}<br>%{{customdata:,}} prefixes<extra></extra>"
                ),
            )
            for pattern in table.columns
        ]
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(range=[0, 100])
    fig.update_layout(barmode="stack")
    return finish(
        fig,
        title,
        "share of prefixes (%)",
        table.index.name or "group",
        height=max(320, 45 * len(labels) + 190),
        # In pattern order, below the axis title rather than on it.
        margin={**MARGIN, "b": 90},
        legend={**legend_below(-0.3), "traceorder": "normal"},
    )


def pattern_examples_heatmap(
    examples: pd.DataFrame, item_category: np.ndarray | ItemNames
) -> go.Figure:
    """One row per example prefix, its clicks right-aligned on the prediction, coloured by
    attention weight; hover names the item and its category (`item_category`), or whatever
    `ItemNames` knows of it (an imported log's raw id and label).

    `examples` is `insights.pattern_examples` output.
    """
    n = len(examples)
    width = int(examples["prefix_length"].max()) if n else 1
    z = np.full((n, width), np.nan)
    hover = np.full((n, width), "", dtype=object)
    text = np.full((n, width), "", dtype=object)
    for r, (items, weights) in enumerate(zip(examples["items"], examples["attention"])):
        length = len(items)
        cols = np.arange(width - length, width)
        z[r, cols] = weights
        for c, item, weight in zip(cols, items, weights):
            hover[r, c] = (
                item_category.label(item)
                if isinstance(item_category, ItemNames)
                else f"item {item} · category {item_category[item]}"
            )
            text[r, c] = f"{weight:.2f}" if weight >= 0.05 else ""
    labels = [f"{p} · session {s}" for p, s in zip(examples["pattern"], examples[SESSION_ID])]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=np.arange(width - 1, -1, -1),
            y=labels,
            text=text,
            customdata=hover,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0.0,
            zmax=1.0,
            xgap=1,
            ygap=2,
            colorbar={"title": {"text": "attention"}},
            hovertemplate=(
                "%{y}<br>%{x} clicks back: %{customdata}<br>weight %{z:.3f}<extra></extra>"
            ),
            hoverongaps=False,
        )
    )
    fig.update_xaxes(type="category")  # x runs from the oldest click to 0, the last one
    fig.update_yaxes(type="category", autorange="reversed")
    return finish(
        fig,
        "Example prefixes of each pattern",
        BACK_AXIS,
        "pattern · session",
        height=max(260, 26 * n + 130),
        legend=legend_below(),
    )


def compare_pattern_shares(summary: pd.DataFrame) -> go.Figure:
    """Grouped bars: each run's share of prefixes per pattern (`insights.compare_profiles`)."""
    rows = [f"share {p}" for p in PATTERNS if f"share {p}" in summary.index]
    fig = go.Figure(
        [
            go.Bar(
                x=[r.removeprefix("share ") for r in rows],
                y=summary.loc[rows, run] * 100,
                name=str(run),
                marker_color=_LINES[i % len(_LINES)],
                text=[f"{v:.0%}" for v in summary.loc[rows, run]],
                textposition="outside",
                hovertemplate=f"{run}<br>%{{x}}: %{{y:.1f}}% of prefixes<extra></extra>",
            )
            for i, run in enumerate(summary.columns)
        ]
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 110])
    return finish(
        fig,
        "Attention patterns, run against run",
        "pattern",
        "share of prefixes (%)",
        HEIGHT,
        legend=legend_below(),
    )


EMBEDDING_HEIGHT = 720  # the plot keeps ~500 px above up to four rows of legend
# Focused categories: saturated, mutually distinct colours; everything else one faint grey.
FOCUS_COLORS = tuple(qualitative.D3)
FAINT = "#C9C9C9"


def embedding_scatter(
    projection: pd.DataFrame,
    n_categories: int,
    highlight: int | None = None,
    neighbours: Sequence[int] = (),
    names: ItemNames | None = None,
    focus: Collection[int] | None = None,
) -> go.Figure:
    """Items on the first two principal components of their learned vectors, one colour per
    category, marker area growing with true popularity; optionally one item and its
    neighbours ringed.

    With `focus` (categories), only those get colours, from a strong palette in the order
    given, and every other category is drawn faint grey underneath: 25 category colours over
    thousands of overlapping points read as one pastel blob.

    `projection` is `insights.embedding_projection` output. With `names` (e.g. an imported
    log's), the colour groups are `names.groups()` (categories, else popularity deciles on an
    ordered scale) and the hover shows each item's raw id and label.
    """
    colors = category_colors(n_categories)
    group_names = None if names is None else names.groups()[1]
    if group_names is not None and names is not None and not names.has_categories:  # ordered
        colors = sample_colorscale("Viridis", np.linspace(0.0, 0.9, len(group_names)))
    focused = None if focus is None else {int(c): i for i, c in enumerate(dict.fromkeys(focus))}
    picked = highlight is not None
    popularity = projection["popularity"].to_numpy()
    top = float(popularity.max()) if popularity.size and popularity.max() > 0 else 1.0
    fig = go.Figure()
    for category, rows in projection.groupby(CATEGORY, sort=True):
        faint = focused is not None and int(category) not in focused
        if focused is None:
            color = colors[int(category)]
        elif faint:
            color = FAINT
        else:
            color = FOCUS_COLORS[focused[int(category)] % len(FOCUS_COLORS)]
        fig.add_trace(
            go.Scattergl(
                x=rows["pc1"],
                y=rows["pc2"],
                mode="markers",
                name=f"category {category}" if group_names is None else group_names[category],
                showlegend=not faint,
                marker={
                    "color": color,
                    "size": 3 + 15 * np.sqrt(rows["popularity"].to_numpy() / top),
                    # Let the rings stand out; faint categories stay in the background.
                    "opacity": 0.3 if faint else (0.35 if picked and focused is None else 0.75),
                    "line": {"width": 0},
                },
                customdata=np.stack([rows[ITEM_ID], rows[CATEGORY], rows["popularity"]], axis=1),
                hovertemplate=(
                    "item %{customdata[0]}<br>category %{customdata[1]}"
                    "<br>popularity %{customdata[2]:.4f}<extra></extra>"
                )
                if names is None
                else "%{text}<br>popularity %{customdata[2]:.4f}<extra></extra>",
                text=None
                if names is None or group_names is None
                else [f"{names.label(i)}<br>{group_names[category]}" for i in rows[ITEM_ID]],
            )
        )
    ringed = [(highlight, "picked item", 16)] if highlight is not None else []
    ringed += [(int(i), "its nearest neighbours", 11) for i in neighbours]
    for label in dict.fromkeys(name for _, name, _ in ringed):
        ids = [i for i, name, _ in ringed if name == label]
        rows = projection.set_index(ITEM_ID).loc[ids]
        fig.add_trace(
            go.Scatter(
                x=rows["pc1"],
                y=rows["pc2"],
                mode="markers",
                name=label,
                marker={
                    "symbol": "circle-open",
                    "size": 20 if label == "picked item" else 14,
                    "color": "#111111",
                    "line": {"width": 3 if label == "picked item" else 2},
                },
                legendrank=1,  # above the category entries, which can fill the legend
                text=[f"item {i}" if names is None else names.label(i) for i in ids],
                hovertemplate="%{text}<extra>" + label + "</extra>",
            )
        )
    ratio = projection.attrs.get("explained_variance", [float("nan")] * 2)
    return finish(
        fig,
        f"Learned item embeddings, PCA to 2-D ({len(projection):,} items; "
        "marker size grows with popularity)",
        f"PC1 ({ratio[0]:.1%} of variance)",
        f"PC2 ({ratio[1]:.1%} of variance)",
        height=EMBEDDING_HEIGHT,
        # Below the plot, in rows that wrap to the figure's width: a column beside it ran off
        # the figure with 25 categories. Plotly grows the bottom margin to fit the rows.
        legend={**legend_below(-0.14), "yanchor": "top", "x": 0, "itemsizing": "constant"},
    )
