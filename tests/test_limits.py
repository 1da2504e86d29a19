"""Viewer mode's lower ceilings and the byte-bounded store of simulations (studio/limits.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from streamrec.config import SimConfig
from studio.limits import VIEWER_MAX_ITEMS, ByteStore, check_simulation, nbytes


@pytest.mark.parametrize("fields", [{"n_sessions": 60_000}, {"n_items": VIEWER_MAX_ITEMS + 1}])
def test_viewer_mode_refuses_what_a_local_user_may_simulate(
    monkeypatch: pytest.MonkeyPatch, fields: dict[str, int]
) -> None:
    config = SimConfig(**fields)
    assert check_simulation(config) is config  # fine on a local server
    monkeypatch.setenv("STREAMREC_VIEWER", "1")
    with pytest.raises(ValueError, match="allowed up to"):
        check_simulation(config)
    assert check_simulation(SimConfig()) == SimConfig()  # the default world still works


def test_the_simulator_page_says_why_a_viewer_cannot_generate_it(
    open_page: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMREC_VIEWER", "1")
    at = open_page("pages/simulator.py")
    at.number_input(key="sim_n_sessions").set_value(2_000_000)
    at.button(key="sim_generate").click().run()
    assert not at.exception
    assert "needs about 5.1 GiB to simulate: allowed up to 96 MiB" in at.error[0].value
    assert not at.metric  # nothing was simulated


def test_the_store_keeps_the_newest_values_within_its_byte_budget() -> None:
    store = ByteStore(budget=3_000)
    for key in "abcd":
        store.put(key, np.zeros(1_000, dtype=np.uint8))
    assert [k for k in "abcd" if store.get(k) is not None] == ["b", "c", "d"]
    assert store.total() == 3_000
    store.get("b")  # used: now the most recent
    store.put("e", np.zeros(1_000, dtype=np.uint8))
    assert store.get("c") is None and store.get("b") is not None
    store.put("big", np.zeros(10_000, dtype=np.uint8))  # alone over budget: kept, others go
    assert store.get("big") is not None and store.total() == 10_000


def test_nbytes_counts_a_simulations_arrays() -> None:
    from streamrec.world.simulator import simulate

    data = simulate(SimConfig(n_sessions=200, n_items=60, n_categories=6))
    assert nbytes(data) >= data.items.nbytes + data.offsets.nbytes + data.catalog.item_category.nbytes
