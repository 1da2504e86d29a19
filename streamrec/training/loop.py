"""Training as a stream of typed events (streamrec/training/events.py), consumed alike by the CLI and
the dashboard's worker. Any model family trains here through the `SessionModel` interface,
with the objective TrainConfig.loss names, on TrainConfig.device.

Each event is a JSON-ready dict with an "event" key:

- ``start``: family, objective, device, processes, sizes of the split, batches per epoch,
  parameter count.
- ``batch``: every `log_every` batches: mean train loss since the last one, lr, progress, ETA.
- ``epoch``: after each epoch (or at a stop): train loss, validation loss and ranking metrics.
- ``end``: status ``completed`` / ``stopped`` / ``failed`` with a reason, the best epoch and
  the best checkpoint's metrics on the report split (test, or validation under "example").

Under torchrun every process runs `train` with its `Ranks`: batches are split between the
processes and gradients all-reduced by DistributedDataParallel (streamrec/training/distributed.py
says how, and why N processes train the same model as one).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Literal, cast

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from streamrec import memory
from streamrec.config import RunConfig, TrainConfig
from streamrec.data.sessions import SessionData
from streamrec.data.sources import open_data
from streamrec.data.splits import (
    Rows,
    Split,
    Targets,
    batches,
    build_rows,
    prefix_matrix,
    target_items,
    transition_pairs,
)
from streamrec.evaluation.metrics import metrics_from_ranks, ranks_from_batches
from streamrec.model import SessionModel, build_model, count_parameters
from streamrec.training import distributed
from streamrec.training.distributed import Ranks
from streamrec.training.events import BatchEvent, EndEvent, EpochEvent, Event, StartEvent
from streamrec.training.objectives import Loss, full_softmax, make_loss, resolve_device, use_bf16
from streamrec.training.stopping import ShouldStop, StopRequested, check

__all__ = ["Event", "evaluate_model", "train", "training_step"]

STOP_REASON = "stop requested"
BEFORE_FIRST_EPOCH = "stop requested before the first epoch ended: no trained checkpoint"
Saver = Callable[[str, SessionModel], None]  # ("best" | "last", model)
STOP_CODE, TIME_CODE = 1, 2  # what the ranks agree on before a step (the largest wins)


def _row_batch(
    rows: Rows, index: np.ndarray, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Tokens trimmed to the batch's longest row, the target mask and the target items."""
    tokens = rows.tokens[index]
    width = int((tokens != 0).sum(axis=1).max())
    tokens = torch.from_numpy(tokens[:, :width])
    mask = torch.from_numpy(rows.loss_mask[index, :width])
    # Output at j predicts click j + 1 of the row.
    next_tokens = torch.nn.functional.pad(tokens[:, 1:], (0, 1))
    target = next_tokens[mask] - 1
    if device is not None and device.type != "cpu":
        return tokens.to(device), mask.to(device), target.to(device)
    return tokens, mask, target


class Objective(nn.Module):
    """A model and its loss as one module: DistributedDataParallel wraps this, so that its
    forward (where DDP prepares the gradient all-reduce) covers the whole step."""

    def __init__(self, model: SessionModel, loss_fn: Loss) -> None:
        super().__init__()
        self.model = cast(nn.Module, model)
        self.loss_fn = loss_fn

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean loss over the batch's target outputs."""
        model = cast(SessionModel, self.model)
        states, _ = model.forward_rows(tokens)  # (B, T, H)
        return self.loss_fn(model, states[mask], target)


