"""Quality per model family at one wall-clock training budget, on every simulator world: the
case study's and each named scenario (streamrec/world/scenarios.py, read with its recommended
max_len), with the best baseline and the Bayes-optimal oracle on the same test sessions.

Every family trains at its defaults (model config, TrainConfig, the family's default
objective) until `--budget` seconds of training (validation excluded) or 100 epochs, one at a
time in this process on one torch thread; the test metrics are those of the checkpoint with the
best validation Hit@10, as `train` reports them. The case study's Chapter 10 question
(transformer vs LSTM with attention) is answered from these tables in the README.

Usage: python benchmarks/bench_families.py [--budget 45] [--worlds casestudy,news] [--families lstm,sasrec]
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import time

import torch
from _common import machine, uptime

from streamrec.config import MODEL_CONFIGS, DataConfig, RunConfig, TrainConfig, model_config
from streamrec.data.sources import open_data
from streamrec.evaluation.baselines import Oracle, evaluate_baselines, evaluate_scorer
from streamrec.training.loop import train
from streamrec.world.scenarios import SCENARIOS

COLUMNS = ("hit@10", "hit@20", "mrr@20", "ndcg@20")


def world_config(name: str, family: str, budget: float) -> RunConfig:
    """The run config of `family` in world `name`: the scenario's sim and max_len, defaults otherwise."""
    scenario = SCENARIOS[name]
    sim = scenario.config()
    tc = dataclasses.replace(TrainConfig(), epochs=100, max_seconds=budget, max_len=scenario.max_len)
    return RunConfig(sim, model_config(family, n_items=sim.n_items), tc, DataConfig())


def run_family(config: RunConfig, data, split, oracle_valid: float) -> dict:
    """Train one family; its params, epochs, training seconds, targets/s, test metrics and the
    training seconds until its validation Hit@10 first reached 95% of the oracle's (`t95`)."""
    out: dict = {"family": config.model.family, "loss": config.loss, "epochs": 0.0, "t95": None}
    for event in train(config, data, split):
        if event["event"] == "start":
            out["params"] = event["n_params"]
            out["targets"] = event["n_train_targets"]
        elif event["event"] == "epoch":
            out["epochs"] = event["epoch"]
            out["valid"] = event["hit@10"]
            if out["t95"] is None and event["hit@10"] >= 0.95 * oracle_valid:
                out["t95"] = event["train_seconds"]
            print(f"  {config.model.family} epoch {event['epoch']:.2f}: train {event['train_seconds']:.0f} s, "
                  f"valid hit@10 {event['hit@10']:.4f} = {event['hit@10'] / oracle_valid:.3f} of the oracle's",
                  flush=True)
        elif event["event"] == "end":
            metrics = {k: v for k, v in event["final"].items() if k in COLUMNS}  # not its test "loss"
            out.update(metrics, seconds=event["train_seconds"], status=event["reason"] or event["status"],
                       best_epoch=event["best_epoch"])
    out["rate"] = out["epochs"] * out["targets"] / out["seconds"] if out["seconds"] else float("nan")
    return out


def print_table(name: str, rows: list[dict], baselines: dict[str, dict[str, float]], n_test: int) -> None:
    """One markdown table: families, then the best baseline and the oracle."""
    oracle = baselines[Oracle.name]["hit@10"]
    best_name = max((k for k in baselines if k != Oracle.name), key=lambda k: baselines[k]["hit@10"])
    se = math.sqrt(oracle * (1 - oracle) / n_test)
    print(f"\n`{name}` (max_len {SCENARIOS[name].max_len}, {n_test:,} test targets; "
          f"standard error of a Hit@10 near the oracle's ≈ {se:.4f})\n")
    print("| family | objective | params | epochs | train s | targets/s | s to 95% (valid) | Hit@10 | Hit@20 "
          "| MRR@20 | NDCG@20 | % of oracle Hit@10 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        metrics = " | ".join(f"{r.get(c, float('nan')):.4f}" for c in COLUMNS)
        t95 = "—" if r["t95"] is None else f"{r['t95']:.0f}"
        print(f"| {r['family']} | {r['loss']} | {r['params']:,} | {r['epochs']:.2f} | {r['seconds']:.0f} "
              f"| {r['rate']:,.0f} | {t95} | {metrics} | {100 * r.get('hit@10', float('nan')) / oracle:.1f} |")
    for label, key in ((f"best baseline: {best_name}", best_name), ("oracle (ceiling)", Oracle.name)):
        metrics = " | ".join(f"{baselines[key][c]:.4f}" for c in COLUMNS)
        print(f"| {label} | — | — | — | — | — | — | {metrics} | {100 * baselines[key]['hit@10'] / oracle:.1f} |")
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=45.0, help="training seconds per family and world")
    parser.add_argument("--worlds", default=",".join(SCENARIOS), help="comma-separated scenario names")
    parser.add_argument("--families", default=",".join(MODEL_CONFIGS), help="comma-separated families")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"machine: {machine()}")
    print(f"load at start: {uptime()}")
    print(f"budget: {args.budget:g} training s per family and world (validation excluded), "
          f"each family's default objective, epochs capped at 100", flush=True)
    started = time.perf_counter()
    for name in args.worlds.split(","):
        data, split = open_data(world_config(name, "lstm", args.budget))
        max_len = SCENARIOS[name].max_len
        t0 = time.perf_counter()
        baselines = evaluate_baselines(data, split, max_len)
        print(f"[{name}] baselines in {time.perf_counter() - t0:.0f} s; {uptime()}", flush=True)
        oracle_valid = evaluate_scorer(Oracle().fit(data, split.train), data, split.valid, max_len)[0]["hit@10"]
        rows = []
        for family in args.families.split(","):
            t0 = time.perf_counter()
            rows.append(run_family(world_config(name, family, args.budget), data, split, oracle_valid))
            r = rows[-1]
            print(f"[{name}] {family}: {r['epochs']:.2f} epochs, best epoch {r['best_epoch']}, "
                  f"valid hit@10 {r.get('valid', float('nan')):.4f}, test hit@10 {r.get('hit@10', float('nan')):.4f}, "
                  f"{time.perf_counter() - t0:.0f} s wall ({r['status']})", flush=True)
        print_table(name, rows, baselines, len(split.report))
        print(f"load after {name}: {uptime()}", flush=True)
    print(f"total wall {time.perf_counter() - started:.0f} s; load at the end: {uptime()}")


if __name__ == "__main__":
    main()
