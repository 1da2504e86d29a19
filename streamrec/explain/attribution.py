"""Model-agnostic attributions over a session's clicks, from Captum (Kokhlikyan et al., 2020).

Every family gets every explainer here: they use only the model seam
(`streamrec.model.SessionModel`: `forward_rows`, `logits`, `click_vectors`). Each one scores
the clicks of right-padded windows (N, T) for the prediction of one item per row after the
row's last click:

- integrated gradients (Sundararajan, Taly & Yan, ICML 2017) over the click vectors, from the
  padding vector (zero) to the clicks', of log P(item);
- gradient x input (Shrikumar et al., 2016) on the same vectors;
- Shapley value sampling (Castro, Gómez & Tejada, 2009; Štrumbelj & Kononenko, 2010) over
  clicks, a click present or removed as occlusion removes it (the later clicks move up, as if
  it had never been clicked), of P(item);
- occlusion, leave one out (Zeiler & Fergus, 2014; Li, Monroe & Jurafsky, 2016), as Captum's
  FeatureAblation over the same presence mask: how far P(item) falls without each click.

Memory: each forward pass scores at most `rows_per_batch` rows of catalog logits, and only
the explained item's probability of each row is kept.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

import numpy as np
import torch
from captum.attr import FeatureAblation, InputXGradient, IntegratedGradients, ShapleyValueSampling

from streamrec.data.splits import PAD

INTEGRATED_GRADIENTS = "integrated gradients"
GRADIENT_X_INPUT = "gradient x input"
SHAPLEY = "shapley sampling"
OCCLUSION = "occlusion"
GRADIENT_METHODS = (INTEGRATED_GRADIENTS, GRADIENT_X_INPUT)  # need `click_vectors`
REMOVAL_METHODS = (SHAPLEY, OCCLUSION)  # need only forward_rows and logits
CAPTUM_METHODS = (OCCLUSION, SHAPLEY, INTEGRATED_GRADIENTS, GRADIENT_X_INPUT)
IG_STEPS = 8  # Gauss-Legendre points along the straight path from the padding vector
SHAPLEY_SAMPLES = 16  # permutations per row; a click's value is averaged over them

Progress = Callable[[float], None]


class AttributableModel(Protocol):
    """The calls of the model seam the attributions need."""

    def forward_rows(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(states (B, T, H), attention or None) for right-padded rows (B, T); the gradient
        explainers also pass `embedded` (the seam's `SessionModel.forward_rows`)."""
        ...

    def logits(self, states: torch.Tensor) -> torch.Tensor:
        """Catalog logits (..., n_items) from states (..., H)."""
        ...


def methods_for(model: Any) -> tuple[str, ...]:
    """The Captum explainers this model supports: the removal ones always, the gradient ones
    when it exposes its click vectors (every family of streamrec.model does)."""
    if callable(getattr(model, "click_vectors", None)):
        return CAPTUM_METHODS
    return REMOVAL_METHODS


def _last_log_prob(model: AttributableModel, states: torch.Tensor, lengths: torch.Tensor,
                   items: torch.Tensor) -> torch.Tensor:
    """(B,) log P(items | clicks) after each row's last click (one batch of catalog logits)."""
    rows = torch.arange(states.shape[0])
    logits = model.logits(states[rows, (lengths - 1).clamp(min=0)]).float()  # (B, n_items)
    log_p = torch.log_softmax(logits, dim=-1)[rows, items]
    # No click left to read: the model knows nothing, chance.
    return torch.where(lengths > 0, log_p, -float(np.log(logits.shape[-1])))


