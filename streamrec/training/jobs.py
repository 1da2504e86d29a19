"""Training jobs: a worker that trains one run folder, and the launcher the dashboard uses.

The worker is the same code path as `python -m streamrec train`: it streams the trainer's
events into the run folder (metrics.jsonl, status.json with a heartbeat, checkpoints).
The dashboard starts it as a separate process in its own process group, so training
survives page switches and reloads, never blocks the app, and can really be stopped.
With several processes that worker is the launcher of streamrec/training/launcher.py, which
starts the training ranks through torchrun's elastic agent; rank 0 records the run here.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamrec.config import RunConfig
from streamrec.data.sessions import SessionData
from streamrec.data.sources import open_data
from streamrec.data.splits import Split
from streamrec.evaluation.baselines import evaluate_baselines, left_out_baselines, score_baselines
from streamrec.evaluation.metrics import paired_differences, time_to_reach
from streamrec.threads import worker_env
from streamrec.training import distributed, runs
from streamrec.training.distributed import Ranks
from streamrec.training.estimate import check_training_memory
from streamrec.training.events import EndEvent, EpochEvent, Event, epoch_metric
from streamrec.training.loop import evaluate_model, train
from streamrec.training.stopping import ShouldStop, StopRequested
from streamrec.world.oracle import Oracle

LOCK_FILE = ".launch.lock"
HEARTBEAT_EVERY = 2.0  # seconds between status rewrites while batches stream in
BASELINE_SAMPLE = 10_000  # validation targets scored for the live chart's reference lines
MAX_PROCESSES = 64  # local training processes one launch may start
ORACLE_FRACTION = 0.95  # "time to 95% of the oracle": the share of its validation Hit@K


def run_training(
    path: Path,
    config: RunConfig | None = None,
    with_baselines: bool = True,
    on_event: Callable[[Event], None] | None = None,
    ranks: Ranks | None = None,
) -> runs.RunStatus:
    """Train the run in `path` to the end, recording everything there; returns the final status.

    Four phases, each announcing itself in status.json once: open the data, score the baselines
    on a validation sample (the live chart's reference lines), train, and score the best
    checkpoint against every baseline on the report split. SIGTERM and a STOP file both end the
    run after the current batch with state 'stopped'; they also cut short the scoring of the
    baselines, between batches. Under torchrun (`ranks`, process group joined) rank 0 does all
    of this and the other ranks only train (`_follow`); they record nothing and return a blank
    RunStatus.
    """
    path = Path(path)
    if ranks is not None and not ranks.is_main:
        return _follow(path, config, ranks)
    supervised = claim(path, ranks)
    config = config or runs.read_config(path)
    stop = {"signal": False}

    def on_sigterm(signum: int, frame: Any) -> None:
        stop["signal"] = True

    def should_stop() -> bool:
        return stop["signal"] or runs.stop_requested(path)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    now = time.time()
    runs.write_status(
        path, state="running", reason="", started=now, heartbeat=now,
        processes=1 if ranks is None else ranks.world_size,
        # Under the dashboard's launcher its pid stays: Stop signals the launcher.
        **({} if supervised else {"pid": os.getpid()}),
    )
    beating = _heartbeat(path)
    try:
        if runs.stop_requested(path):  # Stop pressed while the worker was still starting up
            return _stopped_before_training(path)
        data, split = _open_data(path, config)
        if ranks is not None:
            distributed.barrier()  # the data is on disk: the other ranks may load it
        reference: dict[str, runs.Metrics] = {}
        if with_baselines:
            try:
                reference = _reference_baselines(path, config, data, split, should_stop)
            except StopRequested:
                return _stopped_before_training(path)
        epochs, end = _train(path, config, data, split, should_stop, on_event, ranks)
        return _final_scoring(
            path, config, data, split, should_stop, end, epochs, reference, with_baselines
        )
    except KeyboardInterrupt:  # Ctrl-C in `python -m streamrec train`: the best checkpoint stays
        _record_end(path, state="stopped", reason="interrupted (Ctrl-C)")
        raise
    except Exception as exc:  # any crash becomes a failed status with its reason, not a zombie
        if not path.is_dir():
            raise runs.RunError(f"run folder {path} was deleted during training") from None
        reason = f"{type(exc).__name__}: {exc}"
        if ranks is not None and distributed.is_lost_peer(exc):
            reason = f"{distributed.LOST_PEER} ({reason})"
        _record_end(path, state="failed", reason=" ".join(reason.split())[:2000])
        raise
    finally:
        beating.set()
        signal.signal(signal.SIGTERM, previous)


def _stopped_before_training(path: Path) -> runs.RunStatus:
    return runs.write_status(
        path, state="stopped", reason="stop requested before training began",
        finished=time.time(), phase="done",
    )


def _open_data(path: Path, config: RunConfig) -> tuple[SessionData, Split]:
    """Phase 1: simulate or load the sessions and store them, their split and catalog with
    the run, so pages rebuild exactly what it saw."""
    runs.write_status(
        path, heartbeat=time.time(), phase="simulating" if config.data.is_simulated else "loading"
    )
    data, split = open_data(config)
    if data.catalog is not None:
        runs.save_catalog(path, data.catalog.item_category, data.catalog.item_popularity)
    runs.save_data(path, data, split)
    return data, split


def _reference_baselines(
    path: Path, config: RunConfig, data: SessionData, split: Split, should_stop: ShouldStop
) -> dict[str, runs.Metrics]:
    """Phase 2: the baselines on a seeded validation sample, the live chart's reference lines,
    so training starts within seconds; the full report split is scored after training."""
    runs.write_status(path, heartbeat=time.time(), phase="baselines")
    tc = config.train
    sample = split.valid.sample(BASELINE_SAMPLE, tc.seed)
    scores = evaluate_baselines(
        data, split, tc.max_len, tc.cutoffs, tc.exclude_seen, targets=sample,
        should_stop=should_stop,
    )
    runs.write_status(
        path, baselines_valid=scores, baselines_valid_targets=len(sample),
        baselines_left_out=left_out_baselines(data),
    )
    return scores


def _train(
    path: Path,
    config: RunConfig,
    data: SessionData,
    split: Split,
    should_stop: ShouldStop,
    on_event: Callable[[Event], None] | None,
    ranks: Ranks | None = None,
) -> tuple[list[EpochEvent], EndEvent]:
    """Phase 3: stream the trainer's events into metrics.jsonl, with progress and a heartbeat
    in status.json; returns the epoch events and the end event."""
    runs.write_status(path, heartbeat=time.time(), phase="training")
    last_beat = 0.0
    epochs: list[EpochEvent] = []
    for event in train(
        config, data, split, should_stop, lambda kind, model: runs.save_weights(path, kind, model),
        ranks,
    ):
        runs.append_event(path, event)
        if on_event:
            on_event(event)
        now = time.time()
        if event["event"] == "end":
            if not config.train.keep_last:
                (path / runs.WEIGHTS["last"]).unlink(missing_ok=True)
            return epochs, event
        if event["event"] == "epoch":
            epochs.append(event)
        if event["event"] == "batch":
            if now - last_beat > HEARTBEAT_EVERY:
                runs.write_status(path, heartbeat=now, progress=event["progress"], eta=event["eta"])
                last_beat = now
        else:
            runs.write_status(path, heartbeat=now)
            last_beat = now
    raise RuntimeError("the trainer ended without an end event")


def _final_scoring(
    path: Path,
    config: RunConfig,
    data: SessionData,
    split: Split,
    should_stop: ShouldStop,
    end: EndEvent,
    epochs: list[EpochEvent],
    reference: dict[str, runs.Metrics],
    with_baselines: bool,
) -> runs.RunStatus:
    """Phase 4: every baseline and the best checkpoint on the report split (when the run has a
    final score), then the run's terminal status, written once."""
    reason = end["reason"]
    scored: dict[str, Any] = {}
    if with_baselines and end["final"]:
        runs.write_status(path, heartbeat=time.time(), phase="final evaluation")
        try:
            scored = _compare(path, config, data, split, should_stop)
        except StopRequested:
            reason = "stop requested while the baselines were scored: they are left out"
        scored["to_oracle"] = to_oracle(epochs, reference, config)
    now = time.time()
    return runs.write_status(
        path, state=end["status"], reason=reason, heartbeat=now, finished=now,
        final=end["final"], best_valid=best_validation(epochs), best_epoch=end["best_epoch"],
        report_split=end["report_split"], phase="done", **scored,
    )


def _follow(path: Path, config: RunConfig | None, ranks: Ranks) -> runs.RunStatus:
    """A rank other than 0: train alongside rank 0 and write nothing. The data comes from the
    run folder rank 0 just saved it to (same machine or a shared disk), else from the same
    source (another machine: the same simulator seed or the same imported data set)."""
    config = config or runs.read_config(path)
    stop = {"signal": False}

    def on_sigterm(signum: int, frame: Any) -> None:
        stop["signal"] = True

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        distributed.barrier()
        # Not a legacy fallback: rank 0 always stores them, but another machine may not see its disk.
        shared = (path / runs.DATA_FILE).is_file() and (path / runs.SPLIT_FILE).is_file()
        data, split = runs.load_data(path, config) if shared else open_data(config)
        for _ in train(config, data, split, lambda: stop["signal"] or runs.stop_requested(path),
                       None, ranks):
            pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    return runs.RunStatus()


def _compare(
    path: Path, config: RunConfig, data: SessionData, split: Split, should_stop: ShouldStop
) -> dict[str, Any]:
    """Status fields after training: every baseline's metrics on the report split, and the
    paired difference of the best checkpoint minus each of them on the same targets, with its
    95% bootstrap interval over the report sessions."""
    tc = config.train
    scored = score_baselines(
        data, split, tc.max_len, tc.cutoffs, tc.exclude_seen, should_stop=should_stop
    )
    model, _ = runs.load_model(path, "best")  # the checkpoint `final` reports on
    _, ranks = evaluate_model(model, data, split.report, tc.max_len, tc.cutoffs, tc.exclude_seen)
    return {
        "baselines": {name: metrics for name, (metrics, _) in scored.items()},
        "paired": paired_differences(
            ranks, {name: other for name, (_, other) in scored.items()},
            sessions=split.report.session,
        ),
    }


def best_validation(epochs: list[EpochEvent]) -> runs.Metrics:
    """The validation metrics (hit@K, mrr@K, ndcg@K) of the best epoch, the kept checkpoint;
    empty before any epoch was validated. A stopped run's verdict reads them."""
    best = [event for event in epochs if event.get("best")]
    if not best:
        return {}
    return {key: float(value) for key, value in best[-1].items()
            if "@" in key and isinstance(value, (int, float))}


def to_oracle(
    epochs: list[EpochEvent], baselines_valid: dict[str, runs.Metrics], config: RunConfig
) -> runs.OracleReach | None:
    """When the validation Hit@K (smallest cutoff) first reached ORACLE_FRACTION of the
    oracle's, as the epoch and the training seconds (validation excluded) by then; None for
    both if it never did. None without an oracle (imported data)."""
    key = f"hit@{min(config.train.cutoffs)}"
    oracle = baselines_valid.get(Oracle.name, {}).get(key)
    if oracle is None:
        return None
    level = ORACLE_FRACTION * oracle
    scored = [(event, value) for event in epochs if (value := epoch_metric(event, key)) is not None]
    values = [value for _, value in scored]
    return runs.OracleReach(
        fraction=ORACLE_FRACTION, key=key, oracle=oracle, best=max(values, default=None),
        epoch=time_to_reach([event["epoch"] for event, _ in scored], values, level),
        train_seconds=time_to_reach([event["train_seconds"] for event, _ in scored], values, level),
        elapsed=time_to_reach([event["elapsed"] for event, _ in scored], values, level),
    )


def claim(path: Path, ranks: Ranks | None = None) -> bool:
    """RunError unless this process may train the run: it was just created, or the launcher
    marked it running for this very process (or, for rank 0 under torchrun, for the launcher
    that started it: then True). A run that ended is never trained again (that would
    overwrite its checkpoints and double its metrics)."""
    status = runs.read_status(path)
    state = status.state
    if state == "created" or (state == "running" and status.pid == os.getpid()):
        return False
    if ranks is not None and state == "running" and status.pid == os.getppid():
        return True
    if state in runs.TERMINAL:
        raise runs.RunError(
            f"run {Path(path).name!r} has already ended ({state}); train a new run instead"
        )
    raise runs.RunError(f"run {Path(path).name!r} is not waiting to be trained (state: {state})")


def _record_end(path: Path, **fields: Any) -> None:
    """Write the final status if the disk still lets us; the original error matters more."""
    try:
        runs.write_status(path, heartbeat=time.time(), finished=time.time(), phase="done", **fields)
    except OSError:
        pass


def _heartbeat(path: Path) -> threading.Event:
    """Rewrite the status heartbeat every HEARTBEAT_EVERY s from a daemon thread until the
    returned event is set: long steps without events (simulating, scoring the baselines on a
    big dataset, validating a big model) must not make a live worker read as dead."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT_EVERY):
            try:
                runs.write_status(path, heartbeat=time.time())
            except OSError:  # the folder is gone: nothing left to keep alive
                return

    threading.Thread(target=beat, name="heartbeat", daemon=True).start()
    return done


def active_runs(root: Path | None = None) -> list[runs.RunInfo]:
    """Runs whose training process is alive."""
    return [info for info in runs.list_runs(root) if info.state == "running"]


class JobBusy(RuntimeError):
    """Raised when a training is already running and only one is allowed."""


def launch(
    config: RunConfig,
    root: Path | None = None,
    name: str | None = None,
    max_jobs: int = 1,
    processes: int = 1,
) -> Path:
    """Create a run folder and start its training in a separate process; returns the folder.
    With `processes` > 1 that process launches as many training ranks through torchrun.

    Raises JobBusy if `max_jobs` trainings already run, ValueError for a bad config, name or
    number of processes, or one whose measured memory estimate is over
    streamrec.memory.MAX_TRAIN_BYTES.
    """
    if isinstance(processes, bool) or not isinstance(processes, int) or not 1 <= processes <= MAX_PROCESSES:
        raise ValueError(f"processes = {processes!r} must be a whole number from 1 to {MAX_PROCESSES}")
    check_training_memory(config)  # before a folder or a process exists
    root = runs.make_root(root)
    with _launch_lock(root):
        busy = active_runs(root)
        if len(busy) >= max_jobs:
            names = ", ".join(info.run_id for info in busy)
            raise JobBusy(
                f"a training is already running ({names}); with 2 CPU cores one job at a time "
                "keeps both fast. Stop it or wait for it to finish."
            )
        path = runs.create_run(config, root, name)
        token = secrets.token_hex(8)
        try:
            runs.write_status(path, token=token)
            with open(path / runs.LOG_FILE, "ab") as log:  # the child keeps its own copy
                process = subprocess.Popen(
                    worker_command(path, token, processes),
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True, cwd=Path(__file__).resolve().parents[2],
                    env=worker_env(),  # passive OpenMP waits: a busy neighbour costs its share
                )
        except OSError:
            shutil.rmtree(path, ignore_errors=True)  # no worker, no half-made run left behind
            raise
        # Reap it the moment it exits, so no zombie lingers while the server lives.
        threading.Thread(target=process.wait, name=f"reap {path.name}", daemon=True).start()
        # Mark it running at once so a second Start in the same instant sees it; the worker
        # has not written yet (it is still importing torch) unless it already failed.
        if runs.read_status(path).state == "created":
            runs.write_status(
                path, state="running", pid=process.pid, heartbeat=time.time(), phase="starting"
            )
    return path


def worker_command(path: Path, token: str, processes: int = 1) -> list[str]:
    """The worker's command line: it names the run folder and the run's start token, which
    `is_worker` checks before any signal is sent (and the number of training processes)."""
    path = Path(path).resolve()
    return [
        sys.executable, "-m", "streamrec", "worker", str(path),
        "--models-dir", str(path.parent), f"--token={token}",
    ] + ([f"--processes={processes}"] if processes > 1 else [])


def is_worker(pid: int, path: Path, token: str | None) -> bool:
    """True if process `pid` is the worker started for this run with this start token, read
    from /proc/<pid>/cmdline: a pid in status.json alone is never trusted."""
    if not token:
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return False
    expected = worker_command(path, token)[1:]  # the interpreter's path may read differently
    return argv[1 : len(expected) + 1] == expected


def stop(path: Path, timeout: float = 0.0) -> None:
    """Stop a run's worker after its current batch (STOP file + SIGTERM).

    With a timeout, wait that long and then kill its process group if it is still there.
    Only a process that `is_worker` confirms is signalled; any other training (the CLI's
    `train`) stops through the STOP file alone.
    """
    path = Path(path)
    runs.request_stop(path)
    status = runs.read_status(path)
    pid = status.pid
    if status.state != "running" or pid is None:
        return
    if status.phase == "starting":
        return  # no SIGTERM handler yet: the worker reads the STOP file as its first step
    if not is_worker(pid, path, status.token):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + timeout
    while time.time() < deadline and runs.pid_running(pid):
        time.sleep(0.1)
    if timeout and runs.pid_running(pid) and is_worker(pid, path, status.token):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        runs.write_status(path, state="stopped", reason="killed after not stopping in time", phase="done")


class _launch_lock:
    """An exclusive lock file so two Start clicks cannot both pass the busy check."""

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_FILE

    def __enter__(self) -> None:
        deadline = time.time() + 10
        while True:
            try:
                self.fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                return
            except FileExistsError:
                if time.time() - _mtime(self.path) > 30:  # left by a crashed launcher
                    self.path.unlink(missing_ok=True)
                elif time.time() > deadline:
                    raise JobBusy("another training is being launched right now; try again") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
        self.path.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return time.time()
