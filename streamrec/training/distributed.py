"""Training on several processes with PyTorch's DistributedDataParallel (DDP), under `torchrun`.

torchrun (or the dashboard's launcher, `streamrec.training.launcher`, which drives the same
elastic agent) starts one process per rank with RANK / WORLD_SIZE / LOCAL_RANK in the
environment; `from_env` reads them and `setup` joins the process group: gloo on CPUs, NCCL
on GPUs (one GPU per local rank).

How the work is shared (Li et al., "PyTorch Distributed", VLDB 2020, for DDP itself):

- `--batch-size` is per process, as with PyTorch's DistributedSampler: a step of N ranks
  trains on a batch of N x batch-size targets (`step_batch_size`). Every rank draws the same
  shuffled session-parallel batches of that size (same seed), and each batch is split between
  the ranks row by row (`shard`): every rank takes the same number of steps, so the gradient
  all-reduces always pair up.
- Each rank weighs its mean loss by its share of the batch's targets (`step_weight`), so
  DDP's average of the ranks' gradients is exactly the gradient of the mean loss over the
  whole batch: with the full softmax and no dropout, N processes train the same model as
  one process with N times the batch size, batch for batch (tests/test_distributed.py checks
  a step to float rounding). Sampled objectives draw their candidates per rank.

  Why the batch grows with the ranks: splitting one process's batch left each rank half a
  batch, whose fixed costs (the all-reduce of every gradient, Adam, two processes sharing the
  memory bus) capped 2 processes at 1.44x one on 2 cores (docs/speed.md). Dealing whole
  batches to the ranks instead gave each rank rows of other widths than its partner's, and
  the faster waited at every all-reduce (also 1.44x); rows split from one length-sorted
  batch keep the ranks level.
- Validation targets are split into contiguous shards, each rank ranks its shard and the
  ranks are gathered (`evaluate_sharded`): the metrics equal a single process's.
- Rank 0 alone writes the run folder; the others only train.
"""
from __future__ import annotations

import ctypes
import datetime
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from streamrec.data.sessions import SessionData
from streamrec.data.splits import Targets
from streamrec.evaluation.metrics import metrics_from_ranks

# Rank 0 simulates or loads the data and scores the baselines while the others wait at a
# barrier: generous, since a dead peer is noticed at once (its socket closes), not by timeout.
GROUP_TIMEOUT = datetime.timedelta(hours=3)
LEAVE_TIMEOUT = datetime.timedelta(seconds=60)  # how long a leaving rank waits for the others
LOST_PEER = "lost contact with another training process"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class Ranks:
    """This process's place among the training processes torchrun started."""

    rank: int  # 0 .. world_size - 1 over all machines
    world_size: int
    local_rank: int  # index on this machine: which GPU to use

    @property
    def is_main(self) -> bool:
        """True on the one process that writes the run folder."""
        return self.rank == 0


def from_env(environ: dict[str, str] | None = None) -> Ranks | None:
    """The ranks torchrun set in the environment, or None for a single process (also when
    WORLD_SIZE is 1); ValueError when the variables are malformed."""
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" not in env:
        return None
    try:
        world, rank, local = int(env["WORLD_SIZE"]), int(env["RANK"]), int(env.get("LOCAL_RANK", "0"))
    except (KeyError, ValueError):
        raise ValueError(
            "WORLD_SIZE is set but RANK / LOCAL_RANK are missing or not integers: start "
            "several training processes with torchrun"
        ) from None
    if world < 1 or not 0 <= rank < world or local < 0:
        raise ValueError(f"RANK = {rank} and WORLD_SIZE = {world} are out of range")
    return Ranks(rank, world, local) if world > 1 else None


