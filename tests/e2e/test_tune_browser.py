"""A tune from the browser: import the Diginetica sample on the Data page, start a short tune
there (every method, 30 seconds), watch it end with its final table, and find the same table
on the Leaderboard. Without the shared sample the test writes a small log of its own."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from streamrec.training import tune_jobs
from streamrec.training.tuning import read_result, tune_folder_for_dataset
from tests.e2e.test_real_log_browser import own_log, shared_sample

NAME = "tune-e2e"
TUNE_MS = 240_000  # worker start under load, a 30 s tune, the final scoring


def test_tune_a_real_log_from_the_data_page(st_app, data_dir: Path, tmp_path: Path) -> None:
    log = shared_sample()
    if not log.exists():
        log = own_log(tmp_path / "clicks.csv")
    page = st_app.import_log(log, NAME)

    folder = tune_folder_for_dataset(NAME, data_dir)
    try:
        st_app.fill({"Budget (minutes)": "0.5"})
        page.get_by_role("button", name="Start tune").click()
        expect(page.get_by_test_id("stProgress")).to_be_visible()
        # The refit box is ticked by default: the final table's models saw train + valid.
        expect(page.get_by_text("every method fitted on the train+valid sessions")).to_be_visible(
            timeout=TUNE_MS)
        st_app.wait()
        expect(page.get_by_text("Default model for")).to_be_visible()
        result = read_result(folder)
        assert result is not None, (folder / "log.txt").read_text()
        status = json.loads((folder / "status.json").read_text())
        assert status["state"] == "completed", status
        expect(page.get_by_test_id("stException")).to_have_count(0)
        st_app.screenshot("tune-data-page")

        st_app.open_in_sidebar("Leaderboard")
        expect(page.get_by_text("Tuned methods")).to_be_visible()
        table = page.get_by_test_id("stDataFrame").first
        expect(table).to_be_visible()
        expect(page.get_by_text(f"Default model for {NAME}")).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        st_app.screenshot("tune-leaderboard")
    finally:
        if tune_jobs.tune_state(folder).state == "running":
            tune_jobs.stop(folder)
