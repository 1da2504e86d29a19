"""Every model family behind the one interface: session-parallel equals per-prefix, the
explanation maps, configs in config.json, and the build_model seam."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from streamrec.config import (
    GRU4RecConfig,
    LSTMConfig,
    NARMConfig,
    RunConfig,
    SASRecConfig,
    SimConfig,
    TrainConfig,
    model_from_dict,
)
from streamrec.data.splits import all_targets, build_rows, prefix_matrix
from streamrec.model import build_model, count_parameters
from streamrec.world.simulator import simulate

ROOT = Path(__file__).resolve().parents[1]
N_ITEMS = 60
FAMILIES = {
    "lstm": LSTMConfig(n_items=N_ITEMS, embed_dim=8, hidden_size=16, num_layers=2),
    "lstm-last-gru": LSTMConfig(n_items=N_ITEMS, embed_dim=8, hidden_size=16, pooling="last", cell="gru"),
    "sasrec": SASRecConfig(n_items=N_ITEMS, hidden_size=16, num_blocks=2, num_heads=2, max_positions=8),
    "gru4rec": GRU4RecConfig(n_items=N_ITEMS, hidden_size=16),
    "gru4rec-embed": GRU4RecConfig(n_items=N_ITEMS, hidden_size=16, embed_dim=8, num_layers=2),
    "narm": NARMConfig(n_items=N_ITEMS, embed_dim=8, hidden_size=16),
}


def make(name: str):
    torch.manual_seed(0)
    return build_model(FAMILIES[name]).eval()


def right_padded(prefixes: torch.Tensor) -> torch.Tensor:
    """Left-padded prefixes (N, M) with their clicks moved to the front."""
    order = torch.sort((prefixes == 0).to(torch.int8), dim=1, stable=True).indices
    return prefixes.gather(1, order)


@pytest.mark.parametrize("name", FAMILIES)
def test_session_parallel_equals_per_prefix_for_every_prefix(name):
    """Every target, including those past max_len (window rows), gets the same scores and the
    same explanation maps from its row as from its own prefix."""
    max_len = 6
    data = simulate(SimConfig(n_sessions=40, n_items=N_ITEMS, n_categories=6, seed=5))
    model = make(name)
    targets = all_targets(data)
    rows = build_rows(data, targets, max_len)
    prefixes = right_padded(torch.from_numpy(prefix_matrix(data, targets, max_len)))
    lengths = (prefixes != 0).sum(dim=1)
    with torch.no_grad():
        states, _ = model.forward_rows(prefixes)  # (N, M, H)
        expected = model.logits(states[torch.arange(len(targets)), lengths - 1])  # (N, n_items)
        row_states, _ = model.forward_rows(torch.from_numpy(rows.tokens))
        logits = model.logits(row_states)  # (R, T, n_items)
        prefix_maps, row_maps = model.explain(prefixes), model.explain(torch.from_numpy(rows.tokens))
    mask = rows.loss_mask
    index = rows.target_index[mask]
    torch.testing.assert_close(logits[torch.from_numpy(mask)], expected[index], atol=1e-5, rtol=0)
    assert set(prefix_maps) == set(row_maps)
    for r, j in zip(*np.nonzero(mask)):
        k, n = rows.target_index[r, j], int(lengths[rows.target_index[r, j]])
        for view in row_maps:
            torch.testing.assert_close(
                row_maps[view][r, j, j + 1 - n : j + 1], prefix_maps[view][k, n - 1, :n], atol=1e-5, rtol=0
            )


@pytest.mark.parametrize("name", FAMILIES)
def test_padding_and_future_clicks_never_count(name):
    model = make(name)
    a = torch.tensor([[3, 4, 5, 6, 7, 0, 0]])
    b = torch.tensor([[3, 4, 5, 50, 51, 52, 0]])
    with torch.no_grad():
        sa, _ = model.forward_rows(a)
        sb, _ = model.forward_rows(b)
        maps = model.explain(a)
    torch.testing.assert_close(sa[0, :3], sb[0, :3])
    assert torch.all(sa[0, 5:] == 0)  # no state after padding
    for view, weights in maps.items():
        assert torch.all(weights[0].triu(1) == 0), view  # causal
        assert torch.all(weights[0, :, 5:] == 0) and torch.all(weights[0, 5:] == 0), view


def test_sasrec_maps_are_distributions_and_fast_path_agrees():
    """Each head, each mean over heads and the rollout weigh a prefix with weights summing to
    1; the explicit-softmax path gives the same states as scaled_dot_product_attention."""
    model = make("sasrec")
    tokens = torch.tensor([[3, 4, 5, 6, 0], [9, 8, 0, 0, 0]])
    with torch.no_grad():
        maps = model.explain(tokens)
        fast, none = model.forward_rows(tokens)
        slow, _ = model._encode(tokens, keep_weights=True)
    assert none is None
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=0)
    assert set(maps) == {"layer 1 · head 1", "layer 1 · head 2", "layer 1 · mean over heads",
                         "layer 2 · head 1", "layer 2 · head 2", "layer 2 · mean over heads", "rollout"}
    real = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], dtype=torch.float32)
    for view, weights in maps.items():
        torch.testing.assert_close(weights.sum(dim=2), real, atol=1e-5, rtol=0, msg=view)
    # Rollout of one click is all on that click.
    assert maps["rollout"][1, 0, 0].item() == pytest.approx(1.0)


def test_lstm_explains_with_its_pooling_and_gru4rec_with_nothing():
    tokens = torch.tensor([[3, 4, 5]])
    with torch.no_grad():
        _, weights = make("lstm").forward_rows(tokens)
        assert list(make("lstm").explain(tokens)) == ["attention pooling"]
        torch.testing.assert_close(make("lstm").explain(tokens)["attention pooling"], weights)
    assert make("lstm-last-gru").explain(tokens) == {}
    assert make("gru4rec").explain(tokens) == {}
    assert list(make("narm").explain(tokens)) == ["local attention"]


@pytest.mark.parametrize("name", FAMILIES)
def test_logits_of_some_items_are_those_of_the_catalog(name):
    model = make(name)
    items = torch.tensor([0, 7, 59, 7])
    with torch.no_grad():
        states, _ = model.forward_rows(torch.tensor([[3, 4, 5]]))
        torch.testing.assert_close(model.logits(states, items), model.logits(states)[..., items])
    assert model.item_embeddings().shape[0] == N_ITEMS


def test_parameter_counts_from_the_architectures():
    d, n = 16, N_ITEMS
    block = 2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * (d * d + d)  # 2 norms, qkv, out, ffn
    assert count_parameters(make("sasrec")) == (n + 1) * d + 8 * d + 2 * block + 2 * d
    gru = 3 * 16 * (16 + 16) + 2 * 3 * 16
    assert count_parameters(make("gru4rec")) == n * 16 + n + gru
    h, e = 16, 8
    narm = (n + 1) * e + 3 * h * (e + h) + 2 * 3 * h + 2 * h * h + h + 2 * h * e
    assert count_parameters(make("narm")) == narm


@pytest.mark.parametrize(
    ("config", "field"),
    [(SASRecConfig(hidden_size=10, num_heads=3), "num_heads"), (SASRecConfig(dropout=1.0), "dropout"),
     (GRU4RecConfig(embed_dim=-1), "embed_dim"), (NARMConfig(dropout_context=2.0), "dropout_context"),
     (SASRecConfig(max_positions=0), "max_positions")],
)
def test_bad_family_configs_name_the_field(config, field):
    with pytest.raises(ValueError, match=field):
        build_model(config)


def test_max_len_must_fit_sasrec_positions():
    config = RunConfig(model=SASRecConfig(max_positions=10), train=TrainConfig(max_len=25))
    with pytest.raises(ValueError, match="max_len = 25.*max_positions = 10"):
        config.validate()


@pytest.mark.parametrize("name", FAMILIES)
def test_config_json_round_trip_names_the_family(name):
    config = RunConfig(SimConfig(n_items=N_ITEMS, n_categories=6), FAMILIES[name])
    data = json.loads(json.dumps(config.to_dict()))
    assert data["model"]["family"] == FAMILIES[name].family
    assert RunConfig.from_dict(data) == config


def test_old_config_without_family_is_the_lstm():
    assert model_from_dict({"hidden_size": 32}) == LSTMConfig(hidden_size=32)
    demo = json.loads((ROOT / "models" / "demo" / "config.json").read_text())
    assert "family" not in demo["model"]
    assert isinstance(RunConfig.from_dict(demo).model, LSTMConfig)
    with pytest.raises(ValueError, match="family = 'bert4rec'"):
        model_from_dict({"family": "bert4rec"})
    with pytest.raises(ValueError, match="num_blocks"):
        model_from_dict({"family": "narm", "num_blocks": 2})


CLASSES = "(LSTMRecommender|SASRec|GRU4Rec|NARM)"


def test_only_build_model_names_the_families():
    """The seam: outside streamrec/model/ (and config.py, which defines the settings), no
    module of the engine names a family's class or compares a family name."""
    hits = subprocess.run(
        ["grep", "-rnE", rf"{CLASSES}(\(|,|$)|import .*{CLASSES}|family ?==|isinstance\([^)]*Config",
         "streamrec", "--include=*.py"],
        check=False, cwd=ROOT, capture_output=True, text=True,
    ).stdout.splitlines()
    assert [h for h in hits if not h.startswith(("streamrec/model/", "streamrec/config.py"))] == []


@pytest.mark.parametrize(
    ("name", "text"),
    [("lstm", "LSTM (2 × 16) with attention pooling"), ("sasrec", "SASRec (2 blocks × 2 heads, width 16)"),
     ("gru4rec", "GRU4Rec (1 × GRU 16) with its last state"), ("narm", "NARM (GRU 16, items 8) with local attention")],
)
def test_each_family_summarises_itself_for_captions(name, text):
    assert FAMILIES[name].summary() == text
    assert FAMILIES[name].slug().startswith(("lstm", name))