def training_step(
    model: SessionModel,
    optimizer: torch.optim.Optimizer,
    loss_fn: Loss,
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    clip_norm: float,
    bf16: bool = False,
    ddp: nn.Module | None = None,
    weight: float = 1.0,
    ranks: Ranks | None = None,
) -> torch.Tensor:
    """One optimiser step on a (tokens, mask, targets) batch; returns the loss (not stepped
    when it is not finite), under bfloat16 autocast with `bf16`.

    On several processes, `ddp` is the DDP-wrapped `Objective`, `weight` this rank's
    `distributed.step_weight`, and the loss returned is the batch's over all ranks: every rank
    sees the same value, so all skip a non-finite step together.
    """
    tokens, mask, target = batch
    optimizer.zero_grad()
    with torch.autocast(tokens.device.type, dtype=torch.bfloat16, enabled=bf16):
        if ddp is None:
            states, _ = model.forward_rows(tokens)  # (B, T, H)
            loss = loss_fn(model, states[mask], target)
        else:
            loss = ddp(tokens, mask, target) * weight
    shown = loss.detach()
    if ranks is not None:
        shown = torch.tensor(
            distributed.sum_over_ranks([float(shown)], tokens.device)[0] / ranks.world_size
        )
    if not torch.isfinite(shown):
        return shown
    torch.autograd.backward(loss)
    if clip_norm > 0:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip_norm)
    optimizer.step()
    return shown


@torch.no_grad()
def evaluate_model(
    model: SessionModel,
    data: SessionData,
    targets: Targets,
    max_len: int,
    cutoffs: tuple[int, ...] = (10, 20),
    exclude_seen: bool = False,
    # (1024, n_items) logits stay cache-friendly (4096 took 1.7x as long); fewer targets on
    # catalogs above 65,536 items (streamrec.memory.eval_targets_per_batch), None for that.
    targets_per_batch: int | None = None,
    should_stop: ShouldStop | None = None,
) -> tuple[dict[str, float], np.ndarray]:
    """Ranking metrics and validation loss ("loss" key) of the model on `targets`, session-parallel.

    Returns the metrics dict and the (N,) target ranks in the order of `targets`. Raises
    StopRequested between batches once `should_stop()` is true.
    """
    was_training = model.training
    model.eval()
    device = next(iter(model.parameters())).device
    rows = build_rows(data, targets, max_len)
    ranks = np.zeros(len(targets), dtype=np.int64)
    loss_sum = 0.0
    if targets_per_batch is None:
        targets_per_batch = memory.eval_targets_per_batch(data.n_items)
    for index in batches(rows, targets_per_batch, rng=None):
        check(should_stop)
        tokens, mask, target = _row_batch(rows, index, device)
        contexts, _ = model.forward_rows(tokens)
        logits = model.logits(contexts[mask])  # (N_b, n_items): always the full catalog
        loss_sum += float(nn.functional.cross_entropy(logits, target, reduction="sum"))
        order = rows.target_index[index, : mask.shape[1]][mask.cpu().numpy()]
        seen = None
        if exclude_seen:
            seen = torch.from_numpy(prefix_matrix(data, targets.take(order), max_len)).to(device)
        ranks[order] = ranks_from_batches([(logits, target, seen)])
    model.train(was_training)
    metrics = metrics_from_ranks(ranks, cutoffs)
    metrics["loss"] = loss_sum / max(len(targets), 1)
    return metrics, ranks


def _has_unused_parameters(model: SessionModel, rows: Rows, device: torch.device) -> bool:
    """True if a forward pass leaves some parameter without a gradient (a layer a setting
    switched off): DDP must then look for such parameters at every step."""
    if not len(rows):
        return False  # nothing to train: the run ends before its first step
    was_training = model.training
    model.eval()  # no dropout: draws nothing from the random stream
    tokens, mask, target = _row_batch(rows, np.arange(min(len(rows), 2)), device)
    states, _ = model.forward_rows(tokens)
    torch.autograd.backward(full_softmax(model, states[mask], target))
    unused = any(p.grad is None for p in model.parameters() if p.requires_grad)
    for p in model.parameters():
        p.grad = None
    model.train(was_training)
    return unused


