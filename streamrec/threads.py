"""How many threads torch uses, and how its idle OpenMP threads wait, in every process.

Two settings decide whether a training survives a busy neighbour on a small machine:

- the OpenMP wait policy. With torch's default (active waiting), a thread that reaches the
  end of a parallel region spins on a core until its slowest sibling arrives; when another
  process holds one of the cores, that sibling is descheduled and the spinning thread burns
  the very core it waits for. Issue #18 measured a 3,000-session epoch at 295 s this way,
  against 20 s with `OMP_WAIT_POLICY=PASSIVE` (benchmarks/bench_threads.py re-measures it).
  libgomp reads the variable once, when torch loads it, so it must be in the environment
  before `import torch`: `quiet_environment` does that for this process, `worker_env` for a
  child's.
- the thread count: by default the cores this process may run on (its affinity mask), or
  `STREAMREC_THREADS` / `OMP_NUM_THREADS` when set.

This module imports torch only inside functions, so the CLI can import it first.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

THREADS_ENV = "STREAMREC_THREADS"  # this app's own override of the training thread count
WAIT_POLICY = "PASSIVE"  # idle OpenMP threads sleep instead of spinning


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def _positive_int(value: str | None) -> int | None:
    try:
        number = int(value) if value is not None else 0
    except ValueError:
        return None
    return number if number >= 1 else None


def training_threads(env: Mapping[str, str] | None = None) -> int:
    """Threads a training uses: STREAMREC_THREADS, else OMP_NUM_THREADS, else every core this
    process may use (never more). An unreadable value is ignored rather than fatal."""
    env = os.environ if env is None else env
    for name in (THREADS_ENV, "OMP_NUM_THREADS"):
        number = _positive_int(env.get(name))
        if number is not None:
            return min(number, available_cores())
    return available_cores()


def worker_env(threads: int | None = None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process that will import torch: the parent's, with the
    passive wait policy (unless one was set explicitly) and its thread count pinned."""
    child = dict(os.environ if env is None else env)
    child.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)
    child["OMP_NUM_THREADS"] = str(threads or training_threads(child))
    return child


def quiet_environment() -> bool:
    """Set the passive wait policy for this process; call before torch is imported. Returns
    False (and changes nothing) when torch is already loaded, where it would have no effect."""
    if "torch" in sys.modules:
        return False
    os.environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)
    return True


def wait_policy() -> str:
    """The OpenMP wait policy this process runs with ("ACTIVE" is libgomp's default)."""
    return os.environ.get("OMP_WAIT_POLICY", "").upper() or "ACTIVE"


@contextmanager
def using_threads(threads: int) -> Iterator[None]:
    """Run the enclosed tensor work on `threads` threads, then restore the setting. With torch's
    OpenMP backend the setting is per thread, so other script runs and pages keep theirs."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(max(int(threads), 1))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the enclosed tensor work on the calling thread alone, then restore the setting.

    One session is far too little work to split across threads, and on a busy 2-core machine
    waking torch's intra-op pool costs more than the work itself (a page update measured
    ~50 ms with two threads under load, ~3 ms with one).
    """
    with using_threads(1):
        yield
