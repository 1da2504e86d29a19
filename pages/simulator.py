"""Simulator: set up the click-session generator, look at what it makes and at the ceiling.

The last generated configuration is kept in `st.session_state["sim_config"]` (a dict from
`streamrec.config.to_dict`) so that other pages can train on the same data.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from streamrec.charts import world_charts as charts
from streamrec.config import ENGINES, SimConfig, TrainConfig, from_dict, to_dict
from streamrec.data.sessions import SessionData
from streamrec.data.splits import make_split
from streamrec.evaluation.baselines import evaluate_baselines
from streamrec.world.scenarios import recommended_max_len
from streamrec.world.simulator import dataset_stats
from studio.limits import cached_simulation, check_simulation
from studio.navigation import ensure_app_navigation
from studio.scenarios import scenario_picker

ensure_app_navigation()

SIM_CONFIG_KEY = "sim_config"
DEFAULTS = SimConfig()
# Held-out targets the baselines are scored on: enough for about one point of standard
# error on Hit@K, few enough that the page answers in seconds (session kNN is the slow one).
BASELINE_TARGETS = 2_000

# (field, label, help) per form column; the widget kind follows the field's type.
SECTIONS: dict[str, list[tuple[str, str, str]]] = {
    "Size and seed": [
        ("n_sessions", "Sessions", "Sessions drawn before too-short ones are dropped."),
        ("n_items", "Items", "Catalog size; at least one item per category."),
        ("n_categories", "Categories", ""),
        ("seed", "Seed", "Same seed and settings, same sessions."),
        ("engine", "Engine", "fast: vectorised; reference: the case study, draw for draw."),
    ],
    "Catalog": [
        (
            "category_concentration",
            "Dirichlet concentration of category sizes",
            "Low: a few big categories; high: categories of similar size.",
        ),
        (
            "popularity_exponent",
            "Popularity exponent",
            "Zipf exponent inside a category: p(rank r) ~ r^-exponent. 0 is uniform.",
        ),
        ("min_preferred", "Min preferred categories", "Size of a session's preferred set."),
        ("max_preferred", "Max preferred categories", ""),
    ],
    "Behaviour mix": [
        ("explorer_share", "Explorer share", "Shares are normalised; they need not sum to 1."),
        ("deep_dive_share", "Deep-dive share", ""),
        ("comparison_share", "Comparison share", ""),
        ("explorer_switch", "Explorer: P(switch)", "After a click, to any category."),
        ("deep_dive_switch", "Deep dive: P(switch)", "After a click, to a preferred category."),
        ("comparison_switch", "Comparison: P(switch)", "After a click, to a preferred category."),
    ],
    "Session length": [
        ("min_session_length", "Min session length (clicks)", "Uniform in [min, max]."),
        ("max_session_length", "Max session length (clicks)", ""),
        (
            "min_kept_length",
            "Min kept length (clicks)",
            "Shorter sessions are dropped (only empty categories make them).",
        ),
    ],
    "Order mechanisms (before each click after the first)": [
        ("anchor_return", "P(back to the anchor)", "An item of the first click's category."),
        ("successor_prob", "P(successor)", "The next item of the latest click's chain."),
        ("recall_prob", "P(recall)", "The next item of an earlier click's chain."),
        ("repeat_prob", "P(repeat)", "An earlier click again, recent ones likelier."),
        ("repeat_decay", "Repeat decay", "A repeat picks the click d steps back ~ decay^d."),
    ],
}
MECHANISM_SECTION = "Order mechanisms (before each click after the first)"  # one row of its own
UNIT_INTERVAL = {
    "explorer_share",
    "deep_dive_share",
    "comparison_share",
    "explorer_switch",
    "deep_dive_switch",
    "comparison_switch",
    "anchor_return",
    "successor_prob",
    "recall_prob",
    "repeat_prob",
    "repeat_decay",
}


def generate(config: dict) -> SessionData:
    """Simulated sessions for a SimConfig given as a dict (kept in a byte-bounded store)."""
    return cached_simulation(from_dict(SimConfig, config))


@st.cache_data(max_entries=8, show_spinner=False)
def baseline_scores(config: dict) -> tuple[dict[str, dict[str, float]], int, int]:
    """(scores, targets scored, held-out targets): baselines and the oracle on a seeded
    sample of the test targets of the default training split."""
    data = generate(config)
    train = TrainConfig()
    split = make_split(data, train)
    report = split.report
    sample = report.sample(BASELINE_TARGETS, train.seed)
    max_len = recommended_max_len(from_dict(SimConfig, config), train.max_len)
    scores = evaluate_baselines(data, split, max_len, cutoffs=train.cutoffs, targets=sample)
    return scores, len(sample), len(report)


def settings_widget(name: str, label: str, help_text: str) -> object:
    """The form widget of one SimConfig field, keyed `sim_<field>` and kept across pages."""
    default = getattr(DEFAULTS, name)
    common = {"key": f"sim_{name}", "help": help_text or None, "persist_state": "session"}
    if name == "engine":
        return st.selectbox(label, ENGINES, index=ENGINES.index(default), **common)
    if name in UNIT_INTERVAL:
        return st.slider(label, 0.0, 1.0, float(default), step=0.01, **common)
    if isinstance(default, float):
        return st.number_input(label, value=default, step=0.1, format="%.3f", **common)
    return st.number_input(label, value=default, step=1, **common)


def settings_form() -> tuple[bool, dict]:
    """All simulator settings in one form; returns (submitted, field values)."""
    values: dict = {}
    sections = {k: v for k, v in SECTIONS.items() if k != MECHANISM_SECTION}
    with st.form("sim_form", border=True):
        for column, (section, items) in zip(st.columns(len(sections)), sections.items()):
            with column:
                st.markdown(f"**{section}**")
                for name, label, help_text in items:
                    values[name] = settings_widget(name, label, help_text)
        items = SECTIONS[MECHANISM_SECTION]
        st.markdown(f"**{MECHANISM_SECTION}** — see docs/scenarios.md; fast engine only")
        for column, (name, label, help_text) in zip(st.columns(len(items)), items):
            with column:
                values[name] = settings_widget(name, label, help_text)
        submitted = st.form_submit_button("Generate", type="primary", key="sim_generate")
    return submitted, values


def headline(data: SessionData) -> None:
    """Headline counts of the dataset."""
    stats = dataset_stats(data)
    row = st.columns(4)
    row[0].metric("Sessions", f"{stats['sessions']:,}")
    row[1].metric("Clicks", f"{stats['clicks']:,}")
    row[2].metric("Prediction targets", f"{stats['prediction_targets']:,}")
    row[3].metric("Mean session length", f"{stats['mean_session_length']:.1f} clicks")
    row = st.columns(4)
    row[0].metric("Items", f"{stats['items']:,}")
    row[1].metric("Items ever clicked", f"{stats['distinct_items_clicked']:,}")
    row[2].metric("Categories", f"{stats['categories']:,}")
    row[3].metric(
        "Next click in the same category",
        f"{stats['stay_in_category_rate']:.0%}",
        help="Share of consecutive click pairs within a session that share a category.",
    )
    causes = [
        f"{name.removeprefix('cause_')} {share:.0%}"
        for name, share in stats.items()
        if name.startswith("cause_") and share > 0
    ]
    if causes:
        st.caption("What produced the clicks (the simulator's truth): " + ", ".join(causes) + ".")


def dataset_charts(data: SessionData) -> None:
    """The charts of the simulated dataset."""
    left, right = st.columns(2)
    left.plotly_chart(charts.session_length_histogram(data), key="sim_chart_lengths")
    right.plotly_chart(charts.behaviour_mix_chart(data), key="sim_chart_behaviour")
    left, right = st.columns(2)
    left.plotly_chart(charts.category_sizes_chart(data), key="sim_chart_categories")
    right.plotly_chart(charts.popularity_long_tail(data), key="sim_chart_popularity")
    st.plotly_chart(charts.sample_session_strips(data), key="sim_chart_strips")
    st.plotly_chart(charts.transition_heatmap(data), key="sim_chart_transitions")


def baselines_section(config: dict) -> None:
    """Baselines and the Bayes-optimal ceiling for this configuration."""
    st.subheader("How well can a recommender do on these sessions?")
    try:
        with st.spinner("Scoring the baselines and the Bayes-optimal oracle…"):
            scores, n_scored, n_held_out = baseline_scores(config)
    except ValueError as error:
        st.error(f"Cannot score the baselines for this configuration: {error}")
        return
    st.caption(
        f"Fitted on the training sessions of the default split and scored on {n_scored:,} "
        f"random next clicks of its {n_held_out:,} held-out test targets. The oracle knows "
        "the simulator's true parameters and ranks every item by its exact probability "
        "given the clicks so far: no model trained on these sessions can beat it on average."
    )
    st.plotly_chart(charts.baseline_comparison(scores), key="sim_chart_baselines")
    table = pd.DataFrame(scores).T
    table.index.name = "scorer"
    st.dataframe(
        table,
        column_config={
            c: st.column_config.NumberColumn(charts.METRIC_LABELS.get(c, c), format="%.4f")
            for c in table.columns
        },
        key="sim_baselines_table",
    )


def results(config: dict) -> None:
    """Everything shown for one generated configuration."""
    try:
        data = generate(config)
    except ValueError as error:  # a stored config from elsewhere may no longer be valid
        st.error(f"Cannot simulate the stored configuration: {error}")
        return
    if data.n_sessions == 0:
        st.warning(
            "No session is long enough to keep: lower the min kept length "
            "or raise the session lengths."
        )
        return
    headline(data)
    st.download_button(
        "Download sessions as CSV",
        data=lambda: data.to_frame().to_csv(index=False).encode(),
        file_name=f"sessions_seed{config['seed']}.csv",
        mime="text/csv",
        on_click="ignore",
        key="sim_download",
        icon=":material/download:",
    )
    dataset_charts(data)
    baselines_section(config)


st.title("Simulator")
st.caption(
    "Click sessions from explorers, deep divers and comparison shoppers over a Zipf catalog. "
    "Change the settings and press Generate; the Train page trains on the last generated data."
)
scenario_picker("sim_scenario")
submitted, values = settings_form()
if submitted:
    try:
        config = check_simulation(SimConfig(**values))  # viewer mode: a lower ceiling
    except ValueError as error:
        st.error(f"Invalid setting: {error}")
        st.stop()
    st.session_state[SIM_CONFIG_KEY] = to_dict(config)

if SIM_CONFIG_KEY in st.session_state:
    results(st.session_state[SIM_CONFIG_KEY])
else:
    st.info("Press **Generate** to simulate sessions with these settings.")
