"""Figures of a simulated dataset and of the baselines it allows: data in, figure out.

Categories keep one colour everywhere (`category_colors`), so a category looks the same in
the size chart, the session strips and any other page that reuses the helper.
"""

from __future__ import annotations

import colorsys
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from streamrec.charts.layout import finish, legend_below
from streamrec.data.sessions import SessionData
from streamrec.world.oracle import Oracle
from streamrec.world.simulator import BEHAVIOURS

# Distinct hand-made palettes first; generated hues only beyond them.
_PALETTE = tuple(qualitative.Plotly + qualitative.Dark24 + qualitative.Light24)
_GOLDEN = 0.618033988749895
# Stretched at the low end: a strong diagonal must not hide the small off-diagonal shares.
_PROBABILITY_SCALE = [
    [0.0, "#F7FBFF"],
    [0.02, "#C6DBEF"],
    [0.1, "#6BAED6"],
    [0.3, "#2171B5"],
    [1.0, "#08306B"],
]

BEHAVIOUR_LABELS = {"explorer": "explorer", "deep_dive": "deep dive", "comparison": "comparison"}
METRIC_LABELS = {
    f"{name}@{k}": f"{label}@{k}"
    for name, label in (("hit", "Hit"), ("mrr", "MRR"), ("ndcg", "NDCG"))
    for k in (5, 10, 20, 50)
}
ORACLE = Oracle.name


def category_colors(n_categories: int) -> list[str]:
    """Hex colour of each category; colour c is the same whatever n_categories is."""
    colors = list(_PALETTE[:n_categories])
    for c in range(len(colors), n_categories):
        # Golden-angle hues spread any number of extra categories around the wheel.
        hue = (c * _GOLDEN) % 1.0
        lightness = (0.35, 0.5, 0.65)[c % 3]
        r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.75)
        colors.append(f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}")
    return colors


def session_length_histogram(data: SessionData) -> go.Figure:
    """Bar per session length: how many sessions have that many clicks."""
    counts = np.bincount(data.lengths)
    lengths = np.flatnonzero(counts)
    fig = go.Figure(
        go.Bar(
            x=lengths,
            y=counts[lengths],
            marker_color=_PALETTE[0],
            hovertemplate="%{x} clicks: %{y} sessions<extra></extra>",
        )
    )
    mean = float(data.lengths.mean()) if data.n_sessions else 0.0
    fig.add_vline(x=mean, line_dash="dash", annotation_text=f"mean {mean:.1f}")
    fig.update_layout(bargap=0.1)
    return finish(fig, "Session lengths", "session length (clicks)", "sessions (count)")


def category_sizes_chart(data: SessionData) -> go.Figure:
    """Items per category, coloured by category, with each category's share of clicks."""
    n_cats = data.require_catalog().n_categories
    sizes = data.require_catalog().category_sizes
    clicks = np.bincount(data.item_category[data.items], minlength=n_cats)
    share = clicks / max(data.n_clicks, 1) * 100
    fig = go.Figure(
        go.Bar(
            x=[str(c) for c in range(n_cats)],
            y=sizes,
            marker_color=category_colors(n_cats),
            customdata=np.stack([clicks, share], axis=1),
            hovertemplate=(
                "category %{x}<br>%{y} items<br>%{customdata[0]:,} clicks "
                "(%{customdata[1]:.1f}% of all)<extra></extra>"
            ),
        )
    )
    fig.update_xaxes(type="category")
    return finish(fig, "Category sizes", "category (id)", "items in category (count)")


