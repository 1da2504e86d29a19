"""How long a training epoch will take, measured rather than guessed.

A few training steps of the configured model run on a small sample with the configured
catalog, session lengths, batch size and max length (simulated sessions, or the first
training sessions of an imported data set); the time per target click is scaled to the
number of training targets the full configuration will have. The figure
is training time only, like the "epoch_seconds" the trainer reports (validation excluded),
and it reflects the machine's load at the moment of measuring.
"""

from __future__ import annotations

import dataclasses
import math
import time
from functools import lru_cache
from typing import TypeVar

import numpy as np
import torch

from streamrec import memory
from streamrec.config import DataConfig, RunConfig, SimConfig, TrainConfig, field_infos
from streamrec.data.sessions import SessionData
from streamrec.data.sources import open_data
from streamrec.data.splits import Split, all_targets, batches, build_rows, target_items
from streamrec.model import build_model, count_parameters
from streamrec.threads import training_threads, using_threads
from streamrec.training.loop import _row_batch, training_step
from streamrec.training.objectives import make_loss, resolve_device, use_bf16
from streamrec.world.simulator import simulate

T = TypeVar("T", SimConfig, TrainConfig)
TIMED_BATCHES = 3  # at least this many batches are timed, after two warm-up batches
TIMING_SECONDS = 0.5  # ...and batches are timed until this much time has passed
MAX_TIMED_BATCHES = 200  # ...but no more than this many (tiny models take ~5 ms a batch)
WARM_UP = 2
# The dashboard measures inside its own server process: a model or batch too big to time
# there is refused rather than risking the app's memory (the worker trains it elsewhere).
MAX_TIMING_BYTES = 1024**3


@lru_cache(maxsize=2)
def _imported(data: DataConfig, train: TrainConfig) -> tuple[SessionData, Split]:
    """An imported data set and its split, opened once for both halves of an estimate."""
    return open_data(RunConfig(train=train, data=data))


def expected_train_targets(config: RunConfig) -> float:
    """Expected number of training targets (next clicks) per epoch, without simulating.

    Session lengths are uniform in [min, max]; sessions shorter than min_kept_length are
    dropped; the split keeps the training share of sessions (or of examples). An imported
    data set's split is counted exactly.
    """
    if not config.data.is_simulated:
        return float(len(_imported(config.data, config.train)[1].train))
    sim, tc = config.sim, config.train
    lengths = np.arange(sim.min_session_length, sim.max_session_length + 1)
    targets_per_session = float(np.mean(np.where(lengths >= sim.min_kept_length, lengths - 1, 0)))
    if tc.protocol == "example":
        share = 1.0 - tc.example_valid_fraction
    else:
        share = 1.0 - tc.valid_fraction - tc.test_fraction
    return sim.n_sessions * targets_per_session * share


def _speed_only(config: T) -> T:
    """The dataclass `config` with every field not marked `speed` in its metadata
    (`streamrec.config.setting`) at its default."""
    kept = {name: getattr(config, name) for name, info in field_infos(config).items() if info.speed}
    defaults: T = type(config)()
    return dataclasses.replace(defaults, **kept)


def speed_config(config: RunConfig) -> RunConfig:
    """The config with every field that does not change the speed of an epoch set to its
    default, so equal speeds share one measurement (a cache key)."""
    tc = config.train
    train = dataclasses.replace(
        _speed_only(tc),
        clip_norm=1.0 if tc.clip_norm > 0 else 0.0,  # any positive norm costs the same
        loss=config.loss,  # "auto" resolved: two spellings of one objective time alike
        n_negatives=tc.n_negatives if config.loss != "full" else TrainConfig.n_negatives,
    )
    return RunConfig(
        # An imported data set's sessions do not depend on the simulator's settings.
        sim=_speed_only(config.sim) if config.data.is_simulated else SimConfig(),
        model=config.model,
        train=train,
        data=config.data,
    )


def timing_bytes(config: RunConfig) -> int:
    """Rough peak memory of one training step: float32 weights with their gradient and Adam's
    two moments, plus a batch's scores (the catalog's, or the sampled candidates'), their
    softmax and gradient."""
    n_params = model_parameters(config)
    tc = config.train
    columns = config.model.n_items if config.loss == "full" else tc.batch_size + tc.n_negatives
    return 4 * 4 * n_params + 3 * 4 * tc.batch_size * columns


def model_parameters(config: RunConfig) -> int:
    """Parameters of the configured model, counted without allocating them."""
    with torch.device("meta"):
        return count_parameters(build_model(config.model))


def training_memory(config: RunConfig) -> int:
    """Estimated peak memory of the process that trains `config`, in bytes (streamrec.memory's
    measured per-unit costs; an imported data set is counted by its clicks)."""
    if config.data.is_simulated:
        sim = config.sim
        clicks = memory.mean_clicks(sim.n_sessions, sim.min_session_length, sim.max_session_length)
    else:
        clicks = float(_imported(config.data, config.train)[0].items.shape[0])
    tc = config.train
    candidates = config.model.n_items if config.loss == "full" else tc.batch_size + tc.n_negatives
    return memory.training_bytes(
        clicks, model_parameters(config), config.model.n_items, tc.batch_size, candidates,
        config.model.hidden_size,
    )


