"""Import + preprocessing of a synthetic 1,000,000-click CSV, as the CLI does it.

Writes a log shaped like YOOCHOOSE's (session_id, item_id, Unix-second timestamp; Zipf item
popularity, geometric session lengths, 30 days) into a temporary folder, then runs
`python -m streamrec import` on it in a child process, `--repeat` times. Prints the wall time
of the whole command, the import time it reports (reading, preprocessing and writing the data
set), and the child's peak resident memory (getrusage, which also counts pyarrow's buffers that
tracemalloc would miss). Target: <= 10 s on 2 cores.

Usage: python benchmarks/bench_import.py [--clicks 1000000] [--repeat 2]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def write_log(path: Path, n_clicks: int, seed: int = 0) -> tuple[int, int]:
    """A synthetic click log of about `n_clicks` rows; returns (sessions, distinct items)."""
    rng = np.random.default_rng(seed)
    lengths = rng.geometric(0.25, size=n_clicks // 3)  # mean 4 clicks
    lengths = lengths[np.cumsum(lengths) <= n_clicks]
    n_sessions = lengths.shape[0]
    items = (rng.zipf(1.3, size=int(lengths.sum())) % 60_000) + 214_500_000
    starts = np.sort(rng.uniform(1.396e9, 1.396e9 + 30 * 86_400, size=n_sessions))
    gaps = rng.exponential(60.0, size=items.shape[0])
    session = np.repeat(np.arange(n_sessions), lengths)
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    within = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[offsets] - gaps[offsets], lengths)
    times = np.repeat(starts, lengths) + within
    order = rng.permutation(items.shape[0])  # a log need not be sorted
    with open(path, "w") as fh:
        fh.write("session_id,item_id,timestamp\n")
        block = 200_000
        for lo in range(0, order.shape[0], block):
            rows = order[lo : lo + block]
            fh.write("".join(f"{s},{i},{t:.3f}\n"
                             for s, i, t in zip(session[rows], items[rows], times[rows])))
    return n_sessions, int(np.unique(items).shape[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} (1 min)")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "clicks.csv"
        start = time.perf_counter()
        n_sessions, n_items = write_log(log, args.clicks)
        print(f"wrote {log.stat().st_size / 2**20:.1f} MiB CSV ({n_sessions:,} sessions, "
              f"{n_items:,} items) in {time.perf_counter() - start:.1f} s")
        for run in range(args.repeat):
            env = {**os.environ, "STREAMREC_DATA_DIR": str(Path(tmp) / f"data{run}")}
            command = [sys.executable, "-m", "streamrec", "import", str(log), "--name", "bench",
                       "--split", "time", "--test-days", "1", "--json", "--quiet"]
            start = time.perf_counter()
            result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                    check=False)
            wall = time.perf_counter() - start
            if result.returncode:
                raise SystemExit(result.stderr)
            summary = json.loads(result.stdout.strip().splitlines()[-1])
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB -> MiB
            print(f"run {run + 1}: command {wall:.2f} s, import {summary['seconds']:.2f} s "
                  f"(read, preprocess, write), peak RSS {peak:.0f} MiB; "
                  f"{summary['train_sessions']:,} train / {summary['test_sessions']:,} test "
                  f"sessions, {summary['clicks']:,} clicks, {summary['items']:,} items")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import streamrec.__main__"], cwd=ROOT, check=True)
        print(f"of the command's time, starting Python and importing the CLI (torch included): "
              f"{time.perf_counter() - start:.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
