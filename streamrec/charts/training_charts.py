"""Figures of training runs: loss and ranking metrics per epoch, the baselines and the oracle
as reference lines, and several runs' validation curves overlaid. Data in, figure out.

Every builder takes the run's events as the trainer writes them to metrics.jsonl and
`runs.read_events` reads them back (`streamrec.training.events`): "batch" events give the
training loss as it goes, "epoch" events the validation figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from streamrec.charts.layout import MARGIN, finish, legend_below
from streamrec.charts.world_charts import METRIC_LABELS, ORACLE
from streamrec.training.events import BatchEvent, EpochEvent, Event, StartEvent, epoch_metric

ORACLE_LABEL = "Best possible (oracle)"
METRICS_TITLE = "Ranking quality per epoch on the validation sessions (flat lines: baselines)"
MODEL_COLOR = qualitative.Plotly[0]
VALID_COLOR = qualitative.Plotly[1]
ORACLE_COLOR = "#3A3A3A"
_BASELINE_COLORS = [c for c in qualitative.Safe if c != "#888888"]
_RUN_COLORS = qualitative.Plotly + qualitative.Dark24
# Each reference line has its own dash and marker, so two that coincide stay distinguishable.
_DASHES = ("dash", "dot", "dashdot", "longdash", "longdashdot")
_SYMBOLS = ("square", "diamond", "triangle-up", "x", "cross", "star")
ORACLE_DASH, ORACLE_SYMBOL = "solid", "circle-open"
EPOCH_AXIS = "epoch (passes over the training set)"
LOSS_AXIS = "cross-entropy (nats per next click)"
# Losses a run records once per epoch: label and y-axis title.
CURVES = {
    "valid_loss": ("Validation loss", "validation loss (nats per next click)"),
    "train_loss": ("Training loss", "training loss (nats per next click)"),
}
_KINDS = {"hit": "Hit", "mrr": "MRR", "ndcg": "NDCG"}


def metric_label(name: str) -> str:
    """'hit@10' -> 'Hit@10', 'valid_loss' -> 'Validation loss'."""
    if name in METRIC_LABELS:
        return METRIC_LABELS[name]
    if name in CURVES:
        return CURVES[name][0]
    kind, _, k = name.partition("@")
    return f"{_KINDS.get(kind, kind)}@{k}" if k else name


def metric_axis(name: str) -> str:
    """The y-axis title, with its unit, for a metric or curve name."""
    if name in CURVES:
        return CURVES[name][1]
    kind, _, k = name.partition("@")
    if kind == "hit":
        return f"Hit@{k} (% of next clicks in the top {k})"
    if kind == "mrr":
        return f"MRR@{k} (mean 1/rank, 0 beyond rank {k})"
    if kind == "ndcg":
        return f"NDCG@{k} (0 to 1)"
    return name


def metric_meaning(name: str) -> str:
    """A panel title: the metric and what it counts, with its unit."""
    kind, _, k = name.partition("@")
    meaning = {
        "hit": f"% of next clicks in the top {k}",
        "mrr": f"mean 1/rank (0 beyond {k})",
        "ndcg": "0 to 1",
    }.get(kind)
    return f"{metric_label(name)}: {meaning}" if meaning else metric_label(name)


def metric_names(cutoffs: Sequence[int]) -> list[str]:
    """The metrics a run's charts show: Hit@K for each cutoff, then MRR at the largest one."""
    return [f"hit@{k}" for k in cutoffs] + [f"mrr@{max(cutoffs)}"]


def baseline_colors(names: Sequence[str]) -> dict[str, str]:
    """A stable colour per scorer name (sorted order, so every chart agrees); the oracle's grey."""
    others = sorted(n for n in names if n != ORACLE)
    colors = {n: _BASELINE_COLORS[i % len(_BASELINE_COLORS)] for i, n in enumerate(others)}
    if ORACLE in names:
        colors[ORACLE] = ORACLE_COLOR
    return colors


