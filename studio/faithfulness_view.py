"""The Attention page's faithfulness section: which explanation points at the click that truly
caused the next one, measured against the best possible (the ideal explainer); on data without
recorded causes, comprehensiveness and sufficiency (ERASER) instead."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from streamrec.charts import faithfulness_charts as faith_charts
from streamrec.explain import trust
from streamrec.explain.eraser import measure_eraser
from streamrec.explain.faithfulness import ALL, ATTENTION, IDEAL, Faithfulness, measure_faithfulness
from streamrec.training import runs
from studio.run_picker import cached_model, file_stamp, run_sessions

# Every explainer runs the model many times per target (Shapley sampling most: 16 orderings of
# the clicks): fewer sessions by default than the profile, so the section opens in seconds
# (150 on the case-study demo: ~8 s on a free core; 300 took ~16 s once Shapley drew 16).
FAITHFULNESS_SESSIONS = 150
KEPT = 6  # results kept in memory, across sessions


@st.cache_resource(show_spinner=False)
def faithfulness_store() -> OrderedDict[tuple[str, int, int], Any]:
    """Computed results by (run, checkpoint stamp, sessions): the newest few."""
    return OrderedDict()


def faithfulness_of(info: runs.RunInfo, n_sessions: int) -> Faithfulness | pd.DataFrame:
    """Every explainer against the recorded causes (a Faithfulness), or, for data without
    causes, the ERASER table; once per checkpoint, with a progress bar. A run measured on
    trust.N_SESSIONS sessions stores the result for the Recommend page."""
    model, config = cached_model(info.path)
    data, split = run_sessions(info.path, config)
    key = (str(info.path), file_stamp(info.path), n_sessions)
    store = faithfulness_store()
    if key not in store:
        label = f"Running every explainer on {n_sessions:,} held-out prefixes…"
        bar = st.progress(0.0, text=label)

        def report(f: float) -> None:
            bar.progress(min(1.0, f), text=f"{label} {f:.0%}")

        if data.has_causes:
            result = measure_faithfulness(model, data, split.report, config.train.max_len,
                                          n_sessions, progress=report)
            if n_sessions == trust.N_SESSIONS:
                trust.store(info.path, result)
            store[key] = result
        else:
            store[key] = measure_eraser(model, data, split.report, config.train.max_len,
                                        n_sessions, progress=report)
        bar.empty()
        while len(store) > KEPT:
            store.popitem(last=False)
    store.move_to_end(key)
    return store[key]


def share_of_ideal(result: Faithfulness) -> pd.DataFrame:
    """Top-1 rate of each explainer as a percent of the ideal's, mechanisms as columns."""
    table = result.table[(result.table["top"] == 1) & (result.table["method"] != IDEAL)]
    frame = table.pivot(index="method", columns="mechanism", values="of_ideal") * 100
    order = [m for m in result.methods if m in frame.index]
    return frame.reindex(index=order, columns=list(dict.fromkeys(result.table["mechanism"])))


def faithfulness_section(info: runs.RunInfo) -> None:
    """Which explanation points at the click that truly caused the next one?"""
    st.subheader("Which explanation points at the cause?", anchor=False)
    n_sessions = st.columns([1, 3])[0].number_input(
        "Held-out sessions checked", min_value=10, max_value=20_000,
        value=FAITHFULNESS_SESSIONS, step=100, key="att_faith_sessions",
        help=f"One target each. {trust.N_SESSIONS:,} sessions also store the result the "
        "Recommend page leads with (about a minute on 2 free cores).",
    )
    result = faithfulness_of(info, int(n_sessions))
    if isinstance(result, pd.DataFrame):
        eraser_section(result)
        return
    if result.n_sessions == 0:
        st.caption("No held-out click in this sample was caused by an earlier click it can see.")
        return
    best = result.share(IDEAL, 1)
    figures = ", ".join(
        f"{faith_charts.METHOD_NAMES[m]} {result.share(m, 1):.0%}"
        + ("" if np.isnan(best) or m == IDEAL else f" ({result.share(m, 1, column='of_ideal'):.0%} of the best possible)")
        for m in result.methods
    )
    missing = "" if result.has_attention else " This model has no attention map: the other explainers are measured."
    st.markdown(
        f"The simulator records which earlier click caused each click. Over {result.n_sessions:,} "
        f"held-out targets caused by an earlier click the model can see (one per session), the "
        f"cause is the top click for: {figures}. Most faithful: **{result.most_faithful()}** "
        f"(highest mean over the causes).{missing}"
    )
    st.plotly_chart(faith_charts.faithfulness_bars(result.table), key="att_chart_faithfulness")
    if not np.isnan(best):
        st.caption("Top-1 rate as a percent of the best possible (the oracle's exact posterior "
                   "over causes). Per cause it can pass 100%: the ideal is the best over all "
                   "targets, not for each cause alone (always naming the last click wins on "
                   "stays).")
        st.dataframe(share_of_ideal(result).round(0), key="att_faith_share")
    st.caption(
        "Ideal: the oracle's P(this click caused the next one). Occlusion, Shapley sampling, "
        "integrated gradients and gradient × input are Captum's, for the model's probability of "
        "the true next item; chance picks a random click (1/L, 2/L for the top 2). Whiskers: ±2 "
        f"standard errors. {result.n_outside:,} caused targets were left out because their cause "
        "lies before the clicks the model reads (max_len); one-click prefixes are left out."
    )
    if ATTENTION in result.methods and result.share(ATTENTION, 1, ALL) < result.share(result.most_faithful(), 1, ALL):
        st.caption("Attention is not the explanation to lead with for this run: see Recommend, "
                   "which opens on the most faithful one.")


def eraser_section(table: pd.DataFrame) -> None:
    """Comprehensiveness and sufficiency per explainer, for data that record no causes."""
    st.markdown(
        "This run's data records no cause per click (an imported log, or made before causes "
        "were recorded), so no explanation can be checked against the truth. What needs no "
        "truth (ERASER; DeYoung et al., 2020): drop each explainer's top 1–3 clicks "
        "(**comprehensiveness**: how far P(true next) falls; higher is more faithful), or keep "
        "only them (**sufficiency**: how far it falls; lower is more faithful). *random* is the "
        "baseline to beat.")
    shown = table.set_index("method")[["comprehensiveness", "sufficiency"]] * 100
    st.dataframe(shown.round(2), key="att_faith_eraser")
    st.caption(f"Points of P(true next), over {int(table['targets'].max()):,} held-out targets.")