def setup(ranks: Ranks, device: torch.device) -> torch.device:
    """Join the process group (NCCL for CUDA, else gloo) with one CPU thread per rank;
    returns the device this rank trains on (its own GPU on a multi-GPU machine)."""
    torch.set_num_threads(1)  # the ranks share the cores: one thread each, no oversubscription
    _die_with_parent()
    if device.type == "cuda":
        device = torch.device("cuda", ranks.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(
            "nccl" if device.type == "cuda" else "gloo",
            rank=ranks.rank, world_size=ranks.world_size, timeout=GROUP_TIMEOUT,
            device_id=device if device.type == "cuda" else None,
        )
    return device


def teardown() -> None:
    """Leave the process group, if this process joined one, after the other ranks arrive:
    a rank that destroyed its group and exited while another was still leaving left that one
    hanging at exit now and then (gloo; seen in 1 of 4 runs of the step test without it). A
    rank that never arrives (it failed) is waited for at most LEAVE_TIMEOUT."""
    if not dist.is_initialized():
        return
    try:
        if dist.get_backend() == "gloo":
            dist.monitored_barrier(timeout=LEAVE_TIMEOUT)
        else:
            dist.barrier()
    except RuntimeError:
        pass  # a rank that failed is reported by the launcher; leaving must not hang on it
    dist.destroy_process_group()


def _die_with_parent() -> None:
    """Ask Linux to kill this rank when its launcher dies: torchrun starts every rank in a new
    session, so a launcher killed hard (Stop's last resort) would otherwise leave ranks
    training on. A no-op where prctl is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def is_lost_peer(exc: BaseException) -> bool:
    """True for the error a collective raises when another rank is gone (gloo raises a
    plain RuntimeError naming itself, NCCL a DistError)."""
    text = str(exc)
    return isinstance(exc, dist.DistError) or (
        isinstance(exc, RuntimeError) and ("gloo" in text or "NCCL" in text)
    )


def step_batch_size(batch_size: int, ranks: Ranks | None) -> int:
    """Targets per optimiser step: `batch_size` per process."""
    return batch_size * (1 if ranks is None else ranks.world_size)


def shard(batch: np.ndarray, ranks: Ranks) -> np.ndarray:
    """This rank's rows of one batch: every world_size-th row. Rows come sorted by length,
    so interleaving gives every rank rows of the same widths and nearly equal targets."""
    return batch[ranks.rank :: ranks.world_size]


def step_weight(n_local: int, n_batch: int, world_size: int) -> float:
    """Factor on this rank's mean loss so that DDP's mean of the ranks' gradients equals the
    gradient of the mean loss over all n_batch targets of the step."""
    return world_size * n_local / max(n_batch, 1)


def sum_over_ranks(values: list[float], device: torch.device) -> list[float]:
    """Element-wise sum of `values` over all ranks (one all-reduce)."""
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return [float(v) for v in tensor.tolist()]


def max_over_ranks(value: int, device: torch.device) -> int:
    """The largest `value` any rank holds (one all-reduce): the ranks agree on stopping."""
    tensor = torch.tensor([value], dtype=torch.int64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return int(tensor.item())


def barrier() -> None:
    """Wait until every rank arrives (on the rank's own GPU under NCCL: see `setup`)."""
    dist.barrier()


def broadcast_text(text: str | None) -> str:
    """Rank 0's `text` on every rank (the run folder the CLI's rank 0 created)."""
    box = [text]
    dist.broadcast_object_list(box, src=0)
    return str(box[0])


Evaluate = Callable[..., tuple[dict[str, float], np.ndarray]]


def evaluate_sharded(
    evaluate: Evaluate,
    model: Any,
    data: SessionData,
    targets: Targets,
    ranks: Ranks,
    device: torch.device,
    cutoffs: tuple[int, ...],
    **kwargs: Any,
) -> tuple[dict[str, float], np.ndarray]:
    """`evaluate(model, data, targets, ...)` (loop.evaluate_model) over a contiguous 1/N of
    the targets on each rank, the ranks all-gathered: metrics and ranks equal to one process's."""
    parts = np.array_split(np.arange(len(targets)), ranks.world_size)
    mine = targets.take(parts[ranks.rank])
    metrics, local_ranks = evaluate(model, data, mine, cutoffs=cutoffs, **kwargs)
    loss_sum = metrics["loss"] * len(mine)
    width = max(len(part) for part in parts)
    padded = torch.zeros(width, dtype=torch.int64, device=device)
    padded[: len(local_ranks)] = torch.from_numpy(local_ranks).to(device)
    gathered = [torch.empty_like(padded) for _ in range(ranks.world_size)]
    dist.all_gather(gathered, padded)
    all_ranks = np.concatenate([g[: len(p)].cpu().numpy() for g, p in zip(gathered, parts)])
    total = sum_over_ranks([loss_sum], device)[0]
    out = metrics_from_ranks(all_ranks, cutoffs)
    out["loss"] = total / max(len(targets), 1)
    return out, all_ranks
