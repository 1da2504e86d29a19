"""Tune jobs: `python -m streamrec tune` as a worker writing its status into the tune folder,
and the launcher the Data page uses, on the same machinery as training jobs
(`streamrec.training.jobs`): its own process group, status.json with a heartbeat and
progress, a STOP file and SIGTERM for Stop, a start token checked before any signal.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from streamrec.training import runs
from streamrec.training.jobs import JobBusy
from streamrec.training.recommended import from_tune_result, write_recommendation
from streamrec.training.tuning import TuneConfig, TuneTarget, tune

HEARTBEAT_EVERY = 2.0


def run_tune(
    target: TuneTarget,
    config: TuneConfig,
    fresh: bool = False,
    progress: Callable[[float, str], None] | None = None,
    dataset_folder: Path | None = None,
    clear_stop: bool = True,
    started: float | None = None,
) -> runs.RunStatus:
    """Run a tune recording its state in the tune folder; on an imported data set, store the
    recommendation in `dataset_folder`. SIGTERM and a STOP file end the search early (the
    best settings so far are still scored). A launched worker keeps a STOP file the page
    wrote before it started (`clear_stop` False). Returns the final status."""
    folder = target.folder
    folder.mkdir(parents=True, exist_ok=True)
    if clear_stop:
        (folder / runs.STOP_FILE).unlink(missing_ok=True)
    stop = {"signal": False}

    def on_sigterm(signum: int, frame: Any) -> None:
        stop["signal"] = True

    def should_stop() -> bool:
        return stop["signal"] or runs.stop_requested(folder)

    started = started or time.time()
    state: dict[str, Any] = {"message": "starting"}

    def report(fraction: float, message: str) -> None:
        state["message"] = message
        if progress:
            progress(fraction, message)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    runs.write_status(folder, state="running", reason="", pid=os.getpid(), started=started,
                      heartbeat=started, budget=config.budget,
                      progress=0.0, message="starting", finished=None)
    done = threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT_EVERY):
            now = time.time()
            try:
                runs.write_status(folder, heartbeat=now, message=state["message"],
                                  progress=min(1.0, (now - started) / config.budget))
            except OSError:
                return

    threading.Thread(target=beat, name="tune heartbeat", daemon=True).start()
    try:
        result = tune(target, config, should_stop, report, fresh, started)
        note = ""
        if dataset_folder is not None:
            recommendation = from_tune_result(result, target.fingerprint)
            if recommendation is not None:
                write_recommendation(dataset_folder, recommendation)
            else:
                note = "no neural family finished a trial: the recommendation is unchanged"
        final = "stopped" if result["stopped"] else "completed"
        reason = "stop requested: the best settings so far were scored" if result["stopped"] else note
        return runs.write_status(folder, state=final, reason=reason, finished=time.time(),
                                 progress=1.0, message="done")
    except KeyboardInterrupt:
        runs.write_status(folder, state="stopped", reason="interrupted (Ctrl-C)",
                          finished=time.time(), message="done")
        raise
    except Exception as exc:  # a crash is a failed status with its reason, not a zombie
        runs.write_status(folder, state="failed", reason=f"{type(exc).__name__}: {exc}",
                          finished=time.time(), message="done")
        raise
    finally:
        done.set()
        signal.signal(signal.SIGTERM, previous)


def tune_state(folder: Path) -> runs.RunStatus:
    """The tune folder's status (a fresh one where there is none or it is unreadable), with a
    running tune whose heartbeat stopped read as failed."""
    try:
        status = runs.read_status(folder)
    except runs.RunError:
        return runs.RunStatus()
    if status.state == "running":
        beat, pid = status.heartbeat, status.pid
        dead = pid is not None and not runs.pid_running(pid)
        if dead or beat is None or time.time() - beat > runs.HEARTBEAT_TIMEOUT:
            status = replace(status, state="failed", reason="the tune process is gone")
    return status


def command(dataset: str, budget: float, methods: tuple[str, ...], token: str,
            data_root: Path, refit: bool = TuneConfig.refit) -> list[str]:
    """The worker's command line (a `tune` CLI call carrying the start token)."""
    return [sys.executable, "-m", "streamrec", "tune", "--dataset", dataset,
            "--budget", f"{budget:g}s", "--methods", ",".join(methods),
            "--data-dir", str(Path(data_root).resolve()), "--quiet", f"--token={token}",
            "--refit" if refit else "--no-refit"]


def launch(dataset: str, folder: Path, budget: float, methods: tuple[str, ...],
           data_root: Path, refit: bool = TuneConfig.refit) -> None:
    """Start a tune of an imported data set in its own process; JobBusy if one runs there.
    `refit`: the final models are fitted on training + validation (`tune --refit`)."""
    TuneConfig(budget=budget, methods=methods, refit=refit).validate()
    if tune_state(folder).state == "running":
        raise JobBusy(f"a tune of {dataset} is already running: stop it or wait for it")
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    (folder / runs.STOP_FILE).unlink(missing_ok=True)
    runs.write_status(folder, state="running", token=token, heartbeat=time.time(),
                      started=time.time(), budget=budget, progress=0.0, message="starting",
                      pid=None, reason="", finished=None)
    with open(folder / runs.LOG_FILE, "ab") as log:
        process = subprocess.Popen(
            command(dataset, budget, methods, token, data_root, refit), stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            cwd=Path(__file__).resolve().parents[2],
        )
    threading.Thread(target=process.wait, name=f"reap tune {dataset}", daemon=True).start()
    runs.write_status(folder, pid=process.pid)


def is_tune_worker(pid: int, status: runs.RunStatus) -> bool:
    """True if `pid` runs `streamrec tune` with the start token status.json keeps."""
    token = status.token
    if not token:
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return False
    return "tune" in argv and f"--token={token}" in argv


def stop(folder: Path) -> None:
    """Ask a running tune to stop (STOP file, and SIGTERM to a confirmed worker)."""
    runs.request_stop(folder)
    status = tune_state(folder)
    pid = status.pid
    if status.state == "running" and pid is not None and is_tune_worker(pid, status):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
