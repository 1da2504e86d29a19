"""The one session-data type every source produces: the simulator, an imported click log, a test.

Clicks are flat arrays (`items`, `offsets`) over dense 0-based item indices; everything else is
an optional extra, and capabilities (`has_categories`, `has_truth`, `has_time`, `has_causes`,
`has_labels`) decide what a page or command offers. Nothing in the engine assumes a simulator:
code that needs categories, the hidden truth or times asks for them and gets a clear
`ValueError` naming the missing capability when the source has none.

The anchor is GRU4Rec's official code, which takes any click table by column keys and keeps its
item-id map beside the model: raw item ids here are strings (real logs use large integers or
text) and map to the dense index the model sees through `item_ids`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from streamrec.config import SimConfig
from streamrec.data.columns import CATEGORY, ITEM_ID, POSITION, SESSION_ID

# What produced a click, as recorded by the simulator (`SessionData.cause`). "stay" and
# "switch" are the case study's category moves; the rest are the order-carrying mechanisms.
CAUSES = ("first", "stay", "switch", "anchor", "successor", "recall", "repeat")
NO_CAUSE = -1  # `cause_position` of a click that no earlier click caused
NO_SUCCESSOR = -1  # `Catalog.successor` of an item that ends (or is in no) chain


@dataclass(frozen=True)
class Catalog:
    """Items, their categories and their within-category popularity."""

    item_category: np.ndarray  # (n_items,) int64
    item_popularity: np.ndarray  # (n_items,) float64, sums to 1 within each non-empty category
    category_sizes: np.ndarray  # (n_categories,) int64 items per category as generated
    # (n_items,) int64 the next item of the item's successor chain, NO_SUCCESSOR if none; None
    # when the catalog has no chains (the simulator's item-successor mechanism is off).
    successor: np.ndarray | None = None

    @property
    def n_items(self) -> int:
        """Catalog size."""
        return int(self.item_category.shape[0])

    @property
    def n_categories(self) -> int:
        """Number of categories, empty ones included."""
        return int(self.category_sizes.shape[0])

    @classmethod
    def from_categories(cls, item_category: np.ndarray, clicks: np.ndarray) -> Catalog:
        """A catalog for observed data: popularity is each item's click share in its category."""
        item_category = np.asarray(item_category, dtype=np.int64)
        n_categories = int(item_category.max()) + 1 if item_category.size else 0
        counts = np.bincount(clicks, minlength=item_category.shape[0]).astype(np.float64)
        per_category = np.bincount(item_category, weights=counts, minlength=n_categories)
        popularity = counts / np.maximum(per_category[item_category], 1.0)
        sizes = np.bincount(item_category, minlength=n_categories).astype(np.int64)
        return cls(item_category, popularity, sizes)


