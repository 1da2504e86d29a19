"""Pages on a catalog too large to list: the search picker (Recommend, Item embeddings) and the
sampled projection, on a tiny run with the limits of studio.large_catalog lowered."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from streamrec import insights
from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data.items import ItemNames
from streamrec.training import jobs, runs
from studio import large_catalog

SIM = SimConfig(n_sessions=200, n_items=60, n_categories=4, max_preferred=3, seed=5)


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    config = RunConfig(
        SIM,
        LSTMConfig(n_items=SIM.n_items, embed_dim=8, hidden_size=16, num_layers=1),
        TrainConfig(epochs=1, batch_size=256),
    )
    jobs.run_training(runs.create_run(config, root, "tiny"), config, with_baselines=False)
    return root


@pytest.fixture
def small_limits(runs_root: Path, monkeypatch: pytest.MonkeyPatch) -> ItemNames:
    """60 items count as a large catalog: searched, 5 matches listed, 20 drawn."""
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(runs_root))
    monkeypatch.setattr(large_catalog, "SEARCH_ABOVE", 10)
    monkeypatch.setattr(large_catalog, "MAX_RESULTS", 5)
    monkeypatch.setattr(large_catalog, "MAX_POINTS", 20)
    category, popularity = runs.load_catalog(runs_root / "tiny")
    return ItemNames.from_catalog(category, popularity)


def assert_clean(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def decoded(values) -> np.ndarray:
    """A Plotly JSON array, written as a list or as a base64 typed array with its shape."""
    if isinstance(values, dict):
        flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        shape = [int(n) for n in str(values.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(values, dtype=np.float64)


def by_popularity(names: ItemNames, items: list[int]) -> list[int]:
    return sorted(items, key=lambda i: -names.popularity[i])


def test_recommend_searches_the_catalog_and_adds_the_match(open_page, small_limits):
    names = small_limits
    at = open_page("pages/recommend.py", rec_input="Pick from the catalog")
    assert_clean(at)
    assert not at.multiselect  # no list of every item
    match = at.selectbox(key="rec_search_match")
    assert match.options == [names.option(i) for i in by_popularity(names, list(range(60)))[:5]]
    at.text_input(key="rec_search_query").input("1").run()
    match = at.selectbox(key="rec_search_match")
    ones = [1, *range(10, 20)]  # ids that start with "1"
    assert match.options == [names.option(1)] + [
        names.option(i) for i in by_popularity(names, ones[1:])[:4]
    ]  # the exact id first, then the most clicked
    at.button(key="rec_add_found").click().run()
    assert at.text_input(key="rec_text").value == "1"
    at.text_input(key="rec_search_query").input("category 2").run()
    chosen = at.selectbox(key="rec_search_match").value
    assert names.category[chosen] == 2
    at.button(key="rec_add_found").click().run()
    assert_clean(at)
    assert at.text_input(key="rec_text").value == f"1, {chosen}"


def test_a_query_without_matches_says_so(open_page, small_limits):
    at = open_page("pages/recommend.py", rec_input="Pick from the catalog")
    at.text_input(key="rec_search_query").input("x9").run()
    assert_clean(at)
    assert "No item matches 'x9'" in at.warning[0].value
    assert at.button(key="rec_add_found").disabled


def test_embeddings_draw_a_sample_with_the_picked_item_and_search_all(
    open_page, small_limits, runs_root
):
    at = open_page("pages/embeddings.py")
    assert_clean(at)
    with pytest.raises(KeyError):
        at.selectbox(key="emb_item")
    at.text_input(key="emb_search_query").input("42").run()
    assert_clean(at)
    assert at.selectbox(key="emb_search_match").value == 42
    model, _ = runs.load_model(runs_root / "tiny")
    expected = insights.nearest_neighbours(model, 42, 10)
    assert at.dataframe[0].value["item_id"].tolist() == expected["item_id"].tolist()

    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    traces = {t["name"]: t for t in figure["data"]}
    sampled = [t for name, t in traces.items() if name.startswith("category ")]
    drawn = {int(row[0]) for t in sampled for row in decoded(t["customdata"])}
    sample = insights.embedding_projection(model, small_limits.category,
                                           small_limits.popularity, 20)["item_id"]
    ringed = {42, *expected["item_id"].tolist()}
    assert drawn == set(sample.tolist()) | ringed  # the sample, and what is ringed
    assert len(drawn) < 60
    assert len(decoded(traces["picked item"]["x"])) == 1
    assert "a random 20 of the 60 items" in " ".join(c.value for c in at.caption)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Items"] == "20"  # purity on the sample


def test_sampled_projection_places_other_items_on_the_same_axes(runs_root):
    model, _ = runs.load_model(runs_root / "tiny")
    category, popularity = runs.load_catalog(runs_root / "tiny")
    whole = insights.embedding_projection(model, category, popularity)
    sample = insights.embedding_projection(model, category, popularity, max_items=20)
    assert len(sample) == 20 and sample.attrs["n_items"] == 60
    placed = insights.project_items(model, sample, range(60), category, popularity)
    assert sorted(placed["item_id"]) == list(range(60))
    # Every item placed on the sample's axes; on the whole catalog's axes the same items
    # keep their shape up to the fit: the sample's axes explain most of the whole's spread.
    coords = placed.sort_values("item_id")[["pc1", "pc2"]].to_numpy()
    spread = whole[["pc1", "pc2"]].to_numpy()
    assert np.isfinite(coords).all()
    assert coords.var(axis=0).sum() > 0.5 * spread.var(axis=0).sum()


def test_search_by_id_prefix_label_and_category():
    raw = np.array(["500", "51", "5", "600", "5000", "abc"])
    names = ItemNames(6, raw_ids=raw, labels=np.array(["Red shoe", "", "blue SHOE", "hat", "", ""]),
                      category=np.array([0, 1, 1, 0, 2, 2]),
                      popularity=np.array([0.1, 0.5, 0.05, 0.2, 0.3, 0.0]))
    assert names.search("5", 10).tolist() == [2, 1, 4, 0]  # the exact id, then most clicked
    assert names.search("50", 2).tolist() == [4, 0]
    assert names.search("shoe", 10).tolist() == [0, 2]  # labels, any case
    assert names.search("category 2", 10).tolist() == [4, 5]
    assert names.search("cat 0", 1).tolist() == [3]
    assert names.search("", 3).tolist() == [1, 4, 3]  # the most clicked
    assert names.search("7", 10).size == 0
