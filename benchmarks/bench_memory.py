"""Measure the per-unit memory costs in streamrec/memory.py: peak RSS of child processes.

`--part simulate`: a child simulates each configuration after resetting its peak RSS
(/proc/self/clear_refs), so the peak it reports (VmHWM minus the RSS before) is the
simulation's own; one-factor sweeps (clicks, sessions, items) give each cost as a slope.
`--part train`: `python -m streamrec train --no-baselines` runs as a child per
configuration; its whole-process peak comes from os.wait4's rusage. Fifteen runs (sweeps
over clicks, hidden size, batch and catalog, and clicks crossed with hidden size) are fitted
by least squares on the terms of streamrec.memory.training_bytes.
Both parts then print the estimate beside the measured peak, and the ratio, on other runs.

Usage: python benchmarks/bench_memory.py [--part simulate|train|both]   (~30 min under load)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import uptime

from streamrec import memory
from streamrec.config import RunConfig, SimConfig, TrainConfig, model_config
from streamrec.training.estimate import model_parameters, training_memory

ROOT = Path(__file__).resolve().parents[1]

SIM_CHILD = """
import json, sys
from pathlib import Path
from streamrec.config import SimConfig
from streamrec.world.simulator import simulate

def status(name):
    for line in open("/proc/self/status"):
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024

config = SimConfig(**json.loads(sys.argv[1]))
Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
before = status("VmRSS")
data = simulate(config)
print(json.dumps({"peak": status("VmHWM") - before, "clicks": int(data.items.shape[0])}))
"""


def simulation_peak(**fields: int) -> dict[str, int]:
    """Peak bytes a simulation with these SimConfig fields adds to a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", SIM_CHILD, json.dumps(fields)], capture_output=True, text=True,
        check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(out.stdout)


