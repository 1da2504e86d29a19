"""One training epoch two ways, side by side in one process, same model, same data:

- per-prefix: the case study's approach, written here: every prefix a left-padded
  max_len example, batches of `batch_size` examples, one forward per example;
- session-parallel: the trainer's rows (whole sessions, causal attention pooling), batches
  of about `batch_size` target clicks, so both see the same targets and number of updates.

Usage: python benchmarks/bench_training.py [--batch-size 256] [--fraction 1.0]
(`--fraction` times only the first part of each epoch and scales up, for a quick look.)
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import machine
from torch import nn

from streamrec.config import LSTMConfig, SimConfig, TrainConfig
from streamrec.data.splits import batches, build_rows, make_split, prefix_matrix, target_items
from streamrec.model import LSTMRecommender
from streamrec.training.loop import _row_batch
from streamrec.world.simulator import simulate


def per_prefix_epoch(model, optimizer, prefixes, targets, batch_size, fraction, rng) -> tuple[float, int]:
    order = rng.permutation(len(targets))
    n_batches = int(np.ceil(len(order) / batch_size))
    limit = max(1, int(n_batches * fraction))
    start = time.perf_counter()
    for b in range(limit):
        index = order[b * batch_size : (b + 1) * batch_size]
        optimizer.zero_grad()
        logits, _ = model(prefixes[index])
        loss = nn.functional.cross_entropy(logits, targets[index])
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
    return (time.perf_counter() - start) * n_batches / limit, n_batches


def session_parallel_epoch(model, optimizer, rows, batch_size, fraction, rng) -> tuple[float, int]:
    parts = batches(rows, batch_size, rng)
    limit = max(1, int(len(parts) * fraction))
    start = time.perf_counter()
    for index in parts[:limit]:
        tokens, mask, target = _row_batch(rows, index)
        optimizer.zero_grad()
        contexts, _ = model.forward_rows(tokens)
        loss = nn.functional.cross_entropy(model.logits(contexts[mask]), target)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
    return (time.perf_counter() - start) * len(parts) / limit, len(parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--fraction", type=float, default=1.0)
    args = parser.parse_args()
    tc = TrainConfig()
    data = simulate(SimConfig())
    split = make_split(data, tc)
    prefixes = torch.from_numpy(prefix_matrix(data, split.train, tc.max_len))
    targets = torch.from_numpy(target_items(data, split.train))
    rows = build_rows(data, split.train, tc.max_len)
    print(f"machine: {machine()}")
    print(f"default simulator, session split: {len(targets):,} training targets; "
          f"per-prefix {prefixes.numel():,} tokens vs {rows.lengths.sum():,} in {len(rows):,} rows")
    results = {}
    for name in ("per-prefix", "session-parallel"):
        torch.manual_seed(0)
        model = LSTMRecommender(LSTMConfig()).train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        rng = np.random.default_rng(0)
        if name == "per-prefix":
            seconds, n = per_prefix_epoch(model, optimizer, prefixes, targets, args.batch_size, args.fraction, rng)
        else:
            seconds, n = session_parallel_epoch(model, optimizer, rows, args.batch_size, args.fraction, rng)
        results[name] = seconds
        print(f"{name:>17}: {seconds:7.1f} s per epoch ({n} batches, "
              f"{len(targets) / seconds:,.0f} targets/s)", flush=True)
    print(f"speed-up: {results['per-prefix'] / results['session-parallel']:.1f}x "
          f"(batch {args.batch_size}, fraction {args.fraction})")


if __name__ == "__main__":
    main()
