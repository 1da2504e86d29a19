"""Type and range checks for the session arrays read from a folder (`sessions.to_arrays` layout).

A data set's or a run's sessions.npz is checked before `sessions.from_arrays` builds anything
from it: an item index past the catalog, offsets that run backwards, a float where indices
belong or a times column with NaN would otherwise surface later as an IndexError deep inside a
page. Each failure is a ValueError naming the array and what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

_PER_ITEM = ("item_category", "item_popularity", "item_successor", "item_ids", "item_labels")
_PER_CLICK = ("times", "cause", "cause_position")
_TEXT = ("item_ids", "item_labels", "session_keys", "name")


def _integers(name: str, array: np.ndarray) -> None:
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} holds {array.dtype} values, not integers")


def check_session_arrays(arrays: Mapping[str, np.ndarray]) -> None:
    """ValueError naming the first array of `arrays` with the wrong type, shape or range."""
    for name in ("items", "offsets", "n_items", "name"):
        if name not in arrays:
            raise ValueError(f"the array {name!r} is missing")
    items, offsets, n_items = arrays["items"], arrays["offsets"], arrays["n_items"]
    _integers("items", items)
    _integers("offsets", offsets)
    _integers("n_items", n_items)
    if items.ndim != 1 or offsets.ndim != 1 or n_items.ndim != 0:
        raise ValueError("items and offsets must be flat arrays and n_items one number")
    n = int(n_items)
    if not 1 <= n < 2**40:
        raise ValueError(f"n_items = {n} is out of range")
    if items.size and (int(items.min()) < 0 or int(items.max()) >= n):
        raise ValueError(f"items holds indices outside [0, {n}) (the catalog size)")
    if offsets.size < 1 or int(offsets[0]) != 0 or int(offsets[-1]) != items.size:
        raise ValueError("offsets must run from 0 to the number of clicks")
    if np.any(np.diff(offsets) < 0):
        raise ValueError("offsets run backwards (a session of negative length)")
    for name in _TEXT:
        if name in arrays and arrays[name].dtype.kind not in "US":
            raise ValueError(f"{name} holds {arrays[name].dtype} values, not text")
    sizes = {**dict.fromkeys(_PER_ITEM, n), **dict.fromkeys(_PER_CLICK, items.size),
             "session_keys": offsets.size - 1}
    for name, size in sizes.items():
        if name in arrays and arrays[name].shape[:1] != (size,):
            raise ValueError(f"{name} has {arrays[name].shape} entries, expected {size}")
    if "times" in arrays:
        times = arrays["times"]
        if times.dtype.kind not in "iuf" or not np.isfinite(times.astype(np.float64)).all():
            raise ValueError("times must be finite numbers (Unix seconds)")
    if "item_category" in arrays:
        category = arrays["item_category"]
        _integers("item_category", category)
        if category.size and int(category.min()) < 0:
            raise ValueError("item_category holds negative categories")
        if "category_sizes" not in arrays or "item_popularity" not in arrays:
            raise ValueError("item_category comes without category_sizes and item_popularity")
        if category.size and int(category.max()) >= arrays["category_sizes"].shape[0]:
            raise ValueError("item_category holds categories beyond category_sizes")
        popularity = arrays["item_popularity"]
        if popularity.dtype.kind != "f" or not np.isfinite(popularity).all():
            raise ValueError("item_popularity must be finite numbers")
