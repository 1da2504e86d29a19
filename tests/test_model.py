"""The network: per-prefix and session-parallel passes agree; masks and parameter counts."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from streamrec.config import ModelConfig, SimConfig
from streamrec.data import all_targets, build_rows, prefix_matrix
from streamrec.model import SessionRecommender, count_parameters
from streamrec.simulator import simulate

VARIANTS = [(p, c) for p in ("attention", "last") for c in ("lstm", "gru")]


def make_model(pooling: str = "attention", cell: str = "lstm", n_items: int = 60) -> SessionRecommender:
    torch.manual_seed(0)
    return SessionRecommender(
        ModelConfig(n_items=n_items, embed_dim=8, hidden_size=16, num_layers=2, pooling=pooling, cell=cell)
    ).eval()


@pytest.mark.parametrize(("pooling", "cell"), VARIANTS)
def test_session_parallel_equals_per_prefix_for_every_target(pooling, cell):
    """Every target, including those past max_len (window rows), sees the same prediction."""
    max_len = 6
    data = simulate(SimConfig(n_sessions=40, n_items=60, n_categories=6, seed=5))
    model = make_model(pooling, cell)
    targets = all_targets(data)
    rows = build_rows(data, targets, max_len)
    prefixes = torch.from_numpy(prefix_matrix(data, targets, max_len))
    with torch.no_grad():
        expected_logits, expected_attention = model(prefixes)  # (N, n_items), (N, max_len)
        contexts, weights = model.forward_rows(torch.from_numpy(rows.tokens))
        logits = model.logits(contexts)  # (R, T, n_items)
    mask = rows.loss_mask
    index = rows.target_index[mask]
    assert sorted(index.tolist()) == list(range(len(targets)))
    torch.testing.assert_close(logits[torch.from_numpy(mask)], expected_logits[index], atol=1e-5, rtol=0)
    # Attention: the row's weights over the prefix's clicks equal the per-prefix weights.
    for r, j in zip(*np.nonzero(mask)):
        k = rows.target_index[r, j]
        n_clicks = int((prefixes[k] != 0).sum())
        row_weights = weights[r, j, j + 1 - n_clicks : j + 1]
        torch.testing.assert_close(row_weights, expected_attention[k, max_len - n_clicks :], atol=1e-5, rtol=0)


@pytest.mark.parametrize(("pooling", "cell"), VARIANTS)
def test_padding_side_does_not_matter_and_gets_zero_attention(pooling, cell):
    model = make_model(pooling, cell)
    clicks = torch.tensor([5, 9, 9, 30])
    left = torch.cat([torch.zeros(4, dtype=torch.long), clicks]).unsqueeze(0)
    right = torch.cat([clicks, torch.zeros(4, dtype=torch.long)]).unsqueeze(0)
    with torch.no_grad():
        logits_left, att_left = model(left)
        logits_right, att_right = model(right)
    torch.testing.assert_close(logits_left, logits_right, atol=1e-6, rtol=0)
    assert torch.all(att_left[0, :4] == 0) and torch.all(att_right[0, 4:] == 0)
    torch.testing.assert_close(att_left[0, 4:], att_right[0, :4])
    assert att_left.sum().item() == pytest.approx(1.0, abs=1e-6)
    if pooling == "last":
        assert att_left[0, -1].item() == 1.0


def test_causal_attention_ignores_future_clicks():
    model = make_model()
    a = torch.tensor([[3, 4, 5, 6, 7]])
    b = torch.tensor([[3, 4, 5, 50, 51]])
    with torch.no_grad():
        ca, wa = model.forward_rows(a)
        cb, wb = model.forward_rows(b)
    torch.testing.assert_close(ca[0, :3], cb[0, :3])
    torch.testing.assert_close(wa[0, :3], wb[0, :3])
    assert torch.all(wa[0].triu(1) == 0)
    torch.testing.assert_close(wa[0].sum(dim=1), torch.ones(5))


def test_empty_prefix_gives_bias_logits_and_no_attention():
    model = make_model()
    with torch.no_grad():
        logits, attention = model(torch.zeros(1, 5, dtype=torch.long))
    assert torch.all(attention == 0)
    torch.testing.assert_close(logits[0], model.output.bias)


def expected_parameters(c: ModelConfig) -> int:
    """Parameter count from the architecture, layer by layer."""
    gates = 4 if c.cell == "lstm" else 3
    total = (c.n_items + 1) * c.embed_dim
    for layer in range(c.num_layers):
        d_in = c.embed_dim if layer == 0 else c.hidden_size
        total += gates * c.hidden_size * (d_in + c.hidden_size) + 2 * gates * c.hidden_size
    if c.pooling == "attention":
        total += c.hidden_size + c.hidden_size * c.hidden_size + c.hidden_size
    return total + c.hidden_size * c.n_items + c.n_items


@pytest.mark.parametrize(("pooling", "cell"), VARIANTS)
def test_parameter_count(pooling, cell):
    config = ModelConfig(pooling=pooling, cell=cell)
    assert count_parameters(SessionRecommender(config)) == expected_parameters(config)


def test_default_parameter_count_is_not_the_case_studys():
    # The case study prints 951,192 for this architecture; its own layers give 1,213,128.
    assert count_parameters(SessionRecommender(ModelConfig())) == 1_213_128


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"pooling": "max"}, "pooling"), ({"cell": "rnn"}, "cell"), ({"dropout": 1.5}, "dropout"),
     ({"hidden_size": 0}, "hidden_size"), ({"num_layers": 2.5}, "num_layers")],
)
def test_bad_model_configs(changes, field):
    with pytest.raises(ValueError, match=field):
        SessionRecommender(ModelConfig(**changes))
