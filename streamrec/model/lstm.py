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

One more, for worlds where an earlier click decides the next one (off by default; on in
the order scenarios since it was measured there):

- `transitions` (K heads): a mixture transition distribution (Raftery, 1985: a high-order
  chain as a mixture of first-order transitions from each lag), with neural weights. The
  training log's first-order chain is counted once (`fit_transitions`, each item's 16 most
  frequent next clicks, the rest of its mass by popularity); head k points at the clicks
  (its query vector against a key from each click's embedding, plus a learned bias per
  distance and per position) and learned gates share the output between the catalog mode
  (the softmax above, pointer included) and the heads. Neither reads the recurrent state:
  heads steered by it learned to trust the catalog mode on sessions it had memorised.
  P(item) = g_0 P_catalog(item) + Σ_k g_k Σ_j pointer_k(j) P_chain(item | click j).
  A count learns a link from one example where a factorised output layer needs many (the
  first-order Markov chain beat the network on successor links); the heads read it from any
  click, so a series started long ago is picked up again. In training a session reads the
  chain without the pairs it added itself (its target's among them), as a test session
  always does; without that the network learns to trust counts that hold the answer. The full-softmax loss
  also trains the catalog mode on its own (`auxiliary_logits`). The logits are then
  log-probabilities; `decompose` splits the heads' share over the clicks by the mass each
  gives the item, and `explain` shows each head's pointer.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from streamrec.config import CHAIN_WIDTH, LSTMConfig

COPY_DISTANCES = 64  # the pointer learns a bias per distance 0..63; farther clicks share the last
COPY_RANGE = 30.0  # pointer scores are clamped to +-30, so exp() stays finite in float32
NOT_VISIBLE = -1e4  # the pointer score of a click it cannot see: exp() of it is exactly 0
CHAIN_PRIOR = 1.0  # pseudo-count of the popularity prior in each item's next-click distribution


class LSTMRecommender(nn.Module):
    """LSTM (or GRU) over a session's clicks with attention (or last-state) pooling, and
    optionally an item-embedding skip path, a copy pointer and transition heads (module
    docstring)."""

    # The transition heads' counted chain (buffers, registered when the heads are on).
    chain_next: torch.Tensor
    chain_count: torch.Tensor
    chain_total: torch.Tensor
    chain_popularity: torch.Tensor

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
        k, e = config.transitions, config.embed_dim
        if k:  # head i: a pointer over the clicks, each read through the counted chain
            # Neither the pointers nor the gate read the recurrent context: in development
            # runs on `streaming`, heads steered by it learned to trust the catalog mode on
            # sessions it had memorised, and lost about a point of the oracle's Hit@10.
            self.transition_query = nn.Parameter(torch.zeros(k, e))
            self.transition_key = nn.Linear(e, k * e)
            self.transition_distance = nn.Parameter(torch.zeros(k, COPY_DISTANCES))
            self.transition_position = nn.Parameter(torch.zeros(k, COPY_DISTANCES))
            self.transition_gate = nn.Parameter(torch.zeros(k + 1))  # the catalog mode, then the heads
            # The training log's first-order chain (fit_transitions): for every item its
            # CHAIN_WIDTH most frequent next clicks (ids stored as floats, exact below 2**24),
            # their counts and the item's total, the rest of its mass spread by popularity.
            n = config.n_items
            self.register_buffer("chain_next", torch.zeros(n, CHAIN_WIDTH))
            self.register_buffer("chain_count", torch.zeros(n, CHAIN_WIDTH))
            self.register_buffer("chain_total", torch.zeros(n))
            self.register_buffer("chain_popularity", torch.full((n,), 1.0 / n))

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
        if not (self.config.copy or self.config.transitions):
            return contexts
        positions = torch.arange(tokens.shape[1], device=tokens.device)  # (T,)
        distance = query.unsqueeze(2) - positions  # (B, Q, T)
        visible = (distance >= 0) & (tokens != 0).unsqueeze(1) & (weights.sum(2, keepdim=True) > 0)
        near = distance.clamp(0, COPY_DISTANCES - 1)
        parts = [contexts.float()]  # float32 from here: the window's item ids ride along (bf16 has 8 bits)
        if self.config.copy:
            keys = self.copy_key(embedded)  # (B, T, E)
            scores = self.copy_query(contexts) @ keys.transpose(1, 2) / keys.shape[-1] ** 0.5
            scores = scores + self.copy_distance[near]
            parts.append(scores.float().clamp(-COPY_RANGE, COPY_RANGE).masked_fill(~visible, NOT_VISIBLE))
        if self.config.transitions:
            parts.extend(self._transition_weights(contexts, embedded, visible, near, positions))
            # 1 in training: rows are whole training sessions, whose own pairs the chain
            # leaves out (see _transition_mass); 0 in evaluation.
            parts.append(torch.full_like(query, int(self.training)).unsqueeze(-1).float())  # (B, Q, 1)
        window = tokens.unsqueeze(1).expand(-1, query.shape[1], -1).float()
        return torch.cat([*parts, window], dim=-1)  # (B, Q, D + T [copy] + KT + 2 [heads] + T)

    def _transition_weights(
        self,
        contexts: torch.Tensor,
        embedded: torch.Tensor,
        visible: torch.Tensor,
        near: torch.Tensor,
        positions: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The heads' mixture weights (B, Q, K*T), head-major: gate_k times head k's pointer
        weight of click j (0 where j is not visible), and (B, Q, 1) the log gate of the
        catalog mode. A head's pointer score of click j is its query vector against a key from
        click j's embedding, plus a learned bias per distance and per position: which clicks
        a head reads depends on the clicks and where they are, not on the recurrent state."""
        k, e = self.config.transitions, self.config.embed_dim
        b, q, t = visible.shape
        keys = self.transition_key(embedded).view(b, t, k, e)  # (B, T, K, E)
        scores = (keys * self.transition_query).sum(-1).float().transpose(1, 2) / e**0.5  # (B, K, T)
        heads = torch.arange(k, device=near.device).view(1, k, 1, 1)
        scores = scores.unsqueeze(2) + self.transition_distance[heads, near.unsqueeze(1)]  # (B, K, Q, T)
        scores = scores + self.transition_position[heads, positions.clamp(max=COPY_DISTANCES - 1)]
        scores = scores.masked_fill(~visible.unsqueeze(1), float("-inf"))
        pointer = torch.softmax(scores, dim=3).nan_to_num(0.0)  # (B, K, Q, T)
        gate = torch.log_softmax(self.transition_gate.float(), dim=-1)  # (K + 1,)
        mixed = gate[1:].exp().view(1, k, 1, 1) * pointer  # (B, K, Q, T)
        log_gate = gate[0].expand(b, q, 1)
        return mixed.transpose(1, 2).reshape(b, q, k * t), log_gate

    def _split(self, contexts: torch.Tensor) -> dict[str, torch.Tensor]:
        """The parts of the states `forward_rows` returns (layout in `_contexts`)."""
        d, k = self.context_size, self.config.transitions
        copy = int(self.config.copy)
        extra = contexts.shape[-1] - d
        t = (extra - 2) // (copy + k + 1) if k else extra // 2 if copy else 0
        parts = {"context": contexts[..., :d]}
        at = d
        if copy:
            parts["copy"] = contexts[..., at : at + t]
            at += t
        if k:
            parts["mixed"] = contexts[..., at : at + k * t]
            parts["log_gate"] = contexts[..., at + k * t]
            parts["own"] = contexts[..., at + k * t + 1]
            at += k * t + 2
        if t:
            parts["window"] = contexts[..., at : at + t].long()
        return parts

    def logits(self, contexts: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        """Catalog logits (..., n_items) from the states `forward_rows` returns, or (..., C)
        of `items`. With `copy` they are log(exp(catalog score) + the pointer's mass on the
        item), which a softmax turns into the mixture of the module docstring. With
        `transitions` they are log-probabilities: the catalog mode's softmax times its gate,
        plus each head's mixture of its clicks' next-item distributions."""
        if not self.config.transitions:
            return self._main_logits(contexts, items)
        out = self._mixture(contexts, self._main_logits(contexts))
        return out if items is None else out[..., items]

    def _mixture(self, contexts: torch.Tensor, main: torch.Tensor) -> torch.Tensor:
        """Log-probabilities (..., n_items): the catalog mode's softmax of `main` (its scores,
        `_main_logits`) times its gate, plus the heads' mass."""
        parts = self._split(contexts)
        log_main = torch.log_softmax(main.float(), dim=-1)
        mixed = self._transition_mass(parts["window"], parts["mixed"], parts["own"])  # (..., n_items)
        return torch.logaddexp(log_main + parts["log_gate"].float().unsqueeze(-1), torch.log(mixed + 1e-30))

    def auxiliary_logits(self, contexts: torch.Tensor) -> list[torch.Tensor]:
        """Logits the full-softmax loss also trains on their own: with `transitions`, the
        catalog mode alone (copy pointer included), so the network keeps learning what the
        heads do not serve (the category moves, the anchor) instead of leaning on them (in
        development runs on `streaming`, about half a point of the oracle's Hit@10)."""
        return [self._main_logits(contexts)] if self.config.transitions else []

    @torch.no_grad()
    def fit_transitions(self, previous: torch.Tensor | np.ndarray, following: torch.Tensor | np.ndarray) -> None:
        """Count the training log's first-order chain for the transition heads: item pairs
        (previous click, next click), ids 0..n_items-1. Each item keeps its CHAIN_WIDTH most
        frequent next clicks, P = count / (n + CHAIN_PRIOR); the rest of its mass, and all of
        an item never followed, goes by the popularity of the next clicks (add-one)."""
        n = self.config.n_items
        previous, following = torch.as_tensor(previous).long(), torch.as_tensor(following).long()
        pairs, counts = torch.unique(previous * n + following, return_counts=True)
        source, target = pairs // n, pairs % n
        popularity = torch.bincount(following, minlength=n).double() + 1.0
        totals = torch.bincount(source, weights=counts.double(), minlength=n)  # (n,)
        # Rank each source's next clicks by count (ties: the more popular next click first).
        order = torch.argsort(-(counts.double() * (popularity.max() + 1) + popularity[target]), stable=True)
        order = order[torch.argsort(source[order], stable=True)]
        source, target, counts = source[order], target[order], counts[order]
        starts = torch.zeros(n + 1, dtype=torch.long)
        starts[1:] = torch.cumsum(torch.bincount(source, minlength=n), 0)
        rank = torch.arange(source.shape[0]) - starts[source]
        keep = rank < CHAIN_WIDTH
        nexts = torch.zeros(n, CHAIN_WIDTH)
        kept = torch.zeros(n, CHAIN_WIDTH)
        nexts[source[keep], rank[keep]] = target[keep].float()
        kept[source[keep], rank[keep]] = counts[keep].float()
        self.chain_next.copy_(nexts)
        self.chain_count.copy_(kept)
        self.chain_total.copy_(totals.float())
        self.chain_popularity.copy_((popularity / popularity.sum()).float())

    def _chain_rows(
        self, tokens: torch.Tensor, held: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """For model tokens (...): their kept next clicks (..., W) as item ids, the
        probabilities of those (..., W) and the rest of the mass (...), which goes by
        popularity. `held` (...) leaves one pair (token, held token) out of the counts where
        it is > 0: in training, the pair the session itself added."""
        source = (tokens - 1).clamp(min=0)
        nexts, counts, total = self.chain_next[source], self.chain_count[source], self.chain_total[source]
        if held is not None:
            out = (held > 0) & (total >= 1)
            match = (nexts == (held - 1).unsqueeze(-1).float()) & (counts >= 1) & out.unsqueeze(-1)
            counts = counts - match.float()
            total = total - out.float()
        probs = counts / (total + CHAIN_PRIOR).unsqueeze(-1)
        rest = (total - counts.sum(-1) + CHAIN_PRIOR) / (total + CHAIN_PRIOR)
        return nexts.long(), probs, rest

    def _chain(self, tokens: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """P(items | tokens) under the counted chain, for model tokens (...) and item ids (...)."""
        nexts, probs, rest = self._chain_rows(tokens)
        match = (nexts == items.unsqueeze(-1)) * probs
        return match.sum(-1) + rest * self.chain_popularity[items]

    def _transition_mass(
        self, window: torch.Tensor, mixed: torch.Tensor, own: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(..., n_items) Σ_k Σ_j mixed[k, j] P(item | click j) under the counted chain, for
        window (..., T) and the heads' weights (..., K*T): each click scatters its kept next
        clicks, and its remaining mass goes by popularity.

        `own` (...) is 1 where the window is a whole training session, counted in the chain:
        each click then reads the chain without the pair it made with the click after it in
        this session. For the query's last click that pair holds the target itself; for an
        earlier click it holds a click the session went on to, so a re-click would look
        predictable from counts the session added itself. A test session added no count."""
        k, t = self.config.transitions, window.shape[-1]
        weight = mixed.reshape(*window.shape[:-1], k, t).float().sum(-2)  # (..., T): heads summed
        held = None
        if own is not None:
            after = torch.cat([window[..., 1:], torch.zeros_like(window[..., :1])], dim=-1)
            held = after * (own.unsqueeze(-1) > 0)
        nexts, probs, rest = self._chain_rows(window, held)
        values = weight.unsqueeze(-1) * probs  # (..., T, W)
        lead = window.shape[:-1]
        mass = torch.zeros(*lead, self.config.n_items, device=window.device, dtype=values.dtype)
        mass = mass.scatter_add(-1, nexts.reshape(*lead, -1), values.reshape(*lead, -1))
        spread = (weight * rest).sum(-1, keepdim=True)  # (..., 1)
        return mass + spread * self.chain_popularity

    def _main_logits(self, contexts: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        """The catalog scores, lifted by the copy pointer's mass (the whole logits without
        `transitions`)."""
        d = self.context_size
        generated = self._catalog_scores(self.dropout(contexts[..., :d]), items)
        if not self.config.copy:
            return generated
        parts = self._split(contexts)
        scores, window = parts["copy"], parts["window"]
        t = window.shape[-1]
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
        contexts = states[rows, last]
        parts = self._split(contexts)
        main = self._main_logits(contexts)  # one batch of catalog logits, read by both modes
        if self.config.copy:
            logit = main[rows, items]
            mass = torch.exp(parts["copy"]) * (tokens == (items + 1).unsqueeze(1))  # (B, T)
            share = mass / mass.sum(1, keepdim=True).clamp(min=1e-30)
            terms = terms + (logit - bias - terms.sum(1)).unsqueeze(1) * share
        if self.config.transitions:
            # The catalog mode's log-normaliser and log gate shift every item alike: they join
            # the bias. The heads' lift log(1 + mass / catalog mode's probability) is split
            # over the clicks in proportion to the mass each one gives the item.
            bias = bias + parts["log_gate"] - torch.logsumexp(main.float(), dim=1)
            lift = self._mixture(contexts, main)[rows, items] - (terms.sum(1) + bias)
            k, t = self.config.transitions, tokens.shape[1]
            per_click = self._chain(tokens, items.unsqueeze(1).expand(-1, t))  # (B, T)
            mass = parts["mixed"].view(-1, k, t).float().sum(1) * per_click  # (B, T)
            share = mass / mass.sum(1, keepdim=True).clamp(min=1e-30)
            terms = terms + lift.unsqueeze(1) * share
        return terms * mask, bias

    def explain(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named (B, T, T) maps: the pooling attention (not with last-state pooling) and, with
        `copy`, the pointer: row t is how the copy mode would split its mass over clicks 1..t."""
        states, weights = self.forward_rows(tokens)
        maps = {"attention pooling": weights} if self.config.pooling == "attention" else {}
        parts = self._split(states)
        if self.config.copy:
            scores = parts["copy"]
            seen = (scores > NOT_VISIBLE).any(2, keepdim=True)  # a prediction is made there
            maps["copy pointer"] = torch.softmax(scores, dim=2) * seen
        k = self.config.transitions
        if k:
            b, t, _ = states.shape
            mixed = parts["mixed"].view(b, t, k, t)
            for head in range(k):
                weights = mixed[:, :, head]
                total = weights.sum(2, keepdim=True)
                maps[f"transition head {head + 1}"] = weights / total.clamp(min=1e-30)
        return maps
