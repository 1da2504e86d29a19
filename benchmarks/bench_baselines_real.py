"""Baselines on the two real click-log samples: HR@10, HR@20, MRR@20, NDCG@20 over all test
targets, with fit + score time.

The samples live outside the repository (`STREAMREC_SHARED_DATA`, default
`<repo>/../shared/data`; see its README). Until the importer lands, this script builds the two
data sets itself with the literature's preprocessing:

- YOOCHOOSE 100k: session-rec's prepared train_full / test split, taken as given (test clicks
  on items unseen in training would be dropped; there are none).
- Diginetica sample: clicks ordered by timeframe within a session, sessions of length 1 and
  items with fewer than 5 clicks dropped until stable, the sessions of the last 7 days
  (by eventdate) are the test set, test clicks on items unseen in training dropped.

Every test click after a session's first is a target, predicted from all earlier clicks
(`max_len` = the longest test session). Baselines fit on every training session.

Usage: python benchmarks/bench_baselines_real.py [--max-targets N]
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _common import machine

from streamrec.baselines import (
    VSKNN,
    GlobalPopularity,
    MarkovChain,
    SequentialRules,
    SessionKNN,
    evaluate_scorer,
)
from streamrec.data import Split, Targets, all_targets
from streamrec.sessions import SessionData

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STREAMREC_SHARED_DATA", ROOT.parent / "shared" / "data"))
EMPTY = Targets(np.zeros(0, np.int64), np.zeros(0, np.int64))


def to_session_data(train: pd.DataFrame, test: pd.DataFrame, name: str) -> tuple[SessionData, Split]:
    """Train then test sessions as one SessionData (items indexed by training), and the split.

    Both frames have SessionId, ItemId, Time and are sorted by session, then time.
    """
    items = np.unique(train.ItemId.to_numpy())
    test = test[test.ItemId.isin(items)]
    test = test[test.groupby("SessionId").ItemId.transform("size") > 1]
    clicks = pd.concat([train, test], ignore_index=True)
    lengths = np.concatenate(
        [train.groupby("SessionId", sort=False).size(), test.groupby("SessionId", sort=False).size()]
    )
    data = SessionData(
        items=np.searchsorted(items, clicks.ItemId.to_numpy()).astype(np.int64),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        item_ids=items.astype(str),
        times=clicks.Time.to_numpy(np.float64),
        session_keys=pd.unique(clicks.SessionId.astype(str)),
        name=name,
    )
    n_train = train.SessionId.nunique()
    split = Split(
        protocol="given",
        train=all_targets(data, np.arange(n_train)),
        valid=EMPTY,
        test=all_targets(data, np.arange(n_train, data.n_sessions)),
    )
    return data, split


def yoochoose() -> tuple[SessionData, Split]:
    """session-rec's rsc15 100k sample with its given split."""
    train, test = (
        pd.read_csv(SHARED / "yoochoose-100k" / f"yoochoose-clicks-100k_{part}.txt", sep="\t")
        .sort_values(["SessionId", "Time"], kind="stable")
        for part in ("train_full", "test")
    )
    return to_session_data(train, test, "yoochoose-100k")


def diginetica(test_days: int = 7, min_support: int = 5) -> tuple[SessionData, Split]:
    """The raw Diginetica sample with the usual preprocessing and a last-7-days time split."""
    raw = pd.read_csv(SHARED / "diginetica-sample" / "sample_train-item-views.csv", sep=";")
    day = pd.to_datetime(raw.eventdate).to_numpy().astype("datetime64[s]").astype(np.int64)
    clicks = pd.DataFrame(
        {"SessionId": raw.session_id, "ItemId": raw.item_id, "Time": day + raw.timeframe / 1000.0}
    ).sort_values(["SessionId", "Time"], kind="stable")
    while True:  # drop short sessions and rare items until neither changes the log
        before = len(clicks)
        clicks = clicks[clicks.groupby("SessionId").ItemId.transform("size") > 1]
        clicks = clicks[clicks.groupby("ItemId").SessionId.transform("size") >= min_support]
        if len(clicks) == before:
            break
    session_day = clicks.groupby("SessionId").Time.transform("min") // 86400 * 86400
    test = session_day > session_day.max() - test_days * 86400
    return to_session_data(clicks[~test], clicks[test], "diginetica-sample")


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
    for build in (yoochoose, diginetica):
        measure(*build(), args.max_targets)


if __name__ == "__main__":
    main()
