"""The Train page: settings, validation, and real tiny trainings started, watched and stopped
from the page. Each training is a worker process writing into a temporary models folder."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streamrec.charts.training_charts import METRICS_TITLE
from streamrec.config import (
    MODEL_CONFIGS,
    LSTMConfig,
    RunConfig,
    SimConfig,
    TrainConfig,
    model_config,
    to_dict,
)
from streamrec.evaluation.verdict import verdict
from streamrec.training import jobs, runs

PAGE = "pages/train.py"
TINY_SIM = to_dict(SimConfig(n_sessions=200, n_items=60, n_categories=6, seed=1))
SMALL_MODEL = {
    "train_lstm_embed_dim": 8,
    "train_lstm_hidden_size": 16,
    "train_lstm_num_layers": 1,
    "train_batch_size": 128,
}
TRAINING_DEADLINE = 150.0  # seconds: worker start, simulation, baselines, epochs, under load


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary models folder for the page; any worker still running is stopped after."""
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(tmp_path))
    yield tmp_path
    for info in runs.list_runs(tmp_path):
        if info.state == "running":
            jobs.stop(info.path, timeout=10)


@pytest.fixture
def train_page(open_page: Callable[..., Any], models_dir: Path) -> Callable[..., Any]:
    """The Train page with the tiny simulator config in session state and given widget values."""

    def _open(**widgets: float) -> Any:
        at = open_page(PAGE, sim_config=TINY_SIM)
        for key, value in widgets.items():
            at.number_input(key=key).set_value(value)
        return at.run()

    return _open


def figures(at: Any) -> dict[str, dict]:
    """Plotly figure JSON on the page, by title."""
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        out[spec["layout"]["title"]["text"]] = spec
    return out


def traces(figure: dict) -> dict[str, dict]:
    """Traces by name (the first of a name: metric panels repeat the legend names)."""
    out: dict[str, dict] = {}
    for trace in figure["data"]:
        out.setdefault(trace.get("name", ""), trace)
    return out


def texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def poll(at: Any, done: Callable[[Any], bool], what: str) -> Any:
    """Rerun the page (as the fragment's timer would) until `done(at)` or the deadline."""
    deadline = time.monotonic() + TRAINING_DEADLINE
    while not done(at):
        assert not at.exception, [e.message for e in at.exception]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; errors: {texts(at.error)}")
        time.sleep(0.5)
        at.run()
    return at


def the_run(models_dir: Path) -> Path:
    (path,) = [p for p in models_dir.iterdir() if p.is_dir()]
    return path


def test_page_shows_the_data_the_settings_and_a_time_estimate(train_page):
    at = train_page()
    assert not at.exception
    assert at.title[0].value == "Train"
    summary = " ".join(texts(at.markdown))
    assert "200 sessions" in summary and "60 items in 6 categories" in summary
    assert "Simulator page" in summary
    numbers = {w.key for w in at.number_input}
    assert numbers >= {
        "train_lstm_embed_dim",
        "train_lstm_hidden_size",
        "train_lstm_num_layers",
        "train_lstm_dropout",
        "train_epochs",
        "train_batch_size",
        "train_max_len",
        "train_seed",
        "train_lr",
        "train_step_size",
        "train_gamma",
        "train_clip_norm",
    }
    choices = {w.key: list(w.options) for w in at.radio}
    assert choices == {
        "train_lstm_pooling": ["attention", "last"],
        "train_lstm_cell": ["lstm", "gru"],
        "train_protocol": ["session", "example"],
        "train_loss": ["auto", "full", "sampled", "bpr-max"],
        "train_device": ["auto", "cpu", "cuda"],
    }
    assert at.selectbox(key="train_family").options == ["lstm", "sasrec", "gru4rec", "narm"]
    assert at.text_input(key="train_name").value == ""
    assert at.button(key="train_start").label == "Start training"
    assert any("per epoch" in t for t in texts(at.markdown) if "Estimated time" in t)
    assert any("No training yet" in t for t in texts(at.info))


