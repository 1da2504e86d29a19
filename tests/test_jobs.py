"""Run folders and background jobs: launch, busy, stop, dead workers, corrupt folders, atomic
writes. One real worker process; every other case fakes the status file it would write."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamrec import folders
from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data.sources import open_data
from streamrec.model import LSTMRecommender
from streamrec.training import jobs, runs

# Small enough that an epoch takes well under a second, long enough that it never finishes
# before the test stops it.
SIM = SimConfig(n_sessions=150, n_items=40, n_categories=4, max_preferred=3)
LONG = RunConfig(
    SIM,
    LSTMConfig(n_items=40, embed_dim=8, hidden_size=8, num_layers=1),
    TrainConfig(epochs=5_000, batch_size=64, log_every=1),
)
WORKER_DEADLINE = 90.0  # seconds for a worker to start and train an epoch on a loaded machine


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    """A models directory whose workers are all stopped (then killed) at the end."""
    yield tmp_path
    for info in runs.list_runs(tmp_path):
        # Fake runs borrow this process's pid to look alive: never signal ourselves.
        if info.state == "running" and info.status.pid != os.getpid():
            jobs.stop(info.path, timeout=10)


def wait_for(predicate, timeout: float = WORKER_DEADLINE, what: str = "condition") -> None:
    """Poll `predicate` until it is true, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def fake_run(root: Path, name: str, **status: object) -> Path:
    """A run folder with a valid config and the given status fields."""
    path = runs.create_run(LONG, root, name)
    runs.write_status(path, **status)
    return path


def test_launch_runs_one_worker_refuses_a_second_and_stop_keeps_the_best(root):
    path = jobs.launch(LONG, root, "first")
    status = runs.read_status(path)
    assert status.state == "running" and runs.pid_running(status.pid)
    assert [info.run_id for info in jobs.active_runs(root)] == ["first"]

    with pytest.raises(jobs.JobBusy, match="already running \\(first\\)"):
        jobs.launch(LONG, root, "second")
    assert not (root / "second").exists()

    wait_for(lambda: any(e["event"] == "epoch" for e in runs.read_events(path)), what="an epoch")
    asked = time.monotonic()
    jobs.stop(path)
    wait_for(lambda: runs.read_status(path).state != "running", what="the worker to stop")
    assert time.monotonic() - asked < 2.0, "Stop takes effect within 2 s"

    status = runs.read_status(path)
    assert status.state == "stopped" and status.reason == "stop requested"
    # Stop ends the run at once: the best checkpoint is kept, nothing more is scored.
    assert status.best_epoch >= 1 and status.final == {}
    assert (path / runs.WEIGHTS["best"]).exists()
    model, _ = runs.load_model(path)
    assert model.config == LONG.model
    events = runs.read_events(path)
    assert events[0]["event"] == "start" and events[-1]["event"] == "end"
    assert jobs.active_runs(root) == []


def test_a_live_worker_blocks_launch_without_starting_a_process(root):
    fake_run(root, "busy", state="running", pid=os.getpid(), heartbeat=time.time())
    with pytest.raises(jobs.JobBusy, match="Stop it or wait"):
        jobs.launch(LONG, root)
    assert [p.name for p in root.iterdir() if not p.name.startswith(".")] == ["busy"]
    assert not (root / jobs.LOCK_FILE).exists()


def test_a_running_status_whose_process_is_gone_reads_as_failed(root):
    path = fake_run(root, "dead", state="running", pid=dead_pid(), heartbeat=time.time())
    status = runs.read_status(path)
    assert status.state == "failed"
    assert "died" in status.reason
    assert json.loads((path / runs.STATUS_FILE).read_text())["state"] == "running"  # a view
    assert jobs.active_runs(root) == []
    runs.delete_run(path)  # a dead run can be deleted
    assert not path.exists()


def test_a_stale_heartbeat_reads_as_failed_even_with_a_live_pid(root):
    stale = time.time() - runs.HEARTBEAT_TIMEOUT - 1
    path = fake_run(root, "stale", state="running", pid=os.getpid(), heartbeat=stale)
    assert runs.read_status(path).state == "failed"


def test_a_live_run_cannot_be_deleted(root):
    path = fake_run(root, "live", state="running", pid=os.getpid(), heartbeat=time.time())
    with pytest.raises(runs.RunError, match="still training"):
        runs.delete_run(path)
    assert path.is_dir()


def test_stopping_a_finished_run_changes_nothing(root):
    path = fake_run(root, "done", state="completed", pid=dead_pid(), heartbeat=time.time())
    jobs.stop(path)
    assert runs.read_status(path).state == "completed"


