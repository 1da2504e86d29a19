"""Train and Runs pages in a real browser: tiny data from the Simulator page, a tiny model
trained from the Train page while the page polls, then the run on the Runs page.

The app's runs go to the session's temporary `models_dir` (see conftest), never to models/.
"""

from __future__ import annotations

from playwright.sync_api import expect

from streamrec.training import runs

TRAINING_MS = 150_000  # worker start, simulation, baselines and two tiny epochs, under load
SIMULATOR = {"Sessions": "300", "Items": "100", "Categories": "6"}
SETTINGS = {
    "Embedding size": "8",
    "Hidden size": "16",
    "Layers": "1",
    "Epochs": "2",
    "Batch size (target clicks per batch)": "128",
}





def test_train_a_tiny_model_and_find_it_on_the_runs_page(st_app, models_dir, no_training_left):
    # In from the home page: on a fresh server a deep link runs pages/*.py directly (Streamlit's
    # legacy pages/ mode) until app.py has called st.navigation once.
    before = {info.run_id for info in runs.list_runs(models_dir)}  # the folder is session-wide
    page = st_app.goto()
    st_app.generate(SIMULATOR)

    st_app.open_in_sidebar("Train")
    expect(page.get_by_text("300 sessions of 5–34 clicks over 100 items")).to_be_visible()
    st_app.fill(SETTINGS)
    expect(page.get_by_text("Estimated time:")).to_be_visible()
    page.get_by_role("button", name="Start training").click()

    # In the page, not the header's status widget (it has a Stop button while a script runs).
    expect(page.get_by_test_id("stMain").get_by_role("button", name="Stop")).to_be_visible()
    expect(page.get_by_test_id("stProgress")).to_be_visible()
    expect(page.get_by_text("Training completed")).to_be_visible(timeout=TRAINING_MS)
    st_app.wait()
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts).to_have_count(2)
    loss = charts.nth(0)
    expect(loss).to_contain_text("Loss per epoch")
    expect(loss.locator(".scatterlayer .trace").first).to_be_visible()
    expect(charts.nth(1)).to_contain_text("Best possible (oracle)")
    expect(page.get_by_text("Final scores")).to_be_visible()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    st_app.screenshot("train")

    (info,) = [info for info in runs.list_runs(models_dir) if info.run_id not in before]
    assert info.state == "completed" and info.has_weights

    st_app.open_in_sidebar("Runs")
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    # One overlay per data set among the runs compared (other modules' runs share the folder).
    expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()
    expect(page.get_by_role("button", name="best.safetensors")).to_be_enabled()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    st_app.screenshot("runs")
