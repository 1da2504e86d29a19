"""Attention patterns: where a trained model puts its attention, over many held-out sessions.

Tests the case study's reading of its attention weights (recency-dominant, anchor-item and
category-coherent sessions) on thousands of prefixes instead of a few hand-picked ones.
"""

from __future__ import annotations

import time
from collections import OrderedDict

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.errors import StreamlitAPIException

from streamrec import insights
from streamrec.charts import faithfulness_charts as faith_charts
from streamrec.charts import insight_charts as charts
from streamrec.data.identity import data_label
from streamrec.data.items import ItemNames
from streamrec.data.sessions import SessionData
from streamrec.explain.faithfulness import ATTENTION, CHANCE, LAST_CLICK, OCCLUSION, POINTER
from streamrec.text import escape_markdown
from streamrec.training import runs
from studio.navigation import ensure_app_navigation
from studio.run_picker import (
    cached_model,
    file_stamp,
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
# Faithfulness runs the model once per click dropped (~1 s per 300 sessions on 2 busy cores):
# fewer by default than the profile, so the page opens quickly; ±2 SE whiskers show the noise.
FAITHFULNESS_SESSIONS = 500
NO_COMPARISON = "(no comparison)"
RECOMMEND_PAGE = "pages/recommend.py"
PROFILES_KEPT = 6  # computed profiles kept in memory, across sessions
NO_CAUSES = (
    "This run's data records no cause per click (it was made before causes were recorded, or "
    "is an imported log), so its attention cannot be checked against the truth here."
)
SHOWN_PATTERNS = [p for p in insights.PATTERNS if p != "too short"]


@st.cache_resource(show_spinner=False)
def profile_store() -> OrderedDict:
    """Computed profiles by (run, checkpoint stamp, sessions): the newest PROFILES_KEPT."""
    return OrderedDict()


def profile_of(
    info: runs.RunInfo, n_sessions: int, view: str | None
) -> insights.AttentionProfile:
    """The run's attention profile over its map `view`, computed once per checkpoint with a
    progress bar."""
    key = (str(info.path), file_stamp(info.path), n_sessions, view)
    store = profile_store()
    if key in store:
        store.move_to_end(key)
        return store[key]
    model, config = cached_model(info.path)
    data, split = run_sessions(info.path, config)
    label = f"Running {info.run_id} over {n_sessions:,} held-out sessions…"
    bar = st.progress(0.0, text=label)
    started = time.monotonic()

    def report(fraction: float) -> None:
        left = (time.monotonic() - started) * (1 - fraction) / max(fraction, 1e-6)
        bar.progress(fraction, text=f"{label} {fraction:.0%}, about {left:.0f} s left")

    profile = insights.attention_profile(
        model,
        data,
        split.report,
        config.train.max_len,
        n_sessions,
        progress=report,
        view=view,
    )
    bar.empty()
    store[key] = profile
    while len(store) > PROFILES_KEPT:
        store.popitem(last=False)
    return profile


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


def recommend_links(examples: pd.DataFrame, run_id: str, names: ItemNames) -> None:
    """Per pattern, links opening each example on the Recommend page with its clicks."""
    for column, pattern in zip(st.columns(len(SHOWN_PATTERNS)), SHOWN_PATTERNS):
        column.markdown(f"**{pattern}**")
        rows = examples[examples["pattern"] == pattern]
        if rows.empty:
            column.caption("no prefix of this pattern in the sample")
        for row in rows.itertuples():
            try:
                column.page_link(
                    RECOMMEND_PAGE,
                    label=f"session {row.session_id} · {row.prefix_length} clicks",
                    icon=":material/open_in_new:",
                    help=f"A {row.behaviour or 'held-out'} session: open it on the Recommend "
                    "page.",
                    query_params={"run": run_id, "items": ",".join(map(names.raw, row.items))},
                )
            except StreamlitAPIException:
                column.caption(f"session {row.session_id}: the Recommend page is not in this app")


def patterns_section(
    profile: insights.AttentionProfile, run_id: str, data: SessionData, names: ItemNames
) -> None:
    """The three patterns: rules, counts per behaviour (where known) and examples."""
    st.subheader("The case study's three patterns", anchor=False)
    left, right = st.columns([3, 2])
    right.markdown(
        f"Each prefix of at least {insights.MIN_PATTERN_LENGTH} clicks gets the first rule "
        "that holds, checked in this order:\n\n"
        + "\n".join(
            f"- **{name}**: {insights.PATTERN_RULES[name]}"
            for name in ("anchor-item", "recency-dominant", "category-coherent", "mixed")
        )
        + "\n\nShorter prefixes are counted as *too short*. "
        + (
            "The hidden behaviour comes from the simulator; the model never sees it."
            if data.has_truth
            else "This data has no hidden behaviour (a real log's is unknown), so the "
            "patterns are counted by prefix length instead."
        )
    )
    if data.has_truth:
        shares = charts.pattern_shares(insights.pattern_counts(profile, "behaviour"))
    else:
        shares = charts.pattern_shares(
            insights.pattern_counts(profile, "length"), "Attention patterns by prefix length"
        )
    left.plotly_chart(shares, key="att_chart_patterns")
    table = insights.pattern_table(profile)
    classified = table["all"].drop("too short")
    if classified.sum():
        st.markdown(
            f"**Prefixes per pattern.** Of the {classified.sum():,} prefixes of "
            f"{insights.MIN_PATTERN_LENGTH}+ clicks: "
            + ", ".join(f"{n / classified.sum():.1%} {name}" for name, n in classified.items())
            + "."
        )
    st.dataframe(table, key="att_pattern_counts")
    if data.has_truth:
        switch_caption(data)
    examples = insights.pattern_examples(profile, per_pattern=3)
    st.plotly_chart(
        charts.pattern_examples_heatmap(examples, data.item_category if data.has_truth else names),
        key="att_chart_examples",
    )
    st.caption("Open an example on the Recommend page, with the clicks its prediction saw:")
    recommend_links(examples, run_id, names)


def switch_caption(data: SessionData) -> None:
    """How the run's simulator moves between categories: what category coherence means here."""
    explorer, deep_dive, comparison = data.require_truth().switch_probs
    st.caption(
        "A one-category prefix has every click in one category; the case study expects deep "
        "dives within one category to be category-coherent. In this run's simulator the next "
        "click stays in the current category unless the session switches (after "
        f"{deep_dive:.0%} of a deep dive's clicks, {explorer:.0%} of an explorer's, "
        f"{comparison:.0%} of a comparison's); deep dives and comparisons switch to the "
        "session's preferred categories, which only earlier clicks reveal."
    )


@st.cache_resource(show_spinner=False)
def faithfulness_store() -> OrderedDict:
    """Computed faithfulness results by (run, checkpoint stamp, sessions): the newest few."""
    return OrderedDict()


def faithfulness_of(info: runs.RunInfo, n_sessions: int) -> insights.Faithfulness | None:
    """Attention and occlusion against the recorded causes, once per checkpoint; None when the
    run's data records no causes."""
    model, config = cached_model(info.path)
    data, split = run_sessions(info.path, config)
    if not data.has_causes:
        return None
    key = (str(info.path), file_stamp(info.path), n_sessions)
    store = faithfulness_store()
    if key not in store:
        label = f"Dropping each click of {n_sessions:,} held-out prefixes…"
        bar = st.progress(0.0, text=label)
        store[key] = insights.measure_faithfulness(
            model, data, split.report, config.train.max_len, n_sessions,
            progress=lambda f: bar.progress(f, text=f"{label} {f:.0%}"),
        )
        bar.empty()
        while len(store) > PROFILES_KEPT:
            store.popitem(last=False)
    store.move_to_end(key)
    return store[key]


def faithfulness_section(info: runs.RunInfo) -> None:
    """Does the attention point at the click that truly caused the next one?"""
    st.subheader("Does attention point at the cause?", anchor=False)
    _, config = cached_model(info.path)
    if not run_sessions(info.path, config)[0].has_causes:
        st.caption(NO_CAUSES)
        return
    n_sessions = st.columns([1, 3])[0].number_input(
        "Held-out sessions checked",
        min_value=10,
        max_value=20_000,
        value=FAITHFULNESS_SESSIONS,
        step=500,
        key="att_faith_sessions",
        help="One target each; every click of its prefix is dropped in turn (about 1 s per "
        "300 sessions).",
    )
    result = faithfulness_of(info, int(n_sessions))
    if result is None:
        st.caption(NO_CAUSES)
        return
    if result.n_sessions == 0:
        st.caption("No held-out click in this sample was caused by an earlier click it can see.")
        return
    share = result.share
    figures = ", ".join(
        f"{name} {share(method, 1):.0%}"
        for method, name in (
            (ATTENTION, "attention"),
            (POINTER, "the copy pointer"),
            (OCCLUSION, "occlusion"),
            (LAST_CLICK, "the last click"),
            (CHANCE, "chance"),
        )
        if not np.isnan(share(method, 1))
    )
    st.markdown(
        f"The simulator records which earlier click caused each click. Over "
        f"{result.n_sessions:,} held-out targets caused by an earlier click the model can see "
        f"(one per session), the cause is the top click for: {figures}."
        + ("" if result.has_attention else " This model has no attention: occlusion only.")
    )
    st.plotly_chart(faith_charts.faithfulness_bars(result.table), key="att_chart_faithfulness")
    st.caption(
        "Occlusion drops each click of the prefix in turn and measures how far the true next "
        "item's probability falls; the click whose loss hurts most is its top click. Chance "
        "picks a random click (1/L, 2/L for the top 2). Whiskers: ±2 standard errors. "
        f"{result.n_outside:,} caused targets were left out because their cause lies before "
        "the clicks the model reads (max_len); one-click prefixes are left out (nothing to rank)."
    )


def patterns_per_scenario(choices: list[runs.RunInfo], n_sessions: int) -> None:
    """The three patterns counted in the newest attention run of each data set or scenario."""
    st.subheader("The three patterns per scenario", anchor=False)
    newest: dict = {}
    for choice in choices:  # newest first
        config = choice.config
        # Last-state pooling has nothing to count; a family without attention says so below.
        if config is not None and getattr(config.model, "pooling", None) != "last":
            newest.setdefault((config.data, config.sim), choice)
    if not st.toggle(
        f"Count the patterns in each of the {len(newest)} scenario(s) with a trained run",
        key="att_per_scenario",
        help="Profiles the newest attention run of each scenario (data identity) once.",
    ):
        return
    rows = {}
    for choice in newest.values():
        try:
            counts = insights.pattern_table(profile_of(choice, n_sessions, None))["all"]
        except (runs.RunError, OSError, ValueError) as error:
            st.caption(f"{choice.run_id}: {error}")
            continue
        rows[f"{choice.run_id}<br>{data_label(choice.config)}"] = counts.drop(
            "too short"
        )
    table = pd.DataFrame(rows).T.rename_axis("run and its scenario")
    st.plotly_chart(
        charts.pattern_shares(table, "Attention patterns per scenario"), key="att_chart_scenarios"
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