@pytest.mark.parametrize("family", list(MODEL_CONFIGS))
def test_each_family_shows_its_own_settings_and_start_builds_its_config(
    train_page, monkeypatch, family
):
    """The form holds the chosen family's fields and no other's; the time estimate works for
    it; Start hands the launcher that family's config with the values set on the page."""
    launched: list[tuple[RunConfig, str | None]] = []

    def record(config: RunConfig, root: Path | None = None, name: str | None = None,
               processes: int = 1) -> Path:
        launched.append((config, name))
        raise jobs.JobBusy("recorded by the test: nothing launched")

    monkeypatch.setattr(jobs, "launch", record)
    at = train_page()
    at.selectbox(key="train_family").set_value(family).run()
    assert not at.exception and not at.error, texts(at.error)
    keys = {w.key for w in at.number_input} | {w.key for w in at.radio} | {w.key for w in at.checkbox}
    mine = {f"train_{family}_{f.name}" for f in dataclasses.fields(MODEL_CONFIGS[family])}
    assert mine - {f"train_{family}_n_items"} <= keys and f"train_{family}_n_items" not in keys
    others = {k for k in keys if k.split("_")[1] in MODEL_CONFIGS and k.split("_")[1] != family}
    assert not others, f"another family's settings are on the form: {sorted(others)}"
    assert any("per epoch" in t for t in texts(at.markdown) if "Estimated time" in t)

    at.number_input(key=f"train_{family}_hidden_size").set_value(24)
    extra = {"copy": True} if family == "lstm" else {}  # the LSTM's options are checkboxes
    for name, value in extra.items():
        at.checkbox(key=f"train_{family}_{name}").set_value(value)
    at.radio(key="train_loss").set_value("sampled")
    at.radio(key="train_device").set_value("cpu")
    at.number_input(key="train_n_negatives").set_value(32)
    at.text_input(key="train_name").input(f"tiny-{family}").run()
    at.button(key="train_start").click().run()

    assert any("recorded by the test" in t for t in texts(at.error))
    ((config, name),) = launched
    assert name == f"tiny-{family}"
    assert config.model == model_config(family, n_items=60, hidden_size=24, **extra)
    assert (config.train.loss, config.train.device, config.train.n_negatives) == ("sampled", "cpu", 32)
    assert config.sim == SimConfig(**TINY_SIM)


def test_bad_settings_show_the_error_and_start_nothing(train_page, models_dir):
    at = train_page(train_lstm_hidden_size=0)
    assert any("hidden_size = 0 is out of range" in t for t in texts(at.error))
    at.button(key="train_start").click().run()
    assert list(models_dir.iterdir()) == []

    at.number_input(key="train_lstm_hidden_size").set_value(16)
    at.text_input(key="train_name").input("no spaces please").run()
    assert not at.error  # the settings are valid; the name is checked on Start
    at.button(key="train_start").click().run()
    assert any("run name = 'no spaces please'" in t for t in texts(at.error))
    assert not at.exception
    assert list(models_dir.iterdir()) == []


def test_a_tiny_training_started_on_the_page_finishes_and_shows_its_curves(train_page, models_dir):
    at = train_page(**SMALL_MODEL, train_epochs=2)
    at.button(key="train_start").click().run()
    assert not at.error, texts(at.error)
    assert at.get("progress"), "a started run shows a progress bar at once"
    path = the_run(models_dir)
    assert at.subheader[0].value == f"Run {path.name}"

    poll(at, lambda at: any("completed" in t for t in texts(at.success)), "the run to complete")

    assert runs.read_status(path).state == "completed"
    charts = figures(at)
    loss = traces(charts["Loss per epoch"])
    assert len(loss["training loss (mean of the logged batches)"]["y"]) >= 2
    assert loss["validation loss (end of epoch)"]["x"] == [1, 2]
    metrics = traces(charts[METRICS_TITLE])
    assert {"this model", "Best possible (oracle)", "Markov chain"} <= set(metrics)
    assert metrics["this model"]["x"] == [1, 2]
    table = at.dataframe[0].value
    assert table.index[0] == "This model (LSTM (1 × 16) with attention pooling)"
    assert "Best possible (oracle)" in table.index
    assert not at.get("progress"), "polling stops with the bar once the run is over"
    status = runs.read_status(path)
    sentence = verdict(status.final, status.baselines, paired=status.paired).sentence
    boxes = texts(at.warning) + texts(at.info)
    assert f"**Is the model worth it?** On the held-out sessions, {sentence}" in boxes
    assert "of the best possible" in sentence  # a simulated run has its ceiling


