"""The order mechanisms of the simulator: successor chains in the catalog, and the engine that
draws sessions click by click when any mechanism is on (the stories are in docs/scenarios.md).

Before every click after the first, one uniform draw picks what produces it: with
probability `anchor_return` an item of the first click's category (popularity-weighted), with
`successor_prob` the successor of the latest click, with `recall_prob` the successor of an
earlier click (uniform over the earlier clicks that have one), with `repeat_prob` an earlier
click again (the click d steps back with weight `repeat_decay`^d), and otherwise the case
study's category move (stay, or switch with the behaviour's probability) and a
popularity-weighted item of the category. A mechanism that has nothing to act on (the latest
click ends its chain; no earlier click has a successor) leaves its share to the category move.
Every mechanism lands in a category the session has already visited, so the visited set
stays inside the preferred set and the oracle's closed form over that set still holds.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from streamrec.config import MECHANISMS, SimConfig
from streamrec.data.sessions import CAUSES, NO_CAUSE, NO_SUCCESSOR, Catalog

FIRST, STAY, SWITCH, ANCHOR, SUCCESSOR, RECALL, REPEAT = range(len(CAUSES))
# What one uniform draw picks before a click, in the order of config.MECHANISMS, then the move.
DRAW_ANCHOR, DRAW_SUCCESSOR, DRAW_RECALL, DRAW_REPEAT, DRAW_MOVE = range(5)
CHAIN_LENGTHS = (2, 6)  # successor chains hold 2..6 items, both inclusive
LINK_STREAM = 1  # the successor links draw from their own stream of the seed, after the catalog


def fill_empty_categories(sizes: np.ndarray) -> np.ndarray:
    """Sizes with every empty category given one item taken from the largest ones.

    Used only when a mechanism is on: an empty category would end sessions, and the
    mechanisms' oracle assumes none does. Catalogs without empty categories are unchanged.
    """
    sizes = sizes.copy()
    for cat in np.flatnonzero(sizes == 0):
        sizes[int(np.argmax(sizes))] -= 1
        sizes[cat] = 1
    return sizes


def successor_links(catalog: Catalog, seed: int) -> np.ndarray:
    """(n_items,) successor of each item: chains of 2-6 random items inside each category.

    Each category's items are shuffled and cut into chains with lengths uniform in 2..6; a
    leftover single item stands alone. The links depend on the seed and the catalog only.
    """
    rng = np.random.default_rng([seed, LINK_STREAM])
    successor = np.full(catalog.n_items, NO_SUCCESSOR, dtype=np.int64)
    start = 0
    lo, hi = CHAIN_LENGTHS
    for size in catalog.category_sizes.tolist():
        order = start + rng.permutation(size)
        cuts = np.cumsum(rng.integers(lo, hi + 1, size=size // lo + 1))
        chain_end = np.zeros(size, dtype=bool)
        chain_end[cuts[cuts <= size] - 1] = True
        chain_end[-1:] = True
        linked = ~chain_end[:-1]
        successor[order[:-1][linked]] = order[1:][linked]
        start += size
    return successor


def _truncated_geometric(u: np.ndarray, n: int, decay: float) -> np.ndarray:
    """Steps back d in 0..n-1 with P(d) ~ decay^d, by inverse CDF of uniforms u."""
    if decay >= 1.0:
        return np.minimum((u * n).astype(np.int64), n - 1)
    d = np.floor(np.log1p(-u * (1.0 - decay**n)) / np.log(decay)).astype(np.int64)
    steps: np.ndarray = np.clip(d, 0, n - 1)
    return steps


def simulate_clicks(
    config: SimConfig,
    rng: np.random.Generator,
    catalog: Catalog,
    within_cdf: np.ndarray,
    behaviour: np.ndarray,
    lengths: np.ndarray,
    first_category: np.ndarray,
    pick_preferred: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(items, cause, cause_position), each (n, max length) with -1 past a session's end.

    One step per click position, vectorised over the sessions still running: a session's
    clicks depend on its earlier clicks, so positions are drawn in order.
    """
    n, width = lengths.shape[0], int(lengths.max(initial=1))
    starts = np.concatenate([[0], np.cumsum(catalog.category_sizes)[:-1]])
    sizes = catalog.category_sizes
    category = catalog.item_category
    successor = catalog.successor
    n_cats = catalog.n_categories

    def draw_item(cats: np.ndarray) -> np.ndarray:
        items = np.searchsorted(within_cdf, cats + rng.random(cats.shape[0]), side="right")
        return np.clip(items, starts[cats], starts[cats] + sizes[cats] - 1)

    items = np.full((n, width), -1, dtype=np.int64)
    cause = np.full((n, width), -1, dtype=np.int8)
    position = np.full((n, width), NO_CAUSE, dtype=np.int64)
    has_next = np.zeros((n, width), dtype=bool)  # click has a successor (recall candidates)
    items[:, 0] = draw_item(first_category)
    cause[:, 0] = FIRST
    if successor is not None:
        has_next[:, 0] = successor[items[:, 0]] != NO_SUCCESSOR
    anchor = first_category
    switch_p = np.asarray(config.switch_probs)[behaviour]
    explorer = behaviour == 0
    bounds = np.cumsum([getattr(config, name) for name in MECHANISMS])
    for t in range(1, width):
        act = np.flatnonzero(lengths > t)
        prev = items[act, t - 1]
        mech = np.searchsorted(bounds, rng.random(act.shape[0]), side="right")  # a DRAW_* code
        nxt = successor[prev] if successor is not None else np.full(act.shape[0], NO_SUCCESSOR)
        mech[(mech == DRAW_SUCCESSOR) & (nxt == NO_SUCCESSOR)] = DRAW_MOVE
        n_recall = has_next[act, : t - 1].sum(1)
        mech[(mech == DRAW_RECALL) & (n_recall == 0)] = DRAW_MOVE
        new = np.empty(act.shape[0], dtype=np.int64)
        why = np.empty(act.shape[0], dtype=np.int8)
        pos = np.full(act.shape[0], NO_CAUSE, dtype=np.int64)

        rows = np.flatnonzero(mech == DRAW_MOVE)
        sess = act[rows]
        switched = rng.random(rows.shape[0]) < switch_p[sess]
        target = np.where(explorer[sess], rng.integers(0, n_cats, size=rows.shape[0]),
                          pick_preferred(sess))
        new[rows] = draw_item(np.where(switched, target, category[prev[rows]]))
        why[rows] = np.where(switched, SWITCH, STAY)
        pos[rows] = np.where(switched, NO_CAUSE, t - 1)

        rows = np.flatnonzero(mech == DRAW_ANCHOR)
        new[rows] = draw_item(anchor[act[rows]])
        why[rows], pos[rows] = ANCHOR, 0

        rows = np.flatnonzero(mech == DRAW_SUCCESSOR)
        new[rows] = nxt[rows]
        why[rows], pos[rows] = SUCCESSOR, t - 1

        rows = np.flatnonzero(mech == DRAW_RECALL)
        if rows.shape[0]:
            sess = act[rows]
            assert successor is not None  # recall is drawn only where an item has a successor
            pick = (rng.random(rows.shape[0]) * n_recall[rows]).astype(np.int64)  # j-th candidate
            earlier = np.argmax(np.cumsum(has_next[sess, : t - 1], axis=1) > pick[:, None], axis=1)
            new[rows] = successor[items[sess, earlier]]
            why[rows], pos[rows] = RECALL, earlier

        rows = np.flatnonzero(mech == DRAW_REPEAT)
        earlier = t - 1 - _truncated_geometric(rng.random(rows.shape[0]), t, config.repeat_decay)
        new[rows] = items[act[rows], earlier]
        why[rows], pos[rows] = REPEAT, earlier

        items[act, t], cause[act, t], position[act, t] = new, why, pos
        if successor is not None:
            has_next[act, t] = successor[new] != NO_SUCCESSOR
    return items, cause, position


def cause_sentence(position: int, cause: int, cause_position: int) -> str:
    """What produced click `position` (0-based), in words with 1-based click numbers."""
    click, source = f"click {position + 1}", f"click {cause_position + 1}"
    return {
        FIRST: f"{click} started the session",
        STAY: f"{click} stayed in the category of {source}",
        SWITCH: f"{click} switched category",
        ANCHOR: f"{click} came back to the anchor, {source}",
        SUCCESSOR: f"{click} followed on from {source} (its successor)",
        RECALL: f"{click} picked up {source}'s chain again (its successor)",
        REPEAT: f"{click} repeated {source}",
    }[cause]
