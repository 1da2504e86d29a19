"""The model seam: one small interface every session-model family implements.

Training, evaluation, recommending, the insights and the time estimate talk to a model only
through `SessionModel`; `build_model` is the one place that maps a family's settings to its
class. A new family is one file here, one line in `_FAMILIES` and its config dataclass.

Conventions shared by every family: tokens are item id + 1 and 0 is padding; rows are
right-padded; the state after click t depends on clicks 1..t only, so one session-parallel
pass equals one per-prefix pass for every prefix (tests/test_model.py checks each family).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import torch
from torch import nn

from streamrec.config import AnyModelConfig, GRU4RecConfig, LSTMConfig, NARMConfig, SASRecConfig
from streamrec.model.gru4rec import GRU4Rec
from streamrec.model.lstm import LSTMRecommender
from streamrec.model.narm import NARM
from streamrec.model.sasrec import SASRec

__all__ = ["LSTMRecommender", "SessionModel", "build_model", "count_parameters"]


class SessionModel(Protocol):
    """What the engine needs from a session model (every family is also an `nn.Module`)."""

    config: AnyModelConfig
    training: bool

    def forward_rows(
        self, tokens: torch.Tensor, embedded: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Right-padded tokens (B, T) -> states (B, T, H) after every click, and the attention
        (B, T, T) the prediction after click t pools clicks 1..t with, or None. `embedded`
        (B, T, E), if given, replaces `click_vectors(tokens)` as the vectors the model reads
        (gradient attributions move along them; padding and the clicks' items still come
        from `tokens`)."""
        ...

    def click_vectors(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, E) the input vector of every click, zero at padding: what `forward_rows`
        reads first."""
        ...

    def logits(self, states: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        """Scores (..., n_items) of the catalog from states (..., H); with `items` (C,) item
        ids, the scores (..., C) of those items only (what a sampled loss needs)."""
        ...

    def item_embeddings(self) -> torch.Tensor:
        """(n_items, E) the item vectors the model learned; row i is item i."""
        ...

    def explain(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named (B, T, T) maps over right-padded tokens, e.g. "layer 2 · mean over heads";
        row t weighs clicks 1..t for the prediction after click t. Empty for none."""
        ...

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]: ...
    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]: ...
    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any: ...
    def train(self, mode: bool = True) -> Any: ...
    def eval(self) -> Any: ...
    def to(self, *args: Any, **kwargs: Any) -> Any: ...


_FAMILIES: dict[type, type[nn.Module]] = {
    LSTMConfig: LSTMRecommender,
    SASRecConfig: SASRec,
    GRU4RecConfig: GRU4Rec,
    NARMConfig: NARM,
}


def build_model(config: AnyModelConfig) -> SessionModel:
    """A freshly initialised model of the family `config` describes (validated first)."""
    config.validate()
    return _FAMILIES[type(config)](config)  # type: ignore[return-value]


def count_parameters(model: SessionModel | nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
