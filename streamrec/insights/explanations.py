"""How one recommendation is explained, for any model family: the named maps a model's
`explain` returns, laid out for a picker, and leave-one-out occlusion for every model.

- `map_layout` reads the map names only: names of the form "layer L · X" make a layer × X
  grid (X = a head, or a reduction such as "mean over heads"); any other name ("rollout",
  "local attention", "attention pooling") is a map of its own. A model whose `explain` is
  empty has no map, and the page shows occlusion alone.
- `occlusion`: drop each click of the session, run the model on the remaining clicks and
  measure how far the probability of a recommended item falls (Zeiler & Fergus, "Visualizing
  and understanding convolutional networks", ECCV 2014; Li, Monroe & Jurafsky,
  "Understanding neural networks through representation erasure", 2016). It asks the model
  itself, so it applies to models without attention, such as GRU4Rec.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from streamrec.model import SessionModel
from streamrec.threads import one_thread

_GRID_NAME = re.compile(r"^(layer \d+) · (.+)$")
MIN_OCCLUSION_CLICKS = 2  # dropping the only click leaves nothing to score


@dataclass(frozen=True)
class MapLayout:
    """The maps of an explanation arranged for pickers: a grid and the maps of their own."""

    layers: list[str]  # e.g. ["layer 1", "layer 2"], in order; empty without a grid
    views: list[str]  # per layer, e.g. ["head 1", "head 2", "mean over heads"]
    single: list[str]  # maps outside the grid, e.g. ["rollout"]

    @staticmethod
    def grid_name(layer: str, view: str) -> str:
        """The map name of one grid cell: 'layer 2 · head 1'."""
        return f"{layer} · {view}"

    @property
    def empty(self) -> bool:
        """True when the model explained nothing (no attention to show)."""
        return not self.layers and not self.single


def map_layout(names: Sequence[str]) -> MapLayout:
    """Split `explain`'s map names into a layer × view grid and single maps, in their order;
    the grid's views are those every layer has (heads first, as the model lists them)."""
    layers: list[str] = []
    views: dict[str, list[str]] = {}
    single: list[str] = []
    for name in names:
        match = _GRID_NAME.match(name)
        if match is None:
            single.append(name)
            continue
        layer, view = match.groups()
        if layer not in views:
            layers.append(layer)
            views[layer] = []
        views[layer].append(view)
    common = [v for v in views[layers[0]] if all(v in views[la] for la in layers)] if layers else []
    return MapLayout(layers=layers, views=common, single=single)


@torch.no_grad()
def explanation_names(model: SessionModel) -> list[str]:
    """The names of the maps the model's `explain` returns (empty for a model without
    attention), read off a two-click session."""
    was_training = model.training
    model.eval()
    try:
        return list(model.explain(torch.tensor([[1, 2]])))
    finally:
        model.train(was_training)


@torch.no_grad()
def has_attention(model: SessionModel) -> bool:
    """True when the model weighs clicks in some way an attention profile can read: named
    maps from `explain`, or the weights `forward_rows` returns (one-hot for last-state
    pooling)."""
    if explanation_names(model):
        return True
    was_training = model.training
    model.eval()
    try:
        return model.forward_rows(torch.tensor([[1, 2]]))[1] is not None
    finally:
        model.train(was_training)


@torch.no_grad()
def occlusion(model: SessionModel, session: Sequence[int], item: int) -> np.ndarray:
    """(L,) P(item | session) minus P(item | session without click i), for each click i of
    `session` (item ids as the model reads them, already cut to max_len): how much each
    click holds up the recommendation of `item` (negative: the item gains without it)."""
    clicks = np.asarray(session, dtype=np.int64)
    if clicks.size < MIN_OCCLUSION_CLICKS:
        raise ValueError(
            f"the session has {clicks.size} click(s): dropping one needs at least "
            f"{MIN_OCCLUSION_CLICKS}"
        )
    n = clicks.size
    keep = ~np.eye(n, dtype=bool)  # row i keeps every click but i
    variants = np.broadcast_to(clicks, (n, n))[keep].reshape(n, n - 1)  # (L, L-1)
    tokens = torch.from_numpy(np.ascontiguousarray(variants) + 1)  # (L, L-1), 0 stays padding
    full = torch.from_numpy(clicks[None, :] + 1)  # (1, L)
    was_training = model.training
    model.eval()
    try:
        with one_thread():
            states_full, _ = model.forward_rows(full)  # (1, L, H)
            states, _ = model.forward_rows(tokens)  # (L, L-1, H)
            p_full = torch.softmax(model.logits(states_full[:, -1]), dim=-1)[0, item]
            p_drop = torch.softmax(model.logits(states[:, -1]), dim=-1)[:, item]  # (L,)
    finally:
        model.train(was_training)
    return (p_full - p_drop).numpy().astype(np.float64)
