"""The network: per-prefix and session-parallel passes agree; masks and parameter counts."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from streamrec.config import LSTMConfig, SimConfig
from streamrec.data.splits import all_targets, build_rows, prefix_matrix
from streamrec.model import LSTMRecommender, count_parameters
from streamrec.world.simulator import simulate

VARIANTS = [(p, c) for p in ("attention", "last") for c in ("lstm", "gru")]
# The scenarios' options (item-embedding skip path, copy pointer) on top of both poolings.
EXTRAS = [(p, skip, copy) for p in ("attention", "last") for skip in (False, True)
          for copy in (False, True) if skip or copy]
# The transition heads, alone and with the other two options.
TRANSITIONS = [("attention", False, False, 2), ("last", True, True, 1), ("attention", True, True, 2)]


def make_model(pooling: str = "attention", cell: str = "lstm", n_items: int = 60, **extra) -> LSTMRecommender:
    """A small model; with transition heads, its chain counted from pairs (items i -> 7i + 0..2)."""
    torch.manual_seed(0)
    model = LSTMRecommender(
        LSTMConfig(n_items=n_items, embed_dim=8, hidden_size=16, num_layers=2, pooling=pooling, cell=cell,
                    **extra)
    ).eval()
    if model.config.transitions:
        rng = np.random.default_rng(0)
        previous = rng.integers(0, n_items, 400)
        model.fit_transitions(previous, (previous * 7 + rng.integers(0, 3, 400)) % n_items)
    return model


ALL = ([(p, c, False, False, 0) for p, c in VARIANTS] + [(p, "lstm", s, k, 0) for p, s, k in EXTRAS]
       + [(p, "lstm", s, k, n) for p, s, k, n in TRANSITIONS])
OPTIONS = ("pooling", "cell", "skip", "copy", "transitions")


@pytest.mark.parametrize(OPTIONS, ALL)
def test_session_parallel_equals_per_prefix_for_every_target(pooling, cell, skip, copy, transitions):
    """Every target, including those past max_len (window rows), sees the same prediction."""
    max_len = 6
    data = simulate(SimConfig(n_sessions=40, n_items=60, n_categories=6, seed=5))
    model = make_model(pooling, cell, item_skip=skip, copy=copy, transitions=transitions)
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


@pytest.mark.parametrize(OPTIONS, ALL)
def test_padding_side_does_not_matter_and_gets_zero_attention(pooling, cell, skip, copy, transitions):
    model = make_model(pooling, cell, item_skip=skip, copy=copy, transitions=transitions)
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


@pytest.mark.parametrize("skip", [False, True])
def test_copy_mixes_the_catalog_softmax_with_the_pointer_over_the_session(skip):
    """P(item) ∝ exp(catalog score) + Σ exp(pointer score) over the item's clicks: checked
    against the mixture computed by hand, a repeated item's clicks summed."""
    model = make_model(item_skip=skip, copy=True)
    tokens = torch.tensor([[5, 9, 9, 30, 0]])
    with torch.no_grad():
        states, _ = model.forward_rows(tokens)
        state = states[0, 3]  # after the 4th click
        logits = model.logits(state)
        d = model.context_size
        catalog = model.output(state[:d])  # (n_items,)
        pointer = state[d : d + 5]
        assert torch.all(pointer[4] < -1e3)  # padding is never pointed at
        expected = torch.exp(catalog)
        for slot, token in enumerate([5, 9, 9, 30]):
            expected[token - 1] += torch.exp(pointer[slot])
        torch.testing.assert_close(torch.softmax(logits, 0), expected / expected.sum(), atol=1e-6, rtol=1e-5)
        unseen = torch.ones(60, dtype=torch.bool)
        unseen[[4, 8, 29]] = False
        torch.testing.assert_close(logits[unseen], catalog[unseen])  # no copy for unseen items
        # A few candidates (a sampled loss) get the same scores as the whole catalog.
        items = torch.tensor([8, 3, 29, 4, 8])
        torch.testing.assert_close(model.logits(states[0], items), model.logits(states[0])[:, items])
        pointer_map = model.explain(tokens)["copy pointer"][0]
    torch.testing.assert_close(pointer_map[:4].sum(1), torch.ones(4))
    assert torch.all(pointer_map.triu(1) == 0) and torch.all(pointer_map[4] == 0)


def test_copy_learns_to_repeat_and_its_gradients_are_finite():
    """A few steps on sessions whose next click is always the previous click's item: the
    pointer takes it (every rank 1), with finite gradients despite the -1e4 masking."""
    torch.manual_seed(1)
    model = LSTMRecommender(LSTMConfig(n_items=200, embed_dim=8, hidden_size=16, copy=True, dropout=0.0))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        first = torch.randint(1, 201, (64, 1))
        tokens = torch.cat([first, torch.randint(1, 201, (64, 3)), first], dim=1)  # click 5 = click 1
        states, _ = model.forward_rows(tokens[:, :4])
        loss = torch.nn.functional.cross_entropy(model.logits(states[:, 3]), tokens[:, 4] - 1)
        optimizer.zero_grad()
        loss.backward()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
        optimizer.step()
    model.eval()
    first = torch.randint(1, 201, (256, 1))
    tokens = torch.cat([first, torch.randint(1, 201, (256, 3))], dim=1)
    with torch.no_grad():
        states, _ = model.forward_rows(tokens)
        top = model.logits(states[:, 3]).argmax(1)
    assert (top == first[:, 0] - 1).float().mean() > 0.95


