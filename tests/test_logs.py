"""Importing click logs: reading, column recognition, time formats, preprocessing counts, errors.

The small logs are written by the tests; their expected counts are worked out by hand in
`CLICKS`' comment.
"""
from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from streamrec.data import log_files as logfiles
from streamrec.data.datasets import list_datasets, load_dataset
from streamrec.data.log_files import TimeColumn, preview_log
from streamrec.data.log_import import ImportConfig, import_log

BASE = 1_400_000_000  # Unix seconds, 2014-05-13
DAY = 86_400
# (session, item, seconds after BASE), in file order. By hand, with min_item_support 2:
# s3 has one click (dropped); D has one click (dropped), which leaves s4 one click (dropped in
# the second pass). The time split (1 day) puts s5, s6, s7 in the test set; E never occurs in
# training, so s6 and s7 fall to one click and are dropped: s5 is the only test session.
# Training sessions by first click: s2 (t=50) then s1 (t=100), so the item map is A, C, B.
CLICKS = [
    ("s1", "A", 100), ("s1", "B", 200), ("s1", "A", 150),
    ("s2", "A", 50), ("s2", "C", 60),
    ("s3", "B", 10),
    ("s4", "D", 300), ("s4", "B", 310),
    ("s5", "A", 2 * DAY), ("s5", "B", 2 * DAY + 10), ("s5", "C", 2 * DAY + 20),
    ("s6", "E", 2 * DAY + 30), ("s6", "A", 2 * DAY + 40),
    ("s7", "E", 2 * DAY + 50), ("s7", "B", 2 * DAY + 60),
]
EXPECTED_ITEMS = [0, 1, 0, 0, 2, 0, 2, 1]  # s2: A C | s1: A A B | s5: A B C
EXPECTED_OFFSETS = [0, 2, 5, 8]


def frame(columns=("SessionId", "ItemId", "Time"), time=lambda s: BASE + s) -> pd.DataFrame:
    """CLICKS as a table with these column names and time encoding."""
    return pd.DataFrame({
        columns[0]: [c[0] for c in CLICKS],
        columns[1]: [c[1] for c in CLICKS],
        columns[2]: [time(c[2]) for c in CLICKS],
    })


def write(df: pd.DataFrame, path: Path, sep: str = ",") -> Path:
    if path.suffix == ".parquet":
        df.to_parquet(path)
    else:
        df.to_csv(path, sep=sep, index=False)
    return path