@dataclass(frozen=True)
class SessionData:
    """Sessions as flat click arrays, with the extras their source knows.

    Session s is `items[offsets[s]:offsets[s + 1]]`, in click order. Optional extras:

    - `catalog`: item categories and within-category popularity (the simulator's true one, or
      the observed one of a log with a category column).
    - hidden truth, simulator only: `behaviour`, `preferred`, `config` (enough for the exact
      oracle), and per click `cause` (index into CAUSES) and `cause_position` (the position in
      its session of the earlier click that caused it, or NO_CAUSE).
    - `item_ids`: raw item ids as strings (n_items,); None means the raw id is the index.
    - `item_labels`: a display label per item, `times`: Unix seconds per click,
      `session_keys`: raw session ids (n_sessions,), `name`: the data set's name.
    """

    items: np.ndarray  # (n_clicks,) int64 dense item indices, 0-based
    offsets: np.ndarray  # (n_sessions + 1,) int64
    catalog: Catalog | None = None
    behaviour: np.ndarray | None = None  # (n_sessions,) int8 index into simulator.BEHAVIOURS
    preferred: np.ndarray | None = None  # (n_sessions, n_categories) bool
    config: SimConfig | None = None  # the simulator settings that generated the data
    cause: np.ndarray | None = None  # (n_clicks,) int8 index into CAUSES
    cause_position: np.ndarray | None = None  # (n_clicks,) int64, NO_CAUSE where none
    item_ids: np.ndarray | None = None  # (n_items,) str
    item_labels: np.ndarray | None = None  # (n_items,) str
    times: np.ndarray | None = None  # (n_clicks,) float64 Unix seconds
    session_keys: np.ndarray | None = None  # (n_sessions,) str
    name: str = ""
    n_catalog_items: int | None = None  # catalog size when neither catalog nor item_ids say it

    # -- sizes -------------------------------------------------------------------------------

    @property
    def n_sessions(self) -> int:
        """Number of sessions."""
        return int(self.offsets.shape[0] - 1)

    @property
    def n_clicks(self) -> int:
        """Total clicks over all sessions."""
        return int(self.items.shape[0])

    @property
    def n_items(self) -> int:
        """Catalog size (the model's output width)."""
        if self.catalog is not None:
            return self.catalog.n_items
        if self.item_ids is not None:
            return int(self.item_ids.shape[0])
        if self.n_catalog_items is not None:
            return self.n_catalog_items
        return int(self.items.max()) + 1 if self.items.size else 0

    @property
    def lengths(self) -> np.ndarray:
        """(n_sessions,) clicks per session."""
        return np.diff(self.offsets)

    def session(self, s: int) -> np.ndarray:
        """Item indices of session s."""
        return self.items[self.offsets[s] : self.offsets[s + 1]]

    # -- capabilities ------------------------------------------------------------------------

    @property
    def has_categories(self) -> bool:
        """True if every item has a category."""
        return self.catalog is not None

    @property
    def has_truth(self) -> bool:
        """True if the generating process is known (simulated data): an exact oracle exists."""
        return self.config is not None and self.behaviour is not None and self.catalog is not None

    @property
    def has_causes(self) -> bool:
        """True if every click records the mechanism (and earlier click) that produced it."""
        return self.cause is not None and self.cause_position is not None

    @property
    def has_time(self) -> bool:
        """True if clicks carry timestamps."""
        return self.times is not None

    @property
    def has_labels(self) -> bool:
        """True if items carry display labels."""
        return self.item_labels is not None

    def require_catalog(self) -> Catalog:
        """The item catalog; ValueError naming the data set if the source has no categories."""
        if self.catalog is None:
            raise ValueError(f"{self._what()} has no item categories")
        return self.catalog

    def require_behaviour(self) -> np.ndarray:
        """(n_sessions,) hidden behaviour of each session; ValueError unless simulated."""
        if self.behaviour is None:
            raise ValueError(f"{self._what()} has no hidden session behaviours")
        return self.behaviour

    @property
    def item_category(self) -> np.ndarray:
        """(n_items,) category of each item; ValueError if the source has no categories."""
        return self.require_catalog().item_category

    @property
    def item_popularity(self) -> np.ndarray:
        """(n_items,) within-category popularity; ValueError if the source has no categories."""
        return self.require_catalog().item_popularity

    def preferred_categories(self, s: int) -> np.ndarray:
        """Sorted preferred categories of session s (simulated data)."""
        if self.preferred is None:
            raise ValueError(f"{self._what()} has no hidden preferred categories")
        return np.flatnonzero(self.preferred[s])

    def require_truth(self) -> SimConfig:
        """The simulator config; ValueError naming the data set if its process is unknown."""
        if not self.has_truth:
            raise ValueError(
                f"{self._what()} is not simulated: its generating process is unknown, so there "
                "is no exact oracle (no ceiling is known for real data)"
            )
        assert self.config is not None
        return self.config

    def _what(self) -> str:
        return f"data set {self.name!r}" if self.name else "this data set"

    # -- item ids ----------------------------------------------------------------------------

    def raw_ids(self, index: Iterable[int] | np.ndarray) -> list[str]:
        """Raw item ids (as text) of dense item indices."""
        index = np.asarray(list(index) if not isinstance(index, np.ndarray) else index, np.int64)
        if self.item_ids is None:
            return [str(int(i)) for i in index]
        return [str(x) for x in self.item_ids[index]]

    # -- subsets and exports -----------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """One row per click: session_id, position, item_id, and category / time / cause where known."""
        lengths = self.lengths
        session_ids = np.repeat(np.arange(self.n_sessions), lengths)
        positions = np.arange(self.n_clicks) - np.repeat(self.offsets[:-1], lengths)
        frame = {
            SESSION_ID: session_ids if self.session_keys is None else np.repeat(self.session_keys, lengths),
            POSITION: positions,
            ITEM_ID: self.items if self.item_ids is None else self.item_ids[self.items],
        }
        if self.catalog is not None:
            frame[CATEGORY] = self.catalog.item_category[self.items]
        if self.times is not None:
            frame["time"] = self.times
        if self.has_causes:
            assert self.cause is not None and self.cause_position is not None
            frame["cause"] = np.asarray(CAUSES, dtype=object)[self.cause]
            frame["cause_position"] = self.cause_position
        return pd.DataFrame(frame)


_OPTIONAL_ARRAYS = (
    "behaviour", "preferred", "cause", "cause_position", "item_ids", "item_labels", "times",
    "session_keys",
)
# The integer arrays and the types `SessionData` holds them in. A compact layout (a run folder's
# sessions.npz) stores each in the smallest integer type that holds its values; loading restores
# these types.
_INT_DTYPES: dict[str, type] = {
    "items": np.int64, "offsets": np.int64, "item_category": np.int64,
    "category_sizes": np.int64, "item_successor": np.int64, "behaviour": np.int8,
    "cause": np.int8, "cause_position": np.int64,
}
_SMALL_INTS = (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64)


