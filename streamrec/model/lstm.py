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

Two options beyond the case study, off by default (its network is unchanged), on in the
order-carrying scenarios (streamrec/world/scenarios.py), where each was measured (docs/results-simulator.md):

- `item_skip`: the attention-pooled *item embeddings* join the pooled recurrent states in the
  context the output layer reads, so an item can vote for its successor directly through a
  bilinear item-to-item path (a factorised first-order chain, as in FPMC: Rendle et al.,
  2010, and NARM's hybrid of global and local encoders: Li et al., 2017).
- `copy`: a pointer over the session's own clicks (Vinyals et al., 2015) shares one softmax
  normaliser with the catalog scores, as CopyNet does (Gu et al., 2016), so re-clicking an
  item already seen is one mode of the output rather than something the output layer must
  relearn for every item (RepeatNet makes the same split: Ren et al., 2019). The pointer's
  score of click j for the prediction after click t is a query from the context at t against
  a key from click j's embedding, plus a learned bias per distance t - j:
  P(item) ∝ exp(catalog score) + Σ_{j ≤ t, item_j = item} exp(pointer score of j).
  The pointer's scores and the window's items ride in the state `forward_rows` returns (the
  engine never reads a state, it only hands it back to `logits`), so the model interface
  stays as it is; `explain` shows the pointer as a second map beside the pooling attention.
"""
from __future__ import annotations

import torch
from torch import nn

from streamrec.config import LSTMConfig

COPY_DISTANCES = 64  # the pointer learns a bias per distance 0..63; farther clicks share the last
COPY_RANGE = 30.0  # pointer scores are clamped to +-30, so exp() stays finite in float32
NOT_VISIBLE = -1e4  # the pointer score of a click it cannot see: exp() of it is exactly 0


class LSTMRecommender(nn.Module):
    """LSTM (or GRU) over a session's clicks with attention (or last-state) pooling, and
    optionally an item-embedding skip path and a copy pointer (module docstring)."""

    def __init__(self, config: LSTMConfig) -> None:
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
        self.context_size = h + (config.embed_dim if config.item_skip else 0)
        self.output = nn.Linear(self.context_size, config.n_items)
        if config.copy:  # pointer score = query(context_t) . key(embedding_j) / sqrt(E) + bias[t - j]
            self.copy_query = nn.Linear(self.context_size, config.embed_dim)
            self.copy_key = nn.Linear(config.embed_dim, config.embed_dim)
            self.copy_distance = nn.Parameter(torch.zeros(COPY_DISTANCES))

    def _states(
        self, tokens: torch.Tensor, embedded: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, H) recurrent outputs for right-padded tokens (B, T), and the (B, T, E) item
        embeddings they read (before dropout: the skip path and the pointer's keys use them)."""
        if embedded is None:
            embedded = self.item_embedding(tokens)  # (B, T, E)
        # The recurrence stays fp32 under bf16 autocast: oneDNN has no bf16 LSTM on most
        # CPUs, and rounding compounds over the clicks; the matmuls around it are bf16.
        with torch.autocast(tokens.device.type, enabled=False):
            states, _ = self.rnn(self.dropout(embedded))  # (B, T, H)
        return states, embedded

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
        states, embedded = self._states(packed)  # (B, T, H), (B, T, E)
        lengths = packed_mask.sum(dim=1)  # (B,)
        if self.config.pooling == "attention":
            scores = self._scores(states).masked_fill(~packed_mask, float("-inf"))
            weights = torch.softmax(scores, dim=1).nan_to_num(0.0)  # (B, T)
        else:
            last = (lengths - 1).clamp(min=0)
            weights = nn.functional.one_hot(last, tokens.shape[1]).to(states.dtype)
            weights = weights * (lengths > 0).unsqueeze(1)
        query = (lengths - 1).clamp(min=0).unsqueeze(1)  # (B, 1): the prefix's last click
        contexts = self._contexts(packed, embedded, states, weights.unsqueeze(1), query)  # (B, 1, D')
        logits = self.logits(contexts.squeeze(1))  # (B, n_items)
        attention = torch.zeros_like(weights).scatter(1, order, weights)  # back to input order
        return logits, attention

    def click_vectors(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, E) the item embeddings of the clicks (zero at padding)."""
        vectors: torch.Tensor = self.item_embedding(tokens)
        return vectors

    def forward_rows(
        self, tokens: torch.Tensor, embedded: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Session-parallel pass over right-padded rows (B, T) (`embedded`: the seam's).

        Returns the states `logits` reads (B, T, H; wider with `item_skip` or `copy`, see
        `_contexts`), the pooled context after each click, and attention
        (B, T, T) where attention[b, t, j] is the weight of click j in the prediction made
        after click t (zero for j > t and at padding).
        """
        mask = tokens != 0  # (B, T)
        states, embedded = self._states(tokens, embedded)  # (B, T, H), (B, T, E)
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
        query = torch.arange(t, device=tokens.device).expand(tokens.shape[0], -1)  # (B, T)
        return self._contexts(tokens, embedded, states, weights, query), weights

    def _contexts(
        self,
        tokens: torch.Tensor,
        embedded: torch.Tensor,
        states: torch.Tensor,
        weights: torch.Tensor,
        query: torch.Tensor,
    ) -> torch.Tensor:
        """The states `logits` reads, (B, Q, D') for Q queries over right-padded rows.

        tokens (B, T), their item embeddings (B, T, E), recurrent states (B, T, H), pooling
        weights (B, Q, T) (zero beyond each query's click and at padding), query (B, Q) the
        position of each query's last click. D' = H, + E with `item_skip`, + 2T with `copy`:
        the pointer's scores over the window's T clicks (NOT_VISIBLE where a click is not
        visible) and the window's tokens.
        """
        contexts = weights @ states  # (B, Q, H)
        if self.config.item_skip:
            contexts = torch.cat([contexts, weights @ embedded], dim=-1)  # (B, Q, H + E)
        if not self.config.copy:
            return contexts
        positions = torch.arange(tokens.shape[1], device=tokens.device)  # (T,)
        distance = query.unsqueeze(2) - positions  # (B, Q, T)
        visible = (distance >= 0) & (tokens != 0).unsqueeze(1) & (weights.sum(2, keepdim=True) > 0)
        keys = self.copy_key(embedded)  # (B, T, E)
        scores = self.copy_query(contexts) @ keys.transpose(1, 2) / keys.shape[-1] ** 0.5
        scores = scores + self.copy_distance[distance.clamp(0, COPY_DISTANCES - 1)]
        scores = scores.clamp(-COPY_RANGE, COPY_RANGE).masked_fill(~visible, NOT_VISIBLE)
        window = tokens.unsqueeze(1).expand(-1, query.shape[1], -1).to(contexts.dtype)
        return torch.cat([contexts, scores, window], dim=-1)  # (B, Q, D + 2T)

    def logits(self, contexts: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        """Catalog logits (..., n_items) from the states `forward_rows` returns, or (..., C)
        of `items`. With `copy` they are log(exp(catalog score) + the pointer's mass on the
        item), which a softmax turns into the mixture of the module docstring."""
        d = self.context_size
        generated = self._catalog_scores(self.dropout(contexts[..., :d]), items)
        if not self.config.copy:
            return generated
        t = (contexts.shape[-1] - d) // 2
        scores, window = contexts[..., d : d + t], contexts[..., d + t :].long()
        mass = torch.exp(scores)  # (..., T); 0 where a click is not visible
        if items is not None:  # a few candidates: sum each one's mass over the window
            match = (window.unsqueeze(-1) == (items + 1)).to(mass.dtype)  # (..., T, C)
            copied = (mass.unsqueeze(-2) @ match).squeeze(-2)  # (..., C)
            return torch.logaddexp(generated, torch.log(copied + 1e-30))  # log 1e-30: no copy
        # The whole catalog: only the window's items change, so add log(1 + mass / exp(score))
        # at the T slots rather than take a log over every item. Each item gets it once, at its
        # first slot, with the mass of all its slots; other slots add 0.
        same = window.unsqueeze(-1) == window.unsqueeze(-2)  # (..., T, T)
        total = (same.to(mass.dtype) @ mass.unsqueeze(-1)).squeeze(-1)  # (..., T)
        earlier = (same & torch.ones(t, t, dtype=torch.bool, device=same.device).tril(-1)).any(-1)
        column = (window - 1).clamp(min=0)  # (..., T)
        at = generated.gather(-1, column)
        lift = nn.functional.softplus(torch.log(total.clamp(min=1e-30)) - at)
        lift = lift.masked_fill(earlier | (total == 0), 0.0)
        return generated.scatter_add(-1, column, lift)

    def _catalog_scores(self, contexts: torch.Tensor, items: torch.Tensor | None) -> torch.Tensor:
        if items is None:
            scores: torch.Tensor = self.output(contexts)
            return scores
        return contexts @ self.output.weight[items].T + self.output.bias[items]  # (..., C)

    def item_embeddings(self) -> torch.Tensor:
        """(n_items, E) input item vectors (row 0 of the table, the padding, left out)."""
        return self.item_embedding.weight[1:]

    def decompose(self, tokens: torch.Tensor, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """An exact per-click split of the logit of items (B,) after the last click of each
        right-padded row (B, T): (B, T) terms and (B,) the output bias, summing to the logit.

        The output layer is linear in the pooled context Σ_j w_j [h_j; e_j], so click j's term
        is w_j times its state's and (with `item_skip`) its embedding's read-out of the item.
        With `copy` the logit is that score plus the copy mode's lift log(1 + mass / exp(score)),
        split over the clicks of the item in proportion to their pointer mass. Exact in
        eval mode (dropout off); h_j carries the clicks before j, so this is how the output
        layer reads the window, not a removal experiment.
        """
        mask = tokens != 0
        lengths = mask.sum(1)
        states, weights = self.forward_rows(tokens)
        recurrent, embedded = self._states(tokens)
        rows = torch.arange(tokens.shape[0])
        last = (lengths - 1).clamp(min=0)
        w = weights[rows, last]  # (B, T) the pooling weights of the last prediction
        h = self.config.hidden_size
        read = self.output.weight[items]  # (B, D)
        terms = w * (recurrent @ read[:, :h].unsqueeze(2)).squeeze(2)  # (B, T)
        if self.config.item_skip:
            terms = terms + w * (embedded @ read[:, h:].unsqueeze(2)).squeeze(2)
        bias = self.output.bias[items]
        if self.config.copy:
            logit = self.logits(states[rows, last])[rows, items]  # one batch of catalog logits
            t = tokens.shape[1]
            scores = states[rows, last, self.context_size : self.context_size + t]
            mass = torch.exp(scores) * (tokens == (items + 1).unsqueeze(1))  # (B, T)
            share = mass / mass.sum(1, keepdim=True).clamp(min=1e-30)
            terms = terms + (logit - bias - terms.sum(1)).unsqueeze(1) * share
        return terms * mask, bias

    def explain(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named (B, T, T) maps: the pooling attention (not with last-state pooling) and, with
        `copy`, the pointer: row t is how the copy mode would split its mass over clicks 1..t."""
        states, weights = self.forward_rows(tokens)
        maps = {"attention pooling": weights} if self.config.pooling == "attention" else {}
        if self.config.copy:
            t = tokens.shape[1]
            scores = states[..., self.context_size : self.context_size + t]
            seen = (scores > NOT_VISIBLE).any(2, keepdim=True)  # a prediction is made there
            maps["copy pointer"] = torch.softmax(scores, dim=2) * seen
        return maps
