"""Simulator: set up the click-session generator, look at what it makes and at the ceiling.

The last generated configuration is kept in `st.session_state["sim_config"]` (a dict from
`streamrec.config.to_dict`) so that other pages can train on the same data.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from streamrec.charts import world_charts as charts
from streamrec.config import MECHANISMS, SimConfig, TrainConfig, field_infos, from_dict, to_dict
from streamrec.data.sessions import SessionData
from streamrec.data.splits import make_split
from streamrec.evaluation.baselines import evaluate_baselines
from streamrec.world.scenarios import recommended_max_len
from studio.limits import cached_simulation, check_simulation
from studio.navigation import ensure_app_navigation
from studio.scenario_picker import scenario_picker
from studio.world_view import dataset_charts, headline

ensure_app_navigation()

SIM_CONFIG_KEY = "sim_config"
# Held-out targets the baselines are scored on: enough for about one point of standard
# error on Hit@K, few enough that the page answers in seconds (session kNN is the slow one).
BASELINE_TARGETS = 2_000

# The fields of each form column; labels, help and ranges come from SimConfig's metadata.
SECTIONS: dict[str, tuple[str, ...]] = {
    "Size and seed": ("n_sessions", "n_items", "n_categories", "seed", "engine"),
    "Catalog": ("category_concentration", "popularity_exponent", "min_preferred", "max_preferred"),
    "Behaviour mix": (
        "explorer_share", "deep_dive_share", "comparison_share",
        "explorer_switch", "deep_dive_switch", "comparison_switch",
    ),
    "Session length": ("min_session_length", "max_session_length", "min_kept_length"),
    "Order mechanisms (before each click after the first)": MECHANISMS + ("repeat_decay",),
}
MECHANISM_SECTION = "Order mechanisms (before each click after the first)"  # one row of its own
FIELDS = field_infos(SimConfig)


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


def settings_widget(name: str) -> object:
    """The form widget of one SimConfig field, keyed `sim_<field>` and kept across pages: a
    slider for a probability or share, a select box for a choice, else a number box."""
    info = FIELDS[name]
    default, label = info.default, info.label
    common = {"key": f"sim_{name}", "help": info.help or None, "persist_state": "session"}
    # A value a scenario pick put in session state wins; passing a default beside it too makes
    # Streamlit warn that the widget "also had its value set via the Session State API".
    preset = common["key"] in st.session_state
    if info.choices is not None:
        return st.selectbox(label, info.choices,
                            index=None if preset else info.choices.index(default), **common)
    if isinstance(default, float) and info.hi == 1.0 and info.lo is not None:
        return st.slider(label, 0.0, 1.0, None if preset else float(default), step=0.01, **common)
    if isinstance(default, float):
        return st.number_input(label, value=None if preset else default, step=0.1, format="%.3f",
                               **common)
    return st.number_input(label, value=None if preset else default, step=1, **common)


def settings_form() -> tuple[bool, dict]:
    """All simulator settings in one form; returns (submitted, field values)."""
    values: dict = {}
    sections = {k: v for k, v in SECTIONS.items() if k != MECHANISM_SECTION}
    with st.form("sim_form", border=True):
        for column, (section, items) in zip(st.columns(len(sections)), sections.items()):
            with column:
                st.markdown(f"**{section}**")
                for name in items:
                    values[name] = settings_widget(name)
        items = SECTIONS[MECHANISM_SECTION]
        st.markdown(f"**{MECHANISM_SECTION}** — see docs/scenarios.md; fast engine only")
        for column, name in zip(st.columns(len(items)), items):
            with column:
                values[name] = settings_widget(name)
        submitted = st.form_submit_button("Generate", type="primary", key="sim_generate")
    return submitted, values


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
