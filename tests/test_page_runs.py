"""The Runs page: the listing (with unreadable folders), curves, downloads and deletion."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from streamrec import folders
from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data.identity import data_key
from streamrec.evaluation.verdict import verdict
from streamrec.training import jobs, runs
from streamrec.training.loop import BEFORE_FIRST_EPOCH

PAGE = "pages/runs.py"
STATE_LABELS = {"running": "▶ training now", "completed": "✓ completed"}  # as the page shows them
TINY = RunConfig(
    SimConfig(n_sessions=120, n_items=40, n_categories=4, max_preferred=3),
    LSTMConfig(n_items=40, embed_dim=8, hidden_size=8, num_layers=1),
    TrainConfig(epochs=2, batch_size=128),
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One completed tiny run, trained in this process (the worker's code path)."""
    path = runs.create_run(TINY, tmp_path_factory.mktemp("trained"), "tiny-done")
    assert jobs.run_training(path).state == "completed"
    return path


@pytest.fixture
def models_dir(tmp_path: Path, trained: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A models folder holding a copy of the completed run and one garbage folder."""
    shutil.copytree(trained, tmp_path / trained.name)
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / runs.CONFIG_FILE).write_text("this is not json {")
    folders.write_marker(garbage, folders.RUN)  # a run the app wrote, then corrupted
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def runs_page(open_page: Callable[..., Any], models_dir: Path) -> Any:
    return open_page(PAGE)


def texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def select(at: Any, run_id: str) -> Any:
    """Pick a run in the Files and deletion section."""
    box = at.selectbox(key="runs_selected")
    return box.select(run_id).run()


def test_lists_the_completed_run_and_the_unreadable_folder(runs_page):
    at = runs_page
    assert not at.exception
    table = at.dataframe[0].value.set_index("run")
    assert set(table.index) == {"tiny-done", "garbage"}
    done = table.loc["tiny-done"]
    assert done["status"] == "✓ completed"
    assert (done["family"], done["model"], done["hidden"], done["epochs"]) == (
        "lstm",
        "lstm-attention-h8",
        8,
        2,
    )
    assert (done["protocol"], done["sessions"], done["items"], done["categories"]) == (
        "session",
        120,
        40,
        4,
    )
    assert done["best epoch"] in (1, 2) and 0 <= done["Hit@10"] <= done["Hit@20"] <= 1
    garbage = table.loc["garbage"]
    assert garbage["status"] == "⚠ unreadable"
    assert "config.json is not valid JSON" in garbage["problem"]
    assert any("cannot be read" in t for t in texts(at.warning))


def test_overlays_the_chosen_runs_curves_for_the_chosen_metric(runs_page):
    at = runs_page
    assert at.multiselect(key="runs_compare").value == ["tiny-done"]
    at.selectbox(key="runs_metric").select("valid_loss").run()
    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    assert (
        figure["layout"]["title"]["text"] == "Validation loss on the validation sessions, per epoch"
    )
    (trace,) = figure["data"]
    assert trace["name"] == "tiny-done" and trace["x"] == [1, 2]
    at.multiselect(key="runs_compare").set_value([]).run()
    assert not at.get("plotly_chart")


def test_offers_the_run_files_for_download(runs_page):
    at = select(runs_page, "tiny-done")
    buttons = {b.proto.label: b for b in at.get("download_button")}
    assert set(buttons) == {"config.json", "metrics.jsonl", "best.safetensors"}
    assert not any(b.proto.disabled for b in buttons.values())


def test_delete_asks_for_confirmation_then_removes_the_folder(runs_page, models_dir):
    at = select(runs_page, "tiny-done")
    at.button(key="runs_delete").click().run()
    assert any("cannot be undone" in t for t in texts(at.warning))
    assert (models_dir / "tiny-done").is_dir()

    at.button(key="runs_delete_no").click().run()
    assert (models_dir / "tiny-done").is_dir()

    at.button(key="runs_delete").click().run()
    at.button(key="runs_delete_yes").click().run()
    assert not at.exception
    assert not (models_dir / "tiny-done").exists()
    assert any("Deleted run tiny-done" in t for t in texts(at.success))
    assert list(at.dataframe[0].value["run"]) == ["garbage"]


def test_an_unreadable_folder_can_be_deleted(runs_page, models_dir):
    at = select(runs_page, "garbage")
    assert any("config.json is not valid JSON" in t for t in texts(at.error))
    at.button(key="runs_delete").click().run()
    at.button(key="runs_delete_yes").click().run()
    assert not (models_dir / "garbage").exists()


def test_a_run_deleted_elsewhere_gives_a_message_not_a_traceback(runs_page, models_dir):
    at = select(runs_page, "tiny-done")
    at.button(key="runs_delete").click().run()
    shutil.rmtree(models_dir / "tiny-done")  # someone else deletes it meanwhile
    at.button(key="runs_delete_yes").click().run()
    assert not at.exception
    assert any("tiny-done no longer exists" in t for t in texts(at.info))
    assert list(at.dataframe[0].value["run"]) == ["garbage"]


def test_a_training_run_cannot_be_deleted(runs_page, models_dir):
    runs.write_status(
        models_dir / "tiny-done", state="running", pid=os.getpid(), heartbeat=time.time()
    )
    at = select(runs_page.run(), "tiny-done")
    assert any("training right now" in t for t in texts(at.info))
    assert not [b for b in at.button if b.key == "runs_delete"]


def test_no_runs_yet_points_to_the_train_page(open_page, tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(tmp_path / "empty"))
    at = open_page(PAGE)
    assert not at.exception
    assert any("No runs yet" in t for t in texts(at.info))


def test_home_lists_the_runs_and_marks_the_one_training(open_page, models_dir):
    runs.write_status(
        models_dir / "tiny-done", state="running", pid=os.getpid(), heartbeat=time.time()
    )
    at = open_page()
    assert not at.exception
    listing = next(t for t in texts(at.markdown) if t.startswith("**Your runs**"))
    assert "`tiny-done` :orange-badge[:material/progress_activity: training now]" in listing
    assert "`garbage` :red-badge[unreadable]" in listing
    links = {link.proto.label: link.proto.page for link in at.get("page_link")}
    assert links["Watch the training"] == "train"
    assert links["All runs (2)"] == "runs"


def test_a_training_run_is_listed_as_training_then_as_completed(
    open_page: Callable[..., Any], models_dir: Path
) -> None:
    live = runs.create_run(TINY, models_dir, "live")
    runs.write_status(live, state="running", pid=os.getpid(), heartbeat=time.time())
    at = open_page(PAGE)
    assert not at.exception
    table = at.dataframe[0].value
    assert table.loc[table["run"] == "live", "status"].tolist() == [STATE_LABELS["running"]]
    runs.write_status(live, state="completed", finished=time.time())
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table.loc[table["run"] == "live", "status"].tolist() == [STATE_LABELS["completed"]]


def test_each_run_shows_the_best_simple_rule_and_the_ceiling(runs_page, models_dir):
    at = runs_page
    status = runs.read_status(models_dir / "tiny-done")
    baselines = status.baselines
    rules = {n: m["hit@10"] for n, m in baselines.items() if n != "Oracle"}
    best = max(rules, key=lambda n: (rules[n], n))
    done = at.dataframe[0].value.set_index("run").loc["tiny-done"]
    assert done["best rule"] == best
    assert done["best rule Hit@10"] == pytest.approx(rules[best])
    assert done["ceiling Hit@10"] == pytest.approx(baselines["Oracle"]["hit@10"])
    sentence = verdict(status.final, baselines, paired=status.paired).sentence
    assert "95% CI" in sentence  # the difference to the rule with its session-bootstrap interval
    assert sentence == f"Hit@10 {status.final['hit@10']:.3f}: {done['verdict']}"
    assert "of the best possible" in done["verdict"]


def test_curves_of_runs_on_different_data_are_not_overlaid(runs_page, models_dir):
    other = models_dir / "tiny-seed7"
    shutil.copytree(models_dir / "tiny-done", other)
    config = RunConfig(replace(TINY.sim, seed=7), TINY.model, TINY.train)
    runs.write_json(other / runs.CONFIG_FILE, config.to_dict())
    at = runs_page.run()
    table = at.dataframe[0].value.set_index("run")
    assert table.loc["tiny-done", "data set"] == data_key(TINY)
    assert table.loc["tiny-seed7", "data set"] == data_key(config) != data_key(TINY)
    at.multiselect(key="runs_compare").set_value(["tiny-done", "tiny-seed7"]).run()
    assert not at.exception
    assert any("2 different data sets" in t for t in texts(at.warning))
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert [[t["name"] for t in c["data"]] for c in charts] == [["tiny-done"], ["tiny-seed7"]]
    # Two runs on the same data share one chart and no warning.
    shutil.copytree(models_dir / "tiny-done", models_dir / "tiny-copy")
    at.run()
    at.multiselect(key="runs_compare").set_value(["tiny-done", "tiny-copy"]).run()
    assert not any("different data sets" in t for t in texts(at.warning))
    (chart,) = at.get("plotly_chart")
    assert [t["name"] for t in json.loads(chart.proto.spec)["data"]] == ["tiny-done", "tiny-copy"]


def test_a_run_stopped_before_its_first_epoch_is_not_listed_like_a_trained_one(
    open_page: Callable[..., Any], models_dir: Path
) -> None:
    early = runs.create_run(TINY, models_dir, "early")
    runs.write_status(early, state="stopped", reason=BEFORE_FIRST_EPOCH, phase="done")
    at = open_page(PAGE)
    table = at.dataframe[0].value.set_index("run")
    assert table.loc["early", "status"] == "□ stopped before epoch 1: no model"
    assert table.loc["tiny-done", "status"] == "✓ completed"
    home = open_page()
    listing = next(t for t in texts(home.markdown) if t.startswith("**Your runs**"))
    assert "`early` :gray-badge[stopped before epoch 1: no model]" in listing
    # A stopped run that did finish an epoch keeps its plain label.
    runs.write_status(models_dir / "tiny-done", state="stopped", reason="stop requested")
    assert at.run().dataframe[0].value.set_index("run").loc["tiny-done", "status"] == "■ stopped"


def test_a_folder_the_app_did_not_write_is_flagged_and_not_offered_for_deletion(
    open_page, models_dir
):
    foreign = models_dir / "my photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    at = select(open_page(PAGE), "my photos")
    assert not at.exception
    assert "not a run name" in at.dataframe[0].value.set_index("run").loc["my photos", "problem"]
    assert any("not written by StreamRec" in t for t in texts(at.info))
    assert not any(b.key == "runs_delete" for b in at.button)
    with pytest.raises(runs.RunError, match="not written by StreamRec"):
        runs.delete_run(foreign)
    assert (foreign / "holiday.jpg").exists()


def test_a_one_run_table_has_no_none_cells_and_its_one_point_chart_starts_at_zero(
    open_page, models_dir, trained
):
    shutil.rmtree(models_dir / "garbage")
    events = [e for e in runs.read_events(models_dir / "tiny-done") if e["event"] != "epoch"]
    events.insert(1, {**runs.read_events(trained)[-2], "epoch": 1.0})  # one epoch, one point
    (models_dir / "tiny-done" / runs.METRICS_FILE).write_text(
        "".join(json.dumps(e) + "\n" for e in events)
    )
    runs.write_status(models_dir / "tiny-done", baselines={})  # no rule scored: blank cells
    at = open_page(PAGE)
    assert not at.exception
    table = at.dataframe[0].value
    assert not table.isin(["None"]).any().any()
    assert table.loc[0, "best rule"] == "" and table.loc[0, "problem"] == ""
    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    (trace,) = figure["data"]
    assert len(trace["y"]) == 1
    low, high = figure["layout"]["yaxis"]["range"]
    assert low == 0 and trace["y"][0] < high <= 1
    assert figure["layout"]["xaxis"]["range"][0] == 0


def test_a_metrics_file_linking_to_the_password_file_is_flagged_and_not_served(
    open_page, models_dir
):
    metrics = models_dir / "tiny-done" / runs.METRICS_FILE
    metrics.unlink()
    metrics.symlink_to("/etc/passwd")
    at = select(open_page(PAGE), "tiny-done")
    assert not at.exception
    assert "metrics.jsonl is a symlink" in at.dataframe[0].value.set_index("run").loc[
        "tiny-done", "problem"]
    buttons = {b.proto.label: b for b in at.get("download_button")}
    assert buttons["metrics.jsonl"].proto.disabled
    assert not buttons["config.json"].proto.disabled
