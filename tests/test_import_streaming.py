"""The streaming import: batches change nothing, a pandas reference agrees, loading maps memory.

`read_log` reads a log batch by batch (pyarrow's streaming CSV reader, Parquet row batches);
here the batches are made tiny so that every log is read in many of them.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from streamrec.data import log_files
from streamrec.data.datasets import load_dataset
from streamrec.data.log_files import KeyTable
from streamrec.data.log_import import ImportConfig, import_log

DAY = 86_400.0


def shared_data() -> Path:
    env = os.environ.get("STREAMREC_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def tiny_batches(monkeypatch):
    """Read every log in batches of a few KiB of CSV or a few hundred Parquet rows."""
    monkeypatch.setattr(log_files, "CSV_BLOCK_BYTES", 4096)
    monkeypatch.setattr(log_files, "PARQUET_BATCH_ROWS", 300)


def synthetic_log(n: int = 6_000, seed: int = 0) -> pd.DataFrame:
    """Unsorted clicks with text session ids, integer item ids, categories, labels and a few
    rows without a time."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "session_id": np.char.add("u", rng.integers(0, 1_500, n).astype(str)),
        "item_id": (rng.zipf(1.4, n) % 300 + 1_000).astype(str),
        "timestamp": rng.uniform(1.4e9, 1.4e9 + 10 * DAY, n).round(3),
        "category": rng.integers(0, 12, n).astype(str),
        "label": np.char.add("name ", rng.integers(0, 80, n).astype(str)),
    })
    frame.loc[rng.choice(n, 25, replace=False), "timestamp"] = np.nan
    return frame


def fingerprint(dataset) -> tuple:
    data = dataset.data
    return (dataset.content_hash, dataset.n_test_sessions, dataset.n_valid_sessions,
            dataset.report, data.times.tolist() if data.times is not None else None,
            data.session_keys.tolist(), None if data.item_labels is None
            else data.item_labels.tolist(),
            None if data.catalog is None else data.catalog.item_category.tolist())


def import_both(tmp_path: Path, monkeypatch, **kw) -> tuple:
    """(fingerprint read in one batch, fingerprint read in tiny batches) of one import."""
    whole = import_log(ImportConfig(name="whole", **kw), root=tmp_path / "a")
    monkeypatch.setattr(log_files, "CSV_BLOCK_BYTES", 4096)
    monkeypatch.setattr(log_files, "PARQUET_BATCH_ROWS", 300)
    batched = import_log(ImportConfig(name="whole", **kw), root=tmp_path / "b")
    monkeypatch.undo()
    return fingerprint(whole), fingerprint(batched)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_tiny_batches_give_the_same_data_set(tmp_path, monkeypatch, suffix):
    path = tmp_path / f"log{suffix}"
    frame = synthetic_log()
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    whole, batched = import_both(tmp_path, monkeypatch, path=str(path), split="time",
                                 test_days=2, valid_days=1)
    assert batched == whole
    assert len(whole[3]) > 5  # the report went through the filters and the splits


def test_tiny_batches_give_the_same_shared_samples(tmp_path, monkeypatch):
    shared = shared_data()
    if not (shared / "yoochoose-100k").is_dir() or not (shared / "diginetica-sample").is_dir():
        pytest.skip(f"the shared click-log samples are not at {shared} "
                    "(set STREAMREC_SHARED_DATA)")
    folder = shared / "yoochoose-100k"
    whole, batched = import_both(
        tmp_path, monkeypatch, path=str(folder / "yoochoose-clicks-100k_train_full.txt"),
        test_path=str(folder / "yoochoose-clicks-100k_test.txt"), split="given")
    assert batched == whole
    whole, batched = import_both(
        tmp_path / "digi", monkeypatch, split="time", test_days=7,
        path=str(shared / "diginetica-sample" / "sample_train-item-views.csv"))
    assert batched == whole


def pandas_reference(frame: pd.DataFrame, test_days: float, min_length: int,
                     min_support: int) -> tuple[dict, dict]:
    """({session: [items]} of the training and the test part) by the literature's steps, in
    plain pandas: order by time, filter until stable, split by the sessions' last click, drop
    test clicks on unseen items and test sessions left shorter than 2."""
    clicks = frame.dropna(subset=["session_id", "item_id", "timestamp"])
    clicks = clicks.sort_values(["session_id", "timestamp"], kind="stable")
    while True:
        lengths = clicks.groupby("session_id")["item_id"].transform("size")
        clicks = clicks[lengths >= min_length]
        support = clicks.groupby("item_id")["session_id"].transform("size")
        kept = clicks[support >= min_support]
        if len(kept) == len(clicks):
            break
        clicks = kept
    last = clicks.groupby("session_id")["timestamp"].transform("max")
    split_at = clicks["timestamp"].max() - test_days * DAY
    train, test = clicks[last <= split_at], clicks[last > split_at]
    test = test[test["item_id"].isin(set(train["item_id"]))]
    test = test[test.groupby("session_id")["item_id"].transform("size") >= 2]

    def sessions(part: pd.DataFrame) -> dict:
        return {key: list(group["item_id"]) for key, group in part.groupby("session_id")}

    return sessions(train), sessions(test)


