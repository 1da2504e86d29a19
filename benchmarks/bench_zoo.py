"""Time to quality of every model family and objective, side by side in one process, on the
default simulator and split: training seconds until the TEST Hit@10 reaches 95% and 97% of
the Bayes-optimal oracle's, measured after every epoch (validation and test scoring are not
counted as training time), and each configuration's training throughput.

Usage: python benchmarks/bench_zoo.py [--budget 60] [--only NAME,NAME]
       python benchmarks/bench_zoo.py --try "gru4rec loss=sampled batch_size=128 lr=0.01"
(`--try` runs one ad-hoc configuration: a family, then model or train fields as key=value.)
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from typing import Any

import torch
from _common import machine, uptime

from streamrec.config import MODEL_CONFIGS, RunConfig, TrainConfig, model_config
from streamrec.data.splits import make_split
from streamrec.evaluation.baselines import Oracle, evaluate_scorer
from streamrec.training.loop import evaluate_model, train
from streamrec.world.simulator import simulate

# name -> (family, model fields, train fields): each family at its defaults under each
# objective, plus the fastest configuration found (a "max_seconds" field overrides --budget).
CONFIGS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "lstm (default)": ("lstm", {}, {}),
    "lstm sampled": ("lstm", {}, {"loss": "sampled"}),
    "sasrec full": ("sasrec", {}, {"loss": "full", "max_seconds": 300.0}),
    "sasrec sampled": ("sasrec", {}, {"loss": "sampled"}),
    # lr x0.3 after every epoch: the fastest to 97% found (its first epoch is the default's)
    "gru4rec sampled, step_size 1": ("gru4rec", {}, {"loss": "sampled", "step_size": 1, "max_seconds": 300.0}),
    "gru4rec bpr-max": ("gru4rec", {}, {"loss": "bpr-max"}),
    "gru4rec full": ("gru4rec", {}, {"loss": "full"}),
    "narm full": ("narm", {}, {"loss": "full"}),
}


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_try(spec: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """'family key=value ...' -> (family, model fields, train fields)."""
    family, *pairs = spec.split()
    model_fields = {f.name for f in dataclasses.fields(MODEL_CONFIGS[family])}
    model, train_fields = {}, {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        (model if key in model_fields else train_fields)[key] = _value(value)
    return family, model, train_fields


def run(name: str, spec: tuple[str, dict, dict], data, split, oracle_hit: float, budget: float) -> dict:
    """Train one configuration; print one line per epoch; return its summary."""
    family, model_fields, train_fields = spec
    tc = dataclasses.replace(TrainConfig(), **{"epochs": 100, "max_seconds": budget, **train_fields})
    config = RunConfig(data.config, model_config(family, n_items=data.config.n_items, **model_fields), tc)
    tests: list[float] = []

    def score_test(kind: str, model) -> None:
        if kind == "last":
            metrics, _ = evaluate_model(model, data, split.test, tc.max_len, (10,))
            tests.append(metrics["hit@10"])

    out = {"name": name, "loss": config.loss, "t95": None, "t97": None, "epoch1": None, "best": 0.0}
    for event in train(config, data, split, save=score_test):
        if event["event"] == "start":
            out["params"] = event["n_params"]
            out["targets"] = event["n_train_targets"]
        elif event["event"] == "epoch":
            ratio = tests[-1] / oracle_hit
            out["best"] = max(out["best"], ratio)
            if "rate" not in out:  # training targets per second over the first (part) epoch
                out["rate"] = event["epoch"] * out["targets"] / event["train_seconds"]
            if event["epoch"] == 1:
                out["epoch1"] = (event["epoch_seconds"], ratio)
            for share, key in ((0.95, "t95"), (0.97, "t97")):
                if out[key] is None and ratio >= share:
                    out[key] = event["train_seconds"]
            print(f"  {name:<22} epoch {event['epoch']:>5.2f}  train {event['train_seconds']:>6.1f} s  "
                  f"test hit@10 {tests[-1]:.4f} = {ratio:.3f} of oracle", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=60.0, help="training seconds per configuration")
    parser.add_argument("--only", help="comma-separated names of CONFIGS")
    parser.add_argument("--try", dest="trial", action="append", help="an ad-hoc 'family key=value ...'")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.trial:
        configs = {spec: parse_try(spec) for spec in args.trial}
    else:
        names = args.only.split(",") if args.only else list(CONFIGS)
        configs = {name: CONFIGS[name] for name in names}

    data = simulate(RunConfig().sim)
    split = make_split(data, TrainConfig())
    oracle, _ = evaluate_scorer(Oracle().fit(data, split.train), data, split.test, TrainConfig().max_len)
    print(f"machine: {machine()}")
    print(f"load: {uptime()}")
    print(f"oracle TEST hit@10 = {oracle['hit@10']:.4f} on {len(split.test):,} targets; "
          f"budget {args.budget:.0f} training s per configuration")
    results = []
    for name, spec in configs.items():
        started = time.perf_counter()
        results.append(run(name, spec, data, split, oracle["hit@10"], args.budget))
        results[-1]["wall"] = time.perf_counter() - started

    def secs(x: float | None) -> str:
        return "—" if x is None else f"{x:.1f}"

    print(f"\n{'configuration':<46} {'loss':<8} {'params':>9} {'targets/s':>10} {'epoch s':>8} "
          f"{'ep1 /orc':>8} {'95% s':>7} {'97% s':>7} {'best':>6}")
    for r in results:
        ep_s, ep_ratio = r["epoch1"] or (float("nan"), float("nan"))
        print(f"{r['name']:<46} {r['loss']:<8} {r['params']:>9,} {r.get('rate', float('nan')):>10,.0f} "
              f"{ep_s:>8.1f} {ep_ratio:>8.3f} {secs(r['t95']):>7} {secs(r['t97']):>7} {r['best']:>6.3f}")
    print("targets/s: training targets per second over the first epoch (or the part of it "
          "trained); 95% s / 97% s: training seconds until the test Hit@10, scored after each "
          "epoch, first reached that share of the oracle's")
    print(f"load after: {uptime()}")


if __name__ == "__main__":
    main()
