"""Evaluation throughput on >= 100,000 targets of the default simulator, default model:

- ranking only: full-catalog ranks and metrics from precomputed logits (vectorised);
- the case study's loop: the same from the same logits, one Python iteration per target
  (timed on a slice and scaled);
- end to end: `evaluate_model` (session-parallel forward + ranking + loss).

Usage: python benchmarks/bench_eval.py
"""
from __future__ import annotations

import time

import numpy as np
import torch
from _common import best_of, machine

from streamrec.config import LSTMConfig, SimConfig
from streamrec.data.splits import Targets, all_targets, target_items
from streamrec.evaluation.metrics import metrics_from_ranks, target_ranks
from streamrec.model import LSTMRecommender
from streamrec.training.loop import evaluate_model
from streamrec.world.simulator import simulate

N_TARGETS = 100_000
CHUNK = 4096


def case_study_loop(logits: torch.Tensor, targets: torch.Tensor) -> float:
    _, top_20 = logits.topk(20, dim=1)
    hits, rr = 0, []
    for j in range(targets.shape[0]):
        top = top_20[j].tolist()
        t = targets[j].item()
        if t in top:
            hits += t in top[:10]
            rr.append(1.0 / (top.index(t) + 1))
        else:
            rr.append(0.0)
    return float(np.mean(rr))


def main() -> None:
    data = simulate(SimConfig())
    targets = all_targets(data)
    targets = Targets(targets.session[:N_TARGETS], targets.position[:N_TARGETS])
    items = torch.from_numpy(target_items(data, targets))
    torch.manual_seed(0)
    model = LSTMRecommender(LSTMConfig()).eval()
    print(f"machine: {machine()}")
    print(f"{len(targets):,} targets over a 5,000-item catalog")

    chunks = [torch.randn(CHUNK, 5000) for _ in range(3)]

    def rank_all() -> None:
        ranks = [target_ranks(chunks[i % 3], items[s : s + CHUNK]) for i, s in
                 enumerate(range(0, len(items) - CHUNK + 1, CHUNK))]
        metrics_from_ranks(torch.cat(ranks).numpy())

    full = (len(items) // CHUNK) * CHUNK
    ranking = best_of(rank_all) * len(items) / full
    loop_slice = best_of(lambda: case_study_loop(chunks[0], items[:CHUNK]), repeat=1) * len(items) / CHUNK
    evaluate_model(model, data, targets.take(np.arange(2000)), max_len=25)  # warm-up
    start = time.perf_counter()
    evaluate_model(model, data, targets, max_len=25)
    end_to_end = time.perf_counter() - start
    print(f"{'ranking only':>28}: {ranking:6.2f} s ({len(items) / ranking:,.0f} targets/s)")
    print(f"{'case study per-target loop':>28}: {loop_slice:6.2f} s (ranking only, top-20 given)")
    print(f"{'end to end (evaluate_model)':>28}: {end_to_end:6.2f} s ({len(items) / end_to_end:,.0f} targets/s)")


if __name__ == "__main__":
    main()
