"""ItemNames: raw ids in, labels out, for a simulated catalog and for imported logs."""

from __future__ import annotations

import numpy as np
import pytest

from streamrec.data.items import ItemNames, as_names
from streamrec.data.sessions import Catalog, SessionData

IDS = np.array(["214536502", "214536500", "a-7", "99"])


def log(labels: bool = False, categories: bool = False) -> SessionData:
    """Two sessions over four items with raw ids; item 0 clicked 3 times, item 3 never."""
    items = np.array([0, 1, 0, 2, 0])
    return SessionData(
        items=items,
        offsets=np.array([0, 2, 5]),
        item_ids=IDS,
        item_labels=np.array(["Red shoe", "", "Hat", "Sock"]) if labels else None,
        catalog=Catalog.from_categories(np.array([1, 0, 1, 0]), items) if categories else None,
        name="shop",
    )


def test_a_simulated_catalog_keeps_its_index_ids_and_labels():
    names = as_names(np.array([0, 0, 1, 2]))
    assert names.simulated_ids and names.n_items == 4
    assert names.label(3) == "item 3 · cat 2"
    assert names.option(2) == "2 · category 1"
    assert names.parse("3, 1 0") == [3, 1, 0]
    assert names.format([3, 1, 0]) == "3, 1, 0"
    with pytest.raises(ValueError, match="unknown item ids: 4"):
        names.parse("4")


def test_raw_ids_read_back_and_unknown_ones_are_named():
    names = ItemNames.from_data(log())
    assert not names.simulated_ids and names.dataset == "shop"
    assert names.parse("214536500, a-7;99") == [1, 2, 3]
    assert names.format([1, 2, 3]) == "214536500, a-7, 99"
    assert names.label(0) == "item 214536502" and names.option(0) == "214536502"
    with pytest.raises(ValueError, match=r"unknown item ids: '1', '3'; .*data set 'shop'"):
        names.parse("1 214536502 3")  # dense indices are not this log's ids
    with pytest.raises(ValueError, match="the session is empty"):
        names.parse(" , ")


def test_labels_and_categories_show_where_the_log_has_them():
    names = ItemNames.from_data(log(labels=True, categories=True))
    assert names.label(0) == "item 214536502 · Red shoe · cat 1"
    assert names.label(1) == "item 214536500 · cat 0"  # an empty label is left out
    assert names.option(2) == "a-7 · Hat · category 1"
    groups, group_names = names.groups()
    assert groups.tolist() == [1, 0, 1, 0] and group_names == ["category 0", "category 1"]


def test_without_categories_items_group_by_popularity_decile():
    names = ItemNames.from_data(log())
    np.testing.assert_allclose(names.popularity, [0.6, 0.2, 0.2, 0.0])
    groups, group_names = names.groups()
    # 4 items over 10 deciles: ranks 0..3 (least clicked first) land in deciles 0, 2, 5, 7.
    assert groups.tolist() == [7, 2, 5, 0]
    assert group_names[0] == "popularity decile 1" and len(group_names) == 10


# --- the Recommend page's tables and headlines on an imported log -------------------------


def test_top_k_table_shows_raw_ids_and_labels_and_no_category():
    from streamrec.views.session_view import top_k_table

    names = ItemNames.from_data(log(labels=True))
    table = top_k_table(np.array([2, 0]), np.array([0.5, 0.25]), names, [0], true_next=2)
    assert list(table.columns) == [
        "rank", "item_id", "label", "probability", "in_session", "true_next",
    ]
    assert table["item_id"].tolist() == ["a-7", "214536502"]
    assert table["label"].tolist() == ["Hat", "Red shoe"]
    assert table["in_session"].tolist() == [False, True]
    assert table["true_next"].tolist() == [True, False]


def test_headlines_without_an_oracle_name_raw_ids():
    from streamrec.recommendation import Recommendation
    from streamrec.views.session_view import headlines

    rec = Recommendation(
        session=[1, 3], dropped=0, top_items=np.array([2, 0]), top_probs=np.array([0.5, 0.2]),
        probs=np.array([0.2, 0.1, 0.5, 0.2]), attention=np.array([0.7, 0.3]),
        attention_growth=np.array([[1.0, 0.0], [0.7, 0.3]]),
    )
    figures = headlines(rec, 2, None, ItemNames.from_data(log(labels=True)))
    assert [tuple(f) for f in figures] == [
        ("Clicks the model reads", "2 of 2", "all of them"),
        ("Model's top pick", "item a-7", "Hat · p 0.500"),
        ("Most attended click", "item 214536500", "click 1 · weight 0.70"),
    ]
