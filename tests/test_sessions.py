"""The one session-data type: capabilities, raw ids, storage round trips, imported data sets,
and run folders that keep the sessions and split they were trained on."""
from __future__ import annotations

import json

import numpy as np
import pytest

from streamrec.config import DataConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data import datasets
from streamrec.data.sessions import SessionData, from_arrays, to_arrays
from streamrec.data.sources import dataset_config, open_data
from streamrec.data.splits import (
    all_targets,
    make_split,
    split_from_arrays,
    split_given,
    split_to_arrays,
)
from streamrec.training import runs
from streamrec.world.simulator import simulate


def log_data(name: str = "shop") -> SessionData:
    """A tiny real-looking log: large integer raw ids, times, no categories, four sessions."""
    return SessionData(
        items=np.array([0, 1, 2, 1, 0, 2, 2, 1, 0, 1]),
        offsets=np.array([0, 3, 5, 7, 10]),
        item_ids=np.array(["214536502", "214536500", "99"]),
        times=np.array([10.0, 11, 12, 100, 101, 200, 201, 300, 301, 302]),
        session_keys=np.array(["a", "b", "c", "d"]),
        name=name,
    )


def test_a_log_has_only_the_capabilities_it_carries():
    data = log_data()
    assert (data.n_sessions, data.n_clicks, data.n_items) == (4, 10, 3)
    assert data.has_time and not data.has_categories and not data.has_truth
    assert not data.has_causes and not data.has_labels
    with pytest.raises(ValueError, match="'shop' has no item categories"):
        _ = data.item_category
    with pytest.raises(ValueError, match="no ceiling is known for real data"):
        data.require_truth()


def test_simulated_data_has_truth_and_categories():
    data = simulate(SimConfig(n_sessions=50, n_items=60, n_categories=6))
    assert data.has_truth and data.has_categories and not data.has_time
    assert data.n_items == 60 and data.require_truth() is data.config


def test_raw_ids_of_dense_indices():
    data = log_data()
    assert data.raw_ids([2, 0]) == ["99", "214536502"]


def test_export_frame_uses_raw_ids_and_times():
    frame = log_data().to_frame()
    assert list(frame.columns) == ["session_id", "position", "item_id", "time"]
    assert frame["item_id"].tolist()[:3] == ["214536502", "214536500", "99"]
    assert frame["session_id"].tolist()[3:5] == ["b", "b"]
    assert frame["position"].tolist()[3:5] == [0, 1]


@pytest.mark.parametrize("compact", [False, True])
@pytest.mark.parametrize("make", [log_data, lambda: simulate(SimConfig(n_sessions=40, n_items=50)),
                                  lambda: simulate(SimConfig(n_sessions=40, n_items=300))])
def test_arrays_round_trip_keeps_everything(make, compact):
    data = make()
    arrays = to_arrays(data, compact=compact)
    back = from_arrays(arrays, data.config)
    assert np.array_equal(back.items, data.items) and np.array_equal(back.offsets, data.offsets)
    for name in ("items", "offsets", "behaviour", "cause", "cause_position"):
        if getattr(data, name) is not None:  # the types the rest of the code expects
            assert getattr(back, name).dtype == getattr(data, name).dtype, name
    assert back.n_items == data.n_items and back.name == data.name
    assert back.has_truth == data.has_truth and back.has_time == data.has_time
    assert back.raw_ids(range(data.n_items)) == data.raw_ids(range(data.n_items))
    if data.has_truth:
        assert np.array_equal(back.preferred, data.preferred)
        assert np.array_equal(back.item_category, data.item_category)


def test_the_compact_layout_stores_small_integers_and_item_byte_planes():
    data = simulate(SimConfig(n_sessions=40, n_items=300))
    arrays = to_arrays(data, compact=True)
    assert "offsets" not in arrays and arrays["lengths"].dtype == np.uint8
    assert arrays["items"].dtype == np.uint8 and arrays["items"].shape == (2, data.n_clicks)
    assert arrays["item_category"].dtype == np.uint8 and arrays["cause_position"].dtype == np.int8
    assert to_arrays(data)["offsets"].dtype == np.int64  # the plain layout data sets map


@pytest.mark.parametrize("protocol", ["session", "example"])
def test_split_arrays_round_trip_by_session_part_or_by_target(protocol):
    data = simulate(SimConfig(n_sessions=60, n_items=40, n_categories=6))
    split = make_split(data, TrainConfig(protocol=protocol))
    arrays = split_to_arrays(split, data)
    assert ("session_part" in arrays) == (protocol == "session")
    for back in (split_from_arrays(arrays, data), split_from_arrays(split_to_arrays(split))):
        assert back.protocol == split.protocol
        for part in ("train", "valid", "test"):
            for name in ("session", "position"):
                made, read = getattr(getattr(split, part), name), getattr(getattr(back, part), name)
                assert read.dtype == np.int64 and np.array_equal(read, made), (part, name)
    if protocol == "session":
        with pytest.raises(ValueError, match="its sessions are needed"):
            split_from_arrays(arrays)


