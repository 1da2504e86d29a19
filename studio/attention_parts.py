"""Parts of the Attention-patterns page (pages/attention.py): the profile of a run computed
once per checkpoint, the case study's three patterns with examples, and the patterns per
scenario."""

from __future__ import annotations

import time
from collections import OrderedDict

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from streamrec import insights
from streamrec.charts import insight_charts as charts
from streamrec.data.identity import data_label
from streamrec.data.items import ItemNames
from streamrec.data.sessions import SessionData
from streamrec.training import runs
from studio.run_picker import cached_model, file_stamp, run_sessions

RECOMMEND_PAGE = "pages/recommend.py"
PROFILES_KEPT = 6  # computed profiles kept in memory, across sessions
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