def test_matches_a_pandas_reference(tmp_path, tiny_batches):
    frame = synthetic_log(seed=3)
    path = tmp_path / "log.tsv"
    frame.to_csv(path, sep="\t", index=False)
    dataset = import_log(ImportConfig(str(path), "ref", split="time", test_days=2,
                                      min_item_support=5), root=tmp_path / "data")
    want_train, want_test = pandas_reference(frame, 2.0, 2, 5)
    data, n_test = dataset.data, dataset.n_test_sessions
    got = [{str(data.session_keys[s]): data.raw_ids(data.session(s)) for s in part}
           for part in (range(data.n_sessions - n_test), dataset.test_sessions)]
    assert got == [want_train, want_test]
    assert len(want_train) > 100 and len(want_test) > 10


def test_key_table_codes_by_first_appearance_across_batches():
    table = KeyTable()
    first = table.encode(pa.array(["30", "10", None, "30", "20"]))
    second = table.encode(pa.array(["20", "40", "10"]))
    assert first.tolist() == [0, 1, -1, 0, 2] and second.tolist() == [2, 3, 1]
    # A non-integer id (or a non-canonical one) switches to text without changing any code.
    third = table.encode(pa.array(["007", "40", "x"]))
    assert third.tolist() == [4, 3, 5]
    assert table.keys().tolist() == ["30", "10", "20", "40", "007", "x"]


def test_loading_memory_maps_the_arrays(tmp_path):
    path = tmp_path / "log.csv"
    synthetic_log().to_csv(path, index=False)
    made = import_log(ImportConfig(str(path), "mapped", split="time", test_days=2),
                      root=tmp_path / "data")
    loaded = load_dataset("mapped", tmp_path / "data")
    for array in (loaded.data.items, loaded.data.offsets, loaded.data.times,
                  loaded.data.item_ids):
        assert isinstance(array.base, np.memmap)
    assert loaded.content_hash == made.content_hash
    np.testing.assert_array_equal(loaded.data.items, made.data.items)


def test_progress_follows_the_batches(tmp_path, tiny_batches):
    path = tmp_path / "log.csv"
    frame = synthetic_log()
    frame.to_csv(path, index=False)
    seen: list[tuple[float, str]] = []
    import_log(ImportConfig(str(path), "progress", split="time", test_days=2),
               root=tmp_path / "data", progress=lambda share, message: seen.append((share, message)))
    reading = [(share, message) for share, message in seen if message.startswith("reading log.csv:")]
    assert len(reading) > 10  # one per batch
    shares = [share for share, _ in reading]
    assert shares == sorted(shares) and 0.02 < shares[0] and shares[-1] <= 0.40
    assert reading[-1][1] == f"reading log.csv: {len(frame):,} rows"
    assert [share for share, _ in seen] == sorted(share for share, _ in seen)
    assert seen[-1] == (1.0, "done")


def test_a_folder_in_the_older_single_file_format_still_loads(tmp_path):
    from streamrec.data import datasets
    from streamrec.data.sessions import to_arrays

    path = tmp_path / "log.csv"
    synthetic_log().to_csv(path, index=False)
    made = import_log(ImportConfig(str(path), "old", split="time", test_days=2),
                      root=tmp_path / "data")
    folder = tmp_path / "data" / "old"
    for file in (folder / datasets.SESSIONS_DIR).iterdir():
        file.unlink()
    (folder / datasets.SESSIONS_DIR).rmdir()
    np.savez(folder / datasets.SESSIONS_FILE, **to_arrays(made.data))
    assert [info.error for info in datasets.list_datasets(tmp_path / "data")] == [None]
    loaded = load_dataset("old", tmp_path / "data")
    assert loaded.content_hash == made.content_hash
    (folder / datasets.SESSIONS_FILE).unlink()
    assert "arrays/ is missing" in datasets.list_datasets(tmp_path / "data")[0].error