def _kept_probability(model: AttributableModel) -> Callable[..., torch.Tensor]:
    """forward(presence (B, T), tokens (B, T), items (B,)) -> (B,) P(item | the present clicks),
    the absent ones removed and the rest moved up (right-padded again)."""

    def forward(presence: torch.Tensor, tokens: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        keep = (presence > 0.5) & (tokens != PAD)
        order = torch.sort((~keep).to(torch.int8), dim=1, stable=True).indices
        compact = torch.where(keep.gather(1, order), tokens.gather(1, order), PAD)
        lengths = keep.sum(1)
        width = max(int(lengths.max()), 1)
        states, _ = model.forward_rows(compact[:, :width])
        return _last_log_prob(model, states, lengths, items).exp()

    return forward


def _log_probability(model: Any) -> Callable[..., torch.Tensor]:
    """forward(vectors (B, T, E), tokens (B, T), items (B,)) -> (B,) log P(item | clicks)."""

    def forward(vectors: torch.Tensor, tokens: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        states, _ = model.forward_rows(tokens, vectors)
        return _last_log_prob(model, states, (tokens != PAD).sum(1), items)

    return forward


def attribute(
    model: AttributableModel,
    tokens: np.ndarray,
    lengths: np.ndarray,
    items: np.ndarray,
    method: str,
    rows_per_batch: int = 2048,
    progress: Progress | None = None,
    seed: int = 0,
) -> np.ndarray:
    """(N, T) float64 attribution of each click of right-padded windows `tokens` (N, T) with
    `lengths` (N,) clicks, for P(items[r]) after row r's last click; 0 beyond a row's clicks.

    Rows run in batches of similar length, each cut to its longest row; a batch holds at most
    `rows_per_batch` rows of catalog logits in any forward pass. The model is used as it is
    (call it in eval mode). Shapley sampling draws its permutations from `seed`.
    """
    if method not in CAPTUM_METHODS:
        raise ValueError(f"unknown explainer {method!r}: one of {', '.join(CAPTUM_METHODS)}")
    n, width = tokens.shape
    out = np.zeros((n, width), dtype=np.float64)
    if n == 0:
        return out
    order = np.argsort(-lengths, kind="stable")
    start = 0
    while start < n:
        t = int(lengths[order[start]])
        rows = max(1, rows_per_batch // _rows_per_input(method, t))
        index = order[start : start + rows]
        batch = torch.from_numpy(np.ascontiguousarray(tokens[index, :t]))
        target = torch.from_numpy(items[index].astype(np.int64))
        out[index, :t] = _attribute_batch(model, batch, target, method, rows_per_batch, seed)
        start += index.size
        if progress is not None:
            progress(min(1.0, start / n))
    return out


def _rows_per_input(method: str, t: int) -> int:
    """How many forward rows one input row costs per pass (to keep a batch's logits bounded)."""
    if method == OCCLUSION:
        return t  # every leave-one-out variant in one pass
    if method == SHAPLEY:
        return t  # one permutation's T steps per pass
    if method == INTEGRATED_GRADIENTS:
        return IG_STEPS
    return 1


def _attribute_batch(model: AttributableModel, tokens: torch.Tensor, items: torch.Tensor,
                     method: str, rows_per_batch: int, seed: int) -> np.ndarray:
    """(B, T) attributions of one batch (see `attribute`)."""
    t = tokens.shape[1]
    if method in REMOVAL_METHODS:
        presence = (tokens != PAD).double()
        mask = torch.arange(t)[None, :]  # one feature per click, the same in every row
        forward = _kept_probability(model)
        with torch.no_grad():
            if method == OCCLUSION:
                result = FeatureAblation(forward).attribute(
                    presence, baselines=0.0, additional_forward_args=(tokens, items),
                    feature_mask=mask, perturbations_per_eval=t)
            else:
                torch.manual_seed(seed)  # Captum draws its permutations from torch's generator
                result = ShapleyValueSampling(forward).attribute(
                    presence, baselines=0.0, additional_forward_args=(tokens, items),
                    feature_mask=mask, n_samples=SHAPLEY_SAMPLES, perturbations_per_eval=t)
        removal: np.ndarray = (result * (tokens != PAD)).double().numpy()
        return removal
    vectors = cast(Any, model).click_vectors(tokens).detach().requires_grad_()
    forward = _log_probability(model)
    with torch.enable_grad():
        if method == INTEGRATED_GRADIENTS:
            result = IntegratedGradients(forward).attribute(
                vectors, baselines=torch.zeros_like(vectors), additional_forward_args=(tokens, items),
                n_steps=IG_STEPS, internal_batch_size=max(1, rows_per_batch))
        else:
            result = InputXGradient(forward).attribute(vectors, additional_forward_args=(tokens, items))
    gradient: np.ndarray = (result.sum(-1) * (tokens != PAD)).detach().double().numpy()
    return gradient
