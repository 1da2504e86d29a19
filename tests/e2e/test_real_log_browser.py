"""A real click log end to end in a browser: Data -> Train -> Recommend -> Attention patterns.

The Diginetica sample (``$STREAMREC_SHARED_DATA/diginetica-sample``, default
``<repo>/../shared/data``) is uploaded on the Data page and imported with the literature's time
split (last 7 days = test); without it the test writes a small log of its own and imports that.
Then a 1-epoch tiny model is trained on it from the Train page, a session of the log's raw item
ids is typed on Recommend (the attention heatmap must draw) and Attention patterns opens.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from streamrec.data.datasets import load_dataset
from tests.e2e.server import ROOT

NAME, RUN = "real-e2e", "real-e2e-run"
TRAINING_MS = 120_000  # worker start, loading the data set and one tiny epoch, under load
TEXT_BOX = "Session: item ids in click order, oldest first"
SETTINGS = {
    "Embedding size": "8",
    "Hidden size": "16",
    "Layers": "1",
    "Epochs": "1",
    "Max length (clicks seen)": "10",
}


def shared_sample() -> Path:
    """Where the shared Diginetica sample would be (it may be absent)."""
    root = Path(os.environ.get("STREAMREC_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return root / "diginetica-sample" / "sample_train-item-views.csv"


def own_log(path: Path) -> Path:
    """A small Diginetica-shaped log (semicolon, timeframe + eventdate) over 14 days."""
    lines = ["session_id;user_id;item_id;timeframe;eventdate"]
    for s in range(200):
        day = 1 + s * 14 // 200
        for k in range(4):
            lines.append(f"{s + 1};NA;{1000 + (s * 3 + k * 7) % 40};{k * 1000};2016-05-{day:02d}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_import_train_recommend_and_inspect_a_real_log(
    st_app, data_dir: Path, models_dir: Path, tmp_path: Path, no_training_left
):
    log = shared_sample()
    if not log.exists():
        log = own_log(tmp_path / "clicks.csv")

    # Data: upload, time split with the last 7 days as test, import.
    page = st_app.import_log(log, NAME)
    dataset = load_dataset(NAME, data_dir)
    assert dataset.n_test_sessions > 0 and dataset.data.item_ids is not None

    # Train: the imported data set, a tiny model, one epoch.
    st_app.open_in_sidebar("Train")
    st_app.choose("Training data", NAME)
    expect(page.get_by_text(f"the imported data set {NAME}")).to_be_visible()
    # An imported log preselects its recommended family (SASRec before any tune): this test
    # inspects the LSTM's attention pooling, so it picks the LSTM family.
    st_app.choose("Model family", "lstm")
    st_app.fill(SETTINGS | {"Run name (optional)": RUN})
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Training completed")).to_be_visible(timeout=TRAINING_MS)
    st_app.wait()
    assert (models_dir / RUN / "metrics.jsonl").exists()

    # Recommend: a test session typed with the log's raw item ids draws the heatmap.
    test_sessions = dataset.test_sessions
    first = dataset.data.session(int(test_sessions[0]))[:4]
    raw = [str(dataset.data.item_ids[i]) for i in first]
    page = st_app.goto(f"recommend?run={RUN}")
    box = page.get_by_label(TEXT_BOX, exact=True)
    box.fill(", ".join(raw))
    box.press("Enter")
    st_app.wait()
    page.get_by_text("Attention maps").first.click()  # attention is one click away
    st_app.wait()
    heatmap = page.get_by_test_id("stPlotlyChart").filter(
        has_text="Attention (attention pooling) over the session's clicks"
    )
    expect(heatmap).to_have_count(1)
    expect(heatmap.get_by_text("click in session (oldest → newest)")).to_be_visible()
    expect(heatmap.locator(".main-svg").first).to_be_visible()
    expect(page.get_by_text(f"item {raw[-1]}").first).to_be_visible()
    expect(page.get_by_text("No oracle here").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    st_app.screenshot("real-log-recommend")

    # Attention patterns on the same run.
    st_app.open_in_sidebar("Attention patterns")
    st_app.choose("Run", RUN)
    expect(page.get_by_text("Attention patterns by prefix length")).to_be_visible()
    expect(page.get_by_text("This data has no hidden behaviour")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    st_app.screenshot("real-log-attention")
