"""The Recommend page's pure helpers: exact values on tiny hand-made inputs, and agreement
with the engine they wrap (recommend, the oracle)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data.splits import Split, Targets, make_split, tokens_from_items
from streamrec.evaluation.baselines import Oracle
from streamrec.model import LSTMRecommender
from streamrec.recommendation import Recommendation, parse_items, recommend
from streamrec.training.runs import RunInfo, RunStatus
from streamrec.views.session_view import (
    ClickCauses,
    Headline,
    OracleView,
    SampledSession,
    SessionUpdate,
    catalog_summary,
    cause_sentences,
    causes_paragraph,
    click_labels,
    drop_choices,
    headlines,
    held_out_sessions,
    item_label,
    option_labels,
    oracle_view,
    rank_of,
    run_caption,
    sample_session,
    sample_summary,
    sampling_hint,
    session_causes,
    session_error,
    session_update,
    top_k,
    top_k_table,
    truth_ranks,
)
from streamrec.world.simulator import Catalog, SessionData, simulate

CATEGORY = np.array([0, 0, 1, 2, 1])  # item -> category of a 5-item catalog


def tiny_data() -> SessionData:
    """Three sessions by hand: [0, 1, 2], [3, 4], [2, 2, 1, 0]; behaviours 1, 0, 1."""
    items = np.array([0, 1, 2, 3, 4, 2, 2, 1, 0])
    catalog = Catalog(CATEGORY, np.full(5, 0.5), np.array([2, 2, 1]))
    preferred = np.array([[True, True, False], [False, False, True], [True, False, True]])
    return SessionData(
        items=items,
        offsets=np.array([0, 3, 5, 9]),
        catalog=catalog,
        behaviour=np.array([1, 0, 1], dtype=np.int8),
        preferred=preferred,
        config=SimConfig(n_items=5, n_categories=3),
    )


def test_labels():
    assert item_label(302, 4) == "item 302 · cat 4"
    assert click_labels([3, 0, 3], CATEGORY) == [
        "item 3 · cat 2",
        "item 0 · cat 0",
        "item 3 · cat 2",
    ]
    assert option_labels(CATEGORY) == [
        "0 · category 0",
        "1 · category 0",
        "2 · category 1",
        "3 · category 2",
        "4 · category 1",
    ]


def test_catalog_summary():
    config = RunConfig(SimConfig(n_items=5_000, n_categories=25, n_sessions=20_000, seed=7))
    assert catalog_summary(config) == (
        "5,000 items in 25 categories, 20,000 simulated sessions (seed 7, fast engine)"
    )


def test_top_k_breaks_ties_by_item_id_and_rank_counts_ties_against_the_item():
    probs = np.array([0.1, 0.3, 0.1, 0.4, 0.1])
    items, values = top_k(probs, 3)
    assert items.tolist() == [3, 1, 0]
    assert values.tolist() == [0.4, 0.3, 0.1]
    assert [rank_of(probs, i) for i in range(5)] == [5, 2, 5, 1, 5]


def test_top_k_table_exact():
    table = top_k_table(np.array([3, 1, 4]), np.array([0.5, 0.25, 0.125]), CATEGORY, [1, 2, 1], 4)
    expected = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "item_id": [3, 1, 4],
            "category": [2, 0, 1],
            "probability": [0.5, 0.25, 0.125],
            "in_session": [False, True, False],
            "true_next": [False, False, True],
        }
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert not top_k_table(np.array([3]), np.array([1.0]), CATEGORY, [3])["true_next"].any()


def test_sampled_session_knows_the_next_click_of_its_proper_prefixes():
    sample = SampledSession(7, (4, 2, 2, 0), "deep_dive", (1, 2))
    assert sample.true_next([4]) == 2
    assert sample.true_next([4, 2, 2]) == 0
    assert sample.true_next(np.array([4, 2])) == 2
    assert sample.true_next([4, 2, 2, 0]) is None  # the whole session: nothing came next
    assert sample.true_next([2, 2]) is None  # not a prefix
    assert sample.true_next([]) is None


def test_held_out_sessions_and_sampling():
    data = tiny_data()
    empty = Targets(np.zeros(0, np.int64), np.zeros(0, np.int64))
    report = Targets(np.array([2, 2, 1, 2]), np.array([1, 2, 1, 3]))
    split = Split("session", train=empty, valid=empty, test=report)
    assert held_out_sessions(data, split).tolist() == [1, 2]
    assert held_out_sessions(data, split, behaviour=1).tolist() == [2]
    assert held_out_sessions(data, split, behaviour=2).tolist() == []

    sample = sample_session(data, np.array([2]), np.random.default_rng(0))
    assert sample == SampledSession(2, (2, 2, 1, 0), "deep_dive", (0, 2))
    with pytest.raises(ValueError, match="no held-out session"):
        sample_session(data, np.array([], dtype=np.int64), np.random.default_rng(0))


@pytest.fixture(scope="module")
def small_oracle() -> Oracle:
    data = simulate(SimConfig(n_sessions=200, n_items=40, n_categories=6))
    return Oracle().fit(data, make_split(data, TrainConfig()).train)


def test_oracle_view_is_the_oracle_posterior_and_score(small_oracle):
    session = [3, 3, 17, 3]
    view = oracle_view(small_oracle, session, max_len=3)
    tokens = torch.from_numpy(tokens_from_items(session, 3))
    behaviour, next_category = small_oracle.posterior(tokens)
    np.testing.assert_array_equal(view.behaviour, behaviour[0].numpy())
    np.testing.assert_array_equal(view.next_category, next_category[0].numpy())
    np.testing.assert_array_equal(view.probs, small_oracle.score(tokens)[0].numpy())
    assert view.probs.sum() == pytest.approx(1.0)


def test_oracle_view_excluding_seen_items_renormalises_the_rest(small_oracle):
    session = [3, 3, 17]
    full = oracle_view(small_oracle, session, max_len=25).probs
    masked = oracle_view(small_oracle, session, max_len=25, exclude_seen=True).probs
    assert masked[[3, 17]].tolist() == [0.0, 0.0]
    rest = np.setdiff1d(np.arange(40), session)
    np.testing.assert_allclose(masked[rest], full[rest] / full[rest].sum())


def test_session_update_agrees_with_recommend_and_the_oracle(small_oracle):
    torch.manual_seed(0)
    model = LSTMRecommender(LSTMConfig(n_items=40, embed_dim=8, hidden_size=8)).eval()
    category = small_oracle.item_category.numpy()
    session = [5, 1, 5, 30]
    update = session_update(model, small_oracle, session, 4, 3, category, true_next=1)
    rec = recommend(model, session, 4, 3)
    np.testing.assert_array_equal(update.rec.top_items, rec.top_items)
    np.testing.assert_allclose(update.rec.attention, rec.attention)
    pd.testing.assert_frame_equal(
        update.model_table, top_k_table(rec.top_items, rec.top_probs, category, session, 1)
    )
    items, probs = top_k(oracle_view(small_oracle, session, 3).probs, 4)
    pd.testing.assert_frame_equal(
        update.oracle_table, top_k_table(items, probs, category, session, 1)
    )


def catalog_run(name: str, n_items: int) -> RunInfo:
    """A listed run whose model reads a catalog of `n_items` items."""
    config = RunConfig(SimConfig(n_items=n_items), LSTMConfig(n_items=n_items))
    return RunInfo(Path("/models") / name, RunStatus(state="completed"), config)


def test_run_caption():
    config = RunConfig(SimConfig(n_items=5_000, n_categories=25, n_sessions=20_000, seed=7))
    scored = {"hit@10": 0.41234}
    done = RunInfo(
        Path("/models/r"),
        RunStatus(state="completed", final=scored, baselines={"Oracle": {"hit@10": 0.5}}),
        config,
    )
    described = (
        "Trained on 5,000 items in 25 categories, 20,000 simulated sessions (seed 7, fast "
        "engine). LSTM (2 × 128) with attention pooling, reads the last 25 clicks."
    )
    assert run_caption(done, config) == described
    running = RunInfo(Path("/models/r"), RunStatus(state="running", final=scored), config)
    assert run_caption(running, config) == f"{described} Status: running."
    assert run_caption(RunInfo(Path("/models/r"), RunStatus(state="stopped"), config), config) == (
        f"{described} Status: stopped."
    )


def test_session_error_names_the_runs_whose_catalog_has_the_ids():
    usable = [catalog_run("tiny", 300), catalog_run("big", 5_000), catalog_run("small", 100)]
    try:
        parse_items("3, 999", 300)
    except ValueError as error:
        message = session_error(error, "3, 999", "tiny", 300, usable)
    assert message == (
        "Cannot read this session: unknown item ids: 999; this catalog has ids 0-299. "
        "Run **tiny** was trained on a catalog of 300 items, so ids from another catalog mean "
        "nothing to it. Runs whose catalog has these ids: big."
    )
    alone = session_error(ValueError("unknown item ids: 999"), "999", "tiny", 300, usable[:1])
    assert alone.endswith("mean nothing to it.")
    typo = ValueError("not item ids: 'ten'")
    assert session_error(typo, "3, ten", "tiny", 300, usable) == (
        "Cannot read this session: not item ids: 'ten'"
    )


def test_sampling_hint_follows_the_split_protocol():
    by_session = RunConfig(train=TrainConfig(protocol="session"))
    by_example = RunConfig(train=TrainConfig(protocol="example"))
    tail = (
        " from the run's simulator, and shows its hidden behaviour and the click that really "
        "came next."
    )
    assert sampling_hint(by_session) == "Draws a session the model never trained on" + tail
    assert sampling_hint(by_example) == (
        "Draws a session with held-out clicks (this run split clicks, not sessions)" + tail
    )


def test_drop_choices_are_the_last_clicks_by_position():
    assert drop_choices([4, 2, 3], CATEGORY, 2) == {1: "item 2 · cat 1", 2: "item 3 · cat 2"}
    assert list(drop_choices([4, 2, 3], CATEGORY, 50)) == [0, 1, 2]
    assert drop_choices([], CATEGORY, 2) == {}


def hand_recommendation(dropped: int) -> Recommendation:
    """The model read clicks [4, 2, 3] (after `dropped` cut ones) and weighed click 2 most."""
    return Recommendation(
        session=[4, 2, 3],
        dropped=dropped,
        top_items=np.array([1, 0]),
        top_probs=np.array([0.5, 0.25]),
        probs=np.array([0.1, 0.3, 0.1, 0.4, 0.1]),
        attention=np.array([0.2, 0.7, 0.1]),
        attention_growth=np.eye(3),
    )


def test_headlines_exact():
    oracle_table = top_k_table(np.array([3, 1]), np.array([0.625, 0.125]), CATEGORY, [4, 2, 3])
    assert headlines(hand_recommendation(2), 5, oracle_table, CATEGORY) == [
        Headline("Clicks the model reads", "3 of 5", "first 2 cut"),
        Headline("Model's top pick", "item 1", "cat 0 · p 0.500"),
        Headline("Oracle's top pick", "item 3", "cat 2 · p 0.625"),
        Headline("Most attended click", "item 2", "click 4 · weight 0.70"),
    ]
    whole = headlines(hand_recommendation(0), 3, oracle_table, CATEGORY)
    assert whole[0].value == "3 of 3" and whole[0].detail == "all of them"
    assert whole[3].detail == "click 2 · weight 0.70"


def test_sample_summary_says_whether_the_session_still_follows_the_sample():
    sample = SampledSession(7, (4, 2, 2, 0), "deep_dive", (1, 2))
    head = (
        "**Held-out session #7** (4 clicks): hidden behaviour **deep dive**, preferred "
        "categories **1, 2**. The session shown "
    )
    assert sample_summary(sample, [4, 2]) == head + "follows it."
    assert sample_summary(sample, [4, 2, 2, 0]) == head + "follows it."
    assert sample_summary(sample, [2, 2]) == head + "was edited from it."


def test_truth_ranks_counts_ties_against_the_true_item():
    view = OracleView(np.ones(3) / 3, np.ones(3) / 3, np.array([0.5, 0.1, 0.1, 0.2, 0.1]))
    update = SessionUpdate(hand_recommendation(0), view, pd.DataFrame(), pd.DataFrame())
    assert truth_ranks(1, update, CATEGORY) == (
        "The click that really came next: **item 1 · cat 0**. The model ranks it **#2**, "
        "the oracle **#5** of 5 items."
    )


def caused_data() -> SessionData:
    """tiny_data with causes: session 2 is [2, 2, 1, 0] = first, repeat of click 1, stay after
    click 2, anchor to click 1."""
    data = tiny_data()
    cause = np.array([0, 4, 5, 0, 2, 0, 6, 1, 3], dtype=np.int8)
    position = np.array([-1, 0, 0, -1, -1, -1, 0, 1, 0], dtype=np.int64)
    return dataclasses.replace(data, cause=cause, cause_position=position)


def test_session_causes_only_for_the_same_session_of_data_with_causes():
    data = caused_data()
    causes = session_causes(data, 2, [2, 2, 1, 0])
    assert causes == ClickCauses(("first", "repeat", "stay", "anchor"), (-1, 0, 1, 0))
    assert causes.cause_of(3) == 0 and causes.cause_of(2) == 1 and causes.cause_of(0) is None
    assert session_causes(data, 2, [2, 2, 1]) is None  # not that session
    assert session_causes(data, 7, [2, 2, 1, 0]) is None
    assert session_causes(tiny_data(), 2, [2, 2, 1, 0]) is None  # no causes recorded


def test_cause_sentences_exact():
    assert cause_sentences(session_causes(caused_data(), 0, [0, 1, 2])) == [
        "click 1 started the session",
        "click 2 followed on from click 1 (its successor)",
        "click 3 picked up click 1's chain again (its successor)",
    ]
    causes = session_causes(caused_data(), 2, [2, 2, 1, 0])
    assert cause_sentences(causes, 2) == ["click 1 started the session", "click 2 repeated click 1"]
    assert causes_paragraph(causes, 9) == (
        "**What caused each click** (recorded by the simulator): click 1 started the session; "
        "click 2 repeated click 1; click 3 stayed in the category of click 2; click 4 came back "
        "to the anchor, click 1."
    )
