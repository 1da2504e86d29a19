"""How far a weighted hybrid of a trained run and a baseline gets towards the oracle: the
run's next-click probabilities mixed with a baseline's scores (shifted to start at 0 and
normalised per prefix), (1 - w) P_model + w S_baseline, as session-rec's weighted hybrid
mixes its members (Ludewig et al., 2021, found such hybrids of neural and kNN methods among
the strongest). The weight is chosen on the run's validation targets, then the same weight is
scored on its test targets, beside the run alone, the baseline alone and the oracle.

The baselines are fitted on the run's training sessions, as the run was; everything runs in
this process on one torch thread.

Usage: python benchmarks/bench_hybrid.py --run models/demo-streaming [--baselines vsknn,markov]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from _common import machine

from streamrec.data.splits import Targets, prefix_matrix, target_items
from streamrec.evaluation.baselines import MarkovChain, Scorer
from streamrec.evaluation.knn import VSKNN, VSTAN
from streamrec.training import runs

BASELINES = {"vsknn": VSKNN, "vstan": VSTAN, "markov": MarkovChain}
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
BATCH = 1024


def hits_at_10(model: torch.nn.Module, scorer: Scorer, data, targets: Targets, max_len: int) -> np.ndarray:
    """(len(WEIGHTS) + 1,) Hit@10 of the hybrid at each weight, then of the baseline alone."""
    hits = np.zeros(len(WEIGHTS) + 1)
    whole = getattr(scorer, "whole_prefix", False)
    for start in range(0, len(targets), BATCH):
        part = targets.take(np.arange(start, min(start + BATCH, len(targets))))
        items = torch.from_numpy(target_items(data, part))
        with torch.no_grad():
            logits, _ = model(torch.from_numpy(prefix_matrix(data, part, max_len)))
            probs = torch.softmax(logits.float(), dim=-1).double()
            width = max(1, int(part.position.max())) if whole else max_len
            scores = scorer.score(torch.from_numpy(prefix_matrix(data, part, width))).double()
        scores = scores - scores.min(1, keepdim=True).values
        scores = scores / scores.sum(1, keepdim=True).clamp(min=1e-300)
        rows = torch.arange(len(items))
        for i, weight in enumerate([*WEIGHTS, 1.0]):
            mixed = (1 - weight) * probs + weight * scores
            rank = (mixed > mixed[rows, items].unsqueeze(1)).sum(1) + 1
            hits[i] += float((rank <= 10).sum())
    return hits / max(len(targets), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--baselines", default="vsknn,markov")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"machine: {machine()}")
    model, config = runs.load_model(args.run)
    data, split = runs.load_data(args.run, config)
    max_len = config.train.max_len
    report = split.test if len(split.test) else split.valid
    oracle = None
    if config.data.is_simulated:
        from streamrec.evaluation.baselines import Oracle, evaluate_scorer
        oracle = evaluate_scorer(Oracle().fit(data, split.train), data, report, max_len)[0]["hit@10"]
    print(f"{args.run.name}: test Hit@10 (weight chosen on the {len(split.valid):,} validation targets; "
          f"{len(report):,} test targets)" + (f"; oracle {oracle:.4f}" if oracle else ""))
    print("| baseline | run alone | baseline alone | weight | hybrid | hybrid, % of the oracle |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.baselines.split(","):
        scorer = BASELINES[name]().fit(data, split.train)
        valid = hits_at_10(model, scorer, data, split.valid, max_len)
        best = int(np.argmax(valid[: len(WEIGHTS)]))
        test = hits_at_10(model, scorer, data, report, max_len)
        share = f"{100 * test[best] / oracle:.1f}%" if oracle else "—"
        print(f"| {scorer.name} | {test[0]:.4f} | {test[-1]:.4f} | {WEIGHTS[best]:.1f} | {test[best]:.4f} | {share} |",
              flush=True)


if __name__ == "__main__":
    main()