def check_training_memory(config: RunConfig, limit: int = memory.MAX_TRAIN_BYTES) -> int:
    """The estimate of `training_memory`; ValueError naming the sizes when it is over `limit`."""
    needed = training_memory(config)
    if needed > limit:
        raise ValueError(
            f"training this configuration needs about {memory.describe(needed)} "
            f"({config.sim.n_sessions:,} sessions, {config.model.n_items:,} items, "
            f"hidden size {config.model.hidden_size}, {model_parameters(config):,} parameters, "
            f"batch size {config.train.batch_size}): "
            f"allowed up to {memory.describe(limit)}"
        )
    return needed


def seconds_per_target(
    config: RunConfig, n_batches: int = TIMED_BATCHES, max_bytes: int = MAX_TIMING_BYTES
) -> float:
    """Wall-clock seconds of training per target click, over at least `n_batches` batches and
    TIMING_SECONDS of timed steps.

    A tiny model's step takes a few milliseconds, so three steps were too short a window: one
    stall of the shared cores (or of torch's thread pool) weighed as much as the steps
    themselves and the estimate read several times the real epoch. Timing for half a second
    and dividing the total time by the total targets gives the pace an epoch sees, stalls
    included in their real proportion. Raises ValueError when timing would need more than
    `max_bytes` (MAX_TIMING_BYTES by default).
    """
    config.validate()
    needed = timing_bytes(config)
    if needed > max_bytes:
        raise ValueError(
            f"timing this model and batch size would need about {memory.describe(needed)} "
            f"in the app's own process (limit {memory.describe(max_bytes)})"
        )
    tc = config.train
    data = _timing_sample(config, n_batches)
    rows = build_rows(data, all_targets(data), tc.max_len)
    order = batches(rows, tc.batch_size, np.random.default_rng(0))
    if not order:
        raise ValueError("the sample has no training targets: sessions are too short")
    device = resolve_device(tc.device)
    counts = np.bincount(target_items(data, all_targets(data)), minlength=config.model.n_items)
    # Timed on the threads the worker will train with (streamrec.threads), not the page's.
    with torch.random.fork_rng(), using_threads(training_threads()):
        torch.manual_seed(0)
        model = build_model(config.model).to(device)
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr)
        loss_fn = make_loss(config.loss, tc, counts, device)

        def step(index: np.ndarray) -> int:
            batch = _row_batch(rows, index, device)
            training_step(model, optimizer, loss_fn, batch, tc.clip_norm, use_bf16(tc.precision, device)).item()  # waits for the device
            return int(batch[2].shape[0])

        for b in range(WARM_UP):  # first-call allocations are not part of an epoch's pace
            step(order[b % len(order)])
        timed = targets = 0
        start = time.perf_counter()
        while timed < MAX_TIMED_BATCHES and (
            timed < n_batches or time.perf_counter() - start < TIMING_SECONDS
        ):
            targets += step(order[(WARM_UP + timed) % len(order)])
            timed += 1
        seconds = time.perf_counter() - start
    return seconds / max(targets, 1)


def _timing_sample(config: RunConfig, n_batches: int) -> SessionData:
    """Sessions to time on: enough for the warm-up batches and the timed ones, with a margin
    for packing (a short sample is cycled through until the timing window is full); simulated with the run's settings, or an imported data set's first
    training sessions."""
    sim, tc = config.sim, config.train
    if config.data.is_simulated:
        mean_targets = max((sim.min_session_length + sim.max_session_length) / 2 - 1, 1.0)
        n_sessions = math.ceil((n_batches + WARM_UP + 1) * tc.batch_size / mean_targets) + 1
        return simulate(dataclasses.replace(sim, n_sessions=n_sessions, engine="fast", seed=0))
    data, split = _imported(config.data, config.train)
    sessions = np.unique(split.train.session)
    needed = (n_batches + WARM_UP + 1) * tc.batch_size
    targets = np.cumsum(data.lengths[sessions] - 1)
    sessions = sessions[: int(np.searchsorted(targets, needed)) + 1]
    pieces = [data.session(s) for s in sessions]
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in pieces])]).astype(np.int64)
    return SessionData(np.concatenate(pieces), offsets, n_catalog_items=data.n_items)


def estimate_epoch_seconds(
    config: RunConfig, n_batches: int = TIMED_BATCHES, max_bytes: int = MAX_TIMING_BYTES
) -> float:
    """Estimated training seconds per epoch (validation excluded) for `config` on this machine,
    timed on the threads the run will train with."""
    return seconds_per_target(config, n_batches, max_bytes) * expected_train_targets(config)
