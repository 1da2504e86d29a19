"""The Recommend page in a real browser: type a session, read the heatmap and the tables, edit
the session with one click, sample a held-out session, and survive bad input.

A tiny run is trained into the session's temporary `models_dir` (see conftest) under its own
name, and the page is opened on it through `?run=`, so other tests' runs do not matter.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data.splits import make_split
from streamrec.training import runs
from streamrec.training.jobs import run_training
from streamrec.views.session_view import held_out_sessions
from streamrec.world.simulator import DEEP_DIVE, simulate

RUN = "recommend-e2e"
CONFIG = RunConfig(
    sim=SimConfig(n_sessions=1000, n_items=200, n_categories=6),
    model=LSTMConfig(n_items=200, embed_dim=32, hidden_size=64, num_layers=1, dropout=0.1),
    train=TrainConfig(epochs=4),
)
TEXT_BOX = "Session: item ids in click order, oldest first"
# The result charts sit in tabs and only the open tab is drawn: its title -> its charts.
CHART_TABS = {
    "Why these items": [
        "click (oldest → newest)",  # the most faithful explainer's bars, whichever it is
        "Best possible: the oracle's P(this click caused",
        "Attention (attention pooling) over the session's clicks",  # in the expander, opened
        "How the attention (attention pooling) shifts",
    ],
    "Ranked list as a chart": ["Model's top items"],
    "Hidden behaviour": ["Hidden behaviour: the oracle's belief"],
}

# Labels of a chart drawn outside its figure or over each other: the Recommend charts fit their
# margins to their labels in Python (automargin off), so a bad estimate shows up here.
MISPLACED_LABELS_JS = """
(chart) => {
  const box = (el) => el.getBoundingClientRect();
  const svg = box(chart.querySelector(".main-svg"));
  const texts = (sel) => [...chart.querySelectorAll(sel)].filter((t) => box(t).width > 0);
  const xticks = texts(".xtick text"), yticks = texts(".ytick text");
  const titles = texts(".g-xtitle text, .g-ytitle text");
  const problems = [];
  for (const t of [...xticks, ...yticks, ...titles]) {
    const r = box(t);
    if (r.left < svg.left - 1 || r.right > svg.right + 1 || r.top < svg.top - 1
        || r.bottom > svg.bottom + 1) problems.push(`outside the figure: ${t.textContent}`);
  }
  const ytitle = texts(".g-ytitle text")[0], xtitle = texts(".g-xtitle text")[0];
  if (ytitle && yticks.length && box(ytitle).right > Math.min(...yticks.map((t) => box(t).left)))
    problems.push(`y title over its tick labels: ${ytitle.textContent}`);
  if (xtitle && xticks.length && box(xtitle).top < Math.max(...xticks.map((t) => box(t).bottom)))
    problems.push(`x title over its tick labels: ${xtitle.textContent}`);
  return problems;
}
"""


@pytest.fixture(scope="module")
def session_items(models_dir: Path) -> list[int]:
    """Train the tiny run (about 10 s) and return the first 8 clicks of a held-out deep dive."""
    if not (models_dir / RUN).exists():
        run_training(runs.create_run(CONFIG, models_dir, RUN), CONFIG, with_baselines=False)
    data = simulate(CONFIG.sim)
    sessions = held_out_sessions(data, make_split(data, CONFIG.train), DEEP_DIVE)
    longest = max(sessions, key=lambda s: len(data.session(s)))
    return [int(i) for i in data.session(longest)[:8]]


def open_recommend(st_app):
    """The Recommend page on the test run. Home first: a fresh server's very first page load
    can come up before app.py has registered its pages (plain pages/ list, narrow layout)."""
    st_app.goto()
    return st_app.goto(f"recommend?run={RUN}")


def type_session(st_app, text: str) -> None:
    """Type into the session box and commit with Enter."""
    box = st_app.page.get_by_label(TEXT_BOX, exact=True)
    box.fill(text)
    box.press("Enter")
    st_app.wait()


def test_type_a_session_and_see_its_recommendations_and_attention(st_app, session_items):
    page = open_recommend(st_app)
    expect(page.get_by_role("heading", name="Recommend", exact=True)).to_be_visible()
    expect(page.get_by_text("200 items in 6 categories")).to_be_visible()

    type_session(st_app, ", ".join(str(i) for i in session_items))
    page.get_by_text("Attention maps", exact=False).first.click()  # one click away
    st_app.wait()
    charts = page.get_by_test_id("stPlotlyChart")
    heatmap = charts.filter(has_text="Attention (attention pooling) over the session's clicks")
    expect(heatmap).to_have_count(1)
    expect(heatmap.get_by_text("click in session (oldest → newest)")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(2)
    metric = page.get_by_test_id("stMetric").filter(has_text="Clicks the model reads")
    expect(metric).to_contain_text("8 of 8")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    st_app.screenshot("recommend")

    for tab, titles in CHART_TABS.items():
        page.get_by_role("tab", name=tab).click()
        st_app.wait()
        expect(charts).to_have_count(len(titles))
        for i, title in enumerate(titles):
            expect(charts.nth(i).locator(".main-svg").first).to_be_visible()
            expect(charts.nth(i)).to_contain_text(title)
            assert charts.nth(i).evaluate(MISPLACED_LABELS_JS) == [], title
    st_app.screenshot("recommend-behaviour")

    page.get_by_role("radio", name=f"✕ item {session_items[0]} ·").first.click()
    st_app.wait()
    expect(metric).to_contain_text("7 of 7")
    expect(page.get_by_label(TEXT_BOX, exact=True)).to_have_value(
        ", ".join(str(i) for i in session_items[1:])
    )


def test_sample_a_held_out_session_and_see_its_hidden_truth(st_app, session_items):
    page = open_recommend(st_app)
    page.get_by_role("tab", name="Sample a held-out session").click()
    st_app.wait()
    page.get_by_role("button", name="Sample a session").click()
    st_app.wait()
    expect(page.get_by_text("preferred categories")).to_be_visible()
    expect(page.get_by_text("The click that really came next:")).to_be_visible()  # not the occlusion caption
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(4)  # the explanation tab's
    expect(page.get_by_test_id("stException")).to_have_count(0)
    st_app.screenshot("recommend-sampled")


def test_bad_input_shows_an_error_and_keeps_the_text(st_app, session_items):
    page = open_recommend(st_app)
    type_session(st_app, "12, apple, 7")
    expect(page.get_by_text("not item ids: 'apple'")).to_be_visible()
    expect(page.get_by_label(TEXT_BOX, exact=True)).to_have_value("12, apple, 7")
    type_session(st_app, "12, 999")
    expect(page.get_by_text("unknown item ids: 999")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    st_app.screenshot("recommend-error")
