"""How long Stop takes to take effect on the default config: a worker is started three times
and stopped while it scores the baselines, while it trains, and while it validates the first
epoch; the time is from `jobs.stop` to the status leaving 'running'.

Usage: python benchmarks/bench_stop.py   (about a minute; run folders go to a temp dir)
"""
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import machine

from streamrec.config import RunConfig
from streamrec.training import jobs, runs


def wait(predicate: Callable[[], bool], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.05)


def first_epoch_trained(path: Path) -> bool:
    """The first epoch's last batch is logged: validation starts right after it."""
    events = runs.read_events(path)
    start = [e for e in events if e["event"] == "start"]
    return bool(start) and any(
        e["event"] == "batch" and e["batch"] == start[0]["batches_per_epoch"] for e in events
    )


def main() -> None:
    print(machine())
    root = Path(tempfile.mkdtemp())
    moments = {
        "scoring the baselines": lambda path: runs.read_status(path).phase == "baselines",
        "training": lambda path: any(e["event"] == "batch" for e in runs.read_events(path)),
        "validating epoch 1": first_epoch_trained,
    }
    for moment, reached in moments.items():
        path = jobs.launch(RunConfig(), root, moment.replace(" ", "-"))
        wait(lambda reached=reached, path=path: reached(path))
        asked = time.monotonic()
        jobs.stop(path)
        wait(lambda path=path: runs.read_status(path).state != "running")
        status = runs.read_status(path)
        print(f"stop while {moment}: {time.monotonic() - asked:.2f} s -> {status['state']} "
              f"({status.reason}); load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