def baseline_styles(names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """A stable (dash, marker symbol) per scorer name, sorted like `baseline_colors`; the
    oracle's solid line with an open circle."""
    others = sorted(n for n in names if n != ORACLE)
    styles = {
        n: (_DASHES[i % len(_DASHES)], _SYMBOLS[i % len(_SYMBOLS)]) for i, n in enumerate(others)
    }
    if ORACLE in names:
        styles[ORACLE] = (ORACLE_DASH, ORACLE_SYMBOL)
    return styles


def _starts(events: Sequence[Event]) -> list[StartEvent]:
    return [e for e in events if e["event"] == "start"]


def _batches(events: Sequence[Event]) -> list[BatchEvent]:
    return [e for e in events if e["event"] == "batch"]


def _epochs(events: Sequence[Event]) -> list[EpochEvent]:
    return [e for e in events if e["event"] == "epoch"]


def batch_epochs(events: Sequence[Event]) -> list[float]:
    """Fractional epoch of each "batch" event: epoch 1.5 is halfway through the second pass."""
    start = _starts(events)
    planned = start[-1].get("epochs") if start else None
    per_epoch = start[-1].get("batches_per_epoch") if start else None
    out = []
    for e in _batches(events):
        if planned and "progress" in e:
            out.append(float(e["progress"]) * planned)  # progress = (epoch - 1 + b / n_b) / epochs
        else:
            out.append(e["epoch"] - 1 + e["batch"] / max(per_epoch or e["batch"], 1))
    return out


def epoch_range(events: Sequence[Event], epochs: float | None) -> float:
    """Right end of the epoch axis: one epoch past the latest point, at most the planned
    epochs, at least 1. A live chart then rescales once per epoch, not on every redraw, and
    the first epochs of a long run are not squeezed into the left edge."""
    xs = [*batch_epochs(events), *(e["epoch"] for e in _epochs(events))]
    ahead = math.ceil(max(xs, default=0.0)) + 1
    return float(max(min(epochs, ahead) if epochs else max(xs, default=0.0), 1.0))


def _finish(
    fig: go.Figure, title: str, x_title: str, y_title: str, right: float | None, height: int
) -> go.Figure:
    """The shared layout, plus what run charts add: every panel's epoch axis from 0 (to
    `right`, when given) and one hover box per epoch."""
    fig = finish(
        fig,
        title,
        x_title,
        y_title,
        height,
        margin={**MARGIN, "t": 70},  # room for the subplot titles under the chart title
        legend=legend_below(-0.25),
    )
    fig.update_layout(hovermode="x unified")
    fig.update_xaxes(title_text=x_title, rangemode="tozero")  # every panel of a subplot grid
    if right:
        fig.update_xaxes(range=[0, right])
    return fig


def loss_chart(
    events: Sequence[Event], epochs: float | None = None, n_items: int | None = None
) -> go.Figure:
    """Training loss per logged batch and validation loss per epoch, on one epoch axis.

    `epochs` (planned) bounds the x range, see `epoch_range`;
    `n_items` adds the loss of a uniform guess over the catalog, ln(n_items), for scale.
    """
    batches = _batches(events)
    epoch_rows = _epochs(events)
    right = epoch_range(events, epochs)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=batch_epochs(events),
            y=[e["loss"] for e in batches],
            mode="lines",
            name="training loss (mean of the logged batches)",
            line={"color": MODEL_COLOR, "width": 1.5},
            hovertemplate="epoch %{x:.2f}: training loss %{y:.4f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[e["epoch"] for e in epoch_rows],
            y=[e["valid_loss"] for e in epoch_rows],
            mode="lines+markers",
            name="validation loss (end of epoch)",
            line={"color": VALID_COLOR, "width": 2},
            marker={"size": 8},
            cliponaxis=False,
            hovertemplate="epoch %{x:.2f}: validation loss %{y:.4f}<extra></extra>",
        )
    )
    if n_items and n_items > 1:
        uniform = math.log(n_items)
        fig.add_trace(
            go.Scatter(
                x=[0, right],
                y=[uniform, uniform],
                mode="lines",
                name=f"uniform guess over {n_items:,} items (ln N = {uniform:.2f})",
                line={"color": ORACLE_COLOR, "dash": "dot", "width": 1},
                hoverinfo="skip",
            )
        )
    return _finish(fig, "Loss per epoch", EPOCH_AXIS, LOSS_AXIS, right, height=400)


