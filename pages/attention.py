"""Attention patterns: where a trained model puts its attention, over many held-out sessions.

Tests the case study's reading of its attention weights (recency-dominant, anchor-item and
category-coherent sessions) on thousands of prefixes instead of a few hand-picked ones.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from streamrec import insights
from streamrec.charts import insight_charts as charts
from streamrec.text import escape_markdown
from streamrec.training import runs
from studio.attention_parts import patterns_per_scenario, patterns_section, profile_of
from studio.faithfulness_view import faithfulness_section
from studio.navigation import ensure_app_navigation
from studio.run_picker import (
    cached_model,
    item_names,
    openable_runs_or_stop,
    pick_run,
    run_sessions,
)

ensure_app_navigation()

CASE_STUDY_NOTE = (
    "The case study's claims, its printed figures and what this project measures instead: "
    "`docs/casestudy.md` in the repository."
)

DEFAULT_SESSIONS = 2_000
NO_COMPARISON = "(no comparison)"
RECOMMEND_PAGE = "pages/recommend.py"


def run_label(info: runs.RunInfo) -> str:
    """Run id with what tells runs apart on this page."""
    model = info.config.model if info.config else None
    return f"{info.run_id} ({model.family}, {model.slug()})" if model else info.run_id


def pick_view(info: runs.RunInfo, key: str, where: DeltaGenerator) -> str | None:
    """The attention map of the run to profile, among those its model's `explain` names (by
    default its summary map: the LSTM's pooling attention, SASRec's rollout); None for a model
    that names none and is profiled by the weights its forward pass returns (last-state pooling)."""
    model, _ = cached_model(info.path)
    names = insights.explanation_names(model)
    if not names:
        return None
    if st.session_state.get(key) not in names:
        st.session_state.pop(key, None)
    return where.selectbox(
        f"Attention map of {info.run_id}",
        names,
        index=names.index(insights.summary_map(names)),
        key=key,
        help="The model's own maps: one per layer and head, their means and rollout for a "
        "transformer; the local attention for NARM; the pooling attention (and, with the "
        "option on, the copy pointer) for the LSTM.",
    )


def without_attention(info: runs.RunInfo) -> str | None:
    """Why the run has no attention to profile (its model weighs no clicks), or None."""
    model, config = cached_model(info.path)
    if insights.has_attention(model):
        return None
    return (
        f"run {info.run_id} ({config.model.family}) pools its clicks without attention, so it "
        "has no attention patterns; the Recommend page explains its recommendations by leaving "
        "one click out at a time"
    )
def pick_runs(choices: list[runs.RunInfo]) -> tuple[runs.RunInfo, runs.RunInfo | None, int]:
    """Widgets: the run, the run to compare with (or none) and the number of sessions."""
    by_id = {info.run_id: info for info in choices}
    left, middle, right = st.columns([2, 1, 2])
    info = pick_run(choices, "att_run", where=left, label=run_label)
    n_sessions = middle.number_input(
        "Held-out sessions",
        min_value=10,
        max_value=20_000,
        value=DEFAULT_SESSIONS,
        step=500,
        key="att_sessions",
        help="Sessions drawn (seeded) from the run's test split.",
    )
    others = [NO_COMPARISON] + [r for r in by_id if r != info.run_id]
    other = right.selectbox(
        "Compare with",
        others,
        format_func=lambda r: r if r == NO_COMPARISON else run_label(by_id[r]),
        key="att_compare",
        help="A second run trained on the same data, e.g. another model family.",
    )
    return info, by_id.get(other), int(n_sessions)


def headline(profile: insights.AttentionProfile) -> None:
    """Headline figures of the profile."""
    summary = insights.profile_summary(profile)
    row = st.columns(4)
    row[0].metric("Sessions · prefixes", f"{profile.n_sessions:,} · {len(profile):,}")
    row[1].metric(
        "Mean share on the last click",
        f"{summary['mean last-click share']:.0%}",
        help="Over prefixes of 2 or more clicks.",
    )
    row[2].metric(
        "Mean share on the first click",
        f"{summary['mean first-click share']:.0%}",
        help="Over prefixes of 2 or more clicks.",
    )
    row[3].metric(
        "Spread (entropy / log L)",
        f"{summary['mean normalised entropy']:.2f}",
        help="0: all weight on one click; 1: uniform over the prefix.",
    )


def where_attention_goes(profile: insights.AttentionProfile) -> None:
    """Attention by position, prefix length, behaviour, edges and entropy."""
    st.subheader("Where the attention goes", anchor=False)
    log_y = st.toggle(
        "Log scale for attention by position",
        key="att_log",
        help="Shows how fast the weight decays behind the last click.",
    )
    groups = {"length": "prefix length"}
    if profile.behaviour is not None:
        groups["behaviour"] = "hidden behaviour"
    for column, (group, name) in zip(st.columns(len(groups)), groups.items()):
        column.plotly_chart(
            charts.attention_by_position(
                insights.mean_by_position(profile, group),
                f"Mean attention by position, per {name}",
                log_y,
            ),
            key=f"att_chart_by_{group}",
        )
    left, right = st.columns(2)
    left.plotly_chart(
        charts.edge_share_histogram(insights.edge_shares(profile)), key="att_chart_edges"
    )
    right.plotly_chart(
        charts.entropy_by_length(insights.entropy_by_length(profile)), key="att_chart_entropy"
    )


def comparison(
    info: runs.RunInfo, other: runs.RunInfo, n_sessions: int, profile: insights.AttentionProfile
) -> None:
    """The same profile for a second run, beside the first."""
    st.subheader(f"{info.run_id} against {other.run_id}", anchor=False)
    try:
        insights.check_comparable(info.config, other.config)
        missing = without_attention(other)
        if missing:
            raise ValueError(missing)
        other_view = pick_view(other, "att_compare_view", st)
        other_profile = profile_of(other, n_sessions, other_view)
    except (ValueError, runs.RunError, OSError) as error:
        st.warning(f"Cannot compare {info.run_id} with {other.run_id}: {escape_markdown(error)}")
        return
    profiles = {run_label(info): profile, run_label(other): other_profile}
    frame = pd.concat(
        [insights.mean_by_position(p).assign(group=label) for label, p in profiles.items()]
    )
    left, right = st.columns(2)
    left.plotly_chart(
        charts.attention_by_position(frame, "Mean attention by position, both runs"),
        key="att_chart_compare_position",
    )
    summary = insights.compare_profiles(profiles)
    right.plotly_chart(charts.compare_pattern_shares(summary), key="att_chart_compare_patterns")
    st.dataframe(
        summary,
        column_config={c: st.column_config.NumberColumn(format="%.3f") for c in summary.columns},
        key="att_compare_table",
    )


st.title("Attention patterns")
st.caption(
    "How the model spreads its attention over the clicks of a prefix, aggregated over every "
    "prediction in thousands of held-out sessions, and checked against the three patterns the "
    "case study read off a few examples."
)
st.caption(CASE_STUDY_NOTE)
choices = openable_runs_or_stop()
info, other, n_sessions = pick_runs(choices)
try:
    missing = without_attention(info)
    if missing:
        st.info(escape_markdown(missing[0].upper() + missing[1:] + "."),
                icon=":material/visibility_off:")
        st.page_link(RECOMMEND_PAGE, label="Open the Recommend page", icon=":material/recommend:",
                     query_params={"run": info.run_id})
        st.stop()
    view = pick_view(info, "att_view", st)
    profile = profile_of(info, n_sessions, view)
    _, config = cached_model(info.path)
    data, _ = run_sessions(info.path, config)
    names = item_names(info.path, config)
except (runs.RunError, OSError, ValueError) as error:
    st.error(f"Cannot open run {info.run_id}: {escape_markdown(error)}")
    st.stop()
headline(profile)
where_attention_goes(profile)
patterns_section(profile, info.run_id, data, names)
faithfulness_section(info)
patterns_per_scenario(choices, n_sessions)
if other is not None:
    comparison(info, other, n_sessions, profile)
