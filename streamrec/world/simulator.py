"""Click-session simulator: explorers, deep divers and comparison shoppers over a Zipf catalog.

Two engines generate the same stochastic process:

- ``reference`` replays the case study's generator draw for draw on a legacy
  ``numpy.random.RandomState``: the same calls in the same order, so its experiment is
  reproduced exactly. The expensive ``rng.choice(items, p=...)`` is replaced by what
  ``RandomState.choice`` does inside (one ``random_sample`` and a right-sided search in the
  normalised cumulative sum), which consumes the same draws and gives the same item.
- ``fast`` (default) draws everything at once with ``numpy.random.Generator``; with an order
  mechanism on (streamrec.world.mechanisms) it draws click positions in order instead.

Both record what produced every click (`SessionData.cause`, `cause_position`).
"""
from __future__ import annotations

import bisect
import dataclasses

import numpy as np

from streamrec.config import SimConfig
from streamrec.data.sessions import CAUSES, NO_CAUSE, Catalog, SessionData
from streamrec.world.mechanisms import (
    FIRST,
    STAY,
    SWITCH,
    fill_empty_categories,
    simulate_clicks,
    successor_links,
)

__all__ = ["BEHAVIOURS", "Catalog", "SessionData", "dataset_stats", "simulate"]

BEHAVIOURS = ("explorer", "deep_dive", "comparison")
EXPLORER, DEEP_DIVE, COMPARISON = range(3)


def simulate(config: SimConfig) -> SessionData:
    """Generate sessions with the engine named in the config."""
    config.validate()
    if config.engine == "reference":
        return _simulate_reference(config)
    return _simulate_fast(config)


def _within_category_popularity(sizes: np.ndarray, exponent: float) -> np.ndarray:
    """Zipf-like popularity inside each category, items ordered by rank (case study formula)."""
    parts = []
    for n_cat in sizes:
        if n_cat > 0:
            probs = 1.0 / np.arange(1, n_cat + 1, dtype=float) ** exponent
            parts.append(probs / probs.sum())
    return np.concatenate(parts) if parts else np.zeros(0)


def _catalog_from_sizes(sizes: np.ndarray, config: SimConfig) -> Catalog:
    sizes = np.maximum(sizes, 0)
    item_category = np.repeat(np.arange(config.n_categories), sizes).astype(np.int64)
    popularity = np.zeros(config.n_items)
    popularity[: item_category.shape[0]] = _within_category_popularity(
        sizes, config.popularity_exponent
    )
    # The case study can round its way to fewer than n_items assigned items (a negative last
    # size); the unassigned tail then has no category and zero popularity. Label those items
    # with the last category so ids stay valid; they are never clicked.
    missing = config.n_items - item_category.shape[0]
    if missing > 0:
        item_category = np.concatenate([item_category, np.full(missing, config.n_categories - 1)])
    return Catalog(item_category, popularity, sizes.astype(np.int64))


def _simulate_reference(config: SimConfig) -> SessionData:
    """The case study's generator, draw for draw."""
    rng = np.random.RandomState(config.seed)
    n_cats = config.n_categories
    sizes = rng.dirichlet(np.ones(n_cats) * config.category_concentration) * config.n_items
    sizes = np.round(sizes).astype(int)
    sizes[-1] = config.n_items - sizes[:-1].sum()
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    catalog = _catalog_from_sizes(sizes, config)

    # What RandomState.choice(items, p) computes: cdf = cumsum(p); cdf /= cdf[-1].
    cdfs: list[list[float]] = []
    for cat in range(n_cats):
        if sizes[cat] > 0:
            p = catalog.item_popularity[starts[cat] : starts[cat] + sizes[cat]]
            p = p / p.sum()
            cdf = p.cumsum()
            cdf /= cdf[-1]
            cdfs.append(cdf.tolist())
        else:
            cdfs.append([])
    mix = np.asarray(config.behaviour_mix, dtype=float)
    mix_cdf = (mix.cumsum() / mix.cumsum()[-1]).tolist()
    start_list = [int(x) for x in starts]
    switch = config.switch_probs

    random_sample = rng.random_sample
    randint = rng.randint
    sessions: list[list[int]] = []
    behaviours: list[int] = []
    preferred_rows: list[np.ndarray] = []
    causes: list[list[int]] = []
    for _ in range(config.n_sessions):
        behaviour = bisect.bisect_right(mix_cdf, random_sample())
        session_len = randint(config.min_session_length, config.max_session_length + 1)
        n_preferred = randint(config.min_preferred, config.max_preferred + 1)
        preferred_cats = rng.choice(n_cats, size=n_preferred, replace=False)
        n_pref = len(preferred_cats)
        current_cat = int(preferred_cats[randint(0, n_pref)])
        session: list[int] = []
        cause = [FIRST]  # what produced each click: the switch draw after the click before
        p_switch = switch[behaviour]
        for _step in range(session_len):
            cdf = cdfs[current_cat]
            if not cdf:
                continue  # the case study's quirk: an empty category ends all movement
            session.append(start_list[current_cat] + bisect.bisect_right(cdf, random_sample()))
            if behaviour == EXPLORER:
                if random_sample() < p_switch:
                    current_cat = int(randint(0, n_cats))
                    cause.append(SWITCH)
                else:
                    cause.append(STAY)
            elif random_sample() < p_switch:
                current_cat = int(preferred_cats[randint(0, n_pref)])
                cause.append(SWITCH)
            else:
                cause.append(STAY)
        if len(session) >= config.min_kept_length:
            sessions.append(session)
            behaviours.append(behaviour)
            preferred_rows.append(preferred_cats)
            causes.append(cause[: len(session)])
    data = _assemble(sessions, behaviours, preferred_rows, catalog, config)
    cause_codes = np.fromiter((c for row in causes for c in row), dtype=np.int8, count=data.n_clicks)
    return _with_causes(data, cause_codes, _move_positions(cause_codes, data.offsets))


