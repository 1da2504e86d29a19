"""Is the model worth it? The model beside the strongest simple rule and the ceiling, in one
sentence.

A run's status holds the best checkpoint's held-out metrics ("final") and, scored on the same
targets, every baseline and, for simulated data, the Bayes-optimal oracle ("baselines"), and
the paired difference to each baseline with its 95% session-bootstrap interval ("paired"):
with it the sentence says "beats V-SKNN by +0.012 MRR@20 (95% CI +0.006..+0.018)", or "level
with" when the interval holds 0. Real click logs have no oracle: the sentence then says that no
ceiling is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streamrec.world.oracle import Oracle

CEILING = Oracle.name  # the scorer name of the Bayes-optimal ceiling
NO_CEILING = "no ceiling is known for real data"
LEVEL = 0.005  # a relative gap under 0.5% reads as "level with"
_KINDS = {"hit": "Hit", "mrr": "MRR", "ndcg": "NDCG"}


def metric_label(metric: str) -> str:
    """ "mrr@20" -> "MRR@20", "hit@10" -> "Hit@10"."""
    kind, _, k = metric.partition("@")
    return f"{_KINDS.get(kind, kind)}@{k}" if k else metric


@dataclass(frozen=True)
class Verdict:
    """The model, the strongest simple rule and the ceiling on one metric, and the sentence."""

    metric: str
    model: float | None
    rule_name: str | None  # the best baseline other than the ceiling, None if none was scored
    rule: float | None
    ceiling: float | None
    sentence: str
    lift: str  # the sentence without the metric and score in front, for a table column
    interval: tuple[float, float] | None = None  # 95% CI of model - rule, sessions resampled

    @property
    def beats_rule(self) -> bool | None:
        """True if the model scores above the best simple rule: with an interval, only when
        it lies above 0 (None when either score is missing)."""
        if self.model is None or self.rule is None:
            return None
        if self.interval is not None:
            return self.interval[0] > 0
        return self.model > self.rule


def difference_phrase(name: str, cell: Mapping[str, Any], metric: str) -> str | None:
    """"beats NAME by +0.012 MRR@20 (95% CI +0.006..+0.018)", "trails NAME by ...", or "level
    with NAME on MRR@20 (+0.001, 95% CI -0.004..+0.006)" when the interval holds 0; None
    without an interval (a paired cell from before intervals were stored)."""
    if cell.get("lo") is None or cell.get("hi") is None:
        return None
    mean, lo, hi, label = cell["mean"], cell["lo"], cell["hi"], metric_label(metric)
    interval = f"95% CI {lo:+.3f}..{hi:+.3f}"
    if lo > 0 or hi < 0:
        return f"{'beats' if lo > 0 else 'trails'} {name} by {mean:+.3f} {label} ({interval})"
    return f"level with {name} on {label} ({mean:+.3f}, {interval})"


def _versus_rule(model: float, name: str, rule: float) -> str:
    where = f"the best simple rule ({name}, {rule:.3f})"
    if rule <= 0:
        return f"above {where}" if model > rule else f"level with {where}"
    gap = model / rule - 1.0
    if abs(gap) < LEVEL:
        return f"level with {where}"
    return f"{abs(gap):.0%} {'above' if gap > 0 else 'below'} {where}"


def verdict(
    final: Mapping[str, float] | None,
    baselines: Mapping[str, Mapping[str, float]] | None,
    metric: str = "hit@10",
    paired: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> Verdict:
    """The model's `metric` against the best baseline and the ceiling (`baselines`: scorer name
    -> metrics on the same held-out targets as `final`), with one plain sentence, e.g.
    'Hit@10 0.275: 3% below the best simple rule (Last-category popularity, 0.284); 96% of the
    best possible (0.286).' With `paired` (scorer name -> metric -> paired difference with a
    session-bootstrap interval) the rule part reads 'trails the best simple rule
    (Last-category popularity, 0.284) by -0.009 Hit@10 (95% CI -0.015..-0.003)'."""
    model = (final or {}).get(metric)
    scored = {n: m[metric] for n, m in (baselines or {}).items() if m.get(metric) is not None}
    ceiling = scored.pop(CEILING, None)
    rule_name = max(scored, key=lambda n: (scored[n], n)) if scored else None
    rule = scored[rule_name] if rule_name else None
    label = metric_label(metric)
    interval: tuple[float, float] | None = None
    if model is None:
        sentence = f"No held-out {label} yet: the run has no scored checkpoint."
        return Verdict(metric, model, rule_name, rule, ceiling, sentence, "")
    if rule is None and ceiling is None:
        lift = "no baseline or ceiling was scored for this run."
    else:
        rule_part = "no simple rule was scored"
        if rule is not None and rule_name is not None:
            cell = ((paired or {}).get(rule_name) or {}).get(metric) or {}
            phrase = difference_phrase(f"the best simple rule ({rule_name}, {rule:.3f})", cell,
                                       metric)
            if phrase is not None:
                rule_part = phrase
                interval = (float(cell["lo"]), float(cell["hi"]))
            else:
                rule_part = _versus_rule(model, rule_name, rule)
        if ceiling is None:
            ceiling_part = NO_CEILING
        elif ceiling <= 0:
            ceiling_part = f"the best possible scores {ceiling:.3f}"
        else:
            ceiling_part = f"{model / ceiling:.0%} of the best possible ({ceiling:.3f})"
        lift = f"{rule_part}; {ceiling_part}."
    sentence = f"{label} {model:.3f}: {lift}"
    return Verdict(metric, model, rule_name, rule, ceiling, sentence, lift, interval)