def popularity_long_tail(data: SessionData, max_points: int = 2_000) -> go.Figure:
    """Log–log rank plot of clicks per item, observed and expected from the true popularity.

    Expected clicks of an item: the clicks its category received times its true
    within-category probability, so the gap between the curves is sampling noise.
    """
    n_items = data.require_catalog().n_items
    observed = np.sort(np.bincount(data.items, minlength=n_items))[::-1]
    category_clicks = np.bincount(
        data.item_category[data.items], minlength=data.require_catalog().n_categories
    )
    expected = np.sort(category_clicks[data.item_category] * data.item_popularity)[::-1]
    fig = go.Figure()
    for name, values, style in (
        ("observed clicks", observed, {"mode": "markers", "marker": {"color": _PALETTE[0]}}),
        (
            "expected from true popularity",
            expected,
            {"mode": "lines", "line": {"color": "#FF7F0E"}},
        ),
    ):
        ranks = np.flatnonzero(values > 0) + 1
        if ranks.size > max_points:  # log-spaced ranks keep the plot light for huge catalogs
            keep = np.unique(np.geomspace(1, ranks.size, max_points).astype(np.int64)) - 1
            ranks = ranks[keep]
        fig.add_trace(
            go.Scatter(
                x=ranks,
                y=values[ranks - 1],
                name=name,
                hovertemplate="rank %{x}: %{y:,.1f} clicks<extra>" + name + "</extra>",
                **style,
            )
        )
    fig.update_traces(marker_size=4, selector={"mode": "markers"})
    fig.update_xaxes(type="log", dtick=1)  # a tick per decade
    fig.update_yaxes(type="log", dtick=1)
    never = int((observed == 0).sum())
    title = "Popularity long tail"
    if never:
        title += f" ({never:,} items never clicked, not shown)"
    return finish(
        fig,
        title,
        "item rank by clicks (1 = most clicked, log)",
        "clicks (count, log)",
        legend=legend_below(-0.25),
    )


def behaviour_mix_chart(data: SessionData) -> go.Figure:
    """Share of sessions per behaviour: the configured mix beside what was drawn."""
    labels = [BEHAVIOUR_LABELS[b] for b in BEHAVIOURS]
    configured = np.asarray(data.require_truth().behaviour_mix) * 100
    observed = np.bincount(data.require_behaviour(), minlength=len(BEHAVIOURS)) / max(data.n_sessions, 1)
    fig = go.Figure(
        [
            go.Bar(
                x=labels,
                y=configured,
                name="configured",
                marker_color="#B0B7C3",
                hovertemplate="%{x}: %{y:.1f}% configured<extra></extra>",
            ),
            go.Bar(
                x=labels,
                y=observed * 100,
                name="simulated",
                marker_color=_PALETTE[0],
                hovertemplate="%{x}: %{y:.1f}% of sessions<extra></extra>",
            ),
        ]
    )
    fig.update_layout(barmode="group")
    return finish(
        fig, "Behaviour mix", "behaviour", "share of sessions (%)", legend=legend_below(-0.2)
    )


def session_strips(
    sessions: Sequence[np.ndarray],
    item_category: np.ndarray,
    n_categories: int,
    row_labels: Sequence[str] | None = None,
    title: str = "Sessions",
) -> go.Figure:
    """One row per session, one cell per click, coloured by the clicked item's category."""
    n_rows = len(sessions)
    width = max((len(s) for s in sessions), default=1)
    labels = list(row_labels) if row_labels is not None else [f"#{r}" for r in range(n_rows)]
    cats = np.full((n_rows, width), -1, dtype=np.int64)
    items = np.full((n_rows, width), -1, dtype=np.int64)
    for r, session in enumerate(sessions):
        items[r, : len(session)] = session
        cats[r, : len(session)] = item_category[np.asarray(session, dtype=np.int64)]
    # Colour index over the categories present, so the colour scale stays short.
    present = np.unique(cats[cats >= 0])
    z = np.where(cats >= 0, np.searchsorted(present, cats), np.nan)
    palette = category_colors(n_categories)
    k = max(present.size, 1)
    colorscale = []
    for i, c in enumerate(present):
        colorscale += [[i / k, palette[c]], [(i + 1) / k, palette[c]]]
    hover = np.where(
        cats >= 0,
        np.char.add(
            np.char.add("item ", items.astype(str)), np.char.add(" · category ", cats.astype(str))
        ),
        "",
    )
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=np.arange(width),
            y=labels,
            text=hover,
            colorscale=colorscale or [[0, "#FFFFFF"], [1, "#FFFFFF"]],
            zmin=-0.5,
            zmax=k - 0.5,
            xgap=1,
            ygap=2,
            showscale=0 < present.size <= 30,
            colorbar={
                "title": {"text": "category"},
                "tickvals": list(range(present.size)),
                "ticktext": [str(c) for c in present],
            },
            hovertemplate="session %{y}, click %{x}<br>%{text}<extra></extra>",
            hoverongaps=False,
        )
    )
    fig.update_yaxes(type="category", autorange="reversed")
    return finish(
        fig,
        title,
        "click position in session (0 = first click)",
        "session (id)",
        height=max(260, 22 * n_rows + 110),
    )


