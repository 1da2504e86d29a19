"""Baselines on the two real click-log samples: HR@10, HR@20, MRR@20, NDCG@20 over all test
targets, with fit + score time.

The samples live outside the repository (`STREAMREC_SHARED_DATA`, default
`<repo>/../shared/data`; see its README). Both are imported into a temporary data root with the
same settings as the README's commands (`python -m streamrec import ...`): YOOCHOOSE 100k with
its given split, the Diginetica sample with the last 7 days as the test set.

Every test click after a session's first is a target, predicted from all earlier clicks of its
session (`max_len` = the longest test session). The baselines fit on every non-test session,
as session-rec fits on `train_full`.

Usage: python benchmarks/bench_baselines_real.py [--max-targets N]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import machine

from streamrec.data.log_import import ImportConfig, import_log
from streamrec.data.sessions import SessionData
from streamrec.data.splits import Split, Targets, all_targets
from streamrec.evaluation.baselines import (
    VSKNN,
    GlobalPopularity,
    MarkovChain,
    SequentialRules,
    SessionKNN,
    evaluate_scorer,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STREAMREC_SHARED_DATA", ROOT.parent / "shared" / "data"))
EMPTY = Targets(np.zeros(0, np.int64), np.zeros(0, np.int64))


def samples() -> list[ImportConfig]:
    """The two shared samples, imported as the README says."""
    yoochoose = SHARED / "yoochoose-100k" / "yoochoose-clicks-100k_"
    return [
        ImportConfig(path=f"{yoochoose}train_full.txt", test_path=f"{yoochoose}test.txt",
                     name="yoochoose-100k", split="given"),
        ImportConfig(path=str(SHARED / "diginetica-sample" / "sample_train-item-views.csv"),
                     name="diginetica-sample", split="time", test_days=7),
    ]


def imported(config: ImportConfig, root: Path) -> tuple[SessionData, Split]:
    """The data set and a split: every non-test session trains, the test sessions report."""
    dataset = import_log(config, root)
    test = dataset.test_sessions
    train = np.setdiff1d(np.arange(dataset.data.n_sessions), test)
    data = dataset.data
    return data, Split("given", all_targets(data, train), EMPTY, all_targets(data, test))


def measure(data: SessionData, split: Split, max_targets: int) -> None:
    """One table row per baseline."""
    targets = split.test.sample(max_targets, 0)
    max_len = int(data.lengths[split.test.session].max())
    print(f"\n{data.name}: {data.n_sessions:,} sessions ({len(np.unique(split.train.session)):,} "
          f"train), {data.n_items:,} items, {len(split.train):,} train / {len(targets):,} test "
          f"targets, max_len {max_len}")
    print(f"{'method':<18}{'HR@10':>8}{'HR@20':>8}{'MRR@20':>8}{'NDCG@20':>9}{'fit s':>8}{'score s':>9}")
    for scorer in (GlobalPopularity(), MarkovChain(), SequentialRules(), SessionKNN(), VSKNN()):
        start = time.perf_counter()
        scorer.fit(data, split.train)
        fitted = time.perf_counter()
        metrics, _ = evaluate_scorer(scorer, data, targets, max_len, cutoffs=(10, 20))
        done = time.perf_counter()
        print(f"{scorer.name:<18}{metrics['hit@10']:>8.4f}{metrics['hit@20']:>8.4f}"
              f"{metrics['mrr@20']:>8.4f}{metrics['ndcg@20']:>9.4f}{fitted - start:>8.2f}"
              f"{done - fitted:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-targets", type=int, default=1_000_000, help="sample the test targets")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not SHARED.is_dir():
        raise SystemExit(f"no shared data at {SHARED}: set STREAMREC_SHARED_DATA")
    print(machine(), "|", os.popen("uptime").read().strip())
    with tempfile.TemporaryDirectory() as root:
        for config in samples():
            measure(*imported(config, Path(root)), args.max_targets)


if __name__ == "__main__":
    main()
