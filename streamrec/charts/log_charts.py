"""Figures of an imported click log: data in, figure out.

Every builder takes the data set's `SessionData` and, where it matters, how many of the last
sessions are held out (`n_test`, `n_valid`), so training and test parts can be told apart.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from streamrec.charts.layout import finish, legend_below
from streamrec.data.sessions import SessionData

PART_COLORS = {"train": "#1F77B4", "validation": "#9467BD", "test": "#FF7F0E"}
DAY = 86_400.0


def _parts(data: SessionData, n_valid: int, n_test: int) -> list[tuple[str, slice]]:
    """(name, session slice) of the non-empty parts: training, validation, test."""
    n = data.n_sessions
    bounds = {"train": slice(0, n - n_test - n_valid),
              "validation": slice(n - n_test - n_valid, n - n_test),
              "test": slice(n - n_test, n)}
    return [(name, part) for name, part in bounds.items() if part.stop > part.start]


def session_lengths_chart(data: SessionData, n_test: int = 0, n_valid: int = 0,
                          max_length: int = 50) -> go.Figure:
    """Sessions per length, training and held-out parts stacked; longer ones in the last bar."""
    fig = go.Figure()
    for name, part in _parts(data, n_valid, n_test):
        lengths = np.minimum(data.lengths[part], max_length)
        counts = np.bincount(lengths, minlength=max_length + 1)
        shown = np.flatnonzero(counts)
        fig.add_trace(go.Bar(
            x=shown, y=counts[shown], name=f"{name} sessions", marker_color=PART_COLORS[name],
            hovertemplate="%{x} clicks: %{y:,} sessions<extra>" + name + "</extra>",
        ))
    longest = int(data.lengths.max()) if data.n_sessions else 0
    mean = float(data.lengths.mean()) if data.n_sessions else 0.0
    fig.add_vline(x=mean, line_dash="dash", annotation_text=f"mean {mean:.1f}")
    fig.update_layout(barmode="stack", bargap=0.1)
    title = "Session lengths"
    if longest > max_length:
        title += f" (sessions over {max_length} clicks in the last bar; longest {longest:,})"
    return finish(fig, title, "session length (clicks)", "sessions (count)",
                  legend=legend_below(-0.25))


def item_popularity_chart(data: SessionData, max_points: int = 2_000) -> go.Figure:
    """Log-log rank plot of clicks per item (the long tail), with the top 20 % items' share."""
    clicks = np.sort(np.bincount(data.items, minlength=data.n_items))[::-1]
    clicks = clicks[clicks > 0]
    ranks = np.arange(1, clicks.size + 1)
    if ranks.size > max_points:  # log-spaced ranks keep the plot light for huge catalogs
        keep = np.unique(np.geomspace(1, ranks.size, max_points).astype(np.int64)) - 1
    else:
        keep = ranks - 1
    fig = go.Figure(go.Scatter(
        x=ranks[keep], y=clicks[keep], mode="markers", marker={"size": 4, "color": "#1F77B4"},
        hovertemplate="rank %{x:,}: %{y:,} clicks<extra></extra>",
    ))
    top = max(1, round(0.2 * clicks.size))
    share = clicks[:top].sum() / max(clicks.sum(), 1) * 100
    fig.update_xaxes(type="log", dtick=1)
    fig.update_yaxes(type="log", dtick=1)
    return finish(fig, f"Item popularity: the top 20 % of items get {share:.0f} % of clicks",
                  "item rank by clicks (1 = most clicked, log)", "clicks (count, log)")


def clicks_over_time_chart(data: SessionData, n_test: int = 0, n_valid: int = 0) -> go.Figure:
    """Clicks per day, coloured by part: where the time split falls. Needs times."""
    if data.times is None:
        raise ValueError(f"data set {data.name!r} has no click times")
    day0 = np.floor(data.times.min() / DAY) if data.n_clicks else 0.0
    n_days = int(np.floor(data.times.max() / DAY) - day0) + 1 if data.n_clicks else 0
    fig = go.Figure()
    for name, part in _parts(data, n_valid, n_test):
        rows = slice(int(data.offsets[part.start]), int(data.offsets[part.stop]))
        days = (np.floor(data.times[rows] / DAY) - day0).astype(np.int64)
        counts = np.bincount(days, minlength=n_days)
        dates = (np.arange(n_days) + day0) * DAY * 1000  # ms since the epoch for a date axis
        shown = np.flatnonzero(counts)
        fig.add_trace(go.Bar(
            x=dates[shown].astype("datetime64[ms]").astype(str), y=counts[shown],
            name=f"{name} clicks", marker_color=PART_COLORS[name],
            hovertemplate="%{x|%Y-%m-%d}: %{y:,} clicks<extra>" + name + "</extra>",
        ))
    fig.update_layout(barmode="stack", bargap=0.05)
    fig.update_xaxes(type="date")
    # Date ticks take two lines (day, then year): the legend goes lower than usual.
    return finish(fig, "Clicks over time (UTC days)", "day (UTC)", "clicks per day (count)",
                  legend=legend_below(-0.38))


def top_transitions_chart(data: SessionData, k: int = 15) -> go.Figure:
    """The k most frequent consecutive item pairs within sessions (a → b), with their counts."""
    same = np.ones(max(data.n_clicks - 1, 0), bool)
    same[data.offsets[1:-1] - 1] = False  # a session's last click does not lead to the next one
    src, dst = data.items[:-1][same], data.items[1:][same]
    pairs = src * np.int64(data.n_items) + dst
    keys, counts = np.unique(pairs, return_counts=True)
    top = np.argsort(-counts, kind="stable")[:k][::-1]  # largest at the top of the chart
    a, b = keys[top] // data.n_items, keys[top] % data.n_items
    labels = [f"{x} → {y}" for x, y in zip(_names(data, a), _names(data, b))]
    fig = go.Figure(go.Bar(
        x=counts[top], y=labels, orientation="h", marker_color="#1F77B4",
        hovertemplate="%{y}: %{x:,} times<extra></extra>",
    ))
    fig.update_yaxes(type="category")
    total = int(same.sum())
    return finish(fig, f"Most frequent transitions (of {total:,} consecutive click pairs)",
                  "times the pair occurs (count)", "item → next item (raw ids)",
                  height=max(360, 22 * len(labels) + 120))


def categories_chart(data: SessionData, k: int = 30) -> go.Figure:
    """Clicks per category for the k most clicked categories. Needs categories."""
    category = data.item_category  # ValueError naming the data set when there are none
    catalog = data.require_catalog()
    clicks = np.bincount(category[data.items], minlength=catalog.n_categories)
    items = catalog.category_sizes
    top = np.argsort(-clicks, kind="stable")[:k]
    fig = go.Figure(go.Bar(
        x=[str(c) for c in top], y=clicks[top], marker_color="#2CA02C",
        customdata=items[top],
        hovertemplate="category %{x}: %{y:,} clicks on %{customdata:,} items<extra></extra>",
    ))
    fig.update_xaxes(type="category")
    title = "Clicks per category"
    if clicks.size > k:
        title += f" (the {k} most clicked of {clicks.size:,})"
    return finish(fig, title, "category (index)", "clicks (count)")


def _names(data: SessionData, index: np.ndarray) -> list[str]:
    """Raw id of each item, with its label where the log has one (shortened)."""
    ids = data.raw_ids(index)
    if data.item_labels is None:
        return ids
    labels = data.item_labels[index]
    return [f"{i} ({label[:20]})" if label else i for i, label in zip(ids, labels)]
