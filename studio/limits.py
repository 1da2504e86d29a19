"""What the app lets one visitor ask its own server process for, in bytes.

The engine's ceilings (streamrec/memory.py, measured) hold for the CLI and the app alike.
In viewer mode (studio/viewer.py) the server is open to anyone on the network, so the work a
visitor can start in the server itself is capped far lower: a simulation on the Simulator
page, the timing of a few training batches on the Train page. Simulations the pages keep are
held in one store bounded in bytes (the arrays they hold, measured with `nbytes`), not in
entries: an entry may be 50 kB or 3 GB. `python benchmarks/bench_viewer.py` drives the
Simulator page at the largest viewer sizes and prints the server's peak RSS.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np
import streamlit as st

from streamrec import memory
from streamrec.config import SimConfig
from streamrec.data.sessions import SessionData
from streamrec.world.simulator import simulate
from studio.viewer import viewer_mode

# Viewer mode: a simulation of at most this estimate (~30,000 default sessions, 59 MiB for the
# default 20,000), and the Train page times batches of at most this much memory.
VIEWER_SIM_BYTES = 96 * memory.MIB
# ...and at most this many items: the Simulator page's charts and baselines grow with the
# catalog beyond what the simulation's estimate counts (bench_viewer.py, before this cap: a
# 1,000,000-item catalog took the server past 6 GB and was stopped there).
VIEWER_MAX_ITEMS = 20_000
VIEWER_TIMING_BYTES = 64 * memory.MIB
# Simulated sessions kept for the pages, all visitors together; the newest stays even when it
# alone is larger (it is the one on screen).
KEPT_SIM_BYTES = 2 * memory.GIB
VIEWER_KEPT_SIM_BYTES = 256 * memory.MIB


def simulation_limit() -> int:
    """The largest simulation estimate a visitor may start in this server."""
    return VIEWER_SIM_BYTES if viewer_mode() else memory.MAX_SIM_BYTES


def check_simulation(config: SimConfig) -> SimConfig:
    """`config` validated and within this server's simulation limit; ValueError naming the
    sizes and the limit otherwise."""
    if viewer_mode():  # the viewer's own ceiling first: it is the one that applies here
        try:
            config.check_memory(VIEWER_SIM_BYTES)
        except TypeError:  # a field of the wrong type: validate() names it
            pass
    config.validate()
    if viewer_mode() and config.n_items > VIEWER_MAX_ITEMS:
        raise ValueError(
            f"n_items = {config.n_items} is out of range on this viewer server: allowed up to "
            f"{VIEWER_MAX_ITEMS:,}"
        )
    return config.check_memory(simulation_limit())


def timing_limit() -> int | None:
    """The memory the Train page's time estimate may use in this server (None: the engine's)."""
    return VIEWER_TIMING_BYTES if viewer_mode() else None


def nbytes(value: Any) -> int:
    """Bytes held by the numpy arrays of a value, its dataclass fields, one level down."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if is_dataclass(value) and not isinstance(value, type):
        return sum(
            int(v.nbytes) if isinstance(v, np.ndarray) else nbytes(v) if is_dataclass(v) else 0
            for v in (getattr(value, f.name) for f in fields(value))
        )
    return 0


class ByteStore:
    """Least-recently-used values under a budget of `nbytes` bytes, safe across threads."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        """The value under `key` (now the most recent), or None."""
        with self.lock:
            if key not in self.items:
                return None
            self.items.move_to_end(key)
            return self.items[key][0]

    def put(self, key: Any, value: Any) -> None:
        """Keep `value`; drop the least recent others until the total fits the budget."""
        with self.lock:
            self.items[key] = (value, nbytes(value))
            self.items.move_to_end(key)
            while len(self.items) > 1 and self.total() > self.budget:
                self.items.popitem(last=False)

    def total(self) -> int:
        """Bytes kept now."""
        return sum(size for _, size in self.items.values())


@st.cache_resource(show_spinner=False)
def _simulations(budget: int) -> ByteStore:
    return ByteStore(budget)


def cached_simulation(config: SimConfig) -> SessionData:
    """Sessions simulated from `config`, kept in the server's byte-bounded store; ValueError
    when the config is over this server's simulation limit."""
    store = _simulations(VIEWER_KEPT_SIM_BYTES if viewer_mode() else KEPT_SIM_BYTES)
    found = store.get(config)
    if found is not None:
        return found
    data = simulate(check_simulation(config))
    store.put(config, data)
    return data