def test_a_second_start_is_refused_and_stop_keeps_the_best_checkpoint(
    train_page, open_page, models_dir
):
    at = train_page(**SMALL_MODEL, train_epochs=5_000)
    at.button(key="train_start").click().run()
    path = the_run(models_dir)

    def trained_an_epoch(at: Any) -> bool:
        loss = figures(at).get("Loss per epoch")
        return bool(loss and traces(loss)["validation loss (end of epoch)"]["x"])

    poll(at, trained_an_epoch, "the first epoch")
    fresh = open_page(PAGE)  # a reload: a new session, nothing in session state or the URL
    assert fresh.subheader[0].value == f"Run {path.name}"
    assert fresh.button(key="train_stop").label == "Stop"

    at.button(key="train_start").click().run()
    assert any("a training is already running" in t for t in texts(at.error))
    assert [p.name for p in models_dir.iterdir() if p.is_dir()] == [path.name]

    at.button(key="train_stop").click().run()
    poll(at, lambda at: any("Training stopped" in t for t in texts(at.warning)), "the stop")

    status = runs.read_status(path)
    assert status.state == "stopped" and status.reason == "stop requested"
    assert (path / runs.WEIGHTS["best"]).exists()
    assert "best checkpoint" in texts(at.warning)[0]
    fresh.run()  # the session that re-attached keeps showing the run once it is over
    assert any("Training stopped" in t for t in texts(fresh.warning))
    deadline = time.monotonic() + 10  # the worker exits right after its last status write
    while runs.pid_running(status.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not runs.pid_running(status.pid), "the worker process is gone"


def test_a_failed_run_in_the_url_shows_its_reason(open_page, models_dir):
    config = RunConfig(SimConfig(**TINY_SIM), LSTMConfig(n_items=60), TrainConfig(epochs=1))
    path = runs.create_run(config, models_dir, "broken-run")
    runs.write_status(path, state="failed", reason="RuntimeError: out of memory", phase="done")
    at = open_page()
    at.query_params["run"] = "broken-run"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.subheader[0].value == "Run broken-run"
    assert texts(at.error) == ["Training failed: RuntimeError: out of memory"]
    assert not at.get("progress") and not at.get("plotly_chart")


def test_after_a_reload_the_form_shows_the_running_jobs_data_and_settings(open_page, models_dir):
    config = RunConfig(
        SimConfig(**{**TINY_SIM, "n_sessions": 321}),
        model_config("sasrec", n_items=60, hidden_size=40, num_blocks=1, num_heads=4),
        TrainConfig(epochs=77, batch_size=96, lr=0.002, protocol="example", loss="sampled"),
    )
    path = runs.create_run(config, models_dir, "live-run")
    stand_in = subprocess.Popen(["sleep", "60"])  # a live pid the teardown may stop safely
    runs.write_status(path, state="running", pid=stand_in.pid, heartbeat=time.time(),
                      phase="training")
    at = open_page(PAGE)  # a reload: nothing in session state, the defaults would show
    assert not at.exception
    assert at.selectbox(key="train_family").value == "sasrec"  # the job's family, its fields
    values = {k: at.number_input(key=f"train_sasrec_{k}").value
              for k in ("hidden_size", "num_blocks", "num_heads")}
    assert values == {"hidden_size": 40, "num_blocks": 1, "num_heads": 4}
    values = {k: at.number_input(key=f"train_{k}").value for k in ("epochs", "batch_size", "lr")}
    assert values == {"epochs": 77, "batch_size": 96, "lr": 0.002}
    assert at.radio(key="train_protocol").value == "example"
    assert at.radio(key="train_loss").value == "sampled"
    summary = " ".join(texts(at.markdown))
    assert "321 sessions" in summary and "the data of run live-run" in summary
    # The user's own edits are not overwritten on the next rerun.
    at.number_input(key="train_epochs").set_value(3).run()
    assert at.number_input(key="train_epochs").value == 3
    stand_in.kill()
    stand_in.wait()


def test_a_run_stopped_before_its_first_epoch_says_there_is_no_model(open_page, models_dir):
    config = RunConfig(SimConfig(**TINY_SIM), LSTMConfig(n_items=60), TrainConfig(epochs=1))
    path = runs.create_run(config, models_dir, "early")
    runs.write_status(path, state="stopped", reason="stop requested before the first epoch "
                      "ended: no trained checkpoint", phase="done")
    at = open_page()
    at.query_params["run"] = "early"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert texts(at.warning) == [
        (
            "Training stopped before its first epoch ended: there is no trained model, so "
            "this run is listed as stopped early."
        )
    ]
    assert not at.get("button") or "train_open_recommend" not in [b.key for b in at.button]
