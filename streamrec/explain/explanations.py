"""How one recommendation is explained, for any model family: the named maps a model's
`explain` returns, laid out for pickers.

`map_layout` reads the map names only: names of the form "layer L · X" make a layer × X grid
(X = a head, or a reduction such as "mean over heads"); any other name ("rollout", "local
attention", "attention pooling") is a map of its own. A model whose `explain` is empty has no
map, and the page shows leave-one-out occlusion (`faithfulness.occlusion`) alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from streamrec.model import SessionModel

_GRID_NAME = re.compile(r"^(layer \d+) · (.+)$")


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


def summary_map(names: Sequence[str]) -> str:
    """The map that sums up a model's attention, to profile by default: its first map of its
    own (the LSTM's pooling attention, NARM's local attention, SASRec's rollout), else the
    last map of its grid. `names` is `explain`'s, non-empty."""
    layout = map_layout(names)
    return layout.single[0] if layout.single else list(names)[-1]


def is_normalised(weights: np.ndarray, tolerance: float = 1e-3) -> bool:
    """True when every row of a map (rows with any weight) sums to 1: a share of attention,
    as softmax attention is; NARM's local attention, a sigmoid score per click, is not."""
    rows = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    sums = rows.sum(axis=-1)
    used = np.abs(rows).sum(axis=-1) > 0
    return bool(np.all(np.abs(sums[used] - 1.0) <= tolerance)) and bool((rows >= 0).all())


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


def explain_session(model: SessionModel, session: Sequence[int], item: int) -> dict[str, np.ndarray]:
    """Every explainer the model has for P(item) after `session` (the item ids it reads, cut
    to max_len), by name (`faithfulness.METHODS`): (L,) scores over the clicks, higher = more
    responsible. Attention is the model's summary map (`summary_map`) where it has one."""
    from streamrec.explain import faithfulness as fa
    from streamrec.explain.attribution import SHAPLEY, attribute, methods_for
    from streamrec.threads import one_thread

    clicks = np.asarray(session, dtype=np.int64)
    if clicks.size == 0:
        raise ValueError("the session is empty: nothing to explain")
    tokens, lengths = (clicks + 1)[None, :], np.array([clicks.size])
    target = np.array([item], dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    with fa.evaluating(model), one_thread():
        _, maps = fa.last_output_maps(model, tokens, lengths, target)
        out.update({name: values[0] for name, values in maps.items()})
        for method in methods_for(model):
            out[method] = attribute(model, tokens, lengths, target, method)[0]
        if callable(getattr(model, "decompose", None)):
            out[fa.EXACT] = fa.decomposition(model, tokens, lengths, target)[0]
            out[fa.READ_OUT_SHAPLEY] = fa.read_out_shapley(
                out[SHAPLEY][None, :], out[fa.EXACT][None, :], lengths)[0]
    return {name: out[name] for name in fa.METHODS if name in out}
