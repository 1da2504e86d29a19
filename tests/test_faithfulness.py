"""Attention and occlusion against the recorded causes: exact ranks and shares on hand-made
sessions with fake models whose attention and predictions are known, and the batched
drop-one pass checked against the model run on each variant alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from streamrec.__main__ import main
from streamrec.config import DataConfig, LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.data.identity import data_label as data_identity
from streamrec.data.sessions import CAUSES, NO_CAUSE, SessionData
from streamrec.data.splits import Split, Targets, all_targets
from streamrec.explain import faithfulness as fa
from streamrec.model import LSTMRecommender
from streamrec.training import runs
from streamrec.world.scenarios import get_scenario

N_ITEMS = 10
FIRST, STAY, SWITCH, ANCHOR, SUCCESSOR, RECALL, REPEAT = range(len(CAUSES))


class SuccessorModel(torch.nn.Module):
    """Predicts the successor (item + 1 mod 10) of every click seen so far, equally; its
    attention weighs each click by its token (item + 1), or is absent.

    States are the counts of each item among the clicks so far, so the true next item's
    probability depends only on whether its predecessor was clicked: dropping that click
    kills it.
    """

    def __init__(self, with_attention: bool = True) -> None:
        super().__init__()
        self.with_attention = with_attention

    def forward_rows(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        mask = tokens != 0  # (B, T)
        onehot = torch.nn.functional.one_hot((tokens - 1).clamp(min=0), N_ITEMS).float()
        states = (onehot * mask.unsqueeze(2)).cumsum(dim=1)  # (B, T, n_items)
        if not self.with_attention:
            return states, None
        t = tokens.shape[1]
        causal = torch.ones(t, t).tril().unsqueeze(0)  # (1, T, T)
        raw = causal * tokens.float().unsqueeze(1)  # (B, T, T)
        return states, raw / raw.sum(dim=2, keepdim=True).clamp(min=1e-9)

    def logits(self, states: torch.Tensor) -> torch.Tensor:
        return 20.0 * (states.roll(1, dims=-1) > 0).float()  # item a + 1 gets 20 if a was seen


def hand_made() -> SessionData:
    """Six sessions; the caused targets and their expected ranks are in the test below."""
    sessions = [
        ([3, 7, 9, 4], [FIRST, SWITCH, SWITCH, RECALL], [NO_CAUSE, NO_CAUSE, NO_CAUSE, 0]),
        ([2, 5, 6], [FIRST, SWITCH, SUCCESSOR], [NO_CAUSE, NO_CAUSE, 1]),
        ([3, 6, 0, 4], [FIRST, SWITCH, SWITCH, ANCHOR], [NO_CAUSE, NO_CAUSE, NO_CAUSE, 1]),
        ([1, 2, 3, 4, 5, 6], [FIRST] + [STAY] * 4 + [RECALL], [NO_CAUSE] * 5 + [0]),  # outside
        ([7, 8], [FIRST, SUCCESSOR], [NO_CAUSE, 0]),  # a one-click window: nothing to rank
        ([5, 5, 5], [FIRST, STAY, STAY], [NO_CAUSE] * 3),  # no cause recorded
    ]
    items = np.concatenate([s[0] for s in sessions]).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(s[0]) for s in sessions])]).astype(np.int64)
    return SessionData(
        items=items,
        offsets=offsets,
        cause=np.concatenate([s[1] for s in sessions]).astype(np.int8),
        cause_position=np.concatenate([s[2] for s in sessions]).astype(np.int64),
        n_catalog_items=N_ITEMS,
        name="hand-made",
    )


MAX_LEN = 3


def test_caused_targets_keep_causes_inside_the_window_of_two_or_more_clicks():
    data = hand_made()
    caused, cause_at, outside = fa.caused_targets(data, all_targets(data), MAX_LEN)
    assert caused.session.tolist() == [0, 1, 2]
    assert caused.position.tolist() == [3, 2, 3]
    assert cause_at.tolist() == [0, 1, 1]
    assert outside == 1  # session 3: its cause, click 0, is 5 clicks back with max_len 3


def test_ranks_and_shares_exactly():
    result = fa.measure_faithfulness(SuccessorModel(), hand_made(), all_targets(hand_made()), MAX_LEN)
    frame = result.targets.set_index("session_id")
    # Session 0: attention weighs tokens 4, 8, 10 (cause has the least); dropping item 3
    # kills P(4); the cause is 2 clicks back.
    # Session 1: the cause (item 5, token 6) is the last click and has the most attention.
    # Session 2: the cause (item 6, token 7) has the most attention, but the model predicts 4
    # from 3 (click 0): dropping the cause only raises P(4).
    assert frame["attention rank"].tolist() == [3, 1, 1]
    # In session 2, dropping click 1 or click 2 leaves two items at logit 20 either way: the
    # same probability of 4, a tie that counts against the cause.
    assert frame["occlusion rank"].tolist() == [1, 1, 3]
    assert frame["last click rank"].tolist() == [3, 1, 2]
    assert frame["window"].tolist() == [3, 2, 3]
    assert frame["cause_back"].tolist() == [2, 0, 1]
    assert frame["mechanism"].tolist() == ["recall", "successor", "anchor"]
    assert result.n_sessions == 3 and result.n_outside == 1 and result.has_attention
    share = result.share
    assert share(fa.ATTENTION, 1) == pytest.approx(2 / 3)
    assert share(fa.ATTENTION, 2) == pytest.approx(2 / 3)
    assert share(fa.OCCLUSION, 1) == pytest.approx(2 / 3)
    assert share(fa.LAST_CLICK, 1) == pytest.approx(1 / 3)
    assert share(fa.LAST_CLICK, 2) == pytest.approx(2 / 3)
    assert share(fa.CHANCE, 1) == pytest.approx((1 / 3 + 1 / 2 + 1 / 3) / 3)
    assert share(fa.CHANCE, 2) == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    assert share(fa.ATTENTION, 1, "recall") == 0.0
    assert share(fa.OCCLUSION, 1, "recall") == 1.0
    assert share(fa.ATTENTION, 1, "anchor") == 1.0
    assert share(fa.OCCLUSION, 1, "anchor") == 0.0
    assert share(fa.LAST_CLICK, 2, "anchor") == 1.0
    assert share(fa.LAST_CLICK, 1, "successor") == 1.0
    assert set(result.table["mechanism"]) == {"all", "recall", "successor", "anchor"}
    assert tuple(result.table.columns) == fa.TABLE_COLUMNS
    row = result.table[(result.table["mechanism"] == "all")].iloc[0]
    assert row["hits"] == 2 and row["targets"] == 3
    assert row["se"] == pytest.approx(np.sqrt(2 / 9) / np.sqrt(3))


def test_a_model_without_attention_gets_occlusion_only():
    data = hand_made()
    result = fa.measure_faithfulness(SuccessorModel(with_attention=False), data, all_targets(data), MAX_LEN)
    assert not result.has_attention
    assert fa.ATTENTION not in set(result.table["method"])
    assert result.targets["attention rank"].isna().all()
    assert result.share(fa.OCCLUSION, 1, "recall") == 1.0
    assert np.isnan(result.share(fa.ATTENTION, 1))


class PointerModel(SuccessorModel):
    """SuccessorModel with a copy pointer map that weighs each click by 1 / token: the
    reverse of its attention, so the two explainers rank the clicks oppositely."""

    def explain(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        t = tokens.shape[1]
        causal = torch.ones(t, t).tril().unsqueeze(0) * (tokens != 0).unsqueeze(1)
        raw = causal / tokens.clamp(min=1).float().unsqueeze(1)
        return {fa.POINTER: raw / raw.sum(dim=2, keepdim=True).clamp(min=1e-9)}


def test_a_copy_pointer_is_a_fifth_explainer_ranked_from_its_own_map():
    data = hand_made()
    result = fa.measure_faithfulness(PointerModel(), data, all_targets(data), MAX_LEN)
    frame = result.targets.set_index("session_id")
    # Reversed weights: session 0's cause (the lowest token) comes first, sessions 1 and 2's
    # causes (the highest tokens in their windows) last.
    assert frame["copy pointer rank"].tolist() == [1, 2, 3]
    assert frame["attention rank"].tolist() == [3, 1, 1]
    assert result.has_pointer and fa.POINTER in set(result.table["method"])
    assert result.share(fa.POINTER, 1) == pytest.approx(1 / 3)
    assert "| copy pointer |" in fa.markdown_table(result)
    # A model without the map gets no pointer row and a NaN rank column.
    plain = fa.measure_faithfulness(SuccessorModel(), data, all_targets(data), MAX_LEN)
    assert not plain.has_pointer and fa.POINTER not in set(plain.table["method"])
    assert plain.targets["copy pointer rank"].isna().all()


def test_data_without_causes_is_refused_by_name():
    data = hand_made()
    bare = SessionData(items=data.items, offsets=data.offsets, name="imported log")
    with pytest.raises(ValueError, match="'imported log' records no cause per click"):
        fa.measure_faithfulness(SuccessorModel(), bare, all_targets(bare), MAX_LEN)


def test_one_target_per_session_at_most_n_sessions():
    targets = Targets(np.array([0, 0, 0, 2, 2, 5, 7, 7]), np.array([1, 2, 3, 1, 2, 4, 1, 2]))
    picked = fa.one_per_session(targets, 10, seed=3)
    assert sorted(targets.session[picked].tolist()) == [0, 2, 5, 7]
    picked = fa.one_per_session(targets, 2, seed=3)
    assert picked.size == 2 and np.unique(targets.session[picked]).size == 2
    assert np.array_equal(picked, fa.one_per_session(targets, 2, seed=3))  # seeded


def test_cause_rank_counts_ties_against_the_cause():
    scores = np.array([[0.5, 0.5, 0.0], [0.1, 0.2, 0.7], [0.0, 1.0, 9.0]])
    ranks = fa.cause_rank(scores, np.array([3, 3, 2]), np.array([0, 2, 0]))
    assert ranks.tolist() == [2, 1, 2]  # the 9.0 past the window's 2 clicks does not count


def test_batched_rows_equal_the_model_on_each_row_alone():
    torch.manual_seed(0)
    model = LSTMRecommender(
        LSTMConfig(n_items=N_ITEMS, embed_dim=8, hidden_size=12, num_layers=2)
    ).eval()
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 7, size=9)
    tokens = np.zeros((9, 6), dtype=np.int64)
    for r, n in enumerate(lengths):
        tokens[r, :n] = rng.integers(1, N_ITEMS + 1, size=n)
    items = rng.integers(0, N_ITEMS, size=9)
    full, maps = fa.last_output_maps(model, tokens, lengths, items, rows_per_batch=4)
    attention = maps[fa.ATTENTION]
    with torch.no_grad():
        for r in range(9):
            logits, weights = model(torch.from_numpy(tokens[r : r + 1, : lengths[r]]))
            assert full[r] == pytest.approx(torch.softmax(logits[0], 0)[items[r]].item(), rel=1e-5)
            np.testing.assert_allclose(attention[r, : lengths[r]], weights[0].numpy(), atol=1e-6)


def test_occlusion_of_one_session_is_the_fall_of_the_items_probability():
    falls = fa.occlusion(SuccessorModel(), [3, 7, 9], 4)
    # P(4 | 3, 7, 9) = e^20 / (3 e^20 + 7); without click 0 it is ~0, without the others
    # e^20 / (2 e^20 + 8).
    p = np.exp(20) / (3 * np.exp(20) + 7)
    q = np.exp(20) / (2 * np.exp(20) + 8)
    np.testing.assert_allclose(falls, [p, p - q, p - q], rtol=1e-5)
    with pytest.raises(ValueError, match="1 click"):
        fa.occlusion(SuccessorModel(), [3], 4)


def test_data_identity_names_the_data_a_run_was_trained_on():
    assert data_identity(RunConfig()) == "scenario casestudy"
    news = get_scenario("news")
    seeded = RunConfig(sim=news.config(seed=7), model=LSTMConfig())
    assert data_identity(seeded) == "scenario news (seed 7)"
    changed = RunConfig(sim=SimConfig(n_items=60, seed=5), model=LSTMConfig(n_items=60))
    assert data_identity(changed) == "custom simulator (n_items 60, seed 5)"
    imported = RunConfig(data=DataConfig(source="dataset", dataset="yoochoose"))
    assert data_identity(imported) == "data set yoochoose"


def test_markdown_table_exact():
    result = fa.measure_faithfulness(SuccessorModel(), hand_made(), all_targets(hand_made()), MAX_LEN)
    assert fa.markdown_table(result).splitlines() == [
        "| mechanism (targets) | attention | occlusion | shapley sampling | last click | chance |",
        "|---|---:|---:|---:|---:|---:|",
        "| all (3) | 66.7 / 66.7 | 66.7 / 66.7 | 66.7 / 66.7 | 33.3 / 66.7 | 38.9 / 77.8 |",
        # The anchor's cause and the other non-predecessor click dilute P equally: their
        # exact Shapley values tie, and ties count against the cause (occlusion alike).
        "| anchor (1) | 100.0 / 100.0 | 0.0 / 0.0 | 0.0 / 0.0 | 0.0 / 100.0 | 33.3 / 66.7 |",
        "| successor (1) | 100.0 / 100.0 | 100.0 / 100.0 | 100.0 / 100.0 | 100.0 / 100.0 | 50.0 / 100.0 |",
        "| recall (1) | 0.0 / 0.0 | 100.0 / 100.0 | 100.0 / 100.0 | 0.0 / 0.0 | 33.3 / 66.7 |",
    ]


def untrained_run(root, data: SessionData) -> Path:
    """A run folder holding an untrained LSTM over the 10-item catalog and `data` as its sessions
    (every session held out for validation)."""
    config = RunConfig(
        SimConfig(n_items=N_ITEMS, n_categories=2, min_preferred=1, max_preferred=2),
        LSTMConfig(n_items=N_ITEMS, embed_dim=4, hidden_size=4, num_layers=1),
        TrainConfig(max_len=MAX_LEN, cutoffs=(5, 10)),
    )
    path = runs.create_run(config, root, "tiny")
    torch.manual_seed(0)
    runs.save_weights(path, "best", LSTMRecommender(config.model))
    empty = Targets(np.zeros(0, np.int64), np.zeros(0, np.int64))
    runs.save_data(path, data, Split("session", empty, all_targets(data), empty))
    return path


def test_cli_prints_the_table_of_a_run(tmp_path, capsys):
    from streamrec.explain import trust

    path = untrained_run(tmp_path, hand_made())
    # Another draw (--seed) is printed but never stored as the run's record.
    assert main(["faithfulness", "--run", str(path), "--models-dir", str(tmp_path), "--json",
                 "--seed", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["n_sessions"] == 3
    assert not (path / trust.RECORD_FILE).exists()
    assert main(["faithfulness", "--run", str(path), "--models-dir", str(tmp_path), "--json"]) == 0
    assert (path / trust.RECORD_FILE).exists()
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1  # one JSON object, nothing else
    table = json.loads(out[0])
    assert table["n_sessions"] == 3 and table["n_outside"] == 1
    assert table["explainers"]["last click"]["all"]["top1"] == pytest.approx(1 / 3)
    assert table["explainers"]["last click"]["all"]["top2"] == pytest.approx(2 / 3)
    assert table["ideal"] is None  # hand-made sessions: no world to compute the ideal from
    assert table["most_faithful"] in table["explainers"]
    assert main(["faithfulness", "--run", str(path), "--models-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("3 held-out targets caused by an earlier click inside the model's")
    assert "(1 caused targets skipped" in out[0]
    assert out[1].startswith("| mechanism (targets) | attention | occlusion | shapley sampling |")
    assert out[-1].startswith("Most faithful: ")


def test_cli_measures_a_run_whose_data_has_no_causes_without_ground_truth(tmp_path, capsys):
    data = hand_made()
    path = untrained_run(tmp_path, SessionData(items=data.items, offsets=data.offsets))
    assert main(["faithfulness", "--run", path.name, "--models-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "records no cause per click: comprehensiveness and sufficiency (ERASER)" in out
    assert "| random |" in out and "| occlusion |" in out
    assert main(["faithfulness", "--run", path.name, "--models-dir", str(tmp_path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["eraser"]
    assert {"occlusion", "random"} <= {row["method"] for row in rows}
