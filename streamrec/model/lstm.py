"""The `lstm` family, the case study's network: item embedding -> LSTM/GRU -> attention
(or last-state) pooling -> catalog softmax. Attention pooling after Bahdanau et al. (2015).

The case study's network, with two passes over the same weights:

- `forward(tokens)`: one prediction per padded prefix (left- or right-padded), as in the
  case study; returns logits and the attention weights over the prefix's clicks.
- `forward_rows(tokens)`: session-parallel. One pass over right-padded rows of whole
  sessions yields the pooled context after every click, with causal attention pooling
  (position t attends to clicks 1..t only). Because the recurrent state after click t
  depends only on clicks 1..t and an attention score depends only on its own state, this
  equals the per-prefix forward for every prefix (tests check it to 1e-5).

One difference from the case study, on purpose: padding never enters the recurrence. The
case study left-pads and runs the LSTM over the pad tokens, so the state a prefix starts
from depends on how much padding precedes it (the pad embedding is zero, but the gates'
biases still move the state). Here the clicks of each prefix are moved to the front before
the recurrence, so a prediction depends on the clicks alone.
"""
from __future__ import annotations

import torch
from torch import nn

from streamrec.config import ModelConfig


class SessionRecommender(nn.Module):
    """LSTM (or GRU) over a session's clicks with attention (or last-state) pooling."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        config.validate()
        self.config = config
        h = config.hidden_size
        self.item_embedding = nn.Embedding(config.n_items + 1, config.embed_dim, padding_idx=0)
        rnn = nn.LSTM if config.cell == "lstm" else nn.GRU
        self.rnn = rnn(
            config.embed_dim,
            h,
            config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        if config.pooling == "attention":  # score_t = v . tanh(W h_t + b)
            self.attention_vector = nn.Parameter(torch.randn(h))
            self.attention_proj = nn.Linear(h, h)
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(h, config.n_items)

    def _states(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, H) recurrent outputs for right-padded tokens (B, T)."""
        embedded = self.dropout(self.item_embedding(tokens))  # (B, T, E)
        states, _ = self.rnn(embedded)  # (B, T, H)
        return states

    def _scores(self, states: torch.Tensor) -> torch.Tensor:
        """(B, T) unnormalised attention scores."""
        projected = torch.tanh(self.attention_proj(states))  # (B, T, H)
        return projected @ self.attention_vector  # (B, T)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (B, n_items) and attention weights (B, T) for padded prefixes (B, T).

        Padding may sit on either side; padded positions get exactly zero attention and an
        all-padding row gets zero attention and the output layer's bias as logits.
        """
        mask = tokens != 0  # (B, T)
        order = torch.sort((~mask).to(torch.int8), dim=1, stable=True).indices  # clicks first
        packed = tokens.gather(1, order)  # (B, T) right-padded
        packed_mask = mask.gather(1, order)
        states = self._states(packed)  # (B, T, H)
        lengths = packed_mask.sum(dim=1)  # (B,)
        if self.config.pooling == "attention":
            scores = self._scores(states).masked_fill(~packed_mask, float("-inf"))
            weights = torch.softmax(scores, dim=1).nan_to_num(0.0)  # (B, T)
        else:
            last = (lengths - 1).clamp(min=0)
            weights = nn.functional.one_hot(last, tokens.shape[1]).to(states.dtype)
            weights = weights * (lengths > 0).unsqueeze(1)
        context = torch.bmm(weights.unsqueeze(1), states).squeeze(1)  # (B, H)
        logits = self.output(self.dropout(context))  # (B, n_items)
        attention = torch.zeros_like(weights).scatter(1, order, weights)  # back to input order
        return logits, attention

    def forward_rows(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Session-parallel pass over right-padded rows (B, T).

        Returns contexts (B, T, H), the pooled state after each click, and attention
        (B, T, T) where attention[b, t, j] is the weight of click j in the prediction made
        after click t (zero for j > t and at padding).
        """
        mask = tokens != 0  # (B, T)
        states = self._states(tokens)  # (B, T, H)
        t = tokens.shape[1]
        causal = torch.ones(t, t, dtype=torch.bool, device=tokens.device).tril()  # (T, T)
        allowed = causal.unsqueeze(0) & mask.unsqueeze(1)  # (B, T, T): query t, key j
        if self.config.pooling == "attention":
            scores = self._scores(states).unsqueeze(1).expand(-1, t, -1)  # (B, T, T)
            weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=2)
            weights = weights.nan_to_num(0.0)
        else:
            eye = torch.eye(t, dtype=states.dtype, device=tokens.device).unsqueeze(0)
            weights = eye * mask.unsqueeze(1)  # (B, T, T)
        weights = weights * mask.unsqueeze(2)  # no prediction after a padding position
        contexts = weights @ states  # (B, T, H)
        return contexts, weights

    def logits(self, contexts: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        """Catalog logits (..., n_items) from pooled contexts (..., H), or (..., C) of `items`."""
        contexts = self.dropout(contexts)
        if items is None:
            return self.output(contexts)
        return contexts @ self.output.weight[items].T + self.output.bias[items]  # (..., C)

    def item_embeddings(self) -> torch.Tensor:
        """(n_items, E) input item vectors (row 0 of the table, the padding, left out)."""
        return self.item_embedding.weight[1:]

    def explain(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """The pooling attention (B, T, T) by name; empty with last-state pooling."""
        if self.config.pooling != "attention":
            return {}
        _, weights = self.forward_rows(tokens)
        return {"attention pooling": weights}
