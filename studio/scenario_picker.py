"""The scenario picker the Simulator and Train pages share: one pick fills both pages' state."""

from __future__ import annotations

from dataclasses import fields

import streamlit as st

from streamrec.config import LSTMConfig, SimConfig, TrainConfig, to_dict
from streamrec.world.scenarios import SCENARIOS, get_scenario, recommended_settings

SIM_CONFIG_KEY = "sim_config"  # the last generated SimConfig (as on the Simulator page)
PICKER_KEYS = ("sim_scenario", "train_scenario")


def apply_scenario(name: str) -> None:
    """Fill the simulator form, the generated config and the training window from a scenario."""
    scenario = get_scenario(name)
    config = scenario.config()
    for field in fields(SimConfig):
        st.session_state[f"sim_{field.name}"] = getattr(config, field.name)
    st.session_state[SIM_CONFIG_KEY] = to_dict(config)
    # The Train page's widgets get the scenario's recommended settings;
    # a setting only another scenario recommends goes back to its default.
    chosen = {"model": scenario.model_settings(LSTMConfig),
              "train": {**scenario.train, "max_len": scenario.max_len}}
    defaults = {"model": LSTMConfig(), "train": TrainConfig()}
    # Model widgets carry their family in the key (train_lstm_<field>): the recommended model
    # settings are the LSTM's, the family the scenarios were tuned for.
    prefixes = {"model": f"train_{LSTMConfig.family}_", "train": "train_"}
    for section, names in recommended_settings().items():
        for setting in names:
            value = chosen[section].get(setting, getattr(defaults[section], setting))
            st.session_state[prefixes[section] + setting] = value
    for key in PICKER_KEYS:
        st.session_state[key] = name


def _picked(key: str) -> None:
    if st.session_state.get(key):
        apply_scenario(st.session_state[key])


def scenario_picker(key: str) -> str | None:
    """A selectbox of the named scenarios; picking one applies it. Returns the pick."""
    picked = st.selectbox(
        "Scenario",
        list(SCENARIOS),
        index=None,
        format_func=lambda name: SCENARIOS[name].title,
        placeholder="Pick a named world…",
        key=key,
        on_change=_picked,
        args=(key,),
        help="Fills the simulator settings (and the training window) with a named world.",
        persist_state="session",
    )
    if picked:
        st.caption(SCENARIOS[picked].story)
    return picked
