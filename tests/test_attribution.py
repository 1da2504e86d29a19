"""Captum's explainers through the model seam (streamrec.explain.attribution) and the LSTM's
exact decomposition: every family gets every explainer; occlusion equals the model run on
each leave-one-out session alone; Shapley values and integrated gradients add up as their
axioms say; the exact decomposition sums to the logit; no pass holds more than one batch of
catalog logits."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from streamrec.config import GRU4RecConfig, LSTMConfig, NARMConfig, SASRecConfig
from streamrec.explain import attribution as at
from streamrec.explain import faithfulness as fa
from streamrec.model import build_model

N_ITEMS = 12
FAMILIES = {
    "lstm": LSTMConfig(n_items=N_ITEMS, embed_dim=6, hidden_size=8, num_layers=1),
    "lstm options": LSTMConfig(n_items=N_ITEMS, embed_dim=6, hidden_size=8, num_layers=2,
                               item_skip=True, copy=True),
    "lstm heads": LSTMConfig(n_items=N_ITEMS, embed_dim=6, hidden_size=8, num_layers=1,
                             item_skip=True, copy=True, transitions=2),
    "sasrec": SASRecConfig(n_items=N_ITEMS, hidden_size=8, num_heads=2, num_blocks=2),
    "gru4rec": GRU4RecConfig(n_items=N_ITEMS, hidden_size=8),
    "narm": NARMConfig(n_items=N_ITEMS, embed_dim=6, hidden_size=8),
}


def model_of(name: str):
    torch.manual_seed(0)
    model = build_model(FAMILIES[name]).eval()
    if getattr(FAMILIES[name], "transitions", 0):  # count the heads' chain: item i -> 5i + 0..1
        previous = torch.randint(0, N_ITEMS, (200,))
        model.fit_transitions(previous, (previous * 5 + torch.randint(0, 2, (200,))) % N_ITEMS)
    return model


def windows(n: int = 7, width: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, width + 1, size=n)
    tokens = np.zeros((n, width), dtype=np.int64)
    for r, k in enumerate(lengths):
        tokens[r, :k] = rng.integers(1, N_ITEMS + 1, size=k)
    return tokens, lengths, rng.integers(0, N_ITEMS, size=n)


def probability(model, clicks: np.ndarray, item: int) -> float:
    """P(item | clicks) from the model run on these clicks alone."""
    with torch.no_grad():
        states, _ = model.forward_rows(torch.from_numpy(clicks[None, :] + 1))
        return torch.softmax(model.logits(states[0, -1]), 0)[item].item()


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_gets_every_explainer_with_zeros_beyond_the_clicks(family):
    model = model_of(family)
    assert at.methods_for(model) == at.CAPTUM_METHODS
    tokens, lengths, items = windows()
    for method in at.CAPTUM_METHODS:
        scores = at.attribute(model, tokens, lengths, items, method, rows_per_batch=16)
        assert scores.shape == tokens.shape and np.isfinite(scores).all()
        beyond = np.arange(tokens.shape[1])[None, :] >= lengths[:, None]
        assert (scores[beyond] == 0).all()
        assert np.abs(scores[~beyond]).max() > 0  # it says something about the clicks


@pytest.mark.parametrize("family", ["lstm options", "lstm heads", "sasrec"])
def test_occlusion_is_the_fall_of_the_probability_without_each_click(family):
    model = model_of(family)
    tokens, lengths, items = windows()
    scores = at.attribute(model, tokens, lengths, items, at.OCCLUSION, rows_per_batch=8)
    for r, k in enumerate(lengths):
        clicks = tokens[r, :k] - 1
        full = probability(model, clicks, items[r])
        for j in range(k):
            without = probability(model, np.delete(clicks, j), items[r])
            assert scores[r, j] == pytest.approx(full - without, abs=1e-6)


def test_shapley_values_add_up_to_all_clicks_against_none():
    model = model_of("narm")
    tokens, lengths, items = windows()
    scores = at.attribute(model, tokens, lengths, items, at.SHAPLEY)
    for r, k in enumerate(lengths):
        full = probability(model, tokens[r, :k] - 1, items[r])
        # No click left: the explainers read that as chance, 1 / n_items.
        assert scores[r].sum() == pytest.approx(full - 1 / N_ITEMS, abs=1e-5)


def test_integrated_gradients_add_up_to_the_clicks_against_the_padding_vector():
    model = model_of("lstm")
    tokens, lengths, items = windows()
    scores = at.attribute(model, tokens, lengths, items, at.INTEGRATED_GRADIENTS)
    with torch.no_grad():
        t = torch.from_numpy(tokens)
        forward = at._log_probability(model)
        gap = (forward(model.click_vectors(t), t, torch.from_numpy(items))
               - forward(torch.zeros_like(model.click_vectors(t)), t, torch.from_numpy(items)))
    np.testing.assert_allclose(scores.sum(1), gap.numpy(), rtol=0.02, atol=1e-3)


def test_unknown_explainer_is_named():
    tokens, lengths, items = windows()
    with pytest.raises(ValueError, match="unknown explainer 'lime'"):
        at.attribute(model_of("lstm"), tokens, lengths, items, "lime")


class CountingModel(torch.nn.Module):
    """Wraps a model and records the largest number of rows any `logits` call scored."""

    def __init__(self, inner) -> None:
        super().__init__()
        self.inner, self.most = inner, 0

    def forward_rows(self, tokens, embedded=None):
        return self.inner.forward_rows(tokens, embedded)

    def click_vectors(self, tokens):
        return self.inner.click_vectors(tokens)

    def logits(self, states):
        out = self.inner.logits(states)
        self.most = max(self.most, int(np.prod(out.shape[:-1])))
        return out


@pytest.mark.parametrize("method", at.CAPTUM_METHODS)
def test_no_explainer_scores_more_than_one_batch_of_catalog_logits(method):
    counting = CountingModel(model_of("gru4rec")).eval()
    tokens, lengths, items = windows(n=40)
    at.attribute(counting, tokens, lengths, items, method, rows_per_batch=24)
    assert 0 < counting.most <= 24


@pytest.mark.parametrize("family", ["lstm", "lstm options", "lstm heads"])
def test_the_lstm_decomposition_sums_exactly_to_its_logit(family):
    model = model_of(family)
    tokens, lengths, items = windows(n=9)
    tokens[0, :3] = [4, 4, 5]  # an item clicked twice: the copy mode splits its lift
    items[0] = 3
    with torch.no_grad():
        terms, bias = model.decompose(torch.from_numpy(tokens), torch.from_numpy(items))
        for r, k in enumerate(lengths):
            states, _ = model.forward_rows(torch.from_numpy(tokens[r : r + 1, :k]))
            logit = model.logits(states[0, -1])[items[r]].item()
            assert terms[r].sum().item() + bias[r].item() == pytest.approx(logit, abs=1e-5)
            assert (terms[r, k:] == 0).all()


def test_the_exact_decomposition_is_measured_for_the_family_that_has_one():
    assert callable(getattr(model_of("lstm"), "decompose", None))
    assert getattr(model_of("sasrec"), "decompose", None) is None
    assert fa.EXACT in fa.MODEL_METHODS


def test_read_out_shapley_is_positive_shapley_times_the_softmax_of_the_terms():
    shapley = np.array([[0.2, -0.1, 0.4, 9.0], [-0.3, -0.2, 0.0, 0.0]])
    terms = np.array([[1.0, 3.0, 0.0, 50.0], [0.5, 2.0, 0.0, 0.0]])  # column 3: padding
    lengths = np.array([3, 2])
    got = fa.read_out_shapley(shapley, terms, lengths)
    soft = np.exp([1.0, 3.0, 0.0]) / np.exp([1.0, 3.0, 0.0]).sum()
    assert got[0, :3] == pytest.approx(soft * np.array([0.2, 0.0, 0.4]), rel=1e-6, abs=1e-8)
    assert (got[:, 3] == 0).all() and (got[1, 2:] == 0).all()
    # No positive Shapley value: the row follows the decomposition instead of tying.
    assert got[1, 1] > got[1, 0] > 0
    # Shapley alone names click 2, the read-out alone click 1 (Shapley says it lowers P):
    # the product names click 0, which both credit.
    assert np.argmax(got[0]) == 0


def test_read_out_shapley_is_measured_where_the_model_decomposes():
    tokens, lengths, items = windows(n=6)
    for family, expected in (("lstm options", True), ("sasrec", False)):
        _, scores, _ = fa.model_scores(model_of(family), tokens, lengths, items,
                                       wanted=(fa.READ_OUT_SHAPLEY,))
        assert (fa.READ_OUT_SHAPLEY in scores) is expected
        assert fa.SHAPLEY not in scores and fa.EXACT not in scores  # only what was asked
    _, scores, _ = fa.model_scores(model_of("lstm options"), tokens, lengths, items)
    assert np.allclose(scores[fa.READ_OUT_SHAPLEY],
                       fa.read_out_shapley(scores[fa.SHAPLEY], scores[fa.EXACT], lengths))
    assert fa.READ_OUT_SHAPLEY in fa.MODEL_METHODS


def test_eraser_comprehensiveness_and_sufficiency_need_no_causes():
    from streamrec.data.sessions import SessionData
    from streamrec.data.splits import all_targets
    from streamrec.explain import eraser

    rng = np.random.default_rng(1)
    lengths = rng.integers(3, 7, size=40)
    items = rng.integers(0, N_ITEMS, size=int(lengths.sum()))
    data = SessionData(items=items, offsets=np.concatenate([[0], np.cumsum(lengths)]),
                       n_catalog_items=N_ITEMS)  # an imported log: no causes, no world
    model = model_of("lstm options")
    table = eraser.measure_eraser(model, data, all_targets(data), 5, 40)
    assert tuple(table.columns) == eraser.ERASER_COLUMNS
    assert set(at.CAPTUM_METHODS) | {eraser.RANDOM, fa.EXACT, fa.READ_OUT_SHAPLEY} <= set(table["method"])
    assert (table["targets"] == 40).all()
    # By hand for one row and occlusion's ranking: drop the top click / keep only it (k = 1, 2).
    tokens, lens = np.array([[3, 7, 9, 0, 0]]), np.array([3])
    item, full = np.array([4]), np.array([probability(model, np.array([2, 6, 8]), 4)])
    scores = np.array([[0.3, 0.1, 0.2, 0.0, 0.0]])  # ranks click 0, then 2, then 1
    comp, suff = eraser.rationale_curves(model, tokens, lens, item, full, scores)
    expected_comp = np.mean([full[0] - probability(model, np.array([6, 8]), 4),
                             full[0] - probability(model, np.array([6]), 4)])
    expected_suff = np.mean([full[0] - probability(model, np.array([2]), 4),
                             full[0] - probability(model, np.array([2, 8]), 4)])
    assert comp[0] == pytest.approx(expected_comp, abs=1e-6)
    assert suff[0] == pytest.approx(expected_suff, abs=1e-6)
    assert "| random |" in eraser.eraser_markdown(table)
