"""The "is the model worth it?" line that Train, Runs and Recommend show for a run."""

from __future__ import annotations

import streamlit as st

from streamrec.evaluation.verdict import verdict
from streamrec.training.runs import RunStatus

HEADING = "Is the model worth it?"


def verdict_box(status: RunStatus, metric: str = "hit@10") -> None:
    """The model against the best simple rule and the ceiling, from a run's status; a warning
    when a simple rule does at least as well, a caption when nothing was scored beside the
    model, nothing when the run has no held-out score."""
    v = verdict(status.final, status.baselines, metric, status.paired)
    if v.model is None:
        return
    text = f"**{HEADING}** On the held-out sessions, {v.sentence}"
    if v.rule is None and v.ceiling is None:
        st.caption(text)
    elif v.beats_rule is False:
        st.warning(text, icon=":material/balance:")
    else:
        st.info(text, icon=":material/balance:")
