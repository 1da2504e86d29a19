"""Shared bits of the benchmark scripts: run from the repository root as
`python benchmarks/<script>.py`."""
from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streamrec.threads import quiet_environment

quiet_environment()  # before torch loads: idle OpenMP threads sleep instead of spinning

import torch


def machine() -> str:
    """One line on where the figures come from."""
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"torch {torch.__version__}, {torch.get_num_threads()} threads")


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Fastest wall time of `repeat` calls, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def uptime() -> str:
    """The `uptime` line: the machine's load when a figure was taken (it is shared)."""
    import subprocess

    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
