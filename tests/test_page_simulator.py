"""The Simulator page, driven like a user would: fill the form, press Generate, read the page."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from streamrec.config import SimConfig, to_dict

PAGE = "pages/simulator.py"
SMALL = {"n_sessions": 300, "n_items": 120, "n_categories": 6, "max_preferred": 3}
CHART_KEYS = (
    "sim_chart_lengths",
    "sim_chart_behaviour",
    "sim_chart_categories",
    "sim_chart_popularity",
    "sim_chart_strips",
    "sim_chart_transitions",
    "sim_chart_baselines",
)


def plotly_figures(at) -> list[dict]:
    """Figure JSON of every Plotly chart on the page, in page order."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _widget(at, key):
    """The form widget with this key, whatever its kind."""
    for kind in ("number_input", "slider", "selectbox"):
        for widget in getattr(at, kind):
            if widget.key == key:
                return widget
    raise KeyError(key)


def generate(at, **values):
    """Set form fields by SimConfig field name, then press Generate."""
    for name, value in values.items():
        _widget(at, f"sim_{name}").set_value(value)
    at.button(key="sim_generate").click().run()
    return at


def test_page_shows_a_widget_for_every_config_field(open_page):
    at = open_page(PAGE)
    assert not at.exception
    assert at.title[0].value == "Simulator"
    for field in fields(SimConfig):
        widget = _widget(at, f"sim_{field.name}")
        assert widget.value == getattr(SimConfig(), field.name), field.name
    assert at.button(key="sim_generate").label == "Generate"
    assert "Generate" in at.info[0].value
    assert not at.get("plotly_chart")


def test_generate_shows_counts_charts_and_baselines(open_page):
    at = generate(open_page(PAGE), **SMALL)
    assert not at.exception
    assert not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sessions"] == "300"
    assert metrics["Items"] == "120"
    assert metrics["Categories"] == "6"
    figures = plotly_figures(at)
    assert len(figures) == len(CHART_KEYS)
    for figure in figures:
        layout = figure["layout"]
        assert layout["title"]["text"]
        assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"]
        assert figure["data"] and any(
            len(trace.get("x", trace.get("z", ()))) for trace in figure["data"]
        )
    baselines = at.dataframe[0].value
    assert "Oracle" in baselines.index
    assert at.session_state["sim_config"] == to_dict(SimConfig(**SMALL))
    assert at.get("download_button")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"n_items": 4, "n_categories": 6}, "n_items"),
        ({"n_categories": 3, "max_preferred": 5}, "max_preferred"),
        ({"min_session_length": 12, "max_session_length": 8}, "min_session_length"),
        ({"category_concentration": 0.0}, "category_concentration"),
    ],
)
def test_invalid_settings_show_the_error_and_keep_the_inputs(open_page, values, field):
    at = generate(open_page(PAGE), **{**SMALL, **values})
    assert not at.exception
    assert len(at.error) == 1
    assert field in at.error[0].value
    with pytest.raises(ValueError) as expected:
        SimConfig(**{**SMALL, **values}).validate()
    assert str(expected.value) in at.error[0].value
    for name, value in values.items():
        assert _widget(at, f"sim_{name}").value == value
    assert not at.get("plotly_chart")
    assert "sim_config" not in at.session_state


def test_no_kept_session_is_a_warning_not_a_crash(open_page):
    at = generate(open_page(PAGE), **SMALL, min_kept_length=50)
    assert not at.exception
    assert "No session" in at.warning[0].value
    assert not at.get("plotly_chart")


def test_settings_and_results_survive_a_page_switch(open_page):
    at = generate(open_page(PAGE), **SMALL)
    at.switch_page("pages/home.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert _widget(at, "sim_n_sessions").value == SMALL["n_sessions"]
    assert {m.label: m.value for m in at.metric}["Sessions"] == "300"
    assert len(plotly_figures(at)) == len(CHART_KEYS)


def test_stored_config_renders_without_pressing_generate(open_page):
    at = open_page(PAGE, sim_config=to_dict(SimConfig(**SMALL, seed=7)))
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Sessions"] == "300"


def test_an_invalid_stored_config_is_an_error_not_a_traceback(open_page):
    at = open_page(PAGE, sim_config={**to_dict(SimConfig(**SMALL)), "n_items": 2})
    assert not at.exception
    assert "n_items" in at.error[0].value


def test_a_scenario_pick_fills_the_form_without_the_duplicate_value_warning(
    open_page, monkeypatch, caplog
):
    from streamlit.elements.lib import policies

    # AppTest has no Runtime, and Streamlit checks this rule only under one: pretend there is.
    monkeypatch.setattr(policies.runtime, "exists", lambda: True)
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    at = open_page(PAGE)
    at.selectbox(key="sim_scenario").set_value("streaming").run()
    assert not at.exception
    assert at.number_input(key="sim_n_items").value == 2500  # the streaming world's catalog
    at.run()
    assert "also had its value set via the Session State API" not in caplog.text
