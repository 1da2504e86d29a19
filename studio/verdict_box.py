"""The "is the model worth it?" line that Train, Runs and Recommend show for a run."""

from __future__ import annotations

import streamlit as st

from streamrec.evaluation.verdict import verdict
from streamrec.training.runs import RunStatus

HEADING = "Is the model worth it?"


def verdict_box(status: RunStatus, metric: str = "hit@10") -> None:
    """The model against the best simple rule and the ceiling, from a run's status; a warning
    when a simple rule does at least as well, a caption when nothing was scored beside the
    model, nothing when the run has no score at all.

    A run stopped before its held-out scoring still has its best epoch's validation scores
    (`best_valid`) and the baselines' on a sample of the validation targets
    (`baselines_valid`): the line then uses those, and says so."""
    final, baselines, where = status.final, status.baselines, "the held-out sessions"
    paired = status.paired
    if not final and status.best_valid:
        final, baselines = status.best_valid, status.baselines_valid
        paired = {}  # the paired intervals are on the held-out targets only
        where = ("the validation sessions (the run was stopped before its held-out scoring; "
                 "baselines on a sample of them)")
    v = verdict(final, baselines, metric, paired)
    if v.model is None:
        return
    text = f"**{HEADING}** On {where}, {v.sentence}"
    if v.rule is None and v.ceiling is None:
        st.caption(text)
    elif v.beats_rule is False:
        st.warning(text, icon=":material/balance:")
    else:
        st.info(text, icon=":material/balance:")
