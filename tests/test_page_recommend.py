"""The Recommend page, driven like a user would: type, pick or sample a session, edit it, and
read the tables, charts and messages. Every test runs against a tiny trained run in a
temporary models folder."""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.proto.SelectWidgetFilterMode_pb2 import SelectWidgetFilterMode

from streamrec.charts.explain_charts import ATTENTION_MEANING
from streamrec.charts.faithfulness_charts import EXPLAINER_AXES, METHOD_NAMES
from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data.splits import make_split
from streamrec.explain import trust
from streamrec.explain.faithfulness import occlusion
from streamrec.model import LSTMRecommender
from streamrec.recommendation import recommend
from streamrec.training import runs
from streamrec.training.jobs import run_training
from streamrec.views.session_view import held_out_sessions
from streamrec.world.simulator import BEHAVIOURS, simulate

PAGE = "pages/recommend.py"
N_ITEMS, MAX_LEN = 300, 8
CONFIG = RunConfig(
    sim=SimConfig(n_sessions=600, n_items=N_ITEMS, n_categories=8),
    model=LSTMConfig(n_items=N_ITEMS, embed_dim=16, hidden_size=32, num_layers=1, dropout=0.0),
    train=TrainConfig(epochs=1, max_len=MAX_LEN),
)
TABLE_COLUMNS = ["rank", "item_id", "category", "probability", "in_session"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny trained run, shared by the module; tests copy it into their own models folder."""
    root = tmp_path_factory.mktemp("recommend-runs")
    path = runs.create_run(CONFIG, root, "tiny")
    run_training(path, CONFIG, with_baselines=False)
    return path


@pytest.fixture
def models(tmp_path: Path, trained_run: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A models folder holding a copy of the tiny run, used by the page via the environment."""
    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(trained_run, root / "tiny")
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(root))
    return root


def assert_clean(at) -> None:
    """The run raised nothing and showed no exception box."""
    assert not at.exception, [e.message for e in at.exception]


def plotly_figures(at) -> list[dict]:
    """Figure JSON of every Plotly chart on the page, in page order."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def type_session(at, text: str):
    """Type a session into the text box and let the page rerun."""
    at.text_input(key="rec_text").set_value(text).run()
    return at


def decoded(values) -> np.ndarray:
    """Plotly figure JSON numbers, written either as lists or as base64 typed arrays."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype=np.float64)


def figure(at, title_start: str) -> dict:
    """The figure whose title starts with `title_start`."""
    found = [f for f in plotly_figures(at) if f["layout"]["title"]["text"].startswith(title_start)]
    assert len(found) == 1, [f["layout"]["title"]["text"] for f in plotly_figures(at)]
    return found[0]


def test_page_renders_its_widgets_and_asks_for_a_session(open_page, models):
    at = open_page(PAGE)
    assert_clean(at)
    assert at.title[0].value == "Recommend"
    assert at.selectbox(key="rec_run").value == "tiny"
    assert at.slider(key="rec_k").value == 10
    assert at.toggle(key="rec_exclude").value is False
    assert at.text_input(key="rec_text").value == ""
    assert at.button(key="rec_sample").label == "Sample a session"
    assert "300 items in 8 categories" in " ".join(c.value for c in at.caption)
    assert "Enter a session" in at.info[0].value
    assert not at.error and not at.get("plotly_chart")


