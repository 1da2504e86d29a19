"""A short training beside a busy neighbour, with torch's old thread settings and this app's.

Each training runs in a fresh child process (the OpenMP wait policy is read when torch loads,
so it cannot change inside one process), with the neighbour either idle or one single-threaded
Python process spinning on a core. Settings compared, each from a clean environment:

- old: what a process got before: torch's defaults (one thread per core, OpenMP's active
  waiting), i.e. no OMP_NUM_THREADS, OMP_WAIT_POLICY or STREAMREC_THREADS;
- new: `streamrec.threads.worker_env()`, what the CLI, the app's workers and the benchmarks
  now run with (passive waiting, thread count from `training_threads()`);
- 1 thread: OMP_NUM_THREADS=1 with the old active waiting, the setting the tests pin.

Each child trains the default LSTM on simulated sessions for `--batches` batches (epochs of
`--sessions` sessions, cut by a step budget) and reports milliseconds per batch.

Usage: python benchmarks/bench_threads.py [--sessions 600] [--batches 8]   (a few minutes)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "STREAMREC_THREADS", "MKL_NUM_THREADS")
BUSY = "while True:\n    pass\n"  # one core's worth of someone else's work


def child(sessions: int, n_batches: int) -> None:
    """Train in this process as its environment says, print {"ms_per_batch", "threads", ...}."""
    sys.path.insert(0, str(ROOT))
    import torch

    from streamrec.config import RunConfig, SimConfig, TrainConfig
    from streamrec.data.sources import open_data
    from streamrec.training.loop import train

    threads = int(os.environ.get("STREAMREC_BENCH_THREADS", "0")) or torch.get_num_threads()
    torch.set_num_threads(threads)
    config = RunConfig(
        sim=SimConfig(n_sessions=sessions, seed=3), train=TrainConfig(epochs=50, log_every=1)
    ).validate()
    data, split = open_data(config)
    times: list[float] = []
    last = None
    for event in train(config, data, split, should_stop=lambda: len(times) >= n_batches):
        if event["event"] == "batch":
            now = time.perf_counter()
            if last is not None:  # the first batch carries one-off allocations
                times.append(now - last)
            last = now
        elif event["event"] == "epoch":
            last = None  # validation is not a training batch
    times.sort()
    print(json.dumps({
        "ms_per_batch": 1000 * sum(times) / len(times),
        "median_ms": 1000 * times[len(times) // 2],
        "threads": torch.get_num_threads(),
        "wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset: active)"),
    }))


def settings() -> dict[str, dict[str, str]]:
    """The environments compared, each built from this one with the thread variables removed."""
    sys.path.insert(0, str(ROOT))
    from streamrec.threads import worker_env

    clean = {k: v for k, v in os.environ.items() if k not in CLEAN}
    return {
        "old (torch defaults)": clean,
        "new (worker_env)": worker_env(env=clean),
        "1 thread, active wait": {**clean, "OMP_NUM_THREADS": "1", "STREAMREC_BENCH_THREADS": "1"},
    }


def run(env: dict[str, str], sessions: int, n_batches: int) -> dict[str, float]:
    """One child training; its JSON line."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--sessions", str(sessions),
         "--batches", str(n_batches)],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=600)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.sessions, args.batches)
        return
    print(f"{os.cpu_count()} cores; default LSTM, {args.sessions} simulated sessions, "
          f"{args.batches} timed batches of 256 targets; ms per batch (mean, median)")
    results: dict[tuple[str, str], dict[str, float]] = {}
    for neighbour in ("idle", "busy"):
        busy = subprocess.Popen([sys.executable, "-c", BUSY]) if neighbour == "busy" else None
        try:
            for name, env in settings().items():
                results[name, neighbour] = r = run(env, args.sessions, args.batches)
                print(f"  neighbour {neighbour:4}  {name:22}  {r['threads']} thread(s), "
                      f"wait {r['wait_policy']:15}  {r['ms_per_batch']:8.1f}  "
                      f"{r['median_ms']:8.1f}", flush=True)
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
    print("slow-down from the busy neighbour (busy / idle, mean ms per batch):")
    for name in settings():
        ratio = results[name, "busy"]["ms_per_batch"] / results[name, "idle"]["ms_per_batch"]
        print(f"  {name:22} {ratio:6.2f}x")
    old, new = results["old (torch defaults)", "busy"], results["new (worker_env)", "busy"]
    print(f"busy neighbour, old / new: {old['ms_per_batch'] / new['ms_per_batch']:.1f}x")
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())


if __name__ == "__main__":
    main()