def test_given_split_holds_out_the_test_sessions_and_validates_on_the_latest():
    data = log_data()
    split = split_given(data, np.array([3]), TrainConfig(valid_fraction=0.34))
    assert split.protocol == "given"
    assert split.test.session.tolist() == [3, 3] and split.test.position.tolist() == [1, 2]
    assert split.valid.session.tolist() == [2]  # session 2 starts latest among 0..2
    assert sorted(set(split.train.session.tolist())) == [0, 1]
    back = split_from_arrays(split_to_arrays(split, data), data)
    assert back.protocol == "given" and back.test.session.tolist() == [3, 3]


def test_given_split_refuses_to_leave_no_training_sessions():
    with pytest.raises(ValueError, match="leaves no training sessions"):
        split_given(log_data(), np.array([1, 2, 3]), TrainConfig(valid_fraction=0.1))


def test_dataset_store_round_trip_and_listing(tmp_path):
    data = log_data("shop")
    digest = datasets.content_hash(data, 1)
    ds = datasets.Dataset("shop", data, 1, digest, {"split": "time"}, [{"step": "read", "clicks": 10}])
    path = datasets.save_dataset(ds, tmp_path)
    assert path == tmp_path / "shop" and not list(tmp_path.glob(".*"))
    back = datasets.load_dataset("shop", tmp_path)
    assert back.content_hash == digest and back.test_sessions.tolist() == [3]
    assert back.data.raw_ids([0]) == ["214536502"] and back.report[0]["clicks"] == 10
    with pytest.raises(ValueError, match="already exists"):
        datasets.save_dataset(ds, tmp_path)
    # A corrupt folder is listed with its error and refused when opened.
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / datasets.META_FILE).write_text("{not json")
    listing = {info.name: info for info in datasets.list_datasets(tmp_path)}
    assert listing["shop"].error is None and listing["shop"].meta["n_clicks"] == 10
    assert "not valid JSON" in listing["broken"].error
    with pytest.raises(datasets.DatasetError, match="not valid JSON"):
        datasets.load_dataset("broken", tmp_path)


def test_a_modified_dataset_is_refused(tmp_path):
    data = log_data()
    datasets.save_dataset(datasets.Dataset("shop", data, 1, datasets.content_hash(data, 1)), tmp_path)
    meta = json.loads((tmp_path / "shop" / datasets.META_FILE).read_text())
    meta["content_hash"] = "0" * 16
    (tmp_path / "shop" / datasets.META_FILE).write_text(json.dumps(meta))
    with pytest.raises(datasets.DatasetError, match="content hash"):
        datasets.load_dataset("shop", tmp_path)


@pytest.mark.parametrize("name", ["..", ".", "a/b", "/etc", "", "-x"])
def test_dataset_names_cannot_leave_the_root(tmp_path, name):
    with pytest.raises(ValueError, match="data set name"):
        datasets.load_dataset(name, tmp_path)


def test_open_data_for_an_imported_dataset(tmp_path):
    data = log_data()
    datasets.save_dataset(datasets.Dataset("shop", data, 1, datasets.content_hash(data, 1)), tmp_path)
    config = dataset_config(RunConfig(train=TrainConfig(valid_fraction=0.34)), "shop", tmp_path)
    assert config.data == DataConfig("dataset", "shop", datasets.content_hash(data, 1))
    assert config.model.n_items == 3
    opened, split = open_data(config, tmp_path)
    assert opened.raw_ids([2]) == ["99"] and split.test.session.tolist() == [3, 3]
    stale = RunConfig(
        model=config.model, train=config.train, data=DataConfig("dataset", "shop", "f" * 16)
    )
    with pytest.raises(ValueError, match="changed since this run was set up"):
        open_data(stale, tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        dataset_config(RunConfig(), "nope", tmp_path)


def test_data_config_round_trips_and_old_configs_mean_the_simulator():
    config = RunConfig()
    assert "data" not in config.to_dict()  # simulator runs keep the old three-section file
    assert RunConfig.from_dict(config.to_dict()).data.is_simulated
    with pytest.raises(ValueError, match="name the imported data set"):
        DataConfig(source="dataset").validate()


def test_run_folder_stores_the_sessions_and_split(tmp_path):
    config = RunConfig(sim=SimConfig(n_sessions=60, n_items=40, n_categories=6))
    config = RunConfig(sim=config.sim, model=config.model.__class__(n_items=40), train=config.train)
    path = runs.create_run(config, tmp_path, "r1")
    with pytest.raises(runs.RunError, match=r"r1 has no stored sessions \(made by an older version\); retrain it"):
        runs.load_data(path, config)  # nothing stored: never rebuilt from the config
    data = simulate(config.sim)
    split = make_split(data, config.train)
    runs.save_data(path, data, split)
    stored, stored_split = runs.load_data(path, config)
    assert stored.has_truth and stored.config == config.sim
    assert np.array_equal(stored.items, data.items)
    assert np.array_equal(stored_split.test.session, split.test.session)
    assert len(all_targets(stored)) == len(all_targets(data))
    (path / runs.SPLIT_FILE).write_bytes(b"garbage")
    with pytest.raises(runs.RunError, match="stored sessions are unreadable"):
        runs.load_data(path, config)
