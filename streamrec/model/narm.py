"""The `narm` family: neural attentive session-based recommendation (Li et al., CIKM 2017).

A GRU encodes the clicks. After click t the global encoder is the last state h_t; the local
encoder attends over h_1..h_t with alpha_tj = v . sigmoid(A1 h_t + A2 h_j), as in the paper
(the weights are not normalised to sum to 1). The session is [h_t; sum_j alpha_tj h_j], and
a bilinear decoder scores item i as emb_i . B [h_t; c_l], with the input item embeddings.
"""
from __future__ import annotations

import torch
from torch import nn

from streamrec.config import NARMConfig
from streamrec.model.shared import SharedItemTable


class NARM(SharedItemTable, nn.Module):
    """GRU with a global (last state) and a local (attention) session encoder."""

    def __init__(self, config: NARMConfig) -> None:
        super().__init__()
        config.validate()
        self.config = config
        h = config.hidden_size
        self.item_embedding = nn.Embedding(config.n_items + 1, config.embed_dim, padding_idx=0)
        self.rnn = nn.GRU(config.embed_dim, h, config.num_layers, batch_first=True)
        self.query = nn.Linear(h, h, bias=False)  # A1
        self.key = nn.Linear(h, h, bias=False)  # A2
        self.attention_vector = nn.Linear(h, 1, bias=False)  # v
        self.decoder = nn.Linear(2 * h, config.embed_dim, bias=False)  # B
        self.dropout_embed = nn.Dropout(config.dropout_embed)
        self.dropout_context = nn.Dropout(config.dropout_context)
        # Small item vectors (they are also the decoder's): with N(0, 1) the first logits are
        # huge and one epoch on the default data reached Hit@10 0.075 instead of 0.134.
        nn.init.normal_(self.item_embedding.weight, std=config.embed_dim**-0.5)
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()

    def _local(
        self, tokens: torch.Tensor, embedded: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """GRU states (B, T, H) and causal local attention alpha (B, T, T), zero off the prefix."""
        mask = tokens != 0  # (B, T)
        if embedded is None:
            embedded = self.click_vectors(tokens)
        # The recurrence stays fp32 under bf16 autocast: oneDNN has no bf16 LSTM on most
        # CPUs, and rounding compounds over the clicks; the matmuls around it are bf16.
        with torch.autocast(tokens.device.type, enabled=False):
            states, _ = self.rnn(self.dropout_embed(embedded))  # (B, T, H)
        t = tokens.shape[1]
        mixed = torch.sigmoid(self.query(states).unsqueeze(2) + self.key(states).unsqueeze(1))  # (B, T, T, H)
        alpha = self.attention_vector(mixed).squeeze(3)  # (B, T, T): query t, key j
        causal = torch.ones(t, t, dtype=torch.bool, device=tokens.device).tril()
        allowed = causal & mask.unsqueeze(1) & mask.unsqueeze(2)
        return states, alpha * allowed

    def click_vectors(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, E) the item vectors of the clicks (zero at padding)."""
        vectors: torch.Tensor = self.item_embedding(tokens)
        return vectors

    def forward_rows(
        self, tokens: torch.Tensor, embedded: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """States (B, T, E), the decoded session after every click, and the local attention
        (`embedded`: the seam's)."""
        states, alpha = self._local(tokens, embedded)
        local = alpha @ states  # (B, T, H)
        session = torch.cat([states, local], dim=2) * (tokens != 0).unsqueeze(2)  # (B, T, 2H)
        return self.decoder(self.dropout_context(session)), alpha

    def explain(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """The local encoder's attention (B, T, T) by name."""
        return {"local attention": self._local(tokens)[1]}