def train(
    config: RunConfig,
    data: SessionData | None = None,
    split: Split | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    save: Saver | None = None,
    ranks: Ranks | None = None,
) -> Iterator[Event]:
    """Train the model described by `config`, yielding events; never raises on a bad loss.

    `data` and `split` come from `sources.open_data(config)` (opened here when not given).
    `should_stop` is checked between batches and inside every evaluation: once it is true the
    run ends at once, without validating a partial epoch or scoring the best checkpoint (a
    time limit, by contrast, still validates and scores). With `ranks` (the process group
    joined), this process trains its share; the ranks agree on every stop before a batch,
    so an evaluation in progress finishes first.
    """
    config.validate()
    tc: TrainConfig = config.train
    torch.manual_seed(tc.seed)
    rng = np.random.default_rng(tc.seed)
    if data is None or split is None:  # both come from open_data, the one entry point
        if data is not None or split is not None:
            raise ValueError("train: give both data and split (from sources.open_data) or neither")
        data, split = open_data(config)
    device = resolve_device(tc.device)
    if ranks is not None and device.type == "cuda":
        device = torch.device("cuda", ranks.local_rank)
    bf16 = use_bf16(tc.precision, device)
    model = build_model(config.model).to(device)
    fit_chain = getattr(model, "fit_transitions", None)  # the LSTM's transition heads read it
    if fit_chain is not None and getattr(config.model, "transitions", None):
        fit_chain(*(torch.from_numpy(a).to(device) for a in transition_pairs(data, split.train)))
    optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=tc.step_size, gamma=tc.gamma)
    counts = np.bincount(target_items(data, split.train), minlength=config.model.n_items)
    loss_fn = make_loss(config.loss, tc, counts, device)
    rows = build_rows(data, split.train, tc.max_len)
    ddp: nn.Module | None = None
    if ranks is not None:
        ddp = DistributedDataParallel(
            Objective(model, loss_fn),
            device_ids=[device.index] if device.type == "cuda" else None,
            forward_sync_buffers=False,  # the families' buffers are constants
            find_unused_parameters=_has_unused_parameters(model, rows, device),
            # Every step uses the same parameters in the same order, so DDP may plan its
            # gradient buckets once from the first step (bench_ddp_step: ~3% per step here).
            static_graph=True,
        )
        if ranks.rank:  # the same weights everywhere (DDP broadcast rank 0's), own samples
            torch.manual_seed(tc.seed + ranks.rank)
    step_targets = distributed.step_batch_size(tc.batch_size, ranks)  # targets per optimiser step
    n_batches = len(batches(rows, step_targets, np.random.default_rng(0)))  # varies by ~1
    yield StartEvent(
        event="start",
        family=config.model.family,
        loss=config.loss,
        device=str(device),
        processes=1 if ranks is None else ranks.world_size,
        n_params=count_parameters(model),
        n_train_targets=len(split.train),
        n_valid_targets=len(split.valid),
        n_report_targets=len(split.report),
        n_rows=len(rows),
        batches_per_epoch=n_batches,
        epochs=tc.epochs,
        time=time.time(),
    )

    started = time.perf_counter()
    train_seconds = 0.0  # excludes validation, for an honest per-epoch speed
    best_epoch, best_score = 0.0, -1.0
    best_state: dict[str, torch.Tensor] | None = None
    key = f"hit@{min(tc.cutoffs)}"
    status: Literal["completed", "stopped", "failed"] = "completed"
    reason, step = "", 0

    def evaluate(targets: Targets) -> dict[str, float]:
        if ranks is None:
            return evaluate_model(
                model, data, targets, tc.max_len, tc.cutoffs, tc.exclude_seen,
                should_stop=should_stop,
            )[0]
        # No stop inside: one rank leaving a collective early would hang the others.
        return distributed.evaluate_sharded(
            evaluate_model, model, data, targets, ranks, device, tc.cutoffs,
            max_len=tc.max_len, exclude_seen=tc.exclude_seen,
        )[0]

    def validate(epoch: float, train_loss: float, epoch_seconds: float) -> EpochEvent:
        metrics = evaluate(split.valid)
        nonlocal best_epoch, best_score, best_state
        is_best = metrics[key] > best_score
        if is_best:
            best_epoch, best_score = epoch, metrics[key]
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if save:
                save("best", model)
        if save:
            save("last", model)
        return cast(EpochEvent, {
            "event": "epoch",
            "epoch": epoch,
            "train_loss": train_loss,
            "valid_loss": metrics.pop("loss"),
            **metrics,
            "lr": optimizer.param_groups[0]["lr"],
            "epoch_seconds": epoch_seconds,
            "train_seconds": train_seconds,  # cumulative, validation excluded
            "elapsed": time.perf_counter() - started,
            "best": is_best,
        })

    for epoch in range(1, tc.epochs + 1):
        model.train()
        epoch_start = time.perf_counter()
        losses, window = [], []
        epoch_batches = batches(rows, step_targets, rng)
        for b, index in enumerate(epoch_batches, start=1):
            code = STOP_CODE if should_stop() else 0
            spent = train_seconds + time.perf_counter() - epoch_start
            # Rank 0's clock alone decides a time limit, so the ranks never disagree.
            if not code and tc.max_seconds and spent > tc.max_seconds and (ranks is None or ranks.is_main):
                code = TIME_CODE
            if ranks is not None:
                code = distributed.max_over_ranks(code, device)
            if code == STOP_CODE:
                status, reason = "stopped", STOP_REASON
                break
            if code == TIME_CODE:
                status, reason = "stopped", f"time limit of {tc.max_seconds:g} s reached"
                break
            weight = 1.0
            if ranks is not None:
                mine = distributed.shard(index, ranks)
                weight = distributed.step_weight(
                    int(rows.loss_mask[mine].sum()), int(rows.loss_mask[index].sum()), ranks.world_size
                )
                index = mine if len(mine) else index[:1]  # no rows left: a weight-0 stand-in
            loss = training_step(
                model, optimizer, loss_fn, _row_batch(rows, index, device), tc.clip_norm,
                bf16=bf16, ddp=ddp, weight=weight, ranks=ranks,
            )
            if not torch.isfinite(loss):
                status, reason = "failed", f"non-finite loss ({loss.item()}) at epoch {epoch}, batch {b}"
                break
            step += 1
            losses.append(loss.item())
            window.append(losses[-1])
            if b % tc.log_every == 0 or b == len(epoch_batches):
                elapsed = time.perf_counter() - started
                progress = (epoch - 1 + b / len(epoch_batches)) / tc.epochs
                yield BatchEvent(
                    event="batch",
                    epoch=epoch,
                    batch=b,
                    step=step,
                    loss=float(np.mean(window)),
                    lr=optimizer.param_groups[0]["lr"],
                    progress=progress,
                    elapsed=elapsed,
                    eta=elapsed / progress * (1 - progress),
                )
                window = []
        train_seconds += time.perf_counter() - epoch_start
        if status == "failed":
            break
        if losses and reason != STOP_REASON:
            fraction = len(losses) / len(epoch_batches)
            try:
                event = validate(
                    epoch - 1 + fraction if status == "stopped" else epoch,
                    float(np.mean(losses)),
                    time.perf_counter() - epoch_start,
                )
            except StopRequested:
                status, reason = "stopped", STOP_REASON
            else:
                yield event
        if status != "completed":
            break
        scheduler.step()

    final: dict[str, float] = {}
    if best_state is not None and reason != STOP_REASON:
        model.load_state_dict(best_state)
        try:
            final = evaluate(split.report)
        except StopRequested:
            status, reason = "stopped", STOP_REASON
    elif status == "completed":
        status, reason = "failed", "no batch was trained"
    if reason == STOP_REASON and best_state is None:
        reason = BEFORE_FIRST_EPOCH
    yield EndEvent(
        event="end",
        status=status,
        reason=reason,
        best_epoch=best_epoch,
        final=final,
        report_split="test" if len(split.test) else "valid",
        elapsed=time.perf_counter() - started,
        train_seconds=train_seconds,
        steps=step,
    )
