"""Parts of the Recommend page (pages/recommend.py): what to do without runs, the run picker's
label, a sampled session's hidden truth and the headline figures."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from streamrec.config import RunConfig
from streamrec.data.items import ItemNames
from streamrec.recommendation import Recommendation
from streamrec.training import runs
from streamrec.views.session_view import (
    ClickCauses,
    SampledSession,
    SessionUpdate,
    causes_paragraph,
    headlines,
    sample_summary,
    session_causes,
    truth_ranks,
)
from studio.run_picker import broken_runs_expander, run_sessions

NO_CAUSES = (
    "This run's data records no cause per click (made before causes were recorded, or an "
    "imported log): what caused each click is not known here."
)


def no_runs(broken: list[runs.RunInfo]) -> None:
    """What to do when there is nothing to recommend with."""
    st.info(
        "There is no trained run to recommend with yet. Train one on the **Train** page, or "
        "from a terminal: `python -m streamrec train --preset demo --name demo`.",
        icon=":material/model_training:",
    )
    try:
        st.page_link("pages/train.py", label="Open the Train page", icon=":material/school:")
    except StreamlitAPIException:
        pass  # the Train page is not registered in this build of the app
    broken_runs_expander(broken)


def run_label(info: runs.RunInfo) -> str:
    """Run id, catalog size (and imported data set) and state: what tells runs apart here."""
    data = info.config.data
    source = "" if data.is_simulated else f" of {data.dataset}"
    return f"{info.run_id} · {info.config.model.n_items:,} items{source} · {info.state}"


def sample_truth(
    sample: SampledSession,
    items: list[int],
    truth: int | None,
    update: SessionUpdate,
    names: ItemNames,
    causes: ClickCauses | None,
) -> None:
    """The hidden truth of a sampled held-out session, where the real next click ranks, and
    what caused each click (up to the next one) where the data records it."""
    with st.container(border=True):
        st.markdown(sample_summary(sample, items))
        if truth is not None:
            st.markdown(truth_ranks(truth, update, names))
        if causes is None:
            st.caption(NO_CAUSES)
        else:
            shown = len(items) + 1 if truth is not None else len(sample.items)
            st.markdown(causes_paragraph(causes, shown))


def recorded_causes(
    info: runs.RunInfo, config: RunConfig, sample: SampledSession
) -> ClickCauses | None:
    """The sampled session's recorded causes, from the run's own data (None if it has none)."""
    data, _ = run_sessions(info.path, config)
    return session_causes(data, sample.session_id, sample.items)


def headline(
    rec: Recommendation, n_clicks: int, oracle_table: pd.DataFrame | None, names: ItemNames
) -> None:
    """The numbers a stakeholder reads first."""
    quiet = {"delta_color": "off", "delta_arrow": "off", "border": True}
    figures = headlines(rec, n_clicks, oracle_table, names)
    for column, (label, value, detail) in zip(st.columns(len(figures)), figures):
        column.metric(label, value, detail, **quiet)
