"""Which data set a run was trained on, as one comparable key.

Curves and scores of runs trained on different sessions or catalogs are not comparable, and an
item id means a different item in another catalog. A simulated run's data is the simulator
config that generated it (seeded, so equal configs give equal sessions); an imported run's is
the data set named in `config.data`, with the hash of its clicks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from streamrec.config import RunConfig, to_dict


def data_key(config: RunConfig) -> str:
    """A short stable key equal for runs trained on the same data: 'sim-3f2a9c1b0d' for a
    simulator config, 'data-<name>-<content hash>' for an imported data set."""
    if not config.data.is_simulated:
        parts = ("data", config.data.dataset, config.data.content_hash[:10])
        return "-".join(p for p in parts if p)
    text = json.dumps(to_dict(config.sim), sort_keys=True)
    return "sim-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def data_label(config: RunConfig) -> str:
    """The data set in a few words, e.g. 'simulated: 20,000 sessions, 5,000 items, seed 42'."""
    if not config.data.is_simulated:
        return f"imported data set {config.data.dataset}"
    sim = config.sim
    return (
        f"simulated: {sim.n_sessions:,} sessions, {sim.n_items:,} items in "
        f"{sim.n_categories} categories, seed {sim.seed} ({sim.engine})"
    )


def group_by_data(configs: Iterable[tuple[str, RunConfig]]) -> dict[str, list[str]]:
    """(run id, config) pairs grouped by `data_key`, groups and runs in first-seen order."""
    groups: dict[str, list[str]] = {}
    for run_id, config in configs:
        groups.setdefault(data_key(config), []).append(run_id)
    return groups
