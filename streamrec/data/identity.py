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

from streamrec.config import RunConfig, SimConfig, to_dict
from streamrec.world import scenarios


def data_key(config: RunConfig) -> str:
    """A short stable key equal for runs trained on the same data: 'sim-3f2a9c1b0d' for a
    simulator config, 'data-<name>-<content hash>' for an imported data set."""
    if not config.data.is_simulated:
        parts = ("data", config.data.dataset, config.data.content_hash[:10])
        return "-".join(p for p in parts if p)
    text = json.dumps(to_dict(config.sim), sort_keys=True)
    return "sim-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def data_label(config: RunConfig) -> str:
    """What data a run was trained on, as a label: its imported data set, its named scenario
    (with its size and seed where they differ from the default), or the simulator settings that
    differ from the default."""
    if not config.data.is_simulated:
        return f"data set {config.data.dataset}"
    default = SimConfig()
    name = scenarios.scenario_of(config.sim)
    shown = ("n_sessions", "seed", "engine") if name else tuple(SimConfig.__dataclass_fields__)
    changed = [
        f"{field} {getattr(config.sim, field)!r}"
        for field in shown
        if getattr(config.sim, field) != getattr(default, field)
    ]
    label = f"scenario {name}" if name else "custom simulator"
    return label + (f" ({', '.join(changed)})" if changed else "")


def group_by_data(configs: Iterable[tuple[str, RunConfig]]) -> dict[str, list[str]]:
    """(run id, config) pairs grouped by `data_key`, groups and runs in first-seen order."""
    groups: dict[str, list[str]] = {}
    for run_id, config in configs:
        groups.setdefault(data_key(config), []).append(run_id)
    return groups
