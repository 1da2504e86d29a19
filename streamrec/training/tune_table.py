"""The tune's final table: each method's scores and its paired difference to the best method of
the other kind, with a 95% interval from a bootstrap over test sessions, and one sentence.

Every scored method is paired with the best tuned baseline (the best baseline row itself with
the best neural method), both chosen on validation, on the same test targets: the per-target
Hit@20 and MRR@20 differences, their mean and a 95% percentile interval from resampling whole
test sessions (`streamrec.evaluation.metrics.session_bootstrap`, as the leaderboard and the
verdict do). A cell reads "beats V-SKNN by +0.012 MRR@20 (95% CI +0.006..+0.018)", "trails
...", or "level with ..." when the interval holds 0 (`streamrec.evaluation.verdict`'s wording).
It is stored in result.json as "against": method key -> {"versus": label, "paired": metric ->
{mean, se, n, lo, hi, sessions}}; a result from before it (or a malformed one) shows the table
without the column.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from streamrec.evaluation.leaderboard import AGAINST_METRICS
from streamrec.evaluation.metrics import paired_differences
from streamrec.evaluation.verdict import difference_phrase, metric_label

AGAINST_COLUMN = "paired difference (95% CI)"
# ("hit", 20), ("mrr", 20): the leaderboard's measures, as paired_differences takes them.
AGAINST_MEASURES = tuple((m.partition("@")[0], int(m.partition("@")[2])) for m in AGAINST_METRICS)
TABLE_METRICS = ("hit@10", "hit@20", "mrr@20", "ndcg@20")


class Scored(Protocol):
    """What `against_best` reads of a method (a `tuning.MethodResult`)."""

    key: str
    label: str
    kind: str


def against_best(
    ranked: Sequence[Scored], ranks: Mapping[str, np.ndarray], sessions: np.ndarray
) -> dict[str, dict[str, Any]]:
    """Each method of `ranked` (best on validation first) that has test `ranks` (method key ->
    per-target ranks, the targets of `sessions`) against the best baseline among them, and the
    best baseline against the best neural method: {key: {"versus": label, "paired": {"hit@20":
    PairedDifference with the session-bootstrap lo..hi, "mrr@20": ...}}}. A method with no
    opponent (only one kind was scored) is left out."""
    scored = [r for r in ranked if r.key in ranks]
    baseline = next((r for r in scored if r.kind == "baseline"), None)
    neural = next((r for r in scored if r.kind == "neural"), None)
    out: dict[str, dict[str, Any]] = {}
    for result in scored:
        versus = neural if result is baseline else baseline
        if versus is None:
            continue
        paired = paired_differences(ranks[result.key], {versus.label: ranks[versus.key]},
                                    AGAINST_MEASURES, sessions)[versus.label]
        out[result.key] = {"versus": versus.label, "paired": paired}
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_cell(value: object) -> bool:
    return (isinstance(value, dict) and {"mean", "lo", "hi"} <= set(value)
            and all(_is_number(v) for v in value.values()))


def checked_against(value: object) -> dict[str, dict[str, Any]] | None:
    """result.json's "against" if it has the shape `against_best` writes, else None (absent in a
    result from before the intervals; a malformed one is not shown rather than half-shown)."""
    if not isinstance(value, dict):
        return None
    for key, row in value.items():
        if not (isinstance(key, str) and isinstance(row, dict)
                and isinstance(row.get("versus"), str) and isinstance(row.get("paired"), dict)
                and all(isinstance(m, str) and _is_cell(c) for m, c in row["paired"].items())):
            return None
    return value


def against_text(row: Mapping[str, Any] | None) -> str:
    """One method's cell: "beats V-SKNN by +0.012 Hit@20 (95% CI +0.006..+0.018); level with
    V-SKNN on MRR@20 (+0.001, 95% CI -0.004..+0.006)"; empty without a paired difference."""
    if not row:
        return ""
    phrases = []
    for metric in AGAINST_METRICS:
        cell: Mapping[str, Any] = row["paired"].get(metric) or {}
        phrase = difference_phrase(row["versus"], cell, metric)
        if phrase:
            phrases.append(phrase)
    return "; ".join(phrases)


def result_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The final table: one row per method (validation objective, test scores, the paired
    difference to the best method of the other kind with its 95% interval, trials). The
    paired column is there only when the result holds intervals (not in an older result)."""
    metric = result.get("metric", "mrr@20")
    against = checked_against(result.get("against"))
    rows = []
    for entry in result.get("methods", []):
        test = entry.get("test") or {}
        row = {
            "method": entry.get("label"), "kind": entry.get("kind"),
            f"valid {metric}": (entry.get("valid") or {}).get(metric),
            **{f"test {key}": test.get(key) for key in TABLE_METRICS},
        }
        if against is not None:
            row[AGAINST_COLUMN] = against_text(against.get(entry.get("key", "")))
        row.update({"trials": entry.get("trials"), "search seconds": entry.get("seconds"),
                    "note": entry.get("note", "")})
        rows.append(row)
    return rows


def tune_sentence(result: Mapping[str, Any]) -> str | None:
    """Under the table: does the best neural method beat the best tuned baseline on both Hit@20
    and MRR@20 with the 95% interval above 0, or do the tuned baselines win? None without a
    paired difference of the two (an older result, or only one kind scored)."""
    against = checked_against(result.get("against")) or {}
    neural_key = result.get("best_neural")
    row = against.get(neural_key) if isinstance(neural_key, str) else None
    if row is None:
        return None
    cells: dict[str, Mapping[str, Any]] = {m: row["paired"].get(m) for m in AGAINST_METRICS}
    if any(cell is None or not all(math.isfinite(cell[k]) for k in ("lo", "hi"))
           for cell in cells.values()):
        return None
    labels = {e.get("key"): e.get("label") for e in result.get("methods", [])}
    neural, baseline = labels.get(neural_key, neural_key), row["versus"]
    both = " and ".join(metric_label(m) for m in AGAINST_METRICS)
    if all(cell["lo"] > 0 for cell in cells.values()):
        return (f"The best neural method ({neural}) beats the best tuned baseline ({baseline}) "
                f"on both {both}: both 95% intervals lie above 0.")
    words = ["ahead" if cell["lo"] > 0 else "behind" if cell["hi"] < 0 else "level"
             for cell in cells.values()]
    lead = ("The tuned baselines win" if "behind" in words and "ahead" not in words
            else "The tuned baselines are not beaten")
    where = " and ".join(f"{w} on {metric_label(m)}" for w, m in zip(words, cells))
    return (f"{lead}: the best neural method ({neural}) does not beat the best tuned baseline "
            f"({baseline}) on both {both} with the 95% interval above 0 (it is {where}). "
            "That is a finding, not a failure of the search.")
