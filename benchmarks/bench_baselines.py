"""Baseline speed on the default simulator: fit, then score and rank 10,000 and 100,000
prefixes (drawn from every session) at the default max_len, one torch thread. Wall and CPU
seconds: on a shared machine the CPU time is the closer measure of the work itself.

Usage: python benchmarks/bench_baselines.py [NAME ...]   (only the baselines named)
"""
from __future__ import annotations

import os
import sys
import time

import torch
from _common import machine

from streamrec.config import SimConfig, TrainConfig
from streamrec.data.splits import all_targets, make_split
from streamrec.evaluation.baselines import default_scorers, evaluate_scorer
from streamrec.world.simulator import simulate


def main() -> None:
    torch.set_num_threads(1)
    print(machine(), "|", os.popen("uptime").read().strip())
    config = TrainConfig()
    data = simulate(SimConfig())
    split = make_split(data, config)
    print(f"default simulator: {data.n_sessions:,} sessions, {data.n_items:,} items, "
          f"{len(split.train):,} training targets, max_len {config.max_len}")
    print(f"{'method':<26}{'fit s':>7}{'10k s':>8}{'(cpu)':>7}{'100k s':>8}{'(cpu)':>7}")
    for scorer in default_scorers(data):
        if sys.argv[1:] and scorer.name not in sys.argv[1:]:
            continue
        start = time.perf_counter()
        scorer.fit(data, split.train)
        row = f"{scorer.name:<26}{time.perf_counter() - start:>7.2f}"
        for n in (10_000, 100_000):
            targets = all_targets(data).sample(n, seed=1)
            start, cpu = time.perf_counter(), time.process_time()
            evaluate_scorer(scorer, data, targets, config.max_len)
            row += f"{time.perf_counter() - start:>8.2f}{time.process_time() - cpu:>7.2f}"
        print(row, flush=True)
    print(os.popen("uptime").read().strip())


if __name__ == "__main__":
    main()
