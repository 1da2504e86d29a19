"""Catalog scale: time per training step and peak memory, full vs sampled softmax, from a
small catalog up to 1,000,000 synthetic items; and the top-K of one session over the largest
catalog on CPU (target: <= 50 ms).

Each (catalog, objective) runs in a fresh subprocess, so its peak resident memory (ru_maxrss)
is its own. The model is gru4rec at its defaults (GRU 128, output vectors shared with the
input); the recurrent part is tiny, so the output layer is what scales. This measurement
chose SAMPLED_ABOVE in streamrec/config.py: the catalog size above which loss "auto" trains
with sampled softmax.

Usage: python benchmarks/bench_catalog_scale.py [--sizes 5000,20000,50000,100000,1000000]
       [--batch-size 256] [--n-negatives 512]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _common import best_of, machine, uptime

from streamrec.config import RunConfig, SimConfig, TrainConfig, model_config
from streamrec.data.splits import all_targets, batches, build_rows, target_items
from streamrec.model import build_model
from streamrec.recommendation import recommend
from streamrec.training.loop import _row_batch, training_step
from streamrec.training.objectives import make_loss
from streamrec.world.simulator import simulate

STEPS = 3  # timed after 1 warm-up step; the median is reported


def one_case(n_items: int, loss: str, batch_size: int, n_negatives: int) -> dict:
    """Median seconds per training step and peak RSS (MiB) of this process."""
    sim = SimConfig(n_sessions=2_000, n_items=n_items, n_categories=25, seed=0)
    data = simulate(sim)
    tc = TrainConfig(batch_size=batch_size, loss=loss, n_negatives=n_negatives)
    config = RunConfig(sim, model_config("gru4rec", n_items=n_items), tc).validate()
    rows = build_rows(data, all_targets(data), tc.max_len)
    counts = np.bincount(target_items(data, all_targets(data)), minlength=n_items)
    torch.manual_seed(0)
    model = build_model(config.model)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr)
    loss_fn = make_loss(config.loss, tc, counts)
    order = batches(rows, batch_size, np.random.default_rng(0))
    times = []
    for i, index in enumerate(order[: STEPS + 1]):
        batch = _row_batch(rows, index)
        start = time.perf_counter()
        training_step(model, optimizer, loss_fn, batch, tc.clip_norm).item()
        if i >= 1:
            times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"step_s": float(np.median(times)), "peak_mib": peak, "targets": int(batch[2].shape[0])}


def top_k_ms(n_items: int, threads: int = 1) -> dict[str, float]:
    """Best-of-5 milliseconds for the top-10 of one 20-click session, per family, on `threads`;
    and, for scale, of one pass that only reads a float32 (n_items, 128) table (the memory
    traffic any exact full-catalog scoring with 128-wide item vectors needs)."""
    torch.set_num_threads(threads)
    table = torch.randn(n_items, 128)
    out = {"read the item table": 1000 * best_of(table.sum, repeat=5)}
    del table
    items = list(np.random.default_rng(0).integers(0, n_items, 20))
    for family in ("lstm", "sasrec", "gru4rec", "narm"):
        torch.manual_seed(0)
        model = build_model(model_config(family, n_items=n_items)).eval()
        recommend(model, items, 10, 25)
        out[family] = 1000 * best_of(lambda m=model: recommend(m, items, 10, 25), repeat=5)
        del model
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5000,20000,50000,100000,1000000")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--n-negatives", type=int, default=TrainConfig().n_negatives)
    parser.add_argument("--case", nargs=2, metavar=("N_ITEMS", "LOSS"), help=argparse.SUPPRESS)
    parser.add_argument("--top-k", type=int, metavar="N_ITEMS", help=argparse.SUPPRESS)
    parser.add_argument("--threads", default="1,2", help="torch threads for the top-K timing")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(one_case(int(args.case[0]), args.case[1], args.batch_size, args.n_negatives)))
        return
    if args.top_k:
        print(json.dumps(top_k_ms(args.top_k, int(args.threads))))
        return

    def child(*extra: str) -> dict:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--batch-size", str(args.batch_size),
               "--n-negatives", str(args.n_negatives), *extra]
        result = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return json.loads(result.stdout.strip().splitlines()[-1])

    print(f"machine: {machine()}")
    print(f"load: {uptime()}")
    print(f"gru4rec defaults, ~{args.batch_size} targets per step, sampled = in-batch + "
          f"{args.n_negatives} negatives; median of {STEPS} steps; peak RSS of a fresh process")
    print(f"{'items':>10} {'full ms/step':>13} {'sampled ms/step':>16} {'speed-up':>9} "
          f"{'full peak MiB':>14} {'sampled peak MiB':>17}")
    sizes = [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        full, sampled = child("--case", str(n), "full"), child("--case", str(n), "sampled")
        print(f"{n:>10,} {1000 * full['step_s']:>13.1f} {1000 * sampled['step_s']:>16.1f} "
              f"{full['step_s'] / sampled['step_s']:>8.1f}x {full['peak_mib']:>14,.0f} "
              f"{sampled['peak_mib']:>17,.0f}", flush=True)
    largest = max(sizes)
    for threads in args.threads.split(","):
        ms = child("--top-k", str(largest), "--threads", threads)
        print(f"top-10 of one 20-click session over {largest:,} items, CPU, {threads} thread(s) "
              "(best of 5): " + ", ".join(f"{name} {value:.1f} ms" for name, value in ms.items()))
    print(f"load after: {uptime()}")


if __name__ == "__main__":
    main()
