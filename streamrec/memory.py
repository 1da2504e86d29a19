"""How much memory a simulation or a training will take, from measured per-unit costs.

Every size a user can ask for (sessions, session lengths, items, model width, batch size,
negatives, the evaluation's full-catalog scores) is checked against these estimates before
any work starts, so a typo cannot take the machine down. The constants are peak resident
memory (RSS) per unit, fitted by `python benchmarks/bench_memory.py` from child processes
whose peak RSS it reads (VmHWM); tests/test_memory.py checks peak <= estimate x 1.2 on other
configurations. The figures below are the fit of the run noted beside them, rounded up.

This module imports neither torch nor the configs, so `streamrec.config` can call it.
"""

from __future__ import annotations

import math

GIB = 1024**3
MIB = 1024**2

# --- Simulation (streamrec.world.simulator.simulate), peak above what the process held ---
# `python benchmarks/bench_memory.py --part simulate` (2026-12-07, load ~12) measured slopes of
# 124.5 bytes per click with sessions of 5-34 clicks, 109.8 with 50-100 (the difference is a
# per-session cost of ~380 bytes) and 26.9 per item; rounded up:
SIM_BASE = 8 * MIB  # fixed cost of one call (category tables, small arrays)
SIM_PER_CLICK = 120  # bytes: items, sessions, truth columns and their temporaries
SIM_PER_SESSION = 400  # bytes: offsets, behaviour, preferred sets
SIM_PER_ITEM = 32  # bytes: catalog, popularity and per-category tables

# --- Training worker (`python -m streamrec train` / the app's worker): whole-process peak ---
# A least-squares fit over 15 measured runs (gru4rec; 2,000-200,000 sessions, 1,000-200,000
# items, hidden 32-2,048, batch 128-4,096, full and sampled softmax), by
# `python benchmarks/bench_memory.py --part train` (2026-12-07, load ~10): 389 MiB, 93 B per
# click, 13.2 B per parameter, 1.03 x (20.2 B per training score, 9.1 B per evaluation
# score), 263 KiB per hidden unit and 0.83 B per click per hidden unit; every run within
# 0.95-1.14 of the fit (an earlier run of the same runs: 378 MiB, 88.3, 10.2, 1.05, 300 KiB,
# 0.96). Rounded up:
TRAIN_BASE = 400 * MIB  # interpreter, torch, numpy and the engine loaded, a tiny run
TRAIN_PER_CLICK = 100  # bytes: the simulation, the split, the packed rows
TRAIN_PER_PARAM = 14  # bytes: weights, gradients, Adam's two moments
TRAIN_PER_WIDTH = 320 * 1024  # bytes per unit of the model's hidden size
TRAIN_PER_CLICK_WIDTH = 1.0  # bytes per click per hidden unit
TRAIN_PER_SCORE = 22  # bytes per (target, candidate) score of a training batch
EVAL_PER_SCORE = 10  # bytes per (target, item) score of an evaluation batch
EVAL_TARGETS = 1024  # targets scored per evaluation batch (training.loop.evaluate_model) ...
EVAL_MAX_SCORES = EVAL_TARGETS * 65_536  # ... up to a 65,536-item catalog; fewer beyond it
# Not counted: the baselines' and the oracle's scoring before and after training (`train`
# without --no-baselines, the app's worker); bench_memory.py measures --no-baselines runs.

# Ceilings: beyond them a request is refused with the estimate and the limit in the message.
MAX_SIM_BYTES = 4 * GIB  # one simulation, CLI or app
MAX_TRAIN_BYTES = 4 * GIB  # one training process


def mean_clicks(n_sessions: int, min_length: int, max_length: int) -> float:
    """Expected clicks of `n_sessions` sessions whose lengths are uniform in [min, max]."""
    return n_sessions * (min_length + max_length) / 2


def simulation_bytes(n_sessions: int, n_items: int, min_length: int, max_length: int) -> int:
    """Peak memory a simulation adds to the process that runs it, in bytes."""
    clicks = mean_clicks(n_sessions, min_length, max_length)
    return int(
        SIM_BASE + SIM_PER_CLICK * clicks + SIM_PER_SESSION * n_sessions + SIM_PER_ITEM * n_items
    )


def training_bytes(
    n_clicks: float, n_params: int, n_items: int, batch_size: int, candidates: int, width: int
) -> int:
    """Peak memory of a whole training process, in bytes: `n_clicks` clicks of data (simulated
    in the process, or loaded), a model of `n_params` parameters trained with Adam on batches
    of `batch_size` targets scored against `candidates` items each (the catalog for the full
    softmax), and evaluated on the whole catalog of `n_items` items; `width` is the model's
    hidden size. A training step's scores and an evaluation batch's never coexist: the larger
    of the two counts."""
    scores = max(TRAIN_PER_SCORE * batch_size * candidates,
                 EVAL_PER_SCORE * eval_targets_per_batch(n_items) * n_items)
    return int(
        TRAIN_BASE + TRAIN_PER_CLICK * n_clicks + TRAIN_PER_PARAM * n_params + scores
        + (TRAIN_PER_WIDTH + TRAIN_PER_CLICK_WIDTH * n_clicks) * width
    )


def parse_size(text: str) -> int:
    """Bytes of a size such as '8G', '8GiB', '6.5g', '512M' or '512MiB' (powers of 1,024);
    ValueError saying what is allowed otherwise."""
    units = {"G": GIB, "GIB": GIB, "GB": GIB, "M": MIB, "MIB": MIB, "MB": MIB}
    raw = str(text).strip().upper()
    number = raw.rstrip("GIMB")
    unit = raw[len(number):]
    try:
        value = float(number)
    except ValueError:
        value = float("nan")
    if unit not in units or not (math.isfinite(value) and value > 0):
        raise ValueError(f"memory size {text!r} is not a size: give e.g. 8G, 6.5GiB or 512M")
    return int(value * units[unit])


def eval_targets_per_batch(n_items: int) -> int:
    """Targets an evaluation batch scores against the whole catalog of `n_items` items: 1,024,
    fewer on catalogs above 65,536 items, so one batch's scores stay within EVAL_MAX_SCORES
    (256 MiB of float32) however large the catalog (a million items: 67 targets)."""
    return max(1, min(EVAL_TARGETS, EVAL_MAX_SCORES // max(n_items, 1)))


def describe(n_bytes: float) -> str:
    """'1.3 GiB', '240 MiB'."""
    return f"{n_bytes / GIB:.1f} GiB" if n_bytes >= GIB else f"{n_bytes / MIB:.0f} MiB"