def sample_session_strips(data: SessionData, n_rows: int = 30, seed: int = 0) -> go.Figure:
    """Session strips of a reproducible random sample of sessions, in id order."""
    rng = np.random.default_rng(seed)
    k = min(n_rows, data.n_sessions)
    chosen = np.sort(rng.choice(data.n_sessions, size=k, replace=False))
    return session_strips(
        [data.session(int(s)) for s in chosen],
        data.item_category,
        data.require_catalog().n_categories,
        row_labels=[str(s) for s in chosen],
        title=f"A sample of {k} sessions, clicks coloured by category",
    )


def _transition_pairs(data: SessionData) -> tuple[np.ndarray, np.ndarray]:
    """(category, next category) of every pair of consecutive clicks within a session."""
    cats = data.item_category[data.items]
    inner = np.ones(data.n_clicks, dtype=bool)
    inner[data.offsets[:-1]] = False  # a session's first click continues nothing
    to = np.flatnonzero(inner)
    return cats[to - 1], cats[to]


def transition_heatmap(data: SessionData, max_categories: int = 40) -> go.Figure:
    """Row-normalised P(next category | category) over consecutive clicks.

    With more than `max_categories` categories only the most clicked are drawn; their rows
    are still normalised over every next category, so a row need not sum to 1.
    """
    n_cats = data.require_catalog().n_categories
    src, dst = _transition_pairs(data)
    if n_cats <= max_categories:
        shown = np.arange(n_cats)
    else:
        clicks = np.bincount(data.item_category[data.items], minlength=n_cats)
        shown = np.sort(np.argsort(-clicks, kind="stable")[:max_categories])
    index = np.full(n_cats, -1, dtype=np.int64)
    index[shown] = np.arange(shown.size)
    k = shown.size
    keep = (index[src] >= 0) & (index[dst] >= 0)
    counts = np.bincount(index[src[keep]] * k + index[dst[keep]], minlength=k * k).reshape(k, k)
    totals = np.bincount(src, minlength=n_cats)[shown].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = np.where(totals[:, None] > 0, counts / totals[:, None], np.nan)
    labels = [str(c) for c in shown]
    fig = go.Figure(
        go.Heatmap(
            z=probs,
            x=labels,
            y=labels,
            zmin=0.0,
            zmax=1.0,
            colorscale=_PROBABILITY_SCALE,
            colorbar={"title": {"text": "P(next | current)"}},
            texttemplate="%{z:.2f}" if k <= 12 else None,
            hovertemplate=("from category %{y} to %{x}<br>P = %{z:.3f}<extra></extra>"),
            hoverongaps=False,
        )
    )
    fig.update_xaxes(type="category", showgrid=False)
    fig.update_yaxes(type="category", autorange="reversed", showgrid=False)
    title = "Category transitions, P(next click's category | current category)"
    if k < n_cats:
        title += f" (the {k} most clicked of {n_cats} categories)"
    return finish(
        fig, title, "next category (id)", "current category (id)", height=max(420, 18 * k + 140)
    )


def baseline_comparison(
    results: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str] = ("hit@10", "hit@20", "mrr@20"),
) -> go.Figure:
    """Grouped bars per metric: each baseline beside the oracle's best possible score."""
    names = [n for n in results if n != ORACLE] + [n for n in results if n == ORACLE]
    colors = [c for c in qualitative.Safe if c != "#888888"]
    x = [METRIC_LABELS.get(m, m) for m in metrics]
    fig = go.Figure()
    for i, name in enumerate(names):
        is_oracle = name == ORACLE
        values = [results[name].get(m, float("nan")) for m in metrics]
        fig.add_trace(
            go.Bar(
                x=x,
                y=values,
                name="Oracle (best possible)" if is_oracle else name,
                marker={
                    "color": "#3A3A3A" if is_oracle else colors[i % len(colors)],
                    "pattern": {"shape": "/" if is_oracle else ""},
                },
                text=[f"{v:.3f}" for v in values],
                textposition="outside",
                hovertemplate=f"{name}<br>%{{x}} = %{{y:.4f}}<extra></extra>",
            )
        )
    fig.update_layout(barmode="group")
    return finish(
        fig,
        "Baselines against the best possible score (held-out sessions)",
        "metric (cutoff = list length)",
        "score (fraction of targets; MRR in [0, 1])",
        height=420,
        legend=legend_below(-0.2),
    )
