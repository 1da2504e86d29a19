"""Training on 2 processes under torchrun vs 1 process, one thread each, side by side.

1. The default world (default simulator, model and training settings, `--no-baselines`):
   `python -m streamrec train` in 1 process, then the same command under
   `torchrun --standalone --nproc-per-node 2` (`--batch-size` is per process, so a step covers
   twice the targets), then 1 process with twice the batch size (the same batches and steps
   as the 2 processes, for the Hit@10 comparison). Printed: training targets per second (targets
   of the completed epochs / training seconds, validation excluded, from each run's events),
   the ratio, the test Hit@10 of each, and each run's peak RSS (largest process).
2. `--big`: one epoch over a ~30M-click simulated world (1.54M sessions, 50,000 items) with
   SASRec and sampled softmax on 2 processes. `--big-seconds S` caps the training time: the
   epoch's share done in S seconds is then extrapolated to a whole epoch, and said so.

The machine is shared: the `uptime` load is printed beside the figures.

Usage: python benchmarks/bench_ddp.py [--epochs N] [--big] [--big-seconds 600]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine, uptime

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
BIG = ["--model", "sasrec", "--loss", "sampled", "--n-sessions", "1540000", "--n-items", "50000",
       "--valid-fraction", "0.01", "--test-fraction", "0", "--epochs", "1", "--batch-size", "512",
       "--memory-limit", "8G"]  # estimated 5.5 GiB per process (3.9 GiB measured on rank 0)


def _rss_mib(root: int) -> tuple[float, float]:
    """(largest, total) resident memory in MiB of process `root` and its descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss[int(entry.name)] = int(line.split()[1]) / 1024
        except (OSError, ValueError, IndexError):
            continue
    family, frontier = {root}, [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier and pid not in family]
        family.update(frontier)
    sizes = [rss.get(pid, 0.0) for pid in family]
    return max(sizes, default=0.0), sum(sizes)


def run(models: Path, name: str, launcher: list[str], flags: list[str]) -> dict[str, Any]:
    """Train one run with `launcher`; its events, status, wall time and peak memory (MiB: the
    largest process exactly, from the kernel's accounting of the run and every process it
    waited for; all of the run's processes together sampled every 5 s, so that the sampling
    itself, a walk over /proc, takes no measurable CPU from two processes on two cores)."""
    start = time.perf_counter()
    with open(models / f"{name}.log", "w") as log:
        process = subprocess.Popen(
            [*launcher, "-m", "streamrec", "train", "--models-dir", str(models), "--name", name,
             "--no-baselines", "--quiet", *flags],
            env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}, cwd=ROOT,
            stdout=log, stderr=subprocess.STDOUT,
        )
        total, sampled = 0.0, 0.0
        while True:
            pid, code, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - sampled >= 5.0:
                total, sampled = max(total, _rss_mib(process.pid)[1]), time.perf_counter()
            time.sleep(0.5)
        process.returncode = os.waitstatus_to_exitcode(code)
        largest = usage.ru_maxrss / 1024  # KiB on Linux: the run's and its ranks' largest
    wall = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"{name} failed:\n{(models / f'{name}.log').read_text()[-3000:]}")
    events = [json.loads(line) for line in (models / name / "metrics.jsonl").read_text().splitlines()]
    status = json.loads((models / name / "status.json").read_text())
    return {"events": events, "status": status, "wall": wall, "largest": largest,
            "total": max(total, largest)}


def targets_per_second(result: dict[str, Any]) -> tuple[float, float, float]:
    """(targets trained, training seconds, targets per second) from a run's events."""
    start, end = result["events"][0], result["events"][-1]
    done = end["steps"] / start["batches_per_epoch"] * start["n_train_targets"]  # exact for whole epochs
    return done, end["train_seconds"], done / end["train_seconds"]


def default_world(epochs: int | None) -> None:
    from streamrec.config import TrainConfig

    flags = [] if epochs is None else ["--epochs", str(epochs)]
    double = ["--batch-size", str(2 * TrainConfig().batch_size)]  # the 2 processes' step
    print(f"{machine()}\nload before: {uptime()}")
    with tempfile.TemporaryDirectory() as tmp:
        one = run(Path(tmp), "one", [sys.executable], flags)
        print(f"load after 1 process: {uptime()}")
        two = run(Path(tmp), "two", TORCHRUN, flags)
        print(f"load after 2 processes: {uptime()}")
        same_step = run(Path(tmp), "one-double", [sys.executable], [*flags, *double])
        print(f"load after 1 process at {double[1]} targets per batch: {uptime()}")
    rows = []
    for label, result in (("1 process, 1 thread", one), ("2 processes (torchrun), 1 thread each", two),
                          (f"1 process, batch {double[1]} (= 2 x 1)", same_step)):
        targets, seconds, speed = targets_per_second(result)
        hit = result["status"]["final"]["hit@10"]
        rows.append(speed)
        print(f"{label:<40} {targets:>12,.0f} targets in {seconds:7.1f} s train "
              f"({result['wall']:6.1f} s wall): {speed:>9,.0f} targets/s; test hit@10 {hit:.4f}; "
              f"peak RSS {result['largest']:.0f} MiB largest process, {result['total']:.0f} MiB all")
    hits = [r["status"]["final"]["hit@10"] for r in (one, two, same_step)]
    print(f"speed-up 2 vs 1 process, the same command: {rows[1] / rows[0]:.2f}x (goal >= 1.6x); "
          f"test hit@10 difference {100 * (hits[1] - hits[0]):+.2f} points (goal within 1); "
          f"against 1 process taking the same steps (batch {double[1]}): "
          f"{100 * (hits[1] - hits[2]):+.2f} points")


def big_world(seconds: float) -> None:
    flags = [*BIG, *(["--max-seconds", f"{seconds:g}"] if seconds else [])]
    print(f"{machine()}\nload before: {uptime()}")
    print("command: torchrun --standalone --nproc-per-node 2 -m streamrec train " + " ".join(flags))
    with tempfile.TemporaryDirectory() as tmp:
        result = run(Path(tmp), "big", TORCHRUN, flags)
    print(f"load after: {uptime()}")
    start, end = result["events"][0], result["events"][-1]
    _, train_seconds, speed = targets_per_second(result)
    share = end["steps"] / start["batches_per_epoch"]
    print(f"{start['n_train_targets']:,} training targets in {start['n_rows']:,} rows, "
          f"{start['batches_per_epoch']:,} batches per epoch; wall {result['wall']:.0f} s "
          f"(simulation, saving, validation included); peak RSS {result['largest']:.0f} MiB "
          f"largest process, {result['total']:.0f} MiB all processes")
    if any(event["event"] == "epoch" for event in result["events"]):  # the epoch was finished
        # (batches_per_epoch is counted on another shuffle: it may differ by one or two)
        print(f"one epoch: {train_seconds:.0f} s of training ({speed:,.0f} targets/s)")
    else:
        print(f"MEASURED FRACTION: {share:.1%} of the epoch in {train_seconds:.0f} s "
              f"({speed:,.0f} targets/s); EXTRAPOLATED whole epoch: "
              f"{train_seconds / share / 60:.0f} min of training")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: TrainConfig's")
    parser.add_argument("--big", action="store_true", help="the 30M-click SASRec epoch instead")
    parser.add_argument("--big-seconds", type=float, default=0.0,
                        help="cap the big epoch's training time and extrapolate (0: whole epoch)")
    args = parser.parse_args()
    if args.big:
        big_world(args.big_seconds)
    else:
        default_world(args.epochs)


if __name__ == "__main__":
    main()
