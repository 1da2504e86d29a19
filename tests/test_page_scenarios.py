"""The scenario picker on the Simulator and Train pages: one pick fills the form, the generated
config and the training window."""

from __future__ import annotations

from dataclasses import fields

from streamrec.config import SimConfig, to_dict
from streamrec.world.scenarios import SCENARIOS


def test_simulator_picker_fills_the_form_and_shows_the_world(open_page):
    at = open_page("pages/simulator.py")
    assert not at.exception
    picker = at.selectbox(key="sim_scenario")
    assert picker.value is None
    assert picker.options == [s.title for s in SCENARIOS.values()]
    picker.set_value("news").run()
    assert not at.exception and not at.error
    expected = SCENARIOS["news"].config()
    for field in fields(SimConfig):
        widget = next(w for kind in ("number_input", "slider", "selectbox")
                      for w in getattr(at, kind) if w.key == f"sim_{field.name}")
        assert widget.value == getattr(expected, field.name), field.name
    assert at.session_state["sim_config"] == to_dict(expected)
    captions = [c.value for c in at.caption]
    assert SCENARIOS["news"].story in captions
    causes = next(c for c in captions if c.startswith("What produced the clicks"))
    assert "anchor" in causes and "repeat" in causes and "recall" not in causes  # news: no recall
    assert {m.label: m.value for m in at.metric}["Sessions"] == "20,000"
    assert "Oracle" in at.dataframe[0].value.index


def test_train_picker_fills_the_data_and_the_window(open_page, tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(tmp_path))
    at = open_page("pages/train.py")
    at.selectbox(key="train_scenario").set_value("streaming").run()
    assert not at.exception and not at.error
    summary = " ".join(m.value for m in at.markdown)
    assert "4–20 clicks" in summary
    assert at.number_input(key="train_max_len").value == SCENARIOS["streaming"].max_len
    # Its recommended training settings fill the form; another world puts them back.
    assert at.checkbox(key="train_lstm_copy").value is SCENARIOS["streaming"].model["copy"] is True
    assert at.checkbox(key="train_lstm_item_skip").value is True
    assert at.number_input(key="train_step_size").value == SCENARIOS["streaming"].train["step_size"]
    at.selectbox(key="train_scenario").set_value("casestudy").run()
    assert at.checkbox(key="train_lstm_copy").value is False
    assert at.checkbox(key="train_lstm_item_skip").value is False
    assert at.number_input(key="train_step_size").value == 3
    at.selectbox(key="train_scenario").set_value("streaming").run()
    assert at.session_state["sim_config"] == to_dict(SCENARIOS["streaming"].config())
    # The Simulator page shows the same world without pressing Generate.
    at.switch_page("pages/simulator.py").run()
    assert not at.exception
    assert at.selectbox(key="sim_scenario").value == "streaming"
    assert at.number_input(key="sim_max_session_length").value == 20


def test_train_warns_when_the_window_misses_session_starts(open_page, tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(tmp_path))
    sim = to_dict(SimConfig(n_sessions=300, n_items=120, n_categories=6, repeat_prob=0.2))
    at = open_page("pages/train.py", sim_config=sim)
    assert not at.exception
    assert any("whole sessions (34 clicks)" in w.value for w in at.warning)
    at.number_input(key="train_max_len").set_value(34).run()
    assert not any("whole sessions" in w.value for w in at.warning)