def test_typed_session_shows_both_top_k_tables_and_the_attention(open_page, models):
    at = type_session(open_page(PAGE), "3, 10, 25, 3")
    assert_clean(at)
    assert not at.error
    model_table, oracle_table = (df.value for df in at.dataframe)
    for table in (model_table, oracle_table):
        assert list(table.columns[: len(TABLE_COLUMNS)]) == TABLE_COLUMNS
        assert list(table["rank"]) == list(range(1, 11))
        assert table["probability"].is_monotonic_decreasing
        assert table["item_id"].between(0, N_ITEMS - 1).all()
    assert oracle_table["in_session"].tolist() == oracle_table["item_id"].isin([3, 10, 25]).tolist()

    model, _ = runs.load_model(models / "tiny")
    expected = recommend(model, [3, 10, 25, 3], 10, MAX_LEN)
    assert model_table["item_id"].tolist() == expected.top_items.tolist()
    heatmap = figure(at, "Attention (attention pooling) over the session's clicks")["data"][0]
    np.testing.assert_allclose(decoded(heatmap["z"]), expected.attention, rtol=1e-5)
    assert heatmap["texttemplate"] == "%{z:.2f}"
    growth = figure(at, "How the attention (attention pooling) shifts")["data"][0]
    assert decoded(growth["z"]).size == 16  # 4 x 4, upper cells blank
    # "Why these items" opens on the explainer measured most faithful for the run, with the
    # oracle's posterior over causes beside it (a simulated world) and the attention below.
    record = trust.stored_record(models / "tiny")  # measured on first need, stored in the run
    best = trust.most_faithful(record)
    assert at.selectbox(key="rec_why_explainer").value == best
    title = EXPLAINER_AXES[best][0].format(target=f"item {expected.top_items[0]}")
    assert decoded(figure(at, title)["data"][0]["y"]).size == 4
    assert decoded(figure(at, "Best possible: the oracle's P(this click caused")["data"][0]["y"]).size == 4
    assert len(plotly_figures(at)) == 4  # the other charts' tabs are closed: not drawn
    sentence = trust.trust_sentence(record, best, METHOD_NAMES[best])
    assert sentence in [m.value for m in at.markdown]
    assert sentence.startswith("On ") and "the best possible is" in sentence


@pytest.mark.parametrize(
    ("tab", "title"),
    [("Ranked list as a chart", "Model's top items"), ("Hidden behaviour", "Hidden behaviour")],
)
def test_each_chart_tab_draws_only_its_own_chart(open_page, models, tab, title):
    at = type_session(open_page(PAGE, rec_charts=tab), "3, 10, 25")
    assert_clean(at)
    assert [f["layout"]["title"]["text"].startswith(title) for f in plotly_figures(at)] == [True]


def test_k_slider_sets_the_length_of_both_lists(open_page, models):
    at = type_session(open_page(PAGE), "3, 10, 25")
    at.slider(key="rec_k").set_value(50).run()
    assert_clean(at)
    assert [len(df.value) for df in at.dataframe] == [50, 50]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3, ten, 25", "not item ids: 'ten'"),
        ("3, 10, 999", "unknown item ids: 999"),
        (" , ;", "the session is empty"),
    ],
)
def test_bad_input_is_an_error_and_the_text_is_kept(open_page, models, text, message):
    at = type_session(open_page(PAGE), text)
    assert_clean(at)
    assert len(at.error) == 1
    assert message in at.error[0].value
    assert at.text_input(key="rec_text").value == text
    assert not at.dataframe and not at.get("plotly_chart")


def test_clearing_the_box_is_an_error(open_page, models):
    at = type_session(type_session(open_page(PAGE), "3, 10"), "")
    assert_clean(at)
    assert "the session is empty" in at.error[0].value


def test_ids_from_a_bigger_catalog_name_the_run_catalog(open_page, models):
    at = type_session(open_page(PAGE), "4999")
    assert "trained on a catalog of 300 items" in at.error[0].value


def test_a_session_longer_than_max_len_is_cut_with_a_notice(open_page, models):
    at = type_session(open_page(PAGE), ", ".join(str(i) for i in range(1, 13)))
    assert_clean(at)
    assert any("reads only the last 8" in i.value for i in at.info)
    heatmap = figure(at, "Attention (attention pooling) over the session's clicks")["data"][0]
    assert decoded(heatmap["z"]).size == MAX_LEN
    growth = figure(at, "How the attention (attention pooling) shifts")
    assert growth["layout"]["yaxis"]["ticktext"][0] == "5"
    assert {m.label: m.value for m in at.metric}["Clicks the model reads"] == "8 of 12"


def test_corrupt_run_folders_are_reported_and_the_good_run_still_works(open_page, models):
    (models / "broken").mkdir()
    (models / "broken" / "config.json").write_text("{ not json")
    half = models / "halfwritten"
    shutil.copytree(models / "tiny", half)
    (half / "best.safetensors").write_bytes(b"\x00" * 10)

    at = open_page(PAGE)
    assert_clean(at)
    # The listing reads the safetensors header, so the truncated file never reaches the picker.
    assert at.selectbox(key="rec_run").options == ["tiny · 300 items · completed"]
    assert any("config.json is not valid JSON" in e.value for e in at.error)
    assert any(
        "halfwritten: best.safetensors is not a readable safetensors file" in e.value
        for e in at.error
    )
    type_session(at, "3, 10")
    assert_clean(at)
    assert len(at.dataframe) == 2


