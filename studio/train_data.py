"""The Train page's data choice: simulated sessions or an imported data set, with a summary.

Also puts a running run's settings and data back in the form after a reload.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import streamlit as st

from streamrec.config import RunConfig, SimConfig, from_dict, to_dict
from streamrec.data import datasets
from streamrec.data.sources import dataset_config
from streamrec.text import escape_markdown
from streamrec.training import runs
from streamrec.world.scenarios import scenario_of
from studio.scenario_picker import scenario_picker
from studio.train_form import TRAIN_SECTIONS

SIM_CONFIG_KEY = "sim_config"  # written by the Simulator page: the last generated SimConfig
RUN_SIM_KEY = "train_run_sim"  # (run id, SimConfig dict) of the training run the form shows
PREFILLED_KEY = "train_prefilled"  # the running run whose settings were put in the form
DATA_PAGE = "pages/data.py"
SIMULATED = ""  # the "Training data" choice of simulated sessions; any other is a data set name
ROOT = Path(__file__).resolve().parents[1]


def sim_settings() -> tuple[SimConfig, str]:
    """The data to train on, and where it comes from: the Simulator page's last generated
    config, else the data of the training run the form was filled from, else the default."""
    data = st.session_state.get(SIM_CONFIG_KEY)
    if data:
        try:
            return (
                from_dict(SimConfig, data).validate(),
                "the last configuration generated on the Simulator page",
            )
        except ValueError as error:
            st.warning(
                f"The Simulator page's settings are not usable ({escape_markdown(error)}); "
                "using defaults."
            )
    from_run = st.session_state.get(RUN_SIM_KEY)
    if from_run:
        return from_dict(SimConfig, from_run[1]), f"the data of run {escape_markdown(from_run[0])}"
    return SimConfig(), "the default configuration (nothing generated on the Simulator page yet)"


def fill_from_run(path: Path) -> None:
    """Put a training run's settings and data in the form, once per run and browser session:
    after a reload (a new session) the form shows what is training, not the defaults."""
    if st.session_state.get(PREFILLED_KEY) == path.name:
        return
    st.session_state[PREFILLED_KEY] = path.name
    try:
        config = runs.read_config(path)
    except runs.RunError:
        return
    family = config.model.family
    st.session_state["train_family"] = family
    for name, value in dataclasses.asdict(config.model).items():
        if name != "n_items":
            st.session_state[f"train_{family}_{name}"] = value
    for name in (n for names in TRAIN_SECTIONS.values() for n in names):
        st.session_state[f"train_{name}"] = getattr(config.train, name)
    st.session_state["train_data"] = SIMULATED if config.data.is_simulated else config.data.dataset
    if config.data.is_simulated:
        st.session_state["train_scenario"] = scenario_of(config.sim)  # the box, after a reload
    if SIM_CONFIG_KEY not in st.session_state:
        st.session_state[RUN_SIM_KEY] = (path.name, to_dict(config.sim))


def data_summary(sim: SimConfig, source: str) -> None:
    """One line on the data the model will train on, with a link to change it."""
    with st.container(border=True):
        scenario_picker("train_scenario")
        st.markdown(
            f"**Training data:** {sim.n_sessions:,} sessions of {sim.min_session_length}–"
            f"{sim.max_session_length} clicks over {sim.n_items:,} items in "
            f"{sim.n_categories:,} categories, seed {sim.seed} ({sim.engine} engine) — {source}."
        )
        st.page_link(
            "pages/simulator.py",
            label="Change the data on the Simulator page",
            icon=":material/scatter_plot:",
        )


def pick_data() -> str:
    """The "Training data" choice: simulated sessions, or one of the readable imported data
    sets (broken ones are named in a caption, not offered)."""
    found = datasets.list_datasets()
    names = [info.name for info in found if info.error is None]
    broken = [info for info in found if info.error is not None]
    if st.session_state.get("train_data") not in (SIMULATED, *names):
        st.session_state.pop("train_data", None)  # a data set deleted since it was picked
    choice = st.selectbox(
        "Training data",
        [SIMULATED, *names],
        format_func=lambda n: "Simulated sessions (Simulator page)" if n == SIMULATED else n,
        key="train_data",
        help="Simulated sessions, or a click log imported on the Data page or with "
        "`python -m streamrec import`.",
    )
    if broken:
        st.caption(
            f"{len(broken)} data set folder(s) cannot be read and are not offered: "
            + "; ".join(escape_markdown(info.error or info.name) for info in broken)
        )
    return choice


def dataset_summary(name: str) -> None:
    """One line on the imported data set the model will train on."""
    meta = next((i.meta for i in datasets.list_datasets() if i.name == name), {})
    with st.container(border=True):
        st.markdown(
            f"**Training data:** the imported data set **{name}**: "
            f"{meta.get('n_sessions', 0):,} sessions ({meta.get('n_test_sessions', 0):,} of "
            f"them held out as its test set), {meta.get('n_clicks', 0):,} clicks over "
            f"{meta.get('n_items', 0):,} items. The simulator's settings and the evaluation "
            "protocol do not apply: the data set's own test sessions are held out, and "
            "validation takes the latest of the others."
        )
        if (ROOT / DATA_PAGE).exists():
            st.page_link(DATA_PAGE, label="See it on the Data page", icon=":material/dataset:")


@st.cache_data(max_entries=8, show_spinner=False)
def _on_dataset(config: dict, name: str, stamp: int) -> dict:
    """`config` (as a dict) pointed at data set `name`, whose dataset.json has mtime `stamp`."""
    return dataset_config(RunConfig.from_dict(config), name).to_dict()


def on_dataset(config: RunConfig, name: str) -> RunConfig:
    """The run config pointed at an imported data set, its hash read once per file version."""
    file = datasets.default_data_root() / name / datasets.META_FILE
    stamp = file.stat().st_mtime_ns if file.exists() else 0
    return RunConfig.from_dict(_on_dataset(config.to_dict(), name, stamp))
