"""Pieces the baselines share: CSR row expansion and exact popularity fallbacks.

A fallback is a popularity order kept as exact float levels (dense ranks of training counts),
so a baseline can add it squeezed below its own smallest step and rank lexicographically:
first by its own score, then, among equal scores, by popularity.
"""
from __future__ import annotations

import numpy as np
import torch

from streamrec.data.sessions import SessionData
from streamrec.data.splits import PAD, Targets, target_items


def expand_rows(ptr: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For CSR row pointers: (index into `rows`, flat entry index) of every entry of those rows."""
    # numpy's repeat is an order of magnitude faster than torch.repeat_interleave on CPU.
    start = ptr.numpy()[rows.numpy()]
    counts = ptr.numpy()[rows.numpy() + 1] - start
    owner = np.repeat(np.arange(rows.shape[0]), counts)
    shift = np.repeat(start - (np.cumsum(counts) - counts), counts)  # row start minus run start
    return torch.from_numpy(owner), torch.from_numpy(np.arange(owner.shape[0]) + shift)


class PopularityLevels:
    """Global popularity as exact float levels: the fallback where the data has no categories.

    Every item's level is the dense rank of its training count (tied counts stay tied).
    """

    def __init__(self, counts: np.ndarray) -> None:
        distinct, level = np.unique(counts, return_inverse=True)
        self.level = torch.from_numpy(level.astype(np.float64))  # (n_items,)
        self.n_levels = int(distinct.shape[0])

    def scores(self, prefixes: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """(B, n_items) levels in [0, n_levels), times scale, the same row for every prefix."""
        return (self.level * scale).repeat(prefixes.shape[0], 1)  # (B, n_items)

    def fallback(self, prefixes: torch.Tensor) -> torch.Tensor:
        """(B, n_items) the same order squeezed into [0, 1), below any count of one or more."""
        return self.scores(prefixes, 1.0 / (2 * self.n_levels))


class CategoryLevels(PopularityLevels):
    """Last-category popularity as exact float levels, the fallback of several baselines.

    Every item of the last click's category ranks above every other item; within each group,
    by the dense rank of its training count (tied counts stay tied).
    """

    def __init__(self, data: SessionData, counts: np.ndarray) -> None:
        super().__init__(counts)
        category = data.item_category.astype(np.int64)
        self.category = torch.from_numpy(category)  # (n_items,)
        members = np.argsort(category, kind="stable")
        self.members = torch.from_numpy(members)  # item ids grouped by category
        self.category_ptr = torch.from_numpy(
            np.searchsorted(category[members], np.arange(data.require_catalog().n_categories + 1))
        )

    def scores(self, prefixes: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """(B, n_items) levels in [0, 2 n_levels), times scale; no click: global popularity."""
        scores = super().scores(prefixes, scale)  # (B, n_items)
        last = prefixes[:, -1]  # (B,) left padding puts the last click in the last column
        rows = torch.nonzero(last != PAD).squeeze(1)
        # Lift the last category's items, a few hundred per row, instead of testing all items.
        owner, flat = expand_rows(self.category_ptr, self.category[last[rows] - 1])
        scores[rows[owner], self.members[flat]] += self.n_levels * scale
        return scores


def target_counts(data: SessionData, train: Targets) -> np.ndarray:
    """(n_items,) how often each item is a training target."""
    return np.bincount(target_items(data, train), minlength=data.n_items)


def fallback_levels(data: SessionData, train: Targets) -> PopularityLevels:
    """Last-category popularity where the data has categories, else global popularity."""
    counts = target_counts(data, train)
    return CategoryLevels(data, counts) if data.has_categories else PopularityLevels(counts)
