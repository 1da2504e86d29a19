"""Is the model worth it? The model beside the strongest simple rule and the ceiling, in one
sentence.

A run's status holds the best checkpoint's held-out metrics ("final") and, scored on the same
targets, every baseline and, for simulated data, the Bayes-optimal oracle ("baselines"). Real
click logs have no oracle: the sentence then says that no ceiling is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from streamrec.world.oracle import Oracle

CEILING = Oracle.name  # the scorer name of the Bayes-optimal ceiling
NO_CEILING = "no ceiling is known for real data"
LEVEL = 0.005  # a relative gap under 0.5% reads as "level with"
_KINDS = {"hit": "Hit", "mrr": "MRR", "ndcg": "NDCG"}


def _label(metric: str) -> str:
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

    @property
    def beats_rule(self) -> bool | None:
        """True if the model scores above the best simple rule (None when either is missing)."""
        if self.model is None or self.rule is None:
            return None
        return self.model > self.rule


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
) -> Verdict:
    """The model's `metric` against the best baseline and the ceiling (`baselines`: scorer name
    -> metrics on the same held-out targets as `final`), with one plain sentence, e.g.
    'Hit@10 0.275: 3% below the best simple rule (Last-category popularity, 0.284); 96% of the
    best possible (0.286).'"""
    model = (final or {}).get(metric)
    scored = {n: m[metric] for n, m in (baselines or {}).items() if m.get(metric) is not None}
    ceiling = scored.pop(CEILING, None)
    rule_name = max(scored, key=lambda n: (scored[n], n)) if scored else None
    rule = scored[rule_name] if rule_name else None
    label = _label(metric)
    if model is None:
        sentence = f"No held-out {label} yet: the run has no scored checkpoint."
        return Verdict(metric, model, rule_name, rule, ceiling, sentence, "")
    if rule is None and ceiling is None:
        lift = "no baseline or ceiling was scored for this run."
    else:
        rule_part = "no simple rule was scored"
        if rule is not None and rule_name is not None:
            rule_part = _versus_rule(model, rule_name, rule)
        if ceiling is None:
            ceiling_part = NO_CEILING
        elif ceiling <= 0:
            ceiling_part = f"the best possible scores {ceiling:.3f}"
        else:
            ceiling_part = f"{model / ceiling:.0%} of the best possible ({ceiling:.3f})"
        lift = f"{rule_part}; {ceiling_part}."
    return Verdict(metric, model, rule_name, rule, ceiling, f"{label} {model:.3f}: {lift}", lift)
