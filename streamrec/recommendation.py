"""Top-K recommendations and their explanation for one session: the shared core of the CLI
and the Recommend page. Works for any model family through the `SessionModel` interface."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import torch

from streamrec.model import SessionModel

_SEPARATORS = re.compile(r"[\s,;]+")


def parse_items(text: str, n_items: int) -> list[int]:
    """Item ids from text such as '302, 310 365'; ValueError naming every bad token."""
    tokens = [t for t in _SEPARATORS.split(text.strip()) if t]
    if not tokens:
        raise ValueError("the session is empty: enter at least one item id, e.g. 302, 310, 365")
    # ASCII digits only ("٣" is a digit to \d), and few enough that int() stays cheap and never
    # hits Python's 4,300-digit limit: no catalog has an id of 19 digits.
    bad = [t for t in tokens if not re.fullmatch(r"[0-9]{1,18}", t)]
    if bad:
        shown = ", ".join(repr(t) for t in bad[:5]) + (" …" if len(bad) > 5 else "")
        raise ValueError(f"not item ids: {shown}; item ids are whole numbers 0-{n_items - 1}")
    items = [int(t) for t in tokens]
    unknown = [i for i in items if i >= n_items]
    if unknown:
        shown = ", ".join(str(i) for i in unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise ValueError(f"unknown item ids: {shown}; this catalog has ids 0-{n_items - 1}")
    return items


@dataclass(frozen=True)
class Recommendation:
    """What the model says about one session."""

    session: list[int]  # the clicks the model saw (the last max_len of the input)
    dropped: int  # clicks cut from the front because the input was longer than max_len
    top_items: np.ndarray  # (K,) best first
    top_probs: np.ndarray  # (K,) softmax probabilities
    probs: np.ndarray  # (n_items,) the whole next-item distribution
    attention: np.ndarray | None  # (L,) pooling attention over `session` for the next click
    attention_growth: np.ndarray | None  # (L, L): row t = attention over clicks 0..t after click t
    # The model's named explanation maps (L, L), e.g. "rollout"; empty for a family without.
    explanations: dict[str, np.ndarray] = field(default_factory=dict)


@torch.no_grad()
def recommend(
    model: SessionModel,
    items: list[int],
    k: int = 10,
    max_len: int = 25,
    exclude_seen: bool = False,
) -> Recommendation:
    """Top-k next items for a session of item ids, with its attention weights and maps."""
    if not items:
        raise ValueError("the session is empty: enter at least one item id")
    n_items = model.config.n_items
    if not 1 <= k <= n_items:
        raise ValueError(f"k = {k} is out of range: allowed [1, {n_items}]")
    bad = [i for i in items if not 0 <= i < n_items]
    if bad:
        raise ValueError(f"unknown item ids: {bad[:5]}; this model's catalog has ids 0-{n_items - 1}")
    session = list(items[-max_len:])
    tokens = torch.tensor([session], dtype=torch.long) + 1  # (1, L)
    contexts, weights = model.forward_rows(tokens)  # (1, L, H), (1, L, L)
    logits = model.logits(contexts[0, -1])  # (n_items,)
    if exclude_seen:
        logits[torch.tensor(session)] = float("-inf")
    probs = torch.softmax(logits, dim=0)
    top = torch.topk(probs, k)
    growth = None if weights is None else weights[0].numpy()
    return Recommendation(
        session=session,
        dropped=len(items) - len(session),
        top_items=top.indices.numpy(),
        top_probs=top.values.numpy(),
        probs=probs.numpy(),
        attention=None if growth is None else growth[-1].copy(),
        attention_growth=growth,
        explanations={name: m[0].numpy() for name, m in model.explain(tokens).items()},
    )
