"""A run's data set identity: equal for the same simulated data, different otherwise."""

from __future__ import annotations

import re
from dataclasses import replace

from streamrec.config import DataConfig, LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data.identity import data_key, data_label, group_by_data

BASE = RunConfig(SimConfig(n_sessions=100, n_items=40, n_categories=4, max_preferred=3),
                 LSTMConfig(n_items=40))


def test_same_simulation_same_key_whatever_the_model_and_training():
    other = RunConfig(BASE.sim, LSTMConfig(n_items=40, hidden_size=16), TrainConfig(epochs=1))
    assert data_key(BASE) == data_key(other)
    assert re.fullmatch(r"sim-[0-9a-f]{10}", data_key(BASE))


def test_any_simulator_setting_changes_the_key():
    for change in ({"seed": 7}, {"engine": "reference"}, {"explorer_switch": 0.5},
                   {"n_sessions": 101}):
        sim = replace(BASE.sim, **change)
        assert data_key(RunConfig(sim, BASE.model)) != data_key(BASE), change


def test_groups_and_label():
    seeded = RunConfig(replace(BASE.sim, seed=1), BASE.model)
    groups = group_by_data([("a", BASE), ("b", seeded), ("c", BASE)])
    assert list(groups.values()) == [["a", "c"], ["b"]]
    assert data_label(BASE) == "custom simulator (n_sessions 100, n_items 40, n_categories 4, max_preferred 3)"


def test_an_imported_data_set_is_named_by_its_name_and_content():
    imported = replace(BASE, data=DataConfig(source="dataset", dataset="yoochoose",
                                             content_hash="0123456789abcdef"))
    assert data_key(imported) == "data-yoochoose-0123456789"
    assert data_label(imported) == "data set yoochoose"
    other = replace(imported, data=replace(imported.data, content_hash="fedcba9876543210"))
    assert data_key(other) != data_key(imported) != data_key(BASE)