def metrics_chart(
    events: Sequence[Event],
    baselines: Mapping[str, Mapping[str, float]] | None = None,
    metrics: Sequence[str] = ("hit@10", "hit@20", "mrr@20"),
    epochs: float | None = None,
) -> go.Figure:
    """One panel per metric: the model on the validation sessions after each epoch, and a
    flat line per baseline and for the oracle (`baselines`: scorer -> metrics, same targets),
    each with its own dash pattern and one marker at its own epoch, so that lines with equal
    scores stay visible side by side (see `baseline_styles`).
    """
    epoch_rows = _epochs(events)
    baselines = baselines or {}
    colors = baseline_colors(list(baselines))
    styles = baseline_styles(list(baselines))
    # Oracle first (drawn underneath, first in the legend), then the baselines from best to
    # worst on the first metric.
    order = sorted(baselines, key=lambda n: (n != ORACLE, -baselines[n].get(metrics[0], 0.0), n))
    right = epoch_range(events, epochs)
    fig = make_subplots(
        rows=1,
        cols=len(metrics),
        subplot_titles=[metric_meaning(m) for m in metrics],
        horizontal_spacing=0.07,
    )
    for col, metric in enumerate(metrics, start=1):
        first = col == 1
        for i, name in enumerate(order):
            value = baselines[name].get(metric)
            if value is None:
                continue
            label = ORACLE_LABEL if name == ORACLE else name
            dash, symbol = styles[name]
            # One marker per line, each at its own x, so lines that coincide show side by side.
            mark = right * (i + 1) / (len(order) + 1)
            fig.add_trace(
                go.Scatter(
                    x=[0, mark, right],
                    y=[value, value, value],
                    mode="lines+markers",
                    name=label,
                    legendgroup=label,
                    showlegend=first,
                    line={
                        "color": colors[name],
                        "dash": dash,
                        "width": 2.5 if name == ORACLE else 2,
                    },
                    marker={"symbol": symbol, "size": [0, 10, 0], "color": colors[name]},
                    hovertemplate=f"{label}: %{{y:.4f}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        fig.add_trace(
            go.Scatter(
                x=[e["epoch"] for e in epoch_rows],
                y=[epoch_metric(e, metric) for e in epoch_rows],
                mode="lines+markers",
                name="this model",
                legendgroup="this model",
                showlegend=first,
                line={"color": MODEL_COLOR, "width": 3},
                marker={"size": 8},
                cliponaxis=False,
                hovertemplate=f"epoch %{{x:.2f}}: {metric_label(metric)} %{{y:.4f}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_yaxes(rangemode="tozero", row=1, col=col)
        if metric.startswith("hit@"):
            fig.update_yaxes(tickformat=".0%", row=1, col=col)
    # The panel titles carry each metric's unit; one short x title per panel avoids overlap.
    fig = _finish(fig, METRICS_TITLE, "epoch", "", right, height=440)
    fig.update_yaxes(title_text="score (validation sessions)", row=1, col=1)
    fig.update_annotations(font_size=13)
    return fig


TIME_AXIS = "training time (s, validation excluded)"


def overlay_chart(
    curves: Mapping[str, Sequence[Event]],
    metric: str = "hit@10",
    x: str = "epoch",
    references: Mapping[str, float] | None = None,
) -> go.Figure:
    """The same per-epoch curve (a validation metric or loss) of several runs, one line each,
    against the epoch or (`x="train_seconds"`) the training time; `references` are dashed
    horizontal lines, e.g. the oracle's score and 95% of it."""
    fig = go.Figure()
    x_unit = "%{x:.1f} s" if x == "train_seconds" else "epoch %{x:.2f}"
    for i, (run_id, events) in enumerate(curves.items()):
        rows = [e for e in _epochs(events)
                if epoch_metric(e, metric) is not None and epoch_metric(e, x) is not None]
        fig.add_trace(
            go.Scatter(
                x=[epoch_metric(e, x) for e in rows],
                y=[epoch_metric(e, metric) for e in rows],
                mode="lines+markers",
                name=run_id,
                line={"color": _RUN_COLORS[i % len(_RUN_COLORS)], "width": 2},
                hovertemplate=f"{run_id}<br>{x_unit}: %{{y:.4f}}<extra></extra>",
            )
        )
    for name, value in (references or {}).items():
        fig.add_hline(
            y=value,
            line={"color": ORACLE_COLOR, "dash": "dash", "width": 1},
            annotation_text=name,
            annotation_position="top left",
        )
    against = "training time" if x == "train_seconds" else "epoch"
    title = f"{metric_label(metric)} on the validation sessions, per {against}"
    x_title = TIME_AXIS if x == "train_seconds" else EPOCH_AXIS
    fig = _finish(fig, title, x_title, metric_axis(metric), None, height=440)
    if metric.startswith("hit@"):
        fig.update_yaxes(tickformat=".1%")  # runs often differ by tenths of a percent
    _single_point_ranges(fig)
    return fig


def _single_point_ranges(fig: go.Figure) -> None:
    """Axes from 0 to past the value when the traces hold one x or one y value only: Plotly's
    autorange centres a lone point in a span that runs below zero (e.g. -50%..100%)."""
    def finite(axis: str) -> list[float]:
        values = [v for trace in fig.data for v in (getattr(trace, axis) or ()) if v is not None]
        return [float(v) for v in values if math.isfinite(float(v))]

    xs, ys = finite("x"), finite("y")
    if xs and len(set(xs)) == 1:
        fig.update_xaxes(range=[0, max(float(xs[0]), 0.0) * 1.25 or 1.0])
    if ys and len(set(ys)) == 1:
        fig.update_yaxes(range=[0, max(float(ys[0]), 0.0) * 1.5 or 1.0])
