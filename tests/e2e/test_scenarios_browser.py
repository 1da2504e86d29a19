"""End to end: pick a named scenario on the Simulator page, see its world, train on it."""

from __future__ import annotations

from playwright.sync_api import expect

from streamrec.scenarios import SCENARIOS


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
