"""Time to quality: how long the default training takes to reach 97% of the Bayes-optimal
oracle's validation Hit@10 on the default simulator (target: within 150 s on 2 cores).

Usage: python benchmarks/bench_time_to_quality.py [--budget 150] [--batch-size N] [--lr X]
"""
from __future__ import annotations

import argparse
import dataclasses

from _common import machine

from streamrec.config import RunConfig, TrainConfig
from streamrec.data.splits import make_split
from streamrec.evaluation.baselines import Oracle, evaluate_scorer
from streamrec.training.loop import train
from streamrec.world.simulator import simulate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=150.0, help="training seconds allowed")
    parser.add_argument("--target", type=float, default=0.97, help="share of the oracle's Hit@10")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--step-size", type=int)
    parser.add_argument("--gamma", type=float)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    given = {"batch_size": args.batch_size, "lr": args.lr, "step_size": args.step_size,
             "gamma": args.gamma}
    overrides = {k: v for k, v in given.items() if v}
    tc = dataclasses.replace(TrainConfig(), epochs=args.epochs, max_seconds=args.budget, **overrides)
    config = RunConfig(train=tc)
    data = simulate(config.sim)
    split = make_split(data, tc)
    oracle, _ = evaluate_scorer(Oracle().fit(data, split.train), data, split.valid, tc.max_len)
    goal = args.target * oracle["hit@10"]
    print(f"machine: {machine()}")
    print(f"batch_size={tc.batch_size} lr={tc.lr} step_size={tc.step_size} gamma={tc.gamma}")
    print(f"oracle validation Hit@10 = {oracle['hit@10']:.4f}; goal {args.target:.0%} = {goal:.4f}")
    print(f"{'epoch':>6} {'train s':>8} {'wall s':>8} {'hit@10':>8} {'/oracle':>8}")
    reached = None
    for event in train(config, data, split):
        if event["event"] == "epoch":
            ratio = event["hit@10"] / oracle["hit@10"]
            print(f"{event['epoch']:>6.2f} {event['train_seconds']:>8.1f} {event['elapsed']:>8.1f} "
                  f"{event['hit@10']:>8.4f} {ratio:>8.3f}", flush=True)
            if reached is None and ratio >= args.target:
                reached = (event["train_seconds"], event["elapsed"])
        elif event["event"] == "end":
            print(f"trained {event['train_seconds']:.1f} s (wall {event['elapsed']:.1f} s with "
                  f"validation), status {event['status']} {event['reason']}")
    if reached is None:
        print(f"RESULT: {args.target:.0%} of the oracle NOT reached within {args.budget:.0f} s of training")
    else:
        print(f"RESULT: {args.target:.0%} of the oracle reached after {reached[0]:.1f} s of "
              f"training ({reached[1]:.1f} s wall clock with validation)")


if __name__ == "__main__":
    main()
