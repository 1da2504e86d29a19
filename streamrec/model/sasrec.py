"""The `sasrec` family: self-attentive sequential recommendation (Kang & McAuley, ICDM 2018).

Item embeddings (scaled by sqrt(d)) plus learned position embeddings feed N pre-norm
transformer blocks (causal multi-head self-attention, then a point-wise feed-forward net,
each with dropout and a residual), a final layer norm, and scores by the dot product with
the same item embeddings. Positions count from the first click the model sees, so the
state after click t is the same in a whole-session row and in a prefix of t clicks.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from streamrec.config import SASRecConfig
from streamrec.model.shared import SharedItemTable


class _Block(nn.Module):
    """One pre-norm block: x + attention(LN(x)), then x + FFN(LN(x))."""

    def __init__(self, config: SASRecConfig) -> None:
        super().__init__()
        d = config.hidden_size
        self.heads = config.num_heads
        self.norm_attention = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.project = nn.Linear(d, d)
        self.norm_ffn = nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Dropout(config.dropout), nn.Linear(d, d))
        self.dropout = nn.Dropout(config.dropout)
        self.p_attention = config.dropout

    def forward(
        self, x: torch.Tensor, allowed: torch.Tensor, keep_weights: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B, T, D), allowed (B, 1, T, T) -> x (B, T, D), weights (B, heads, T, T) or None."""
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm_attention(x)).split(d, dim=2)  # 3 x (B, T, D)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        p = self.p_attention if self.training else 0.0
        weights = None
        if keep_weights:  # the explicit softmax, for the explanation maps
            scores = (q @ k.transpose(2, 3)) / math.sqrt(d // self.heads)  # (B, heads, T, T)
            weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=3)
            mixed = F.dropout(weights, p, self.training) @ v  # (B, heads, T, D/heads)
        else:
            mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=p)
        mixed = mixed.transpose(1, 2).reshape(b, t, d)  # (B, T, D)
        x = x + self.dropout(self.project(mixed))
        x = x + self.dropout(self.ffn(self.norm_ffn(x)))
        return x, weights


class SASRec(SharedItemTable, nn.Module):
    """Causal self-attention over a session's clicks; the state after click t is its output t."""

    def __init__(self, config: SASRecConfig) -> None:
        super().__init__()
        config.validate()
        self.config = config
        d = config.hidden_size
        self.item_embedding = nn.Embedding(config.n_items + 1, d, padding_idx=0)
        self.position_embedding = nn.Embedding(config.max_positions, d)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.num_blocks))
        self.norm = nn.LayerNorm(d)
        nn.init.normal_(self.item_embedding.weight, std=d**-0.5)
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()

    def _encode(
        self, tokens: torch.Tensor, keep_weights: bool, embedded: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """States (B, T, D) and, with keep_weights, each block's weights (B, heads, T, T)."""
        mask = tokens != 0  # (B, T)
        t = tokens.shape[1]
        positions = torch.arange(t, device=tokens.device).clamp(max=self.config.max_positions - 1)
        if embedded is None:
            embedded = self.click_vectors(tokens)
        x = embedded * math.sqrt(self.config.hidden_size)  # (B, T, D)
        x = self.dropout(x + self.position_embedding(positions)) * mask.unsqueeze(2)
        causal = torch.ones(t, t, dtype=torch.bool, device=tokens.device).tril()  # (T, T)
        eye = torch.eye(t, dtype=torch.bool, device=tokens.device)
        # Query t sees clicks 1..t; a padding query sees itself only, so no row is empty.
        allowed = ((causal & mask.unsqueeze(1)) | eye).unsqueeze(1)  # (B, 1, T, T)
        maps = []
        for block in self.blocks:
            x, weights = block(x, allowed, keep_weights)
            x = x * mask.unsqueeze(2)
            if weights is not None:
                maps.append(weights * mask[:, None, :, None])  # no prediction after padding
        return self.norm(x) * mask.unsqueeze(2), maps

    def click_vectors(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, D) the item vectors of the clicks (before the sqrt(D) scale; zero at padding)."""
        vectors: torch.Tensor = self.item_embedding(tokens)
        return vectors

    def forward_rows(
        self, tokens: torch.Tensor, embedded: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, None]:
        """States (B, T, D) after every click of right-padded rows (B, T); no pooling attention."""
        states, _ = self._encode(tokens, keep_weights=False, embedded=embedded)
        return states, None

    def explain(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every head of every layer, each layer's mean over heads, and attention rollout
        (Abnar & Zuidema, 2020: the layers' head-mean maps with the residual as 0.5 I, chained)."""
        _, maps = self._encode(tokens, keep_weights=True)
        out: dict[str, torch.Tensor] = {}
        t = tokens.shape[1]
        mask = (tokens != 0).unsqueeze(2)  # (B, T, 1)
        rollout = torch.eye(t, device=tokens.device).expand(tokens.shape[0], t, t) * mask
        eye = torch.eye(t, device=tokens.device) * mask
        for layer, weights in enumerate(maps, start=1):
            for head in range(weights.shape[1]):
                out[f"layer {layer} · head {head + 1}"] = weights[:, head]
            mean = weights.mean(dim=1)  # (B, T, T)
            out[f"layer {layer} · mean over heads"] = mean
            rollout = (0.5 * mean + 0.5 * eye) @ rollout
        out["rollout"] = rollout
        return out