def config(path: Path, name: str = "tiny", **kw) -> ImportConfig:
    kw.setdefault("min_item_support", 2)
    return ImportConfig(path=str(path), name=name, **kw)


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(BASE + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.mark.parametrize(
    ("columns", "sep", "suffix", "time"),
    [
        (("SessionId", "ItemId", "Time"), "\t", ".txt", lambda s: BASE + s),
        (("session_id", "item_id", "timestamp"), ";", ".csv", lambda s: (BASE + s) * 1000),
        (("sessionId", "itemId", "ts"), ",", ".csv", iso),
        (("session", "item", "time"), "|", ".log", lambda s: float(BASE + s)),
        (("SessionId", "ItemId", "Time"), "", ".parquet", lambda s: BASE + s),
    ],
    ids=["tsv-seconds", "semicolon-ms", "comma-iso", "pipe-float", "parquet"],
)
def test_time_split_counts_and_item_map(tmp_path, columns, sep, suffix, time):
    path = write(frame(columns, time), tmp_path / f"log{suffix}", sep)
    dataset = import_log(config(path, split="time", test_days=1), root=tmp_path / "data")
    data = dataset.data
    assert data.items.tolist() == EXPECTED_ITEMS
    assert data.offsets.tolist() == EXPECTED_OFFSETS
    assert data.item_ids.tolist() == ["A", "C", "B"]
    assert data.session_keys.tolist() == ["s2", "s1", "s5"]
    assert dataset.n_test_sessions == 1
    np.testing.assert_allclose(data.times[:2], [BASE + 50, BASE + 60])
    assert dataset.settings["columns"] == dict(zip(("session", "item", "time"), columns))
    steps = [(s["step"].split(" (")[0], s["part"], s["sessions"], s["clicks"], s["items"])
             for s in dataset.report]
    assert steps == [
        (f"read {path.name}", "all", 7, 15, 5),
        ("drop sessions shorter than 2 clicks", "all", 6, 14, 5),
        ("drop items with fewer than 2 clicks", "all", 6, 13, 4),
        ("drop sessions shorter than 2 clicks", "all", 5, 12, 4),
        ("split: sessions of the last 1 days are the test set", "train", 2, 5, 3),
        ("split: sessions of the last 1 days are the test set", "test", 3, 7, 4),
        ("drop test clicks on items unseen in training", "test", 3, 5, 3),
        ("drop test sessions shorter than 2 clicks", "test", 1, 3, 3),
    ]
    assert dataset.report[2]["clicks_before"] == 14
    reloaded = load_dataset("tiny", tmp_path / "data")
    assert reloaded.content_hash == dataset.content_hash
    assert reloaded.data.item_ids.tolist() == ["A", "C", "B"]


def test_raw_ids_stay_text(tmp_path):
    df = frame()
    df["ItemId"] = df["ItemId"].map({"A": "00123", "B": "9007199254740993", "C": "x y",
                                     "D": "4", "E": "5"})
    path = write(df, tmp_path / "log.csv")
    data = import_log(config(path, split="time"), root=tmp_path).data
    assert data.item_ids.tolist() == ["00123", "x y", "9007199254740993"]


def test_given_split_keeps_training_and_drops_unseen_test_items(tmp_path):
    train = write(frame(), tmp_path / "train.tsv", "\t")
    test = pd.DataFrame({"SessionId": ["t1", "t1", "t1", "t2", "t2"],
                         "ItemId": ["B", "Z", "A", "Z", "C"],
                         "Time": [BASE + 9 * DAY + i for i in range(5)]})
    test_path = write(test, tmp_path / "test.tsv", "\t")
    dataset = import_log(ImportConfig(str(train), "given", test_path=str(test_path),
                                      split="given"), root=tmp_path / "data")
    data = dataset.data
    # No item filter by default on a given split: only the one-click session s3 goes.
    assert data.n_sessions - dataset.n_test_sessions == 6
    assert dataset.settings["min_item_support"] == 1
    assert dataset.n_test_sessions == 1  # t2 is left with one click
    last = data.session(data.n_sessions - 1)
    assert data.raw_ids(last) == ["B", "A"]
    assert data.session_keys[-1] == "t1"
    assert "D" in data.item_ids.tolist() and "Z" not in data.item_ids.tolist()


def test_random_split_is_seeded(tmp_path):
    path = write(frame(), tmp_path / "log.csv")

    def run(name: str, seed: int) -> list[str]:
        dataset = import_log(config(path, name, split="random", test_fraction=0.5, seed=seed,
                                    min_item_support=1), root=tmp_path / "data")
        keys = dataset.data.session_keys
        return sorted(keys[dataset.test_sessions].tolist())

    first, again = run("a", 1), run("b", 1)
    assert first == again and first
    assert any(run(f"c{seed}", seed) != first for seed in range(2, 8))


def test_valid_days_sets_aside_the_last_training_days(tmp_path):
    df = frame()
    extra = pd.DataFrame({"SessionId": ["s8", "s8"], "ItemId": ["A", "C"],
                          "Time": [BASE + DAY + 10, BASE + DAY + 20]})
    path = write(pd.concat([df, extra]), tmp_path / "log.csv")
    dataset = import_log(config(path, split="time", test_days=0.5, valid_days=0.5),
                         root=tmp_path)
    assert dataset.n_valid_sessions == 1
    keys = dataset.data.session_keys
    assert keys[dataset.valid_sessions].tolist() == ["s8"]
    assert keys[dataset.test_sessions].tolist() == ["s5"]
    assert load_dataset("tiny", tmp_path).n_valid_sessions == 1
    # Training on the data set validates on those sessions, not on a share of the rest.
    from streamrec.config import RunConfig
    from streamrec.data.sources import dataset_config, open_data

    _, split = open_data(dataset_config(RunConfig(), "tiny", tmp_path), tmp_path)
    assert set(split.valid.session.tolist()) == set(dataset.valid_sessions.tolist())
    assert set(split.test.session.tolist()) == set(dataset.test_sessions.tolist())


def test_diginetica_orders_by_timeframe_and_dates_sessions(tmp_path):
    rows = [  # session_id;user_id;item_id;timeframe;eventdate, clicks out of order
        (1, "NA", 11, 5000, "2016-05-01"), (1, "NA", 12, 1000, "2016-05-01"),
        (1, "NA", 13, 3000, "2016-05-01"),
        (2, "NA", 12, 200, "2016-05-02"), (2, "NA", 11, 100, "2016-05-02"),
        (3, "NA", 11, 10, "2016-05-20"), (3, "NA", 13, 20, "2016-05-20"),
        (4, "NA", 12, 10, "2016-05-14"), (4, "NA", 13, 20, "2016-05-14"),
    ]
    path = tmp_path / "train-item-views.csv"
    path.write_text("session_id;user_id;item_id;timeframe;eventdate\n"
                    + "\n".join(";".join(map(str, r)) for r in rows) + "\n")
    dataset = import_log(config(path, split="time", test_days=7, min_item_support=1),
                         root=tmp_path / "data")
    data = dataset.data
    assert dataset.settings["columns"] == {"session": "session_id", "item": "item_id",
                                           "time": "timeframe", "date": "eventdate"}
    assert data.raw_ids(data.session(0)) == ["12", "13", "11"]  # by timeframe
    # 2016-05-20 is the last date: the last 7 days are 05-14 to 05-20, sessions 4 and 3.
    assert data.session_keys.tolist() == ["1", "2", "4", "3"]
    assert dataset.n_test_sessions == 2
    start = datetime(2016, 5, 1, tzinfo=UTC).timestamp()
    np.testing.assert_allclose(data.times[:3], [start + 1.0, start + 3.0, start + 5.0])


def test_categories_and_labels_are_carried(tmp_path):
    df = frame()
    df["category"] = df["ItemId"].map({"A": "shoes", "B": "hats", "C": "shoes", "D": "x",
                                       "E": "y"})
    df["title"] = "item " + df["ItemId"]
    path = write(df, tmp_path / "log.csv")
    data = import_log(config(path, split="time"), root=tmp_path).data
    assert data.has_categories and data.has_labels
    categories = data.catalog.item_category.tolist()  # items A, C, B
    assert categories[0] == categories[1] != categories[2]
    assert data.item_labels.tolist() == ["item A", "item C", "item B"]


def test_headerless_log_with_positional_columns(tmp_path):
    path = tmp_path / "clicks.dat"
    path.write_text("".join(f"{s},{iso(t)},{i},0\n" for s, i, t in CLICKS))
    cfg = config(path, session_col="0", time_col="1", item_col="2", split="time")
    assert import_log(cfg, root=tmp_path).data.items.tolist() == EXPECTED_ITEMS
    with pytest.raises(ValueError, match="no session column found among 0, 1, 2, 3"):
        import_log(config(path, name="other", split="time"), root=tmp_path)


def test_preview_shows_rows_and_mapping(tmp_path):
    path = write(frame(("session_id", "item_id", "timestamp")), tmp_path / "log.csv", ";")
    preview = preview_log(path, n_rows=3)
    assert preview.sep == ";" and preview.has_header
    assert preview.columns == {"session": "session_id", "item": "item_id", "time": "timestamp"}
    assert len(preview.rows) == 3 and preview.rows.iloc[0]["item_id"] == "A"


@pytest.mark.parametrize(
    ("values", "expected", "label"),
    [
        ([1_396_314_141.7, 1_396_314_142.0], [1_396_314_141.7, 1_396_314_142.0], "seconds"),
        ([1_396_314_141_700, 1_396_314_142_000], [1_396_314_141.7, 1_396_314_142.0],
         "milliseconds"),
        (["2014-04-01T01:02:21.700Z", "2014-04-01T01:02:22Z"],
         [1_396_314_141.7, 1_396_314_142.0], "ISO"),
        (["2016-05-09", "2016-05-10"], [1_462_752_000.0, 1_462_838_400.0], "ISO"),
    ],
)
def test_parse_times(values, expected, label):
    import pyarrow as pa

    times = TimeColumn("t")
    seconds, found = times.finish(times.parse(pa.chunked_array([pa.array(values)])))
    np.testing.assert_allclose(seconds, expected)
    assert label in found


# -- bad input: one clear error, nothing half-imported ------------------------------------------


def assert_nothing_written(root: Path) -> None:
    assert not root.exists() or not [p for p in root.iterdir()]


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        import_log(config(tmp_path / "nope.csv"), root=tmp_path / "data")
    assert_nothing_written(tmp_path / "data")


def test_unreadable_file(tmp_path):
    path = write(frame(), tmp_path / "log.csv")
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("running as root: a file without read permission is still readable")
    with pytest.raises(ValueError, match="cannot be read"):
        import_log(config(path), root=tmp_path / "data")


def test_binary_file_and_folder_are_refused(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(ValueError, match="not a UTF-8 text log"):
        import_log(config(path), root=tmp_path / "data")
    with pytest.raises(ValueError, match="not a file"):
        import_log(config(tmp_path), root=tmp_path / "data")
    assert_nothing_written(tmp_path / "data")


def test_a_stray_word_among_unix_times_is_named(tmp_path):
    df = frame()
    df["Time"] = df["Time"].astype(object)
    df.loc[7, "Time"] = "n/a?"
    path = write(df, tmp_path / "log.csv")
    with pytest.raises(ValueError, match="cannot parse 'n/a\\?' \\(row 8\\)"):
        import_log(config(path), root=tmp_path / "data")


def test_no_item_column(tmp_path):
    path = write(frame(("SessionId", "Thing", "Time")), tmp_path / "log.csv")
    with pytest.raises(ValueError, match="no item column found among SessionId, Thing, Time"):
        import_log(config(path), root=tmp_path / "data")
    assert_nothing_written(tmp_path / "data")


def test_unparsable_times(tmp_path):
    df = frame(time=lambda s: iso(s))
    df.loc[4, "Time"] = "yesterday"
    path = write(df, tmp_path / "log.csv")
    with pytest.raises(ValueError, match="cannot parse 'yesterday' \\(row 5\\)"):
        import_log(config(path), root=tmp_path / "data")
    assert_nothing_written(tmp_path / "data")


def test_empty_after_filtering(tmp_path):
    path = write(frame(), tmp_path / "log.csv")
    with pytest.raises(ValueError, match="no clicks left after filtering"):
        import_log(config(path, min_item_support=100), root=tmp_path / "data")
    assert_nothing_written(tmp_path / "data")


def test_name_exists(tmp_path):
    path = write(frame(), tmp_path / "log.csv")
    import_log(config(path), root=tmp_path / "data")
    with pytest.raises(ValueError, match="already exists"):
        import_log(config(path), root=tmp_path / "data")
    assert [info.name for info in list_datasets(tmp_path / "data")] == ["tiny"]


def test_too_large_for_memory(tmp_path, monkeypatch):
    path = write(frame(), tmp_path / "log.csv")
    monkeypatch.setattr(logfiles, "available_memory", lambda: 1000)
    with pytest.raises(ValueError, match="too large for memory"):
        import_log(config(path), root=tmp_path / "data")
    assert_nothing_written(tmp_path / "data")


def test_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    path = write(frame(), tmp_path / "log.csv")

    def broken(file, array, **kw):
        Path(file).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr("streamrec.data.datasets.np.save", broken)
    with pytest.raises(OSError, match="disk full"):
        import_log(config(path), root=tmp_path / "data")
    assert_nothing_written(tmp_path / "data")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("split", "weekly", "split = 'weekly' is not allowed"),
        ("test_days", 0.0, "test_days = 0.0 is out of range"),
        ("min_item_support", 0, "min_item_support = 0 must be an integer"),
        ("min_session_length", 1, "min_session_length = 1 must be an integer"),
        ("test_fraction", 0.95, "test_fraction = 0.95 is out of range"),
        ("sep", ";;", "sep = ';;' must be one character"),
        ("name", "../x", "data set name = '../x'"),
    ],
)
def test_config_validation_names_the_field(field, value, message):
    with pytest.raises(ValueError, match=message.replace("(", "\\(")):
        ImportConfig(**{"path": "x.csv", "name": "ok", field: value}).validate()


