"""Import + preprocessing of a synthetic click log (1,000,000 clicks by default), as the CLI
does it.

Writes a log shaped like YOOCHOOSE's (session_id, item_id, Unix-second timestamp; Zipf item
popularity over `--items` ids, geometric session lengths, 30 days, rows shuffled) into a
temporary folder with pyarrow's CSV writer, then runs `python -m streamrec import` on it in a
child process, `--repeat` times. Prints the wall time of the whole command, the import time it
reports (reading, preprocessing and writing the data set), and the child's peak resident memory
(getrusage, which also counts pyarrow's buffers that tracemalloc would miss). The temporary
folder (log and data sets) is deleted at the end. Targets: <= 10 s for 1 M clicks; <= 5 minutes
and <= 4 GiB peak RSS for 30 M clicks on 2 cores (issue #16).

Usage: python benchmarks/bench_import.py [--clicks 1000000] [--items 60000] [--repeat 2]
       python benchmarks/bench_import.py --clicks 30000000 --items 1000000 --repeat 1
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
from _common import uptime

ROOT = Path(__file__).resolve().parents[1]


def write_log(path: Path, n_clicks: int, n_items: int = 60_000, seed: int = 0) -> tuple[int, int]:
    """A synthetic click log of about `n_clicks` rows; returns (sessions, distinct items)."""
    import pyarrow as pa
    from pyarrow import csv as pcsv

    rng = np.random.default_rng(seed)
    lengths = rng.geometric(0.25, size=n_clicks // 3)  # mean 4 clicks
    lengths = lengths[np.cumsum(lengths) <= n_clicks]
    n_sessions, total = lengths.shape[0], int(lengths.sum())
    items = (rng.zipf(1.3, size=total) % n_items) + 214_500_000
    starts = np.sort(rng.uniform(1.396e9, 1.396e9 + 30 * 86_400, size=n_sessions))
    gaps = rng.exponential(60.0, size=total)
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    elapsed = np.cumsum(gaps)
    times = np.repeat(starts - elapsed[offsets] + gaps[offsets], lengths) + elapsed
    times = np.round(times, 3)
    del gaps, elapsed
    session = np.repeat(np.arange(n_sessions), lengths)
    order = rng.permutation(total)  # a log need not be sorted
    schema = pa.schema([("session_id", pa.int64()), ("item_id", pa.int64()),
                        ("timestamp", pa.float64())])
    with pcsv.CSVWriter(path, schema) as writer:
        for lo in range(0, total, 1_000_000):
            rows = order[lo : lo + 1_000_000]
            writer.write_table(pa.table([session[rows], items[rows], times[rows]], schema=schema))
    return n_sessions, int(np.unique(items).shape[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=60_000, help="distinct item ids drawn from")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load: {uptime()}")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "clicks.csv"
        start = time.perf_counter()
        n_sessions, n_items = write_log(log, args.clicks, args.items)
        print(f"wrote {log.stat().st_size / 2**20:.1f} MiB CSV ({n_sessions:,} sessions, "
              f"{n_items:,} items) in {time.perf_counter() - start:.1f} s")
        cpu_before = 0.0
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
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            peak = usage.ru_maxrss / 1024  # KiB -> MiB
            cpu = usage.ru_utime + usage.ru_stime - cpu_before  # what the load does not inflate
            cpu_before += cpu
            print(f"run {run + 1}: command {wall:.2f} s ({cpu:.0f} s of CPU), import "
                  f"{summary['seconds']:.2f} s (read, preprocess, write), peak RSS {peak:.0f} MiB; "
                  f"{summary['train_sessions']:,} train / {summary['test_sessions']:,} test "
                  f"sessions, {summary['clicks']:,} clicks, {summary['items']:,} items")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import streamrec.__main__"], cwd=ROOT, check=True)
        print(f"of the command's time, starting Python and importing the CLI (torch included): "
              f"{time.perf_counter() - start:.2f} s")
    print(f"load after: {uptime()}")


if __name__ == "__main__":
    main()
