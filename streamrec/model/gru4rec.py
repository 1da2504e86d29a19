"""The `gru4rec` family: a GRU over the clicks whose last state is the session
(Hidasi et al., ICLR 2016; Hidasi & Karatzoglou, CIKM 2018, "Recurrent neural networks with
top-k gains"). Scores are dot products with output item vectors plus a bias. With
embed_dim = 0 the input embedding is the output one (the official code's "constrained
embedding"). Trained by default with sampled negatives (TrainConfig.loss). It has no
attention: `explain` is empty, and a page explains it by leaving clicks out.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from streamrec.config import GRU4RecConfig


class GRU4Rec(nn.Module):
    """GRU session model with the last hidden state as the session representation."""

    def __init__(self, config: GRU4RecConfig) -> None:
        super().__init__()
        config.validate()
        self.config = config
        h = config.hidden_size
        self.output = nn.Embedding(config.n_items, h)  # output item vectors
        self.output_bias = nn.Parameter(torch.zeros(config.n_items))
        self.input = nn.Embedding(config.n_items + 1, config.embed_dim, padding_idx=0) if config.embed_dim else None
        self.rnn = nn.GRU(config.embed_dim or h, h, config.num_layers, batch_first=True,
                          dropout=config.dropout_hidden if config.num_layers > 1 else 0.0)
        self.dropout_embed = nn.Dropout(config.dropout_embed)
        self.dropout_hidden = nn.Dropout(config.dropout_hidden)
        nn.init.normal_(self.output.weight, std=h**-0.5)

    def click_vectors(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, E) input vectors; padding is the zero vector."""
        if self.input is not None:
            vectors: torch.Tensor = self.input(tokens)
            return vectors
        mask = (tokens != 0).unsqueeze(2)
        return F.embedding((tokens - 1).clamp(min=0), self.output.weight) * mask

    def forward_rows(
        self, tokens: torch.Tensor, embedded: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, None]:
        """States (B, T, H): the GRU's output after every click of right-padded rows (B, T)
        (`embedded`: the seam's)."""
        if embedded is None:
            embedded = self.click_vectors(tokens)
        # The recurrence stays fp32 under bf16 autocast: oneDNN has no bf16 LSTM on most
        # CPUs, and rounding compounds over the clicks; the matmuls around it are bf16.
        with torch.autocast(tokens.device.type, enabled=False):
            states, _ = self.rnn(self.dropout_embed(embedded))  # (B, T, H)
        return self.dropout_hidden(states) * (tokens != 0).unsqueeze(2), None

    def logits(self, states: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        """Scores (..., n_items), or (..., C) of `items`: state . output vector + bias."""
        if items is None:  # one fused pass: a separate bias add re-reads (..., n_items)
            return F.linear(states, self.output.weight, self.output_bias)
        return F.linear(states, self.output.weight[items], self.output_bias[items])

    def item_embeddings(self) -> torch.Tensor:
        """(n_items, H) output item vectors (the input ones too when embed_dim = 0)."""
        return self.output.weight

    def explain(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """No attention to show: an empty dict."""
        return {}
