"""How a run's items are named on screen and on the command line, from what its data knows.

Models see dense 0-based item indices; people see the ids of their own log. A simulated
catalog's ids are the indices themselves and every item has a category ('item 302 · cat 4');
an imported log's items carry their raw ids as text (often huge integers, e.g. '214536502'),
a label where the log has one, and a category where it has one. `ItemNames` holds that map
and is the one place that turns typed text into indices and indices into labels, so the
Recommend page, the CLI and the charts name items the same way whatever the source.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from streamrec.data.sessions import SessionData
from streamrec.recommendation import parse_items

_SEPARATORS = re.compile(r"[\s,;]+")
POPULARITY_GROUPS = 10  # items without categories are grouped by popularity decile


@dataclass(frozen=True, eq=False)  # arrays inside: compared by identity
class ItemNames:
    """Raw ids, labels and categories of a catalog, indexed by dense item index."""

    n_items: int
    raw_ids: np.ndarray | None = None  # (n_items,) str; None: the raw id is the index
    labels: np.ndarray | None = None  # (n_items,) str display labels
    category: np.ndarray | None = None  # (n_items,) int64
    popularity: np.ndarray | None = None  # (n_items,) float: true (simulator) or click share
    dataset: str = ""  # name of the imported data set, "" for simulated data

    @classmethod
    def from_catalog(cls, category: np.ndarray, popularity: np.ndarray | None = None) -> ItemNames:
        """A simulated catalog: ids are indices, every item has a category."""
        category = np.asarray(category, dtype=np.int64)
        return cls(category.shape[0], category=category, popularity=popularity)

    @classmethod
    def from_data(cls, data: SessionData) -> ItemNames:
        """Whatever `data` knows: raw ids, labels, categories; popularity is the click share
        where the source has no true one."""
        counts = np.bincount(data.items, minlength=data.n_items).astype(np.float64)
        popularity = data.item_popularity if data.has_categories else counts / max(counts.sum(), 1)
        return cls(
            n_items=data.n_items,
            raw_ids=None if data.item_ids is None else np.asarray(data.item_ids).astype(str),
            labels=None if data.item_labels is None else np.asarray(data.item_labels).astype(str),
            category=data.item_category if data.has_categories else None,
            popularity=popularity,
            dataset=data.name if data.item_ids is not None else "",
        )

    @property
    def has_categories(self) -> bool:
        """True if every item has a category."""
        return self.category is not None

    @property
    def simulated_ids(self) -> bool:
        """True if the ids are the dense indices with categories (the simulator's catalog)."""
        return self.raw_ids is None and self.labels is None and self.category is not None

    def raw(self, item: int) -> str:
        """The raw id of one item, as text."""
        return str(int(item)) if self.raw_ids is None else str(self.raw_ids[item])

    def label(self, item: int) -> str:
        """Short label of one click or item: 'item 302 · cat 4', 'item 214536502 · Red shoe'."""
        parts = [f"item {self.raw(item)}"]
        if self.labels is not None and self.labels[item]:
            parts.append(str(self.labels[item]))
        if self.category is not None:
            parts.append(f"cat {int(self.category[item])}")
        return " · ".join(parts)

    def labels_of(self, items: Sequence[int]) -> list[str]:
        """One `label` per item, in order."""
        return [self.label(int(i)) for i in items]

    def option(self, item: int) -> str:
        """Picker label of one item: '302 · category 4', '214536502 · Red shoe'."""
        parts = [self.raw(item)]
        if self.labels is not None and self.labels[item]:
            parts.append(str(self.labels[item]))
        if self.category is not None:
            parts.append(f"category {int(self.category[item])}")
        return " · ".join(parts)

    def format(self, items: Sequence[int]) -> str:
        """The text form of a session that `parse` reads back: raw ids, comma-separated."""
        return ", ".join(self.raw(int(i)) for i in items)

    def parse(self, text: str) -> list[int]:
        """Item indices of a typed session of raw ids; ValueError naming every unknown id."""
        if self.raw_ids is None:
            return parse_items(text, self.n_items)
        tokens = [t for t in _SEPARATORS.split(text.strip()) if t]
        if not tokens:
            raise ValueError(
                f"the session is empty: enter at least one item id, e.g. {self.format(range(3))}"
            )
        lookup = self._lookup
        bad = [t for t in tokens if t not in lookup]
        if bad:
            shown = ", ".join(repr(t) for t in bad[:5]) + (" …" if len(bad) > 5 else "")
            where = f"data set {self.dataset!r}" if self.dataset else "this run's catalog"
            raise ValueError(f"unknown item ids: {shown}; they are not in {where}")
        return [lookup[t] for t in tokens]

    @cached_property
    def _lookup(self) -> dict[str, int]:
        assert self.raw_ids is not None
        return {str(r): i for i, r in enumerate(self.raw_ids.tolist())}

    def groups(self) -> tuple[np.ndarray, list[str]]:
        """(n_items,) group of each item and the group names: the category where known, else
        the popularity decile (decile 1 = the least clicked tenth)."""
        if self.category is not None:
            names = [f"category {c}" for c in range(int(self.category.max(initial=-1)) + 1)]
            return self.category, names
        popularity = np.zeros(self.n_items) if self.popularity is None else self.popularity
        order = np.argsort(popularity, kind="stable")
        decile = np.empty(self.n_items, dtype=np.int64)
        decile[order] = np.arange(self.n_items) * POPULARITY_GROUPS // max(self.n_items, 1)
        return decile, [f"popularity decile {d + 1}" for d in range(POPULARITY_GROUPS)]


def as_names(items: ItemNames | np.ndarray) -> ItemNames:
    """`items` as ItemNames; an array is a simulated catalog's item -> category map."""
    return items if isinstance(items, ItemNames) else ItemNames.from_catalog(items)
