"""Attention over many held-out sessions: run a model session-parallel and keep, for every
prediction target, the attention vector over the prefix it saw, with the session's hidden truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from streamrec.config import RunConfig
from streamrec.data.sessions import SessionData
from streamrec.data.splits import Split, Targets, build_rows, make_split
from streamrec.model import SessionModel
from streamrec.threads import one_thread

Progress = Callable[[float], None]


@dataclass(frozen=True)
class AttentionProfile:
    """Per-prefix attention of one model over held-out sessions, with their hidden truth and
    categories where the data has them (None otherwise, e.g. for an imported log).

    Row p is one prediction target: the model saw `lengths[p]` clicks, `items[p, :L]`
    (first to last), and spread `weights[p, :L]` over them; both are padded on the right.
    """

    weights: np.ndarray  # (P, M) float32, rows sum to 1 over the first `lengths` columns
    items: np.ndarray  # (P, M) int64 prefix item ids, -1 past the length
    lengths: np.ndarray  # (P,) int64, 1..max_len
    session: np.ndarray  # (P,) int64 session id
    position: np.ndarray  # (P,) int64 index in the session of the click being predicted
    behaviour: np.ndarray | None  # (P,) int8 index into BEHAVIOURS; None without hidden truth
    prefix_one_category: np.ndarray | None  # (P,) bool: every click of the prefix in one category
    session_one_category: np.ndarray | None  # (P,) bool: the whole session in one category
    max_len: int
    n_sessions: int  # sessions profiled

    def __len__(self) -> int:
        return int(self.lengths.shape[0])


def held_out_targets(data: SessionData, config: RunConfig) -> Targets:
    """The run's report targets: the test split, or validation where there is none."""
    split: Split = make_split(data, config.train)
    return split.report


def sample_targets(targets: Targets, n_sessions: int, seed: int = 0) -> Targets:
    """Every target of `n_sessions` sessions drawn at random (seeded) from those in `targets`."""
    if n_sessions < 1:
        raise ValueError(f"n_sessions = {n_sessions} must be at least 1")
    sessions = np.unique(targets.session)
    if sessions.size > n_sessions:
        rng = np.random.default_rng(seed)
        sessions = np.sort(rng.choice(sessions, size=n_sessions, replace=False))
    return targets.take(np.flatnonzero(np.isin(targets.session, sessions)))


def _attention(model: SessionModel, tokens: torch.Tensor, view: str | None) -> torch.Tensor:
    """(B, T, T) the pooling attention, or the named explanation map; ValueError if absent."""
    if view is None:
        _, attention = model.forward_rows(tokens)
        if attention is not None:
            return attention
        maps = model.explain(tokens)
        raise ValueError(
            "this model pools without attention: choose a view"
            + (f" ({', '.join(maps)})" if maps else "; it has no attention maps at all")
        )
    maps = model.explain(tokens)
    if view not in maps:
        raise ValueError(f"view = {view!r} is not one of this model's maps: {', '.join(maps) or 'none'}")
    return maps[view]


@torch.no_grad()
def attention_profile(
    model: SessionModel,
    data: SessionData,
    sessions: Targets,
    max_len: int,
    n_sessions: int = 2000,
    seed: int = 0,
    progress: Progress | None = None,
    rows_per_batch: int = 512,
    view: str | None = None,
) -> AttentionProfile:
    """Attention of every target of `n_sessions` sessions drawn from the held-out `sessions`.

    `sessions` are prediction targets (e.g. `held_out_targets`); the model runs
    session-parallel on rows from `build_rows`, so each prefix is exactly the window the
    model is scored on. `progress(fraction)` is called after each batch. `view` names one of
    the model's `explain` maps (e.g. "rollout"); None takes its pooling attention.
    """
    targets = sample_targets(sessions, n_sessions, seed)
    n = len(targets)
    rows = build_rows(data, targets, max_len)
    weights = np.zeros((n, max_len), dtype=np.float32)
    order = np.argsort(-rows.lengths, kind="stable")  # similar lengths share a batch
    was_training = model.training
    model.eval()
    # One intra-op thread: the LSTM's many small steps gain little from a second thread, and
    # on a busy 2-core machine its spinning pool made the default profile ~20x slower.
    try:
        with one_thread():
            for start in range(0, len(rows), rows_per_batch):
                index = order[start : start + rows_per_batch]
                width = int(rows.lengths[index].max())
                attention = _attention(model, torch.from_numpy(rows.tokens[index, :width]), view)
                row, col = np.nonzero(rows.loss_mask[index, :width])
                # The output after row click `col` attends to row clicks 0..col, its whole prefix.
                keep = min(width, max_len)
                weights[rows.target_index[index, :width][row, col], :keep] = attention.numpy()[
                    row, col, :keep
                ]  # (N_b, keep)
                if progress is not None:
                    progress(min(1.0, (start + index.size) / len(rows)))
    finally:
        model.train(was_training)

    lengths = np.minimum(targets.position, max_len)
    cols = np.arange(max_len)[None, :]
    inside = cols < lengths[:, None]  # (P, M)
    starts = data.offsets[targets.session] + targets.position - lengths
    items = np.where(inside, data.items[np.where(inside, starts[:, None] + cols, 0)], -1)
    prefix_one = session_one = None
    if data.has_categories:
        cats = np.where(inside, data.item_category[np.maximum(items, 0)], -1)
        click_cats = data.item_category[data.items]
        one_category = np.minimum.reduceat(click_cats, data.offsets[:-1]) == np.maximum.reduceat(
            click_cats, data.offsets[:-1]
        )
        prefix_one = ((cats == cats[:, :1]) | ~inside).all(axis=1)
        session_one = one_category[targets.session]
    return AttentionProfile(
        weights=weights,
        items=items,
        lengths=lengths,
        session=targets.session,
        position=targets.position,
        behaviour=None if data.behaviour is None else data.behaviour[targets.session],
        prefix_one_category=prefix_one,
        session_one_category=session_one,
        max_len=max_len,
        n_sessions=int(np.unique(targets.session).size),
    )


def check_comparable(a: RunConfig, b: RunConfig) -> None:
    """Raise ValueError unless two runs were trained and held out on the same sessions."""
    if a.data != b.data:
        raise ValueError(
            f"the two runs were trained on different data ({a.data.dataset or 'simulated'} vs "
            f"{b.data.dataset or 'simulated'}): their attention cannot be compared on the "
            "same sessions"
        )
    if a.data.is_simulated and a.sim != b.sim:
        diff = [
            f"{name} {getattr(a.sim, name)!r} vs {getattr(b.sim, name)!r}"
            for name in a.sim.__dataclass_fields__
            if getattr(a.sim, name) != getattr(b.sim, name)
        ]
        raise ValueError(
            "the two runs were trained on different simulated data (" + "; ".join(diff) + "): "
            "their attention cannot be compared on the same sessions"
        )
    split_fields = ("protocol", "valid_fraction", "test_fraction", "example_valid_fraction", "seed")
    diff = [
        f"{name} {getattr(a.train, name)!r} vs {getattr(b.train, name)!r}"
        for name in split_fields
        if getattr(a.train, name) != getattr(b.train, name)
    ]
    if diff:
        raise ValueError(
            "the two runs hold out different sessions (" + "; ".join(diff) + "): sessions "
            "held out for one were trained on by the other"
        )