def training_peak(args: list[str]) -> int:
    """Whole-process peak RSS, in bytes, of `python -m streamrec train <args> --no-baselines`."""
    with tempfile.TemporaryDirectory() as models:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamrec", "train", *args, "--no-baselines",
             "--models-dir", models],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(process.pid, 0)
        if status != 0:
            raise SystemExit(f"train {' '.join(args)} failed: {process.stderr.read().decode()}")
        process.stderr.close()
        return usage.ru_maxrss * 1024  # Linux reports kilobytes


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys on xs."""
    return float(np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)[0])


def part_simulate() -> None:
    print("simulation: peak bytes above the process's RSS before simulate()")
    sweeps = {
        "per click (sessions of 5-34 clicks)": ("clicks", [
            {"n_sessions": n} for n in (50_000, 150_000, 300_000)]),
        "per click (longer sessions, 50-100)": ("clicks", [
            {"n_sessions": n, "min_session_length": 50, "max_session_length": 100}
            for n in (20_000, 60_000)]),
        "per item": ("items", [{"n_sessions": 2_000, "n_items": n} for n in (10_000, 500_000, 1_000_000)]),
    }
    for name, (unit, configs) in sweeps.items():
        peaks = [simulation_peak(**c) for c in configs]
        xs = [p["clicks"] if unit == "clicks" else c["n_items"] for p, c in zip(peaks, configs)]
        print(f"  {name}: {slope(xs, [p['peak'] for p in peaks]):.1f} bytes "
              f"(peaks {', '.join(memory.describe(p['peak']) for p in peaks)})")
    print("  estimate vs measured:")
    for fields in ({"n_sessions": 20_000}, {"n_sessions": 400_000},
                   {"n_sessions": 100_000, "n_items": 200_000, "max_session_length": 60}):
        config = SimConfig(**fields)
        peak = simulation_peak(**fields)["peak"]
        est = memory.simulation_bytes(config.n_sessions, config.n_items,
                                      config.min_session_length, config.max_session_length)
        print(f"    {fields}: measured {memory.describe(peak)}, estimate "
              f"{memory.describe(est)}, measured/estimate {peak / est:.2f}")


def train_args(n_sessions: int = 2_000, n_items: int = 1_000, hidden: int = 32,
               batch: int = 128, loss: str = "full") -> list[str]:
    return ["--model", "gru4rec", "--n-sessions", str(n_sessions), "--n-items", str(n_items),
            "--n-categories", "10", "--hidden-size", str(hidden), "--batch-size", str(batch),
            "--loss", loss, "--epochs", "1", "--max-seconds", "2"]


def train_config(n_sessions: int = 2_000, n_items: int = 1_000, hidden: int = 32,
                 batch: int = 128, loss: str = "full") -> RunConfig:
    return RunConfig(
        SimConfig(n_sessions=n_sessions, n_items=n_items, n_categories=10),
        model_config("gru4rec", n_items=n_items, hidden_size=hidden),
        TrainConfig(epochs=1, batch_size=batch, loss=loss, max_seconds=2),
    )


# (sessions, items, hidden, batch, loss): one-factor sweeps around the smallest run, and runs
# that cross clicks with width (the fit's last term).
TRAIN_RUNS = [
    (2_000, 1_000, 32, 128, "full"), (100_000, 1_000, 32, 128, "full"),
    (200_000, 1_000, 32, 128, "full"), (2_000, 1_000, 1024, 128, "full"),
    (2_000, 1_000, 2048, 128, "full"), (2_000, 1_000, 32, 2048, "full"),
    (2_000, 1_000, 32, 4096, "full"), (5_000, 1_000, 32, 128, "sampled"),
    (5_000, 100_000, 32, 128, "sampled"), (5_000, 200_000, 32, 128, "sampled"),
    (50_000, 1_000, 256, 128, "full"), (50_000, 1_000, 32, 128, "full"),
    (10_000, 1_000, 32, 128, "full"), (10_000, 1_000, 256, 128, "full"),
    (2_000, 50_000, 32, 512, "full"),
]
TERMS = ["base (MiB)", "per click", "per parameter", "x scores (20.2 B train, 9.1 B eval)",
         "per hidden unit (KiB)", "per click per hidden unit"]


def features(sizes: tuple[int, int, int, int, str]) -> list[float]:
    """The fit's terms for one run (streamrec.memory.training_bytes's, one coefficient each)."""
    n_sessions, n_items, hidden, batch, loss = sizes
    config = train_config(n_sessions, n_items, hidden, batch, loss)
    clicks = memory.mean_clicks(n_sessions, 5, 34)
    candidates = n_items if loss == "full" else batch + config.train.n_negatives
    scores = max(20.2 * batch * candidates, 9.1 * memory.EVAL_TARGETS * n_items)
    return [1.0, clicks, model_parameters(config), scores, hidden, clicks * hidden]


def part_train() -> None:
    print("training: whole-process peak RSS of `python -m streamrec train --no-baselines`")
    peaks = []
    for sizes in TRAIN_RUNS:
        peaks.append(training_peak(train_args(*sizes)))
        print(f"  {sizes}: {memory.describe(peaks[-1])}", flush=True)
    x = np.array([features(sizes) for sizes in TRAIN_RUNS])
    coef = np.linalg.lstsq(x, np.array(peaks, float), rcond=None)[0]
    scale = [1 / memory.MIB, 1, 1, 1, 1 / 1024, 1]
    print("  least-squares fit: " + ", ".join(
        f"{name} {c * k:.3g}" for name, c, k in zip(TERMS, coef, scale)))
    ratios = np.array(peaks) / (x @ coef)
    print(f"  measured / fit: {ratios.min():.2f}-{ratios.max():.2f}")
    print("  estimate (streamrec/memory.py) vs measured, other runs:")
    for sizes in ((40_000, 20_000, 256, 512, "full"), (10_000, 200_000, 128, 256, "sampled"),
                  (3_000, 2_000, 64, 256, "full")):
        peak = training_peak(train_args(*sizes))
        est = training_memory(train_config(*sizes))
        print(f"    {sizes}: measured {memory.describe(peak)}, estimate {memory.describe(est)}, "
              f"measured/estimate {peak / est:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("simulate", "train", "both"), default="both")
    args = parser.parse_args()
    if args.part in ("simulate", "both"):
        part_simulate()
    if args.part in ("train", "both"):
        part_train()
    print(uptime())


if __name__ == "__main__":
    main()
