"""Where the time of a training step goes on 1 and 2 processes: the default world's first 150
batches of an epoch (the first 20 not timed), one thread per process, side by side.

Each line runs `loop.training_step` on the default model and prints ms per step and training
targets per second:

- 1 process, batch 512 and 1024 (the 2 processes' step);
- 2 processes under torchrun, batch 512 per process (a step of 1024 targets, rows split by
  length) with DDP's defaults (what `train` did before it set `static_graph`), and the same
  without the gradient all-reduce (DDP's `no_sync`: not a valid training step, the ceiling the
  all-reduce leaves);
- 2 processes splitting one 512-target batch (what `train` did before this stop);
- 2 processes with DDP's `gradient_as_bucket_view` (gradients live in the all-reduce buckets:
  no copy in and out), with `static_graph` (what `train` does now), with the loop's stop check (one small
  all-reduce) every 16 steps instead of every step, and with `static_graph` and each rank
  pinned to a core of its own (`train` does not pin: docs/speed.md).

The lines are noisy on a shared machine (the same line has ranged over 30% between runs):
compare variants in alternating repeated runs (`python benchmarks/bench_ddp_step.py VARIANT 512`
under torchrun) before trusting a few percent.

Usage: python benchmarks/bench_ddp_step.py   (it runs its 2-process lines under torchrun itself)
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import machine, uptime

ROOT = Path(__file__).resolve().parents[1]
STEPS, WARM_UP = 150, 20


def one_line(variant: str, per_process: int) -> None:
    """Time the steps of `variant` in this process (under torchrun: every rank; rank 0 prints)."""
    import numpy as np
    import torch
    from torch.nn.parallel import DistributedDataParallel

    from streamrec.config import RunConfig
    from streamrec.data.sources import open_data
    from streamrec.data.splits import batches, build_rows, target_items
    from streamrec.model import build_model
    from streamrec.training import distributed
    from streamrec.training.loop import Objective, _row_batch, training_step
    from streamrec.training.objectives import make_loss

    torch.set_num_threads(1)
    config = RunConfig()
    data, split = open_data(config)
    rows = build_rows(data, split.train, config.train.max_len)
    ranks = distributed.from_env()
    if ranks is not None:
        if variant == "pinned":  # each rank on a core of its own (its later threads with it)
            os.sched_setaffinity(0, {ranks.local_rank % (os.cpu_count() or 1)})
        distributed.setup(ranks, torch.device("cpu"))
    torch.manual_seed(0)
    model = build_model(config.model)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.lr)
    counts = np.bincount(target_items(data, split.train), minlength=config.model.n_items)
    loss_fn = make_loss(config.loss, config.train, counts, torch.device("cpu"))
    options = {"bucket view": {"gradient_as_bucket_view": True},
               "static graph (train)": {"static_graph": True},
               "pinned": {"static_graph": True}}.get(variant, {})
    ddp = (DistributedDataParallel(Objective(model, loss_fn), forward_sync_buffers=False, **options)
           if ranks is not None else None)
    size = per_process * (1 if ranks is None or variant == "split one batch" else ranks.world_size)
    steps = batches(rows, size, np.random.default_rng(0))[:STEPS]
    start, targets = time.perf_counter(), 0
    for s, index in enumerate(steps):
        if s == WARM_UP:
            start, targets = time.perf_counter(), 0
        weight = 1.0
        if ranks is not None:
            if variant != "stop check every 16 steps" or s % 16 == 0:
                distributed.max_over_ranks(0, torch.device("cpu"))  # the loop's stop check
            mine = distributed.shard(index, ranks)
            weight = distributed.step_weight(int(rows.loss_mask[mine].sum()),
                                             int(rows.loss_mask[index].sum()), ranks.world_size)
            index = mine
        targets += int(rows.loss_mask[index].sum())
        sync = ddp.no_sync() if ddp is not None and variant == "no all-reduce" else contextlib.nullcontext()
        with sync:
            training_step(model, optimizer, loss_fn, _row_batch(rows, index), config.train.clip_norm,
                          ddp=ddp, weight=weight, ranks=ranks)
    seconds = time.perf_counter() - start
    world = 1 if ranks is None else ranks.world_size
    if ranks is None or ranks.is_main:
        print(f"{world} process{'es' if world > 1 else ''}, {variant:<34} "
              f"{1000 * seconds / (len(steps) - WARM_UP):6.1f} ms/step "
              f"{targets * world / seconds:>9,.0f} targets/s", flush=True)
    if ranks is not None:
        distributed.teardown()


def main() -> None:
    if len(sys.argv) == 3:  # a child: one line
        one_line(sys.argv[1], int(sys.argv[2]))
        return
    print(f"{machine()}\nload before: {uptime()}", flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    for launcher, variant, size in (
        ([sys.executable], "batch 512", 512),
        ([sys.executable], "batch 1024", 1024),
        (torchrun, "batch 512 per process, no static graph", 512),
        (torchrun, "no all-reduce", 512),
        (torchrun, "bucket view", 512),
        (torchrun, "static graph (train)", 512),
        (torchrun, "stop check every 16 steps", 512),
        (torchrun, "pinned", 512),
        (torchrun, "split one batch", 512),
    ):
        subprocess.run([*launcher, __file__, variant, str(size)], env=env, cwd=ROOT, check=True)
    print(f"load after: {uptime()}")


if __name__ == "__main__":
    main()