def smallest_int(values: np.ndarray) -> np.ndarray:
    """Integer `values` in the smallest integer type that holds them (unsigned if none is < 0)."""
    values = np.asarray(values)
    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    for dtype in _SMALL_INTS:
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return values.astype(dtype, copy=False)
    return values


def to_arrays(data: SessionData, compact: bool = False) -> dict[str, np.ndarray]:
    """The data set as named arrays for `np.savez` (text as fixed-width unicode, never pickled).

    The plain layout holds the arrays as `SessionData` does (int64 offsets), so a data set's
    memory-mapped files are used without a copy. `compact` (a run folder's sessions.npz, a
    fifth of the plain size once compressed) stores every integer array in the smallest type
    that holds it, session `lengths` instead of `offsets`, and the item indices as byte planes
    (an (itemsize, n_clicks) uint8 array, low bytes first), which deflate compresses better
    than interleaved bytes. `from_arrays` reads both layouts.
    """
    arrays: dict[str, np.ndarray] = {
        "items": data.items.astype(np.int32 if data.n_items < 2**31 else np.int64),
        "offsets": data.offsets.astype(np.int64),
        "n_items": np.asarray(data.n_items, np.int64),
        "name": np.asarray(data.name),
    }
    if data.catalog is not None:
        arrays["item_category"] = data.catalog.item_category
        arrays["item_popularity"] = data.catalog.item_popularity
        arrays["category_sizes"] = data.catalog.category_sizes
        if data.catalog.successor is not None:
            arrays["item_successor"] = data.catalog.successor
    for key in _OPTIONAL_ARRAYS:
        value = getattr(data, key)
        if value is not None:
            arrays[key] = value.astype(str) if value.dtype == object else value
    return _compact(arrays) if compact else arrays


def _compact(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {key: smallest_int(value) if key in _INT_DTYPES else value
           for key, value in arrays.items()}
    out["lengths"] = smallest_int(np.diff(out.pop("offsets").astype(np.int64)))
    items = out["items"]  # indices are >= 0, so an unsigned type
    if items.dtype.itemsize > 1:
        little = items.astype(items.dtype.newbyteorder("<"), copy=False)
        planes = little.view(np.uint8).reshape(-1, items.dtype.itemsize).T
        out["items"] = np.ascontiguousarray(planes)  # contiguous, or np.save interleaves again
    return out


def expand_arrays(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The plain layout of `to_arrays` from either layout: a compact one's item byte planes and
    session lengths become items and int64 offsets; a plain one comes back as it is (so memory
    maps stay mapped). ValueError for byte planes that cannot be item indices."""
    if "lengths" not in arrays:
        return arrays
    out = dict(arrays)
    lengths = np.asarray(out.pop("lengths"))
    if lengths.dtype.kind not in "iu" or lengths.ndim != 1:
        raise ValueError(f"lengths holds {lengths.dtype} values, not integers")
    out["offsets"] = np.concatenate([np.zeros(1, np.int64), np.cumsum(lengths, dtype=np.int64)])
    items = np.asarray(out["items"])
    if items.ndim == 2:
        if items.dtype != np.uint8 or items.shape[0] not in (2, 4, 8):
            raise ValueError(f"items holds {items.shape} {items.dtype} values, not byte planes")
        little = np.dtype(f"<u{items.shape[0]}")
        out["items"] = np.ascontiguousarray(items.T).view(little).reshape(-1)
    return out


def from_arrays(arrays: dict[str, np.ndarray], config: SimConfig | None = None) -> SessionData:
    """Rebuild what `to_arrays` wrote (either layout); `config` is the simulator config for
    simulated data.

    Arrays already of the right type are used as they are, so memory-mapped ones stay mapped.
    """
    arrays = expand_arrays(arrays)

    def typed(key: str, dtype: type) -> np.ndarray:
        return np.asarray(arrays[key]).astype(dtype, copy=False)

    catalog = None
    if "item_category" in arrays:
        catalog = Catalog(
            typed("item_category", np.int64),
            typed("item_popularity", np.float64),
            typed("category_sizes", np.int64),
            typed("item_successor", np.int64) if "item_successor" in arrays else None,
        )
    extras = {
        key: typed(key, _INT_DTYPES[key]) if key in _INT_DTYPES else np.asarray(arrays[key])
        for key in _OPTIONAL_ARRAYS if key in arrays
    }
    return SessionData(
        items=typed("items", np.int64),
        offsets=typed("offsets", np.int64),
        catalog=catalog,
        config=config if "behaviour" in arrays else None,
        name=str(arrays["name"]),
        n_catalog_items=int(arrays["n_items"]),
        **extras,
    )
