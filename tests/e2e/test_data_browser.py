"""The Data page in a real browser: upload a click log, import it, see its report and charts.

Imported data sets go to the session's temporary `data_dir` (see conftest), never to data/.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from streamrec.data.datasets import load_dataset

BASE = 1_400_000_000
LOG = "SessionId\tItemId\tTime\n" + "".join(
    f"{s}\t{(s + k) % 9}\t{BASE + (s // 10) * 86_400 + 60 * s + k}\n"
    for s in range(30) for k in range(3)
)


def test_upload_and_import_a_log(st_app, data_dir: Path, tmp_path: Path):
    log = tmp_path / "browser-clicks.tsv"
    log.write_text(LOG)
    page = st_app.goto("data")
    expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(log))
    expect(page.get_by_text("First rows of browser-clicks.tsv, separated by tab")).to_be_visible()
    st_app.wait()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported browser-clicks: 30 sessions")).to_be_visible()
    st_app.wait()
    tests = page.get_by_test_id("stMetric").filter(has_text="Test sessions")
    expect(tests).to_contain_text("10")
    charts = page.locator("[data-testid='stPlotlyChart']")
    expect(charts).to_have_count(4)
    for i in range(4):
        expect(charts.nth(i).locator(".main-svg").first).to_be_visible()
    st_app.screenshot("data-imported")
    dataset = load_dataset("browser-clicks", data_dir)
    assert dataset.n_test_sessions == 10 and dataset.data.n_clicks == 90