def test_given_needs_a_test_file():
    with pytest.raises(ValueError, match="split = 'given' needs test_path"):
        ImportConfig("x.csv", "ok", split="given").validate()
    with pytest.raises(ValueError, match="needs split 'given'"):
        ImportConfig("x.csv", "ok", test_path="y.csv", split="time").validate()
    assert ImportConfig("x.csv", "ok", test_path="y.csv").split_kind == "given"


# -- the shared real samples ------------------------------------------------------------------


def shared_data() -> Path:
    env = os.environ.get("STREAMREC_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


def test_shared_samples_import_with_the_documented_counts(tmp_path):
    shared = shared_data()
    if not (shared / "yoochoose-100k").is_dir() or not (shared / "diginetica-sample").is_dir():
        pytest.skip(f"the shared click-log samples are not at {shared} "
                    "(set STREAMREC_SHARED_DATA)")
    folder = shared / "yoochoose-100k"
    yoochoose = import_log(ImportConfig(
        str(folder / "yoochoose-clicks-100k_train_full.txt"), "yoochoose-100k",
        test_path=str(folder / "yoochoose-clicks-100k_test.txt"), split="given",
    ), root=tmp_path)
    data, n_test = yoochoose.data, yoochoose.n_test_sessions
    train = np.arange(data.n_sessions - n_test)
    assert (train.size, int(data.lengths[train].sum()), data.n_items) == (17_794, 70_278, 2_933)
    assert n_test == 3_416
    assert int((data.lengths[yoochoose.test_sessions] - 1).sum()) == 10_152

    diginetica = import_log(ImportConfig(
        str(shared / "diginetica-sample" / "sample_train-item-views.csv"), "diginetica-sample",
        split="time", test_days=7,
    ), root=tmp_path)
    first = diginetica.report[0]
    assert (first["sessions"], first["clicks"]) == (2_986, 12_391)
    assert diginetica.settings["columns"]["date"] == "eventdate"
    assert diginetica.n_test_sessions > 0
    assert set(diginetica.data.items[diginetica.data.offsets[-diginetica.n_test_sessions - 1]:]) \
        <= set(range(diginetica.data.n_items))
