"""Starting the training processes of one run: torchrun's elastic agent, driven from Python.

`python -m streamrec worker RUN --processes N` (what the dashboard's Start launches through
`jobs.launch`) runs `supervise`: torchrun's own launcher (`torch.distributed.launcher.api.
elastic_launch`, which `python -m torch.distributed.run` calls) starts N ranks of
`python -m streamrec worker RUN` on this machine, and this process stays the run's worker:

- Stop (STOP file + SIGTERM to it) reaches every rank: the agent passes SIGTERM on, the
  ranks agree to stop before their next batch, rank 0 records 'stopped'.
- A rank that dies makes the agent stop the others and report which rank failed and how;
  the run is then marked failed with that reason, and its checkpoints stay as they were.

`join` is the other side: a process torchrun started joins the process group.
"""
from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

from torch.distributed.elastic.multiprocessing.api import SignalException
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure
from torch.distributed.launcher.api import LaunchConfig, elastic_launch

from streamrec.config import RunConfig
from streamrec.training import distributed, runs
from streamrec.training.distributed import Ranks
from streamrec.training.objectives import resolve_device

SHUTDOWN_SECONDS = 30.0  # after SIGTERM, the ranks' time to finish a batch before SIGKILL


def join(config: RunConfig) -> Ranks | None:
    """Under torchrun: join the process group for `config`'s device and return this
    process's ranks; None for a plain single process."""
    ranks = distributed.from_env()
    if ranks is not None:
        distributed.setup(ranks, resolve_device(config.train.device))
    return ranks


def supervise(path: Path, processes: int) -> runs.RunStatus:
    """Train the run in `path` on `processes` local ranks through torchrun's agent; returns
    the final status (a failed one names the rank that died)."""
    path = Path(path)
    status = runs.read_status(path)
    if status.state not in ("created", "running") or status.pid not in (None, os.getpid()):
        raise runs.RunError(f"run {path.name!r} is not waiting to be trained (state: {status.state})")
    runs.write_status(
        path, state="running", reason="", pid=os.getpid(), heartbeat=time.time(),
        phase="starting", processes=processes,
    )
    os.environ["OMP_NUM_THREADS"] = "1"  # the ranks share the cores
    config = LaunchConfig(
        min_nodes=1, max_nodes=1, nproc_per_node=processes,
        run_id=f"streamrec-{uuid.uuid4().hex[:12]}", rdzv_backend="c10d",
        rdzv_endpoint="localhost:0",  # as torchrun --standalone: a free port on this machine
        max_restarts=0, shutdown_timeout=int(SHUTDOWN_SECONDS),
    )
    args = ("-m", "streamrec", "worker", str(path.resolve()), "--models-dir", str(path.resolve().parent))
    try:
        elastic_launch(config, sys.executable)(*args)
    except ChildFailedError as failed:
        return record_failure(path, failed.failures, processes)
    except SignalException:  # Stop: the agent has passed SIGTERM on and waited for the ranks
        pass
    status = runs.read_status(path)
    if status.state == "running":  # no rank got to record an end
        return runs.write_status(
            path, state="stopped" if runs.stop_requested(path) else "failed",
            reason="stop requested" if runs.stop_requested(path) else "the training processes ended without a result",
            finished=time.time(), phase="done",
        )
    return status


def record_failure(path: Path, failures: dict[int, ProcessFailure], processes: int) -> runs.RunStatus:
    """Mark the run failed because a rank died, naming the first rank that failed and what
    is kept; an end rank 0 recorded itself (completed, stopped, or its own error) stays."""
    status = runs.read_status(path)
    state, reason = status.state, status.reason
    rank_zero_said = state in ("completed", "stopped") or (
        state == "failed" and reason and not reason.startswith(distributed.LOST_PEER)
        and "no heartbeat" not in reason and 0 in failures
    )
    if rank_zero_said and not (state == "stopped" and not runs.stop_requested(path)):
        return status
    rank, failure = min(failures.items(), key=lambda item: item[1].timestamp)
    how = (f"killed by {failure.signal_name()}" if failure.exitcode < 0
           else f"exit code {failure.exitcode}")
    return runs.write_status(
        path, state="failed", phase="done", finished=time.time(), heartbeat=time.time(),
        reason=f"training process {rank} of {processes} ended unexpectedly ({how}), so the "
               f"others were stopped; {_kept(path)}",
    )


def _kept(path: Path) -> str:
    """What a failed run still has: its best checkpoint so far, or nothing."""
    if not (path / runs.WEIGHTS["best"]).exists():
        return "no epoch had ended, so there is no checkpoint"
    best = [e["epoch"] for e in runs.read_events(path) if e["event"] == "epoch" and e["best"]]
    return f"the best checkpoint so far (epoch {best[-1]:g}) is kept" if best else "its checkpoint is kept"
