"""Scoring against the input item table, for families whose input and output item vectors are one
table (SASRec, NARM): row 0 of `item_embedding` is the padding token, rows 1.. the items."""
from __future__ import annotations

import torch
from torch import nn


class SharedItemTable:
    """Mixin for an `nn.Module` with an `item_embedding` (n_items + 1, D) used for input and output."""

    item_embedding: nn.Embedding

    def logits(self, states: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        """Dot products (..., n_items) of states (..., D) with the item vectors, or (..., C) of `items`."""
        table = self.item_embeddings() if items is None else self.item_embedding.weight[items + 1]
        return states @ table.T

    def item_embeddings(self) -> torch.Tensor:
        """(n_items, D) item vectors, shared by the input and the output."""
        return self.item_embedding.weight[1:]
