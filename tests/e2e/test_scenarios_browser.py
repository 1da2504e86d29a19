"""End to end: pick a named scenario on the Simulator page, see its world, train on it."""

from __future__ import annotations

from playwright.sync_api import expect

from streamrec.world.scenarios import SCENARIOS


def pick_scenario(page, title: str) -> None:
    """Open the Scenario selectbox and choose the scenario shown as `title`."""
    page.get_by_test_id("stSelectbox").filter(has_text="Scenario").first.click()
    page.get_by_role("option", name=title).click()


def test_a_scenario_picked_on_the_simulator_fills_both_pages(st_app):
    news = SCENARIOS["news"]
    page = st_app.goto("simulator")
    pick_scenario(page, news.title)
    expect(page.get_by_text(news.story)).to_be_visible()
    expect(page.get_by_label("Max session length (clicks)")).to_have_value("15")
    anchor = page.get_by_test_id("stSlider").filter(has_text="P(back to the anchor)")
    expect(anchor).to_contain_text("0.30")
    sessions = page.get_by_test_id("stMetric").filter(has_text="Sessions").first
    expect(sessions).to_contain_text("20,000")
    st_app.wait()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    st_app.screenshot("simulator-scenario")
    page.get_by_role("link", name="Train").first.click()
    expect(page.get_by_text("sessions of 3–15 clicks")).to_be_visible()
    expect(page.get_by_role("combobox", name="Scenario")).to_have_value(news.title)


def test_an_order_world_lstm_shows_its_copy_pointer_beside_the_true_cause(st_app, models_dir):
    """A tiny run of the streaming world with the scenario's LSTM options: on Recommend a
    sampled session says what caused each click, and the copy pointer is a second map."""
    from streamrec.config import LSTMConfig, RunConfig, TrainConfig
    from streamrec.training import runs
    from streamrec.training.jobs import run_training

    scenario = SCENARIOS["streaming"]
    sim = scenario.config(n_sessions=600, n_items=300)
    config = RunConfig(
        sim=sim,
        model=LSTMConfig(n_items=300, embed_dim=16, hidden_size=32, num_layers=1, **scenario.model),
        train=TrainConfig(epochs=2, max_len=scenario.max_len),
    )
    name = "streaming-copy-e2e"
    if not (models_dir / name).exists():
        run_training(runs.create_run(config, models_dir, name), config, with_baselines=False)
    st_app.goto()
    page = st_app.goto(f"recommend?run={name}")
    page.get_by_role("tab", name="Sample a held-out session").click()
    st_app.wait()
    page.get_by_role("button", name="Sample a session").click()
    st_app.wait()
    expect(page.get_by_text("What caused each click")).to_be_visible()
    page.get_by_text("Attention maps").first.click()  # attention is one click away
    st_app.wait()
    expect(page.get_by_text("Attention (attention pooling) over the session's clicks")).to_be_visible()
    page.get_by_test_id("stRadio").filter(has_text="copy pointer").get_by_text("copy pointer").click()
    st_app.wait()
    expect(page.get_by_text("Attention (copy pointer) over the session's clicks")).to_be_visible()
    expect(page.get_by_text("Best possible: the oracle's P(this click caused")).to_be_visible()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    st_app.screenshot("recommend-copy-pointer")
