"""What the LSTM's order options cost per training epoch: the case study's network with and
without `item_skip` and `copy`, session-parallel with the full softmax, side by side in one
process on one torch thread, on a scenario's training targets. Each variant times the same
first `--fraction` of an epoch's batches, round-robin `--rounds` times (the best round counts),
so the ratios hold on a shared machine.

Usage: python benchmarks/bench_lstm_options.py [--scenario ecommerce] [--fraction 0.25] [--rounds 2]
"""
from __future__ import annotations

import argparse
import os
from dataclasses import replace

import numpy as np
import torch
from _common import machine
from bench_order_options import VARIANTS
from bench_training import session_parallel_epoch

from streamrec.config import LSTMConfig, TrainConfig
from streamrec.data.splits import build_rows, make_split
from streamrec.model import build_model
from streamrec.world.scenarios import get_scenario
from streamrec.world.simulator import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="ecommerce")
    parser.add_argument("--fraction", type=float, default=0.25)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start")
    scenario = get_scenario(args.scenario)
    sim = scenario.config()
    tc = replace(TrainConfig(), **scenario.train, max_len=scenario.max_len)
    data = simulate(sim)
    rows = build_rows(data, make_split(data, tc).train, tc.max_len)
    n_targets = int(rows.loss_mask.sum())
    models = {}
    for name, options in VARIANTS.items():
        torch.manual_seed(0)
        model = build_model(LSTMConfig(n_items=sim.n_items, **options)).train()
        models[name] = (model, torch.optim.Adam(model.parameters(), lr=tc.lr))
    best = {name: float("inf") for name in models}
    for _ in range(args.rounds):
        for name, (model, optimizer) in models.items():
            seconds, _ = session_parallel_epoch(model, optimizer, rows, tc.batch_size, args.fraction,
                                                np.random.default_rng(0))
            best[name] = min(best[name], seconds)
    print(f"{args.scenario} ({sim.n_items:,} items, {n_targets:,} training targets, batch "
          f"{tc.batch_size}), one epoch extrapolated from {args.fraction:.0%} of its batches, "
          f"best of {args.rounds}:")
    for name, seconds in best.items():
        print(f"  {name:>9}: {seconds:6.1f} s per epoch, {n_targets / seconds:7,.0f} targets/s, "
              f"{seconds / best['base']:.2f}x the case study's network")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
