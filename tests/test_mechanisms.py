"""Order mechanisms in the simulator: off by default, each click's recorded cause is true to the
draw, successor chains as documented, and the mechanisms' rates as configured."""
from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pytest

from streamrec.config import SimConfig
from streamrec.data.sessions import CAUSES, NO_CAUSE, NO_SUCCESSOR
from streamrec.world.mechanisms import _truncated_geometric, successor_links
from streamrec.world.simulator import simulate

ALL_ON = SimConfig(n_sessions=4000, n_items=600, n_categories=8, anchor_return=0.15,
                   successor_prob=0.3, recall_prob=0.1, repeat_prob=0.15, repeat_decay=0.6)
CODE = {name: i for i, name in enumerate(CAUSES)}


def digest(data) -> str:
    """SHA-256 of int64 session lengths followed by int64 item ids (the fixtures' format)."""
    lengths, items = data.lengths.astype(np.int64), data.items.astype(np.int64)
    return hashlib.sha256(lengths.tobytes() + items.tobytes()).hexdigest()


def positions(data) -> tuple[np.ndarray, np.ndarray]:
    """(position in session, session start offset) of every click."""
    start = np.repeat(data.offsets[:-1], data.lengths)
    return np.arange(data.n_clicks) - start, start


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (SimConfig(n_sessions=500, n_items=300, n_categories=7, seed=0),
         "290ddee3388eeeb59ebc346ac3144eb66fa9aef2c412a453c27ba77071f4695d"),
        (SimConfig(n_sessions=400, n_items=31, n_categories=30, seed=3,
                   category_concentration=0.2),  # empty categories end sessions
         "953277aa6235a1c563af52b1cecdf0bd186db51e98accaccc00420551574ba76"),
    ],
)
def test_off_by_default_and_the_fast_engine_draws_as_before(config, expected):
    assert not config.has_mechanisms and config.active_mechanisms() == []
    data = simulate(config)
    # Digests taken at commit 4c415e2, before the mechanisms existed.
    assert digest(data) == expected
    assert data.catalog.successor is None


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_the_case_study_world_records_first_stay_and_switch(engine):
    data = simulate(SimConfig(n_sessions=800, n_items=300, n_categories=7, engine=engine))
    assert data.has_causes
    pos, start = positions(data)
    assert (data.cause[pos == 0] == CODE["first"]).all()
    assert set(np.unique(data.cause[pos > 0])) == {CODE["stay"], CODE["switch"]}
    stay = data.cause == CODE["stay"]
    cats = data.item_category[data.items]
    # A stay keeps the category of the click before it, which is its recorded cause.
    assert (data.cause_position[stay] == pos[stay] - 1).all()
    assert (cats[stay] == cats[start[stay] + pos[stay] - 1]).all()
    assert (data.cause_position[~stay] == NO_CAUSE).all()
    # Explorers switch with probability 0.4 (to any of 7 categories, maybe the same one).
    explorer = np.repeat(data.behaviour == 0, data.lengths) & (pos > 0)
    share = (data.cause[explorer] == CODE["switch"]).mean()
    assert abs(share - 0.4) < 4 * np.sqrt(0.24 / explorer.sum())


def test_every_recorded_cause_is_true_to_the_clicks():
    data = simulate(ALL_ON)
    pos, start = positions(data)
    cause, at = data.cause, data.cause_position
    successor, cats = data.catalog.successor, data.item_category
    assert set(np.unique(cause)) == set(range(len(CAUSES)))
    has = at != NO_CAUSE
    assert (at[has] < pos[has]).all()
    source = np.where(has, data.items[start + np.maximum(at, 0)], -1)
    items = data.items
    for name, check in {
        "repeat": items == source,
        "successor": (items == successor[np.maximum(source, 0)]) & (at == pos - 1),
        "recall": (items == successor[np.maximum(source, 0)]) & (at < pos - 1),
        "anchor": (cats[items] == cats[np.maximum(source, 0)]) & (at == 0),
        "stay": (cats[items] == cats[np.maximum(source, 0)]) & (at == pos - 1),
    }.items():
        assert check[cause == CODE[name]].all(), name
    assert (at[np.isin(cause, [CODE["first"], CODE["switch"]])] == NO_CAUSE).all()