def _move_positions(cause: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(n_clicks,) cause positions of first / stay / switch clicks: a stay's is the click before."""
    lengths = np.diff(offsets)
    position = np.arange(cause.shape[0]) - np.repeat(offsets[:-1], lengths)
    return np.where(cause == STAY, position - 1, NO_CAUSE).astype(np.int64)


def _with_causes(data: SessionData, cause: np.ndarray, position: np.ndarray) -> SessionData:
    return dataclasses.replace(data, cause=cause.astype(np.int8), cause_position=position)


def _assemble(
    sessions: list[list[int]],
    behaviours: list[int],
    preferred_rows: list[np.ndarray],
    catalog: Catalog,
    config: SimConfig,
) -> SessionData:
    lengths = np.fromiter((len(s) for s in sessions), dtype=np.int64, count=len(sessions))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    items = np.fromiter(
        (i for s in sessions for i in s), dtype=np.int64, count=int(offsets[-1])
    )
    preferred = np.zeros((len(sessions), config.n_categories), dtype=bool)
    for row, cats in enumerate(preferred_rows):
        preferred[row, cats] = True
    return SessionData(
        items=items,
        offsets=offsets,
        catalog=catalog,
        behaviour=np.asarray(behaviours, dtype=np.int8),
        preferred=preferred,
        config=config,
    )


def _fast_category_sizes(rng: np.random.Generator, config: SimConfig) -> np.ndarray:
    """Dirichlet sizes rounded as in the case study, with a negative remainder repaired."""
    sizes = rng.dirichlet(np.full(config.n_categories, config.category_concentration))
    sizes = np.round(sizes * config.n_items).astype(np.int64)
    sizes[-1] = config.n_items - sizes[:-1].sum()
    while sizes[-1] < 0:  # rounding overshoot: take it back from the largest categories
        largest = int(np.argmax(sizes[:-1]))
        take = min(-sizes[-1], sizes[largest])
        sizes[largest] -= take
        sizes[-1] += take
    return sizes


def _simulate_fast(config: SimConfig) -> SessionData:
    """Vectorised engine: the same process, drawn in bulk from numpy.random.Generator."""
    rng = np.random.default_rng(config.seed)
    n, n_cats = config.n_sessions, config.n_categories
    sizes = _fast_category_sizes(rng, config)
    if config.has_mechanisms:
        sizes = fill_empty_categories(sizes)
    catalog = _catalog_from_sizes(sizes, config)
    if config.successor_prob > 0 or config.recall_prob > 0:
        catalog = dataclasses.replace(catalog, successor=successor_links(catalog, config.seed))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    behaviour = rng.choice(3, size=n, p=np.asarray(config.behaviour_mix)).astype(np.int8)
    lengths = rng.integers(config.min_session_length, config.max_session_length + 1, size=n)
    n_pref = rng.integers(config.min_preferred, config.max_preferred + 1, size=n)
    # A uniformly random subset of size k: the first k columns of a random permutation.
    pref_order = np.argsort(rng.random((n, n_cats)), axis=1)  # (n, C)
    preferred = np.zeros((n, n_cats), dtype=bool)
    np.put_along_axis(preferred, pref_order, np.arange(n_cats)[None, :] < n_pref[:, None], axis=1)

    def pick_preferred(sessions: np.ndarray) -> np.ndarray:
        column = (rng.random(sessions.shape[0]) * n_pref[sessions]).astype(np.int64)
        picked: np.ndarray = pref_order[sessions, column]
        return picked

    # Item within category: inverse CDF on one global array (category index + within-CDF).
    within_cdf = np.zeros(config.n_items)
    for cat in np.flatnonzero(sizes > 0):
        block = slice(starts[cat], starts[cat] + sizes[cat])
        cdf = np.cumsum(catalog.item_popularity[block])
        within_cdf[block] = cat + cdf / cdf[-1]
    within_cdf = within_cdf[: int(sizes.sum())]
    if config.has_mechanisms:
        grid, cause, position = simulate_clicks(
            config, rng, catalog, within_cdf, behaviour, lengths, pick_preferred(np.arange(n)),
            pick_preferred,
        )
        ok = lengths >= config.min_kept_length  # no empty category: every session runs its length
        kept = (np.arange(grid.shape[1])[None, :] < lengths[:, None]) & ok[:, None]
        return SessionData(
            items=grid[kept],
            offsets=np.concatenate([[0], np.cumsum(lengths[ok])]).astype(np.int64),
            catalog=catalog,
            behaviour=behaviour[ok],
            preferred=preferred[ok],
            config=config,
            cause=cause[kept],
            cause_position=position[kept],
        )

    total = int(lengths.sum())
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    session_of = np.repeat(np.arange(n), lengths)  # (total,)
    is_first = np.zeros(total, dtype=bool)
    is_first[offsets[:-1]] = True
    # Transition drawn after click j decides the category of click j + 1 (same session).
    switch_p = np.asarray(config.switch_probs)[behaviour[session_of]]
    switched = rng.random(total) < switch_p
    target = np.where(
        behaviour[session_of] == EXPLORER,
        rng.integers(0, n_cats, size=total),
        pick_preferred(session_of),
    )
    event = np.full(total, -1, dtype=np.int64)  # category set at this click, or -1 (unchanged)
    event[1:][switched[:-1]] = target[:-1][switched[:-1]]
    event[is_first] = pick_preferred(np.arange(n))
    last_event = np.maximum.accumulate(np.where(event >= 0, np.arange(total), 0))
    categories = event[last_event]

    # An empty category ends the session's clicks (the case study's `continue`).
    empty = sizes[categories] == 0
    if empty.any():
        first_empty = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_empty, session_of[empty], np.flatnonzero(empty))
        keep = np.arange(total) < first_empty[session_of]
    else:
        keep = np.ones(total, dtype=bool)

    u = rng.random(total)
    cats_kept = categories[keep]
    items = np.searchsorted(within_cdf, cats_kept + u[keep], side="right")
    items = np.clip(items, starts[cats_kept], starts[cats_kept] + sizes[cats_kept] - 1)

    kept_lengths = np.bincount(session_of[keep], minlength=n)
    ok = kept_lengths >= config.min_kept_length
    click_ok = ok[session_of[keep]]
    new_lengths = kept_lengths[ok]
    offsets = np.concatenate([[0], np.cumsum(new_lengths)]).astype(np.int64)
    # The switch drawn after click j decides click j + 1: a switch, else a stay.
    cause = np.where(np.concatenate([[False], switched[:-1]]), SWITCH, STAY).astype(np.int8)
    cause[is_first] = FIRST
    cause = cause[keep][click_ok]
    return SessionData(
        items=items[click_ok].astype(np.int64),
        offsets=offsets,
        catalog=catalog,
        behaviour=behaviour[ok],
        preferred=preferred[ok],
        config=config,
        cause=cause,
        cause_position=_move_positions(cause, offsets),
    )