def test_corrupt_folders_are_listed_with_their_error(root):
    good = fake_run(root, "good", state="completed")
    (good / folders.MARKER).unlink()  # as made before run folders carried markers
    garbage = root / "garbage"
    garbage.mkdir()
    (garbage / runs.CONFIG_FILE).write_text("{not json")
    foreign = root / "foreign"
    foreign.mkdir()
    (foreign / runs.CONFIG_FILE).write_text(json.dumps({"sim": {"n_users": 5}}))
    no_status = root / "no-status"
    no_status.mkdir()
    (no_status / runs.CONFIG_FILE).write_text(json.dumps(LONG.to_dict()))
    (root / "a-file.txt").write_text("not a run")

    infos = {info.run_id: info for info in runs.list_runs(root)}
    assert set(infos) == {"good", "garbage", "foreign", "no-status"}
    assert infos["good"].error is None and infos["good"].state == "completed"
    assert "config.json is not valid JSON" in infos["garbage"].error
    assert "n_users" in infos["foreign"].error
    assert "status.json is missing" in infos["no-status"].error
    assert {infos[n].state for n in ("garbage", "foreign", "no-status")} == {"corrupt"}
    with pytest.raises(runs.RunError, match="not valid JSON"):
        runs.read_config(garbage)
    with pytest.raises(runs.RunError, match="not written by StreamRec"):
        runs.delete_run(garbage)  # no marker: perhaps not the app's, so left alone
    assert (garbage / runs.CONFIG_FILE).exists()
    folders.write_marker(garbage, folders.RUN)  # a run the app wrote, later damaged
    runs.delete_run(garbage)
    assert not garbage.exists() and good.is_dir()
    assert folders.marker_kind(good) == folders.RUN  # made without one, adopted when listed


def test_openable_runs_need_a_best_checkpoint_and_broken_folders_come_apart(root):
    trained = fake_run(root, "trained", state="running")
    runs.save_weights(trained, "best", LSTMRecommender(LONG.model))
    data, split = open_data(LONG)
    runs.save_catalog(trained, data.item_category, data.item_popularity)
    runs.save_data(trained, data, split)
    fake_run(root, "untrained", state="created")
    (root / "garbage").mkdir()
    (root / "garbage" / runs.CONFIG_FILE).write_text("{not json")
    # made before runs stored their sessions: flagged, no longer rebuilt from its config
    shutil.copytree(trained, root / "older")
    (root / "older" / runs.DATA_FILE).unlink()

    openable, broken = runs.openable_runs(root)
    assert [info.run_id for info in openable] == ["trained"]  # still training, but has a best
    errors = {info.run_id: info.error for info in broken}
    assert sorted(errors) == ["garbage", "older"]
    assert "config.json is not valid JSON" in errors["garbage"]
    assert errors["older"] == "older has no stored sessions (made by an older version); retrain it"
    with pytest.raises(runs.RunError, match="has no stored sessions"):
        runs.load_data(root / "older", LONG)


def test_atomic_writes_leave_no_temp_files(root):
    path = fake_run(root, "atomic", state="created")
    runs.write_status(path, progress=0.5)
    runs.write_json(path / "extra.json", {"a": 1})
    before = (path / runs.STATUS_FILE).read_text()

    def crash(tmp: Path) -> None:
        tmp.write_text("half a file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        runs._atomic_write(path / runs.STATUS_FILE, crash)
    assert (path / runs.STATUS_FILE).read_text() == before  # the old file is intact
    assert runs.read_status(path).progress == 0.5
    leftovers = [p.name for p in path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_worker_killed_outright_reads_as_failed(root):
    """SIGKILL gives the worker no chance to write a status: the dead pid tells."""
    path = jobs.launch(LONG, root, "killed")
    pid = runs.read_status(path).pid
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: not runs.pid_running(pid), timeout=10, what="the worker to die")
    status = runs.read_status(path)
    assert status.state == "failed" and "died" in status.reason
    assert jobs.active_runs(root) == []


def test_a_long_silent_phase_keeps_the_worker_alive(root, monkeypatch):
    """Scoring baselines on a big dataset can outlast the heartbeat timeout: still running."""
    monkeypatch.setattr(runs, "HEARTBEAT_TIMEOUT", 0.5)
    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", 0.05)
    seen = []

    def slow(score):
        def slow_baselines(*args, **kwargs):
            time.sleep(1.0)  # twice the timeout without an event
            seen.append(runs.read_status(path).state)
            return score(*args, **kwargs)

        return slow_baselines

    # Before training (the live chart's lines) and after it (the final table and the pairs).
    monkeypatch.setattr(jobs, "evaluate_baselines", slow(jobs.evaluate_baselines))
    monkeypatch.setattr(jobs, "score_baselines", slow(jobs.score_baselines))
    config = RunConfig(LONG.sim, LONG.model, TrainConfig(epochs=1, batch_size=256))
    path = runs.create_run(config, root, "silent")
    assert jobs.run_training(path).state == "completed"
    assert seen == ["running", "running"]


def test_stop_before_the_worker_starts_ends_the_run_as_stopped(tmp_path: Path) -> None:
    path = runs.create_run(LONG, tmp_path, "early")
    runs.request_stop(path)
    status = jobs.run_training(path, with_baselines=False)
    assert status.state == "stopped" and "before training" in status.reason
    assert runs.read_events(path) == []


def test_to_oracle_is_the_first_epoch_at_95_percent_of_the_oracle():
    config = RunConfig()
    epochs = [{"epoch": e, "hit@10": h, "train_seconds": 10.0 * e, "elapsed": 12.0 * e}
              for e, h in ((1, 0.30), (2, 0.38), (3, 0.39), (4, 0.37))]
    reached = jobs.to_oracle(epochs, {"Oracle": {"hit@10": 0.40}}, config)
    assert reached == {"fraction": 0.95, "key": "hit@10", "oracle": 0.40, "best": 0.39,
                       "epoch": 2, "train_seconds": 20.0, "elapsed": 24.0}
    never = jobs.to_oracle(epochs, {"Oracle": {"hit@10": 0.50}}, config)
    assert never["epoch"] is None and never["train_seconds"] is None and never["best"] == 0.39
    assert jobs.to_oracle(epochs, {}, config) is None  # no oracle (an imported log)