def test_mechanism_rates_follow_the_settings():
    data = simulate(replace(ALL_ON, n_sessions=20_000))
    pos, _ = positions(data)
    later = pos > 0
    n = later.sum()
    shares = np.bincount(data.cause[later], minlength=len(CAUSES)) / n
    se = np.sqrt(0.25 / n)
    assert abs(shares[CODE["anchor"]] - 0.15) < 5 * se  # anchor and repeat are always available
    assert abs(shares[CODE["repeat"]] - 0.15) < 5 * se
    # A successor is drawn w.p. 0.3 when the latest click has one (about 3 items in 4 do).
    prev_has = data.catalog.successor[data.items[np.maximum(np.arange(data.n_clicks) - 1, 0)]] >= 0
    rate = (data.cause[later & prev_has] == CODE["successor"]).mean()
    assert abs(rate - 0.3) < 5 * np.sqrt(0.21 / (later & prev_has).sum())
    # Repeats reach back d clicks with weight 0.6^d: at position 5, P(d = 0) = 0.4 / (1 - 0.6^5).
    repeat5 = (data.cause == CODE["repeat"]) & (pos == 5)
    back = pos[repeat5] - 1 - data.cause_position[repeat5]
    assert abs((back == 0).mean() - 0.4 / (1 - 0.6**5)) < 5 * np.sqrt(0.25 / repeat5.sum())


def test_successor_chains_are_fixed_by_the_seed_and_stay_in_a_category():
    data = simulate(ALL_ON)
    successor = data.catalog.successor
    assert np.array_equal(successor, simulate(replace(ALL_ON, n_sessions=10)).catalog.successor)
    assert np.array_equal(successor, successor_links(data.catalog, ALL_ON.seed))
    linked = np.flatnonzero(successor != NO_SUCCESSOR)
    cats = data.item_category
    assert (cats[successor[linked]] == cats[linked]).all()
    assert np.unique(successor[linked]).shape[0] == linked.shape[0]  # chains, not trees
    # Walk every chain from its head: 2..6 items, except a category's single leftover item.
    heads = np.setdiff1d(linked, successor[linked])
    lengths = []
    for head in heads:
        n, item = 1, head
        while successor[item] != NO_SUCCESSOR:
            item, n = successor[item], n + 1
        lengths.append(n)
    assert min(lengths) >= 2 and max(lengths) <= 6
    assert sum(lengths) + (data.catalog.n_items - sum(lengths)) == data.catalog.n_items
    assert data.catalog.n_items - sum(lengths) <= data.catalog.n_categories


def test_a_mechanism_fills_empty_categories():
    sparse = SimConfig(n_sessions=300, n_items=31, n_categories=30, seed=3,
                       category_concentration=0.2)
    assert (simulate(sparse).catalog.category_sizes == 0).any()
    data = simulate(replace(sparse, repeat_prob=0.2))
    assert (data.catalog.category_sizes > 0).all() and data.catalog.category_sizes.sum() == 31
    assert (data.lengths >= sparse.min_session_length).all()


def test_truncated_geometric_matches_its_weights():
    u = np.random.default_rng(0).random(200_000)
    for decay, n in ((0.5, 4), (1.0, 3), (0.9, 1)):
        d = _truncated_geometric(u, n, decay)
        weights = decay ** np.arange(n)
        np.testing.assert_allclose(np.bincount(d, minlength=n) / u.shape[0],
                                   weights / weights.sum(), atol=0.005)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"anchor_return": 1.5}, "anchor_return"),
        ({"successor_prob": -0.1}, "successor_prob"),
        ({"recall_prob": float("nan")}, "recall_prob"),
        ({"repeat_decay": 0.0}, "repeat_decay"),
        ({"repeat_prob": 0.6, "successor_prob": 0.6}, "anchor_return \\+ successor_prob"),
        ({"engine": "reference", "repeat_prob": 0.1}, "engine = 'reference' with repeat_prob"),
    ],
)
def test_bad_mechanism_settings_raise_naming_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        simulate(SimConfig(**changes))


def test_causes_and_successor_links_survive_the_run_folder_arrays():
    from streamrec.data.sessions import from_arrays, to_arrays

    data = simulate(replace(ALL_ON, n_sessions=50))
    back = from_arrays(to_arrays(data), data.config)
    assert np.array_equal(back.catalog.successor, data.catalog.successor)
    assert np.array_equal(back.cause, data.cause)
    assert np.array_equal(back.cause_position, data.cause_position)
    assert back.has_causes and back.has_truth


def test_cause_sentences_name_the_clicks_one_based():
    from streamrec.world.mechanisms import cause_sentence

    assert cause_sentence(6, CODE["anchor"], 0) == "click 7 came back to the anchor, click 1"
    assert cause_sentence(0, CODE["first"], NO_CAUSE) == "click 1 started the session"
    assert cause_sentence(4, CODE["repeat"], 2) == "click 5 repeated click 3"
    data = simulate(replace(ALL_ON, n_sessions=30))
    pos, _ = positions(data)
    sentences = [cause_sentence(int(p), int(c), int(a))
                 for p, c, a in zip(pos, data.cause, data.cause_position)]
    assert all(s.startswith(f"click {p + 1} ") for s, p in zip(sentences, pos))
    assert len({s.split(" ", 2)[2][:12] for s in sentences}) == len(CAUSES)  # one wording each
