"""Plotly figures of a tune: each method's best validation score so far as its search goes on."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from streamrec.charts.layout import finish, legend_below
from streamrec.training.search_spaces import METHODS


def best_so_far(trials: Sequence[dict[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """{method label: (its cumulative search seconds after each finished trial, the best
    validation value so far)}; failed and pruned trials add time but no value. Labels come
    from the method registry by key (a trial file naming an unknown method is skipped)."""
    curves: dict[str, tuple[list[float], list[float]]] = {}
    spent: dict[str, float] = {}
    best: dict[str, float] = {}
    for trial in trials:
        method = METHODS.get(str(trial.get("method")))
        if method is None:
            continue
        label = method.label
        spent[label] = spent.get(label, 0.0) + float(trial.get("seconds") or 0.0)
        value = trial.get("value")
        if trial.get("state") != "complete" or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        best[label] = max(best.get(label, float("-inf")), float(value))
        xs, ys = curves.setdefault(label, ([], []))
        xs.append(spent[label])
        ys.append(best[label])
    return curves


def best_so_far_chart(trials: Sequence[dict[str, Any]], metric: str = "mrr@20") -> go.Figure:
    """One step line per method: the best validation `metric` after each of its trials, against
    the seconds of search it has had (the budget's fair share shows as equal widths)."""
    fig = go.Figure()
    for label, (xs, ys) in best_so_far(trials).items():
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines+markers", line_shape="hv", name=label,
            hovertemplate=f"{label}<br>%{{x:.0f}} s of search<br>best {metric} %{{y:.4f}}"
                          "<extra></extra>",
        ))
    return finish(fig, f"Best validation {metric.upper()} so far, per method",
                  "seconds of search spent on the method", f"validation {metric.upper()}",
                  legend=legend_below())
