"""What the LSTM's two order options buy, per cause of the click: test Hit@10 of the case
study's network with and without `item_skip` and `copy`, beside the oracle, the first-order
Markov chain and V-SKNN, split by the mechanism that produced each held-out click.

Every variant trains with the scenario's recommended training settings (a learning-rate step
every 4 epochs, its max_len) for the same number of epochs, one at a time in this process on
one torch thread; each row is the best validation epoch's checkpoint on the same test targets.

Usage: python benchmarks/bench_order_options.py --scenario ecommerce [--epochs 8]
       [--variants base,skip,copy,skip+copy] [--n-items N]
"""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

import numpy as np
import torch
from _common import machine

from streamrec.config import LSTMConfig, RunConfig, TrainConfig
from streamrec.data.sessions import CAUSES
from streamrec.data.sources import open_data
from streamrec.evaluation.baselines import MarkovChain, Oracle, evaluate_scorer
from streamrec.evaluation.knn import VSKNN
from streamrec.training.loop import evaluate_model, train
from streamrec.world.scenarios import get_scenario

VARIANTS = {
    "base": {"item_skip": False, "copy": False},
    "skip": {"item_skip": True, "copy": False},
    "copy": {"item_skip": False, "copy": True},
    "skip+copy": {"item_skip": True, "copy": True},
    "skip+copy+trans2": {"item_skip": True, "copy": True, "transitions": 2},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="ecommerce")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--n-items", type=int, default=0, help="catalog size (default: the scenario's)")
    parser.add_argument("--dropout", type=float, default=LSTMConfig.dropout)
    parser.add_argument("--lr", type=float, default=0.0, help="learning rate (default: the scenario's)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start")
    scenario = get_scenario(args.scenario)
    sim = scenario.config(**({"n_items": args.n_items} if args.n_items else {}))
    base = RunConfig(
        sim=sim,
        model=LSTMConfig(n_items=sim.n_items, dropout=args.dropout),
        train=replace(TrainConfig(), **{**scenario.train, **({"lr": args.lr} if args.lr else {})},
                      max_len=scenario.max_len, epochs=args.epochs),
    )
    data, split = open_data(base)
    report = split.report
    causes = np.asarray(data.cause)[data.offsets[report.session] + report.position]
    ranks: dict[str, np.ndarray] = {}
    for name in args.variants.split(","):
        config = replace(base, model=replace(base.model, **VARIANTS[name]))
        started = time.perf_counter()
        end: dict = {}
        holder: dict[str, torch.nn.Module] = {}

        def keep(kind: str, model: torch.nn.Module, holder=holder) -> None:
            holder["model"] = model  # train() leaves the best checkpoint loaded at the end

        for event in train(config, data, split, save=keep):
            if event["event"] == "end":
                end = event
        _, ranks[f"LSTM {name}"] = evaluate_model(holder["model"], data, report, config.train.max_len)
        print(f"LSTM {name}: best epoch {end.get('best_epoch')}, "
              f"{end.get('train_seconds', float('nan')):.0f} s of training "
              f"({time.perf_counter() - started:.0f} s wall)", flush=True)
    for scorer in (MarkovChain(), VSKNN(), Oracle()):
        _, ranks[scorer.name] = evaluate_scorer(scorer.fit(data, split.train), data, report,
                                                base.train.max_len)
    names = list(ranks)
    print(f"\n{args.scenario} ({sim.n_items:,} items), test Hit@10 by the cause of the click, "
          f"{args.epochs} epochs, dropout {args.dropout}:")
    print("| cause | targets | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    rows = [(cause, causes == c) for c, cause in enumerate(CAUSES)] + [("all", np.ones_like(causes, bool))]
    for cause, chosen in rows:
        if chosen.any():
            cells = " | ".join(f"{(ranks[n][chosen] <= 10).mean():.4f}" for n in names)
            print(f"| {cause} | {int(chosen.sum()):,} | {cells} |")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