def test_no_runs_points_to_the_train_page(open_page, tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(tmp_path / "empty"))
    at = open_page(PAGE)
    assert_clean(at)
    assert "no trained run" in at.info[0].value
    assert "Train" in at.info[0].value


def test_a_run_deleted_while_shown_falls_back_to_another(open_page, models):
    shutil.copytree(models / "tiny", models / "other")
    at = open_page(PAGE)
    at.selectbox(key="rec_run").set_value("other").run()
    type_session(at, "3, 10")
    shutil.rmtree(models / "other")
    at.run()
    assert_clean(at)
    assert "no longer available" in at.warning[0].value
    assert "same data as **other**, so the session is kept" in at.warning[0].value
    assert at.selectbox(key="rec_run").value == "tiny"
    assert at.text_input(key="rec_text").value == "3, 10"
    assert len(at.dataframe) == 2


def test_sampling_a_held_out_session_shows_its_hidden_truth(open_page, models):
    at = open_page(PAGE, rec_charts="Hidden behaviour")
    at.selectbox(key="rec_behaviour").set_value(1).run()  # deep dive
    at.button(key="rec_sample").click().run()
    assert_clean(at)
    data = simulate(CONFIG.sim)
    sessions = held_out_sessions(data, make_split(data, CONFIG.train), behaviour=1)
    items = [int(i) for i in at.text_input(key="rec_text").value.split(", ")]
    truth = [s for s in sessions if data.session(s)[:-1].tolist() == items]
    assert truth, "the session shown is not a held-out deep-dive session minus its last click"
    text = " ".join(m.value for m in at.markdown)
    assert f"hidden behaviour **{BEHAVIOURS[1].replace('_', ' ')}**" in text
    assert f"item {int(data.session(truth[0])[-1])} · cat" in text  # the true next click
    model_table = at.dataframe[0].value
    assert "true_next" in model_table.columns
    behaviour = figure(at, "Hidden behaviour")["data"][0]
    assert "deep dive (true)" in behaviour["y"]

    n = len(items) + 1
    slider = next(s for s in at.slider if s.key.startswith("rec_prefix_tiny_"))
    assert (slider.value, slider.max) == (n - 1, n)
    slider.set_value(2).run()
    assert at.text_input(key="rec_text").value == ", ".join(str(i) for i in items[:2])
    assert "The session shown follows it" in " ".join(m.value for m in at.markdown)


def test_query_params_preload_run_and_session(clear_streamlit_caches, models):
    shutil.copytree(models / "tiny", models / "other")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).parents[1] / "app.py"), default_timeout=120)
    at.query_params.update({"run": "other", "items": "5,6,7"})
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert at.selectbox(key="rec_run").value == "other"
    assert at.text_input(key="rec_text").value == "5,6,7"
    assert len(at.dataframe) == 2
    assert at.query_params["items"] == "5,6,7"


def test_a_link_to_an_unknown_run_warns_and_shows_another(clear_streamlit_caches, models):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).parents[1] / "app.py"), default_timeout=120)
    at.query_params.update({"run": "gone", "items": "5,6"})
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert "**gone**" in at.warning[0].value
    assert at.selectbox(key="rec_run").value == "tiny"
    assert len(at.dataframe) == 2


def test_dropping_a_click_and_appending_a_recommendation_update_the_session(open_page, models):
    at = type_session(open_page(PAGE), "3, 10, 25")
    at.button_group(key="rec_drop").set_value(1).run()
    assert_clean(at)
    assert at.text_input(key="rec_text").value == "3, 25"
    assert decoded(figure(at, "Attention (attention pooling) over the session's clicks")["data"][0]["z"]).size == 2

    top = int(at.dataframe[0].value["item_id"].iloc[0])
    at.button_group(key="rec_append").set_value(top).run()
    assert_clean(at)
    assert at.text_input(key="rec_text").value == f"3, 25, {top}"
    assert at.button_group(key="rec_append").value is None
    assert {m.label: m.value for m in at.metric}["Clicks the model reads"] == "3 of 3"


