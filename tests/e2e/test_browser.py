"""End to end in a real browser: the pages a person opens, the clicks they make, screenshots."""

from __future__ import annotations

from playwright.sync_api import expect

N_SIMULATOR_CHARTS = 7


def test_home_page_links_to_the_simulator(st_app):
    page = st_app.goto()
    expect(page.get_by_role("heading", name="StreamRec Studio")).to_be_visible()
    for step in ("1. Simulate", "2. Train", "3. Recommend and inspect attention"):
        expect(page.get_by_role("heading", name=step)).to_be_visible()
    st_app.screenshot("home")
    page.get_by_role("link", name="Open the Simulator").click()
    expect(page).to_have_url(f"{st_app.url}/simulator")
    expect(page.get_by_role("heading", name="Simulator")).to_be_visible()


def test_simulator_generates_charts_with_the_default_settings(st_app):
    page = st_app.goto("simulator")
    expect(page.get_by_role("button", name="Generate")).to_be_visible()
    page.get_by_role("button", name="Generate").click()
    charts = page.locator("[data-testid='stPlotlyChart']")
    expect(charts).to_have_count(N_SIMULATOR_CHARTS)
    st_app.wait()
    for i in range(N_SIMULATOR_CHARTS):
        expect(charts.nth(i).locator(".main-svg").first).to_be_visible()
    sessions = page.get_by_test_id("stMetric").filter(has_text="Sessions").first
    expect(sessions).to_contain_text("20,000")
    expect(page.get_by_role("button", name="Download sessions as CSV")).to_be_visible()
    st_app.screenshot("simulator")


def test_simulator_shows_an_invalid_setting_as_an_error(st_app):
    page = st_app.goto("simulator")
    items = page.get_by_label("Items", exact=True)
    items.fill("10")
    items.press("Tab")
    page.get_by_role("button", name="Generate").click()
    alert = page.get_by_text("Invalid setting: n_items = 10 is fewer than n_categories = 25")
    expect(alert).to_be_visible()
    st_app.wait()
    expect(items).to_have_value("10")
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    st_app.screenshot("simulator-invalid")