def test_the_counted_chain_is_the_training_pairs_next_click_frequencies():
    model = make_model(n_items=6, transitions=1)  # counted again below
    previous = np.array([0, 0, 0, 1, 2, 2, 2, 2])
    following = np.array([1, 1, 3, 4, 5, 5, 5, 0])
    model.fit_transitions(previous, following)
    popularity = (np.bincount(following, minlength=6) + 1.0) / (8 + 6)
    tokens = torch.tensor([1, 2, 3, 4]) + 0  # model tokens of items 0..3
    for source, counts in {0: {1: 2, 3: 1}, 1: {4: 1}, 2: {5: 3, 0: 1}, 3: {}}.items():
        n = sum(counts.values())
        for item in range(6):
            expected = counts.get(item, 0) / (n + 1) + (1 / (n + 1) if n else 1.0) * popularity[item]
            got = model._chain(tokens[source : source + 1], torch.tensor([item]))
            assert got.item() == pytest.approx(expected, rel=1e-5), (source, item)
    # Each row is a distribution over the catalog.
    rows = torch.stack([model._chain(torch.full((6,), t), torch.arange(6)) for t in (1, 2, 3, 4)])
    torch.testing.assert_close(rows.sum(1), torch.ones(4))


def test_in_training_a_session_reads_the_chain_without_the_pairs_it_added():
    """A training row's clicks read the chain without their own (click, next click) pairs of
    that session, as a test session, never counted, always does; evaluation reads it whole."""
    model = make_model(n_items=6, transitions=1, dropout=0.0)
    model.fit_transitions(np.array([0, 0, 0, 3]), np.array([1, 2, 2, 0]))  # 0 -> 1, 0 -> 2 twice, 3 -> 0
    tokens = torch.tensor([[4, 1, 2]])  # items 3, 0, 1: the session added 3 -> 0 and 0 -> 1
    popularity = (np.bincount([1, 2, 2, 0], minlength=6) + 1.0) / 10

    def chain(counts: dict[int, int], total: int) -> np.ndarray:
        rest = (total - sum(counts.values()) + 1) / (total + 1)
        return np.array([counts.get(i, 0) / (total + 1) + rest * popularity[i] for i in range(6)])

    for training in (True, False):
        model.train(training)
        with torch.no_grad():
            states, _ = model.forward_rows(tokens)
            parts = model._split(states[0, 1])  # the query after the 2nd click, item 0
            assert parts["own"].item() == float(training)
            for slot, expected in ((0, chain({}, 0) if training else chain({0: 1}, 1)),
                                   (1, chain({2: 2}, 2) if training else chain({1: 1, 2: 2}, 3))):
                weights = torch.zeros(3)
                weights[slot] = 1.0  # all the head's weight on one click
                mass = model._transition_mass(parts["window"], weights, parts["own"])
                np.testing.assert_allclose(mass.numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize(("skip", "copy"), [(False, False), (True, True)])
def test_transition_heads_mix_each_clicks_counted_next_click_distribution_into_the_output(skip, copy):
    """P(item) = gate_0 P_catalog(item) + Σ_k Σ_j gate_k pointer_k(j) P_chain(item | click j):
    checked against the mixture computed by hand from the model's own parts, a normalised
    distribution, the same on a few candidates, and each head's map a distribution over
    the visible clicks."""
    model = make_model(item_skip=skip, copy=copy, transitions=2)
    tokens = torch.tensor([[5, 9, 9, 30, 0]])
    with torch.no_grad():
        states, _ = model.forward_rows(tokens)
        state = states[0, 3]  # after the 4th click
        logits = model.logits(state)
        assert torch.logsumexp(logits, 0).item() == pytest.approx(0.0, abs=1e-5)
        query = model.transition_query  # (2, 8)
        keys = model.transition_key(model.item_embedding(tokens[0, :4])).view(4, 2, 8)
        gate = torch.softmax(model.transition_gate, 0)
        main = torch.softmax(model._main_logits(state), 0)
        chain = torch.stack([model._chain(torch.full((60,), int(t)), torch.arange(60)) for t in tokens[0, :4]])
        expected = gate[0] * main
        for head in range(2):
            scores = keys[:, head] @ query[head] / 8**0.5
            scores = scores + model.transition_distance[head, [3, 2, 1, 0]]
            scores = scores + model.transition_position[head, :4]
            expected = expected + gate[head + 1] * (torch.softmax(scores, 0) @ chain)
        torch.testing.assert_close(logits.exp(), expected, atol=1e-6, rtol=1e-5)
        items = torch.tensor([8, 3, 29, 4, 8])
        torch.testing.assert_close(model.logits(states[0], items), model.logits(states[0])[:, items])
        maps = model.explain(tokens)
    for head in (1, 2):
        pointer_map = maps[f"transition head {head}"][0]
        torch.testing.assert_close(pointer_map[:4].sum(1), torch.ones(4))
        assert torch.all(pointer_map.triu(1) == 0) and torch.all(pointer_map[4] == 0)


def test_a_transition_head_learns_to_read_the_chain_from_a_click_long_ago():
    """Sessions whose last click is the fixed successor of their first: with the chain counted
    from (first, last) pairs, one head learns to point at the first click (a recall the
    recurrent state would have to carry across the session) and ranks the successor first."""
    torch.manual_seed(2)
    n = 100
    successor = torch.randperm(n)
    model = LSTMRecommender(LSTMConfig(n_items=n, embed_dim=16, hidden_size=16, transitions=1, dropout=0.0))
    model.fit_transitions(torch.arange(n), successor)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)

    def batch(size: int) -> tuple[torch.Tensor, torch.Tensor]:
        first = torch.randint(1, n + 1, (size, 1))
        return torch.cat([first, torch.randint(1, n + 1, (size, 5))], dim=1), successor[first[:, 0] - 1]

    for _ in range(100):
        tokens, target = batch(128)
        states, _ = model.forward_rows(tokens)
        loss = torch.nn.functional.cross_entropy(model.logits(states[:, -1]), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    tokens, target = batch(512)
    with torch.no_grad():
        states, _ = model.forward_rows(tokens)
        top = model.logits(states[:, -1]).argmax(1)
        pointer = model.explain(tokens)["transition head 1"][:, -1]  # (B, T)
    assert (top == target).float().mean() > 0.9
    assert (pointer.argmax(1) == 0).float().mean() > 0.9


def expected_parameters(c: LSTMConfig) -> int:
    """Parameter count from the architecture, layer by layer."""
    gates = 4 if c.cell == "lstm" else 3
    total = (c.n_items + 1) * c.embed_dim
    for layer in range(c.num_layers):
        d_in = c.embed_dim if layer == 0 else c.hidden_size
        total += gates * c.hidden_size * (d_in + c.hidden_size) + 2 * gates * c.hidden_size
    if c.pooling == "attention":
        total += c.hidden_size + c.hidden_size * c.hidden_size + c.hidden_size
    context = c.hidden_size + (c.embed_dim if c.item_skip else 0)
    if c.copy:  # query, key, one bias per distance
        total += (context + 1) * c.embed_dim + (c.embed_dim + 1) * c.embed_dim + 64
    k, e = c.transitions, c.embed_dim
    if k:  # query, key, biases per distance and position, gate (the chain is a buffer)
        total += k * e + (e + 1) * k * e + 2 * 64 * k + (k + 1)
    return total + context * c.n_items + c.n_items


@pytest.mark.parametrize(OPTIONS, ALL)
def test_parameter_count(pooling, cell, skip, copy, transitions):
    config = LSTMConfig(pooling=pooling, cell=cell, item_skip=skip, copy=copy, transitions=transitions)
    assert count_parameters(LSTMRecommender(config)) == expected_parameters(config)


def test_default_parameter_count_is_not_the_case_studys():
    # The case study prints 951,192 for this architecture; its own layers give 1,213,128.
    assert count_parameters(LSTMRecommender(LSTMConfig())) == 1_213_128


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"pooling": "max"}, "pooling"), ({"cell": "rnn"}, "cell"), ({"dropout": 1.5}, "dropout"),
     ({"hidden_size": 0}, "hidden_size"), ({"num_layers": 2.5}, "num_layers"),
     ({"copy": "yes"}, "copy"), ({"item_skip": 1}, "item_skip"), ({"transitions": 5}, "transitions"),
     ({"transitions": -1}, "transitions"), ({"transitions": 1.5}, "transitions")],
)
def test_bad_model_configs(changes, field):
    with pytest.raises(ValueError, match=field):
        LSTMRecommender(LSTMConfig(**changes))


def test_the_full_softmax_also_trains_the_catalog_mode_alone_when_heads_mix_into_it():
    from streamrec.training.objectives import full_softmax

    tokens = torch.tensor([[5, 9, 9, 30]])
    targets = torch.tensor([3, 8, 29, 4])
    for transitions in (0, 2):
        model = make_model(item_skip=True, copy=True, transitions=transitions)
        states, _ = model.forward_rows(tokens)
        loss = full_softmax(model, states[0], targets)
        expected = torch.nn.functional.cross_entropy(model.logits(states[0]), targets)
        if transitions:
            expected = expected + torch.nn.functional.cross_entropy(model._main_logits(states[0]), targets)
        torch.testing.assert_close(loss, expected)