def test_picking_items_from_the_catalog_makes_the_session(open_page, models):
    at = open_page(PAGE, rec_input="Pick from the catalog")
    picker = at.multiselect(key="rec_pick_tiny")
    assert picker.options[:2] == ["0 · category 0", "1 · category 0"]
    picker.set_value([7, 2]).run()
    at.button(key="rec_use_pick").click().run()
    assert_clean(at)
    assert at.text_input(key="rec_text").value == "7, 2"
    assert len(at.dataframe) == 2


FILTER_MODE_CONTAINS = SelectWidgetFilterMode.FILTER_MODE_CONTAINS


def test_the_catalog_picker_finds_the_typed_id_first_and_filters_one_category_exactly(
    open_page, models
):
    at = open_page(PAGE, rec_input="Pick from the catalog")
    picker = at.multiselect(key="rec_pick_tiny")
    assert picker.proto.HasField("select_all") and picker.proto.select_all == 0  # no bulk entry
    contains = [o for o in picker.options if "12" in o]  # filter_mode="contains", catalog order
    assert picker.proto.filter_mode == FILTER_MODE_CONTAINS and contains[0].startswith("12 · ")  # Enter picks 12
    at.selectbox(key="rec_pick_category_tiny").set_value(4).run()
    picker = at.multiselect(key="rec_pick_tiny")
    assert picker.options and all(o.endswith(" · category 4") for o in picker.options)
    first = int(picker.options[0].split(" · ")[0])
    picker.set_value([first]).run()
    at.selectbox(key="rec_pick_category_tiny").set_value(1).run()  # the pick stays listed
    assert at.multiselect(key="rec_pick_tiny").value == [first]
    at.button(key="rec_use_pick").click().run()
    assert_clean(at)
    assert at.text_input(key="rec_text").value == str(first)


def test_session_and_settings_survive_a_page_switch(open_page, models):
    at = type_session(open_page(PAGE), "3, 10, 25")
    at.slider(key="rec_k").set_value(20).run()
    at.switch_page("pages/home.py").run()
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert at.text_input(key="rec_text").value == "3, 10, 25"
    assert [len(df.value) for df in at.dataframe] == [20, 20]


def test_k_larger_than_a_small_catalog_lists_the_whole_catalog(open_page, models):
    small = RunConfig(
        sim=SimConfig(n_sessions=100, n_items=30, n_categories=6),
        model=LSTMConfig(n_items=30, embed_dim=4, hidden_size=4, num_layers=1),
    )
    path = runs.create_run(small, models, "small")
    data = simulate(small.sim)
    runs.save_catalog(path, data.item_category, data.item_popularity)
    runs.save_data(path, data, make_split(data, small.train))
    runs.save_weights(path, "best", LSTMRecommender(small.model))
    runs.write_status(path, state="completed")

    at = open_page(PAGE)
    at.selectbox(key="rec_run").set_value("small").run()
    at.slider(key="rec_k").set_value(50).run()
    type_session(at, "1, 2")
    assert_clean(at)
    assert [len(df.value) for df in at.dataframe] == [30, 30]


def copy_run(models: Path, name: str, config: RunConfig) -> None:
    """Another run with the tiny run's weights and catalog, trained (says its config) on `config`."""
    shutil.copytree(models / "tiny", models / name)
    runs.write_json(models / name / runs.CONFIG_FILE, config.to_dict())


def test_changing_to_a_run_on_other_data_clears_the_session_and_says_so(open_page, models):
    other = RunConfig(replace(CONFIG.sim, seed=7), CONFIG.model, CONFIG.train)
    copy_run(models, "other-data", other)
    at = type_session(open_page(PAGE), "3, 10, 25")
    assert at.selectbox(key="rec_run").value == "other-data"  # the newest run
    at.selectbox(key="rec_run").select("tiny").run()
    assert_clean(at)
    assert at.text_input(key="rec_text").value == ""
    assert any("The session was cleared" in w.value and "different data" in w.value
               for w in at.warning)
    assert not at.error and not at.dataframe
    assert "Enter a session" in at.info[-1].value


def test_changing_to_a_run_on_the_same_data_keeps_the_session_and_says_so(open_page, models):
    copy_run(models, "same-data", CONFIG)
    at = open_page(PAGE)
    at.button(key="rec_sample").click().run()
    sampled = at.text_input(key="rec_text").value
    at.selectbox(key="rec_run").select("tiny").run()
    assert_clean(at)
    assert at.text_input(key="rec_text").value == sampled
    assert any("same data as **same-data**" in w.value for w in at.warning)
    # The sampled session's hidden truth carries over: same sessions, same simulator.
    assert any("Held-out session #" in m.value for m in at.markdown)
    at.run()  # the notice is shown once
    assert not any("same data" in w.value for w in at.warning)


