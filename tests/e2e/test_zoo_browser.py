"""Every model family end to end in a real browser: sasrec trained from the Train page, the
other families from the command line (`train --model NAME`), all four on the leaderboard, and
each explained on the Recommend page by what its model returns.

The app's runs go to the session's temporary `models_dir` (see conftest), never to models/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

from streamrec.training import runs
from tests.e2e.server import ROOT

TRAINING_MS = 150_000  # worker start, simulation, baselines and one tiny epoch, under load
SIM_FLAGS = ["--n-sessions", "300", "--n-items", "100", "--n-categories", "6"]
SIMULATOR = {"Sessions": "300", "Items": "100", "Categories": "6"}  # the same data on the page
CLI_FAMILIES = {
    "lstm": ["--embed-dim", "8", "--hidden-size", "8", "--num-layers", "1"],
    "gru4rec": ["--hidden-size", "8"],
    "narm": ["--embed-dim", "8", "--hidden-size", "8"],
}
SASREC_SETTINGS = {
    "Hidden size": "8",
    "Self-attention blocks": "2",
    "Attention heads": "2",
    "Epochs": "1",
    "Batch size (target clicks per batch)": "128",
}
ITEMS = "3,10,25,7"
# What the Recommend page's explanation tab must draw for each family's run.
EXPLAINED = {
    "zoo-sasrec": "Attention (rollout)",  # a single map opens first: rollout for SASRec
    "zoo-narm": "Attention (local attention)",
    "zoo-lstm": "Attention (attention pooling)",
    "zoo-gru4rec": None,  # no attention: occlusion alone
}





def train_from_cli(models_dir: Path, family: str) -> None:
    """`python -m streamrec train --model FAMILY` on the same data, into the app's folder."""
    result = subprocess.run(
        [sys.executable, "-m", "streamrec", "train", "--model", family, *CLI_FAMILIES[family],
         *SIM_FLAGS, "--epochs", "1", "--batch-size", "128", "--name", f"zoo-{family}",
         "--models-dir", str(models_dir), "--quiet"],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr


def test_each_family_trains_shows_on_the_leaderboard_and_explains(
    st_app, models_dir, no_training_left
):
    page = st_app.goto()
    st_app.generate(SIMULATOR)

    st_app.open_in_sidebar("Train")
    st_app.choose("Model family", "sasrec")
    expect(page.get_by_label("Self-attention blocks", exact=True)).to_be_visible()
    expect(page.get_by_label("Pooling", exact=True)).to_have_count(0)  # an lstm setting
    st_app.fill({**SASREC_SETTINGS, "Run name (optional)": "zoo-sasrec"})
    expect(page.get_by_text("Estimated time:")).to_be_visible()
    page.get_by_role("button", name="Start training").click()
    for family in CLI_FAMILIES:  # while the page's worker trains
        train_from_cli(models_dir, family)
    expect(page.get_by_text("Training completed")).to_be_visible(timeout=TRAINING_MS)
    assert runs.read_config(models_dir / "zoo-sasrec").model.family == "sasrec"
    st_app.screenshot("zoo-train-sasrec")

    st_app.open_in_sidebar("Leaderboard")
    st_app.choose("Data set", "n_sessions 300")
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()  # a tuned data set adds one
    # The curves (a tuned data set's best-so-far chart may stand beside them).
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text="per training time")
    expect(chart).to_have_count(1)
    for run_id in EXPLAINED:  # with no row chosen, every run's curve is drawn
        expect(chart.locator(".legend")).to_contain_text(run_id)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    st_app.screenshot("zoo-leaderboard")

    for run_id, attention_title in EXPLAINED.items():
        st_app.goto(f"recommend?run={run_id}&items={ITEMS}")
        charts = page.get_by_test_id("stPlotlyChart")
        expect(charts.filter(has_text="Best possible: the oracle's P(this click caused")).to_have_count(1)
        page.get_by_text("Attention maps").first.click()  # attention is one click away
        st_app.wait()
        if attention_title is None:
            expect(charts.filter(has_text=re.compile(r"[Aa]ttention \("))).to_have_count(0)
            expect(page.get_by_text("pools its clicks without attention")).to_be_visible()
        else:
            # Case-sensitive: the growth chart's title says "the attention (…)" too.
            expect(charts.filter(has_text=re.compile(re.escape(attention_title)))).to_have_count(1)
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
        st_app.screenshot(f"zoo-recommend-{run_id}")