def dataset_stats(data: SessionData) -> dict[str, float]:
    """Headline counts and shares for the CLI and the Simulator page."""
    lengths = data.lengths
    catalog = data.require_catalog()
    shares = np.bincount(data.require_behaviour(), minlength=3) / max(data.n_sessions, 1)
    categories = catalog.item_category[data.items]
    same = categories[1:] == categories[:-1]
    inner = np.ones(data.n_clicks, dtype=bool)
    inner[data.offsets[:-1]] = False  # a click that starts a session has no predecessor
    inner = inner[1:]
    stats = {
        "sessions": data.n_sessions,
        "clicks": data.n_clicks,
        "items": catalog.n_items,
        "categories": catalog.n_categories,
        "distinct_items_clicked": int(np.unique(data.items).shape[0]),
        "mean_session_length": float(lengths.mean()) if data.n_sessions else 0.0,
        "prediction_targets": int((lengths - 1).sum()),
        "stay_in_category_rate": float(same[inner].mean()) if inner.any() else 0.0,
    }
    for name, share in zip(BEHAVIOURS, shares):
        stats[f"share_{name}"] = float(share)
    if data.has_causes:
        assert data.cause is not None
        causes = np.bincount(data.cause, minlength=len(CAUSES)) / max(data.n_clicks, 1)
        for name, share in zip(CAUSES, causes):
            stats[f"cause_{name}"] = float(share)
    return stats