def test_the_verdict_puts_the_model_beside_the_best_rule_and_the_ceiling(open_page, models):
    at = open_page(PAGE)
    # The tiny run was trained without baselines: a quiet caption says so.
    assert any("no baseline or ceiling was scored" in c.value for c in at.caption)
    status = runs.read_status(models / "tiny")
    baselines = {
        "Popularity": {"hit@10": 0.01},
        "Last-category popularity": {"hit@10": 0.99},
        "Oracle": {"hit@10": 1.0},
    }
    runs.write_status(models / "tiny", baselines=baselines)
    at = open_page(PAGE)
    hit = status.final["hit@10"]
    (box,) = [w.value for w in at.warning if "Is the model worth it?" in w.value]
    assert box == (
        f"**Is the model worth it?** On the held-out sessions, Hit@10 {hit:.3f}: "
        f"{1 - hit / 0.99:.0%} below the best simple rule (Last-category popularity, 0.990); "
        f"{hit:.0%} of the best possible (1.000)."
    )


def test_both_heatmaps_share_one_0_to_1_scale_and_say_what_a_weight_means(open_page, models):
    at = type_session(open_page(PAGE), "3, 10, 25, 3")
    assert_clean(at)
    for title in ("Attention (attention pooling) over the session's clicks",
                  "How the attention (attention pooling) shifts"):
        heatmap = figure(at, title)["data"][0]
        assert (heatmap["zmin"], heatmap["zmax"]) == (0.0, 1.0), title
        assert heatmap["colorbar"]["title"]["text"] == "share of the attention (0–1)"
    assert ATTENTION_MEANING in [c.value for c in at.caption]
    assert "weights sum to 1" in figure(at, "Attention (attention pooling)")["layout"]["title"]["text"]
    expander = [e.label for e in at.expander if e.label.startswith("Attention maps")]
    assert expander and "names the true cause" in expander[0]  # its own measured trust


def test_every_explainer_can_be_picked_and_the_recorded_choice_is_stored(open_page, models):
    at = type_session(open_page(PAGE), "3, 10, 25, 3")
    assert (models / "tiny" / trust.RECORD_FILE).exists()
    options = at.selectbox(key="rec_why_explainer").options
    shown = {o.split(" · ")[0] for o in options}
    assert {METHOD_NAMES[m] for m in ("attention", "occlusion", "shapley sampling",
                                      "integrated gradients", "gradient x input",
                                      "exact decomposition", "shapley x read-out")} <= shown
    assert sum(" · most faithful" in o for o in options) == 1 and " · most faithful" in options[0]
    at.selectbox(key="rec_why_explainer").set_value("occlusion").run()
    assert_clean(at)
    model, _ = runs.load_model(models / "tiny")
    top = int(recommend(model, [3, 10, 25, 3], 10, MAX_LEN).top_items[0])
    fig = figure(at, f"Occlusion: signed change in P(item {top})")
    np.testing.assert_allclose(decoded(fig["data"][0]["y"]),
                               100 * occlusion(model, [3, 10, 25, 3], top), rtol=1e-4, atol=1e-5)


def test_the_streaming_demo_is_preselected_and_the_case_study_demo_stays_available(
    open_page, models
):
    # Copies of the tiny run under the shipped demos' names, "demo" the newer of the two.
    shutil.copytree(models / "tiny", models / "demo-streaming")
    shutil.copytree(models / "tiny", models / "demo")
    runs.write_status(models / "demo", created=runs.read_status(models / "tiny").created + 1)
    at = open_page(PAGE)
    assert_clean(at)
    picker = at.selectbox(key="rec_run")
    assert picker.value == "demo-streaming"
    assert picker.options[0].startswith("demo · ")  # listed newest first, not picked
    picker.set_value("demo").run()
    assert_clean(at)
    assert at.selectbox(key="rec_run").value == "demo"
    shutil.rmtree(models / "demo-streaming")
    at = open_page(PAGE)
    assert at.selectbox(key="rec_run").value == "demo"  # without it, the case study's demo
