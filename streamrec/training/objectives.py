"""Training objectives over a model's states: full softmax, sampled softmax and BPR-max.

- "full": cross-entropy over the whole catalog (what evaluation always ranks).
- "sampled": cross-entropy over the batch's own targets plus `n_negatives` items drawn by
  popularity ** sample_alpha, each score corrected by -log Q(item) so the sampled softmax
  estimates the full one (Jean et al., 2015; Yi et al., RecSys 2019; GRU4Rec's "logq").
  Q is the expected count of the item among the candidates: N in-batch targets drawn by
  popularity plus S samples drawn by popularity ** alpha, N p(i) + S p_alpha(i).
  A candidate equal to a row's target is masked out of that row (no accidental hits).
- "bpr-max": Hidasi & Karatzoglou (CIKM 2018): -log sum_j s_j sigmoid(r_i - r_j) over the
  same negatives, s = softmax of the negative scores, plus bpreg * sum_j s_j r_j^2.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.nn import functional as F

from streamrec.config import TrainConfig
from streamrec.model import SessionModel

Loss = Callable[[SessionModel, torch.Tensor, torch.Tensor], torch.Tensor]  # (model, states, targets)


class NegativeSampler:
    """Draws item ids with probability proportional to popularity ** alpha."""

    def __init__(self, counts: np.ndarray, alpha: float, device: torch.device | str = "cpu") -> None:
        counts = np.asarray(counts, dtype=np.float64) + 1e-3  # never-seen items stay drawable
        weights = np.power(counts, alpha)
        probs = weights / weights.sum()
        self.cdf = torch.tensor(np.cumsum(probs), dtype=torch.float64, device=device)
        self.probs = torch.tensor(probs, dtype=torch.float32, device=device)  # (n_items,) of a sample
        self.popularity = torch.tensor(counts / counts.sum(), dtype=torch.float32, device=device)

    def log_q(self, items: torch.Tensor, n_batch: int, n_sampled: int) -> torch.Tensor:
        """log of the expected number of times each of `items` is a candidate when a batch
        holds n_batch targets (drawn by popularity) and n_sampled samples."""
        return torch.log(n_batch * self.popularity[items] + n_sampled * self.probs[items])

    def sample(self, n: int) -> torch.Tensor:
        """(n,) item ids, drawn with replacement."""
        u = torch.rand(n, dtype=torch.float64, device=self.cdf.device)
        return torch.searchsorted(self.cdf, u).clamp(max=self.cdf.shape[0] - 1)


def full_softmax(model: SessionModel, states: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the full catalog; states (N, H), targets (N,) item ids. A model
    with `auxiliary_logits` (the LSTM with transition heads: its catalog mode alone) adds the
    cross-entropy of each of those, so a part the output mixes is also trained on its own."""
    loss = F.cross_entropy(model.logits(states), targets)
    auxiliary = getattr(model, "auxiliary_logits", None)
    for logits in auxiliary(states) if auxiliary is not None else ():
        loss = loss + F.cross_entropy(logits, targets)
    return loss


def _candidates(
    model: SessionModel, states: torch.Tensor, targets: torch.Tensor, sampler: NegativeSampler, n_negatives: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Scores (N, N + S) of the batch's targets then the sampled items, the candidate ids, and
    the (N, N + S) mask of accidental hits (a candidate equal to the row's target, off the diagonal)."""
    n = targets.shape[0]
    items = torch.cat([targets, sampler.sample(n_negatives)])  # (N + S,)
    scores = model.logits(states, items)  # (N, N + S)
    hits = items.unsqueeze(0) == targets.unsqueeze(1)
    hits[torch.arange(n, device=targets.device), torch.arange(n, device=targets.device)] = False
    return scores, items, hits


def sampled_softmax(sampler: NegativeSampler, n_negatives: int) -> Loss:
    """Cross-entropy over in-batch and sampled candidates with logQ correction."""

    def loss(model: SessionModel, states: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        scores, items, hits = _candidates(model, states, targets, sampler, n_negatives)
        log_q = sampler.log_q(items, targets.shape[0], n_negatives)  # (N + S,)
        scores = (scores - log_q).masked_fill(hits, float("-inf"))
        return F.cross_entropy(scores, torch.arange(targets.shape[0], device=targets.device))

    return loss


def bpr_max(sampler: NegativeSampler, n_negatives: int, bpreg: float) -> Loss:
    """BPR-max over in-batch and sampled negatives, with its score regulariser."""

    def loss(model: SessionModel, states: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        scores, _, hits = _candidates(model, states, targets, sampler, n_negatives)
        n = targets.shape[0]
        positive = scores[torch.arange(n, device=scores.device), torch.arange(n, device=scores.device)]
        negative = hits.clone()
        negative[torch.arange(n, device=scores.device), torch.arange(n, device=scores.device)] = True
        weights = torch.softmax(scores.masked_fill(negative, float("-inf")), dim=1)  # (N, N + S)
        gain = (weights * torch.sigmoid(positive.unsqueeze(1) - scores)).sum(dim=1)
        penalty = (weights * scores.pow(2)).sum(dim=1)
        return (-torch.log(gain + 1e-24) + bpreg * penalty).mean()

    return loss


def make_loss(name: str, config: TrainConfig, counts: np.ndarray, device: torch.device | str = "cpu") -> Loss:
    """The objective `name` ("full", "sampled" or "bpr-max"; resolve "auto" first) with its
    sampler built from item `counts` (n_items,), e.g. how often each item is a training target."""
    if name == "full":
        return full_softmax
    sampler = NegativeSampler(counts, config.sample_alpha, device)
    if name == "sampled":
        return sampled_softmax(sampler, config.n_negatives)
    if name == "bpr-max":
        return bpr_max(sampler, config.n_negatives, config.bpreg)
    raise ValueError(f"loss = {name!r} is not allowed: choose one of full, sampled, bpr-max")


def resolve_device(name: str) -> torch.device:
    """torch device for TrainConfig.device; ValueError when cuda is asked for and absent."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device = 'cuda' is not available on this machine: choose auto or cpu")
    return torch.device(name)


def use_bf16(precision: str, device: torch.device) -> bool:
    """Whether training runs under bfloat16 autocast: "bf16" always (ValueError on a GPU
    without bf16), "fp32" never, "auto" on a GPU that supports it (Ampere and later)."""
    supported = device.type != "cuda" or torch.cuda.is_bf16_supported()
    if precision == "bf16" and not supported:
        raise ValueError("precision = 'bf16' is not supported by this GPU: choose auto or fp32")
    if precision == "auto":
        return device.type == "cuda" and supported
    return precision == "bf16"
