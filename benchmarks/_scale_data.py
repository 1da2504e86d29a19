"""Synthetic data sets at the scale of issue #16 for `bench_pages.py --scale`: a 30,000,000-click
data set over a 1,000,000-item catalog, and a small one over the same catalog to train a tiny
run on (so the run's model scores a million items without a long training).

Both are written with `streamrec.data.datasets.save_dataset`, the importer's own writer, from
numpy arrays (an import of 30 M clicks is measured by bench_import.py; here only the pages are).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from streamrec.data.datasets import Dataset, content_hash, save_dataset
from streamrec.data.sessions import SessionData

DAY = 86_400.0
FIRST_ID = 214_500_000  # raw item ids look like YOOCHOOSE's


def catalog(n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """(raw item ids, labels) of an n_items catalog: '214500000'…, 'Product 0'…"""
    index = np.arange(n_items)
    return (index + FIRST_ID).astype(str), np.char.add("Product ", index.astype(str))


def write_dataset(root: Path, name: str, n_clicks: int, n_items: int, n_test: int | None = None,
                  n_valid: int = 0, cover: bool = True, seed: int = 0) -> Dataset:
    """A data set of about `n_clicks` clicks in sessions of 2+ clicks over 30 days, items half
    uniform (every item clicked when `cover`) and half Zipf; the sessions of the last day are
    the test set unless `n_test` says how many."""
    rng = np.random.default_rng(seed)
    lengths = 1 + rng.geometric(1 / 3, size=n_clicks // 3)  # mean 4 clicks
    lengths = lengths[np.cumsum(lengths) <= n_clicks]
    n_sessions, total = lengths.shape[0], int(lengths.sum())
    items = rng.zipf(1.3, size=total) % n_items
    if cover:  # half the clicks uniform: every item of a large log is clicked
        uniform = rng.random(total) < 0.5
        items[uniform] = rng.integers(0, n_items, int(uniform.sum()))
    starts = np.sort(rng.uniform(1.396e9, 1.396e9 + 30 * DAY, size=n_sessions))
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    within = np.arange(total) - np.repeat(offsets[:-1], lengths)
    times = np.repeat(starts, lengths) + 60.0 * within
    if n_test is None:
        n_test = int((starts > starts[-1] - DAY).sum())
    raw_ids, labels = catalog(n_items)
    data = SessionData(
        items=items.astype(np.int64), offsets=offsets, item_ids=raw_ids, item_labels=labels,
        times=times, session_keys=np.arange(n_sessions).astype(str), name=name,
    )
    counts = {"sessions": n_sessions, "clicks": total, "items": int(np.unique(items).size)}
    report = [{"step": "synthetic clicks (benchmarks/_scale_data.py)", "part": "all",
               **{f"{k}_before": 0 for k in counts}, **counts}]
    dataset = Dataset(
        name=name, data=data, n_test_sessions=n_test, content_hash=content_hash(data, n_test),
        settings={"path": "synthetic", "split": "time"}, report=report, n_valid_sessions=n_valid,
    )
    save_dataset(dataset, root)
    return dataset
