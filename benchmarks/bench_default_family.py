"""Which model family should an imported log train by default, before any tune?

Trains every family at its own defaults (its config dataclass and TrainConfig's defaults, the
same for all, with a training-time cap so a slow family is not run for longer) on each shared
sample, imported as the README does, and prints test HR@20 / MRR@20 per family and the family
that wins most often (a win: the best test MRR@20 on a sample; HR@20 breaks a tie in wins).
`streamrec.training.recommended.IMPORTED_DEFAULT_FAMILY` records the answer.

Usage: python benchmarks/bench_default_family.py [--only diginetica-sample] [--cap 90]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import machine, uptime

from streamrec.config import MODEL_CONFIGS, RunConfig, TrainConfig, model_config
from streamrec.data.log_import import ImportConfig, import_log
from streamrec.data.sources import dataset_config, open_data
from streamrec.training.loop import train

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STREAMREC_SHARED_DATA", ROOT.parent / "shared" / "data"))
YC = SHARED / "yoochoose-100k" / "yoochoose-clicks-100k_"
SAMPLES = {
    "yoochoose-100k": ImportConfig(path=f"{YC}train_full.txt", name="yoochoose-100k",
                                   test_path=f"{YC}test.txt", split="given"),
    "diginetica-sample": ImportConfig(
        path=str(SHARED / "diginetica-sample" / "sample_train-item-views.csv"),
        name="diginetica-sample", split="time", test_days=7),
}


def main() -> None:
    """Print one table per sample and the family that wins most often."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=list(SAMPLES))
    parser.add_argument("--cap", type=float, default=90.0, help="training seconds per family")
    args = parser.parse_args()
    print(machine())
    print(uptime())
    wins: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, settings in SAMPLES.items():
            if args.only and name != args.only:
                continue
            if not Path(settings.path).exists():
                print(f"{name}: skipped, {settings.path} is missing")
                continue
            import_log(settings, root)
            scores = {}
            print(f"\n{name}: each family at its defaults, training capped at {args.cap:g} s")
            print("| family | HR@20 | MRR@20 | epochs | training s |\n|---|---:|---:|---:|---:|")
            for family in MODEL_CONFIGS:
                base = RunConfig(model=model_config(family),
                                 train=TrainConfig(max_seconds=args.cap))
                config = dataset_config(base, name, root)
                data, split = open_data(config, root)
                start = time.perf_counter()
                events = list(train(config, data, split))
                end = events[-1]
                epochs = [e for e in events if e["event"] == "epoch"]
                final = end["final"]
                scores[family] = (final["mrr@20"], final["hit@20"])
                print(f"| {family} | {final['hit@20']:.4f} | {final['mrr@20']:.4f} | "
                      f"{epochs[-1]['epoch']:g} | {end['train_seconds']:.0f} "
                      f"({time.perf_counter() - start:.0f} wall) |")
            winner = max(scores, key=lambda f: scores[f])
            wins[winner] += 1
            print(f"winner on {name}: {winner}")
    print(f"\nwins: {dict(wins)}; most often: "
          f"{max(wins, key=lambda f: wins[f]) if wins else 'none'}")
    print(uptime())


if __name__ == "__main__":
    main()
