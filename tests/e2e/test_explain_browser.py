"""Recommend's "Why these items" in a real browser on a sampled `streaming` session: it opens on
the explainer measured most faithful for the run, says how far it can be trusted beside the
best possible, shows the oracle's posterior over causes beside it with the true cause marked,
keeps attention one click away with its own measured trust, and its charts' click labels do
not run into each other, on a desktop window or a 390 px phone screen.

A small run of the `streaming` scenario is trained into the session's `models_dir` (conftest).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from streamrec.charts.faithfulness_charts import METHOD_NAMES
from streamrec.config import LSTMConfig, RunConfig, TrainConfig
from streamrec.explain import trust
from streamrec.training import runs
from streamrec.training.jobs import run_training
from streamrec.world.scenarios import get_scenario

RUN = "explain-e2e"
STREAMING = get_scenario("streaming")
CONFIG = RunConfig(
    sim=STREAMING.config(n_sessions=1200, n_items=300, n_categories=8),
    model=LSTMConfig(n_items=300, embed_dim=16, hidden_size=32, num_layers=1, dropout=0.0,
                     item_skip=True, copy=True),
    train=TrainConfig(epochs=2, max_len=STREAMING.max_len),
)

# Tick labels of one axis that overlap each other (the SASRec heatmap's ran together).
OVERLAPPING_TICKS_JS = """
(chart) => {
  const labels = [...chart.querySelectorAll(".xtick text")].map((t) => t.getBoundingClientRect())
    .filter((r) => r.width > 0);
  const hits = [];
  for (let i = 1; i < labels.length; i++) {
    const a = labels[i - 1], b = labels[i];
    const overlapX = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const overlapY = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (overlapX > 1 && overlapY > 1) hits.push(i);
  }
  return hits;
}
"""


@pytest.fixture(scope="module")
def streaming_run(models_dir: Path) -> Path:
    """Train the small streaming run once (a minute or so on a busy machine)."""
    path = models_dir / RUN
    if not path.exists():
        run_training(runs.create_run(CONFIG, models_dir, RUN), CONFIG, with_baselines=False)
    return path


def test_why_these_items_leads_with_the_most_faithful_explainer(st_app, streaming_run):
    st_app.goto()
    page = st_app.goto(f"recommend?run={RUN}")
    page.get_by_role("tab", name="Sample a held-out session").click()
    st_app.wait()
    page.get_by_role("button", name="Sample a session").click()
    st_app.wait()
    expect(page.get_by_text("The click that really came next:")).to_be_visible()
    # The trust sentence shows once the run's record is measured (on first need, in the
    # session fragment) and stored in the run folder.
    expect(page.get_by_text("held-out sessions of this world").first).to_be_visible()
    expect(page.get_by_text("the best possible is").first).to_be_visible()
    record = trust.stored_record(streaming_run)
    assert record is not None
    best = trust.most_faithful(record)
    assert best is not None
    explainer = page.get_by_role("combobox", name="Explanation")  # opens on the most faithful
    expect(explainer).to_have_value(re.compile(re.escape(METHOD_NAMES[best]) + r" · right \d+% · most faithful"))
    charts = page.get_by_test_id("stPlotlyChart")
    ideal = charts.filter(has_text="Best possible: the oracle's P(this click caused")
    expect(ideal).to_have_count(1)
    expect(page.get_by_text("The oracle's most likely causes:")).to_be_visible()
    expect(page.get_by_text("Attention maps").first).to_be_visible()  # one click away
    expect(page.get_by_test_id("stException")).to_have_count(0)
    for i in range(2):  # the explainer's bars and the ideal's: labels apart
        assert charts.nth(i).evaluate(OVERLAPPING_TICKS_JS) == []
    st_app.screenshot("recommend-why")

    page.get_by_text("Attention maps").first.click()
    st_app.wait()
    heatmap = charts.filter(has_text="over the session's clicks when predicting")
    expect(heatmap.first).to_be_visible()
    assert heatmap.first.evaluate(OVERLAPPING_TICKS_JS) == []
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.wait_for_timeout(1000)  # the charts lay themselves out again
    st_app.screenshot("recommend-why-phone")
    growth = charts.filter(has_text="shifts as the session grows")
    for name, chart in (("explainer", charts.nth(0)), ("heatmap", heatmap.first),
                        ("growth", growth.first)):
        assert chart.evaluate(OVERLAPPING_TICKS_JS) == [], name
