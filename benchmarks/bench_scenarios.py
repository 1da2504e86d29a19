"""Scenario speed: the fast engine with every order mechanism on (20,000 sessions, default
catalog and lengths) and the oracle ranking 100,000 targets of every named scenario.

Wall time is the best of three; CPU time (process) is printed beside it because the shared
machine's load stretches wall time. Targets: `issues show 10` (<= 0.5 s and <= 5 s).

Usage: python benchmarks/bench_scenarios.py
"""
from __future__ import annotations

import os
import time

import numpy as np
import torch
from _common import machine

from streamrec.config import SimConfig
from streamrec.data.splits import all_targets, prefix_matrix, target_items
from streamrec.evaluation.baselines import Oracle
from streamrec.world.scenarios import SCENARIOS
from streamrec.world.simulator import simulate

ALL_ON = SimConfig(anchor_return=0.15, successor_prob=0.3, recall_prob=0.1, repeat_prob=0.15,
                   repeat_decay=0.6)
N_TARGETS = 100_000
BATCH = 2048


def timed(fn, repeat: int = 3) -> tuple[float, float]:
    """(best wall seconds, CPU seconds of that run) over `repeat` calls."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        run = (time.perf_counter() - wall, time.process_time() - cpu)
        best = min(best, run)
    return best


def main() -> None:
    torch.set_num_threads(1)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start")
    wall, cpu = timed(lambda: simulate(ALL_ON))
    data = simulate(ALL_ON)
    print(f"fast engine, every mechanism on, {ALL_ON.n_sessions:,} sessions "
          f"({data.n_clicks:,} clicks): {wall:.3f} s wall, {cpu:.3f} s CPU")
    for name, scenario in SCENARIOS.items():
        config = scenario.config(n_sessions=20_000 if scenario.sim else 10_000)
        data = simulate(config)
        targets = all_targets(data)
        targets = targets.take(np.arange(min(N_TARGETS, len(targets))))
        prefixes = torch.from_numpy(prefix_matrix(data, targets, scenario.max_len))
        items = torch.from_numpy(target_items(data, targets))
        oracle = Oracle().fit(data, None)

        def rank_all(oracle=oracle, prefixes=prefixes, items=items) -> None:
            with torch.inference_mode():
                for start in range(0, len(items), BATCH):
                    oracle.rank(prefixes[start : start + BATCH], items[start : start + BATCH])

        wall, cpu = timed(rank_all)
        print(f"oracle, {name:<10} {len(targets):,} targets (max_len {scenario.max_len}): "
              f"{wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
