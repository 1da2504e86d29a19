"""V-SKNN's full option set, STAN, VSTAN and SR's options: exact scores on tiny hand-made
sessions, whole-prefix reading, and the search spaces the tuner reads."""
from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch

from streamrec.data.splits import all_targets, prefix_matrix, tokens_from_items
from streamrec.evaluation.baselines import (
    STAN,
    VSKNN,
    VSTAN,
    SequentialRules,
    SessionKNN,
    evaluate_scorer,
)
from streamrec.evaluation.metrics import target_ranks
from streamrec.world.simulator import SessionData

DAY = 86_400.0
# Four training sessions, one day apart and more: last clicks on days 3, 11, 22, 31, so the
# ages (days before the most recent session's last click) are 28, 20, 9, 0.
SESSIONS = [[0, 1, 2], [1, 3], [2, 4, 2], [0, 5]]
TIMES = [[1.0, 2, 3], [10.0, 11], [20.0, 21, 22], [30.0, 31]]
# Training clicks per item: 0: 2, 1: 2, 2: 3, 3: 1, 4: 1, 5: 1; IDF = log(4 sessions / clicks).
IDF = torch.tensor([math.log(2), math.log(2), math.log(4 / 3), math.log(4), math.log(4),
                    math.log(4)], dtype=torch.float64)
# Training target counts [0, 1, 2, 1, 1, 1]: popularity levels [0, 1, 2, 1, 1, 1] of three.
FALLBACK = torch.tensor([0, 1, 2, 1, 1, 1], dtype=torch.float64) / 6 * 1e-9


def make_log(sessions: list[list[int]], n_items: int, times: list[list[float]] | None) -> SessionData:
    """An imported-log-like SessionData: clicks, raw item ids, optionally times."""
    lengths = [len(s) for s in sessions]
    return SessionData(
        items=np.concatenate(sessions).astype(np.int64),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        item_ids=np.array([f"sku-{i}" for i in range(n_items)]),
        times=None if times is None else np.concatenate(times).astype(np.float64) * DAY,
    )


LOG = make_log(SESSIONS, 6, TIMES)


def votes(scorer: VSKNN | STAN, *sessions: list[int]) -> torch.Tensor:
    """The scorer's votes (fallback removed) for prefixes given as item lists."""
    scorer.fit(LOG, all_targets(LOG))
    tokens = np.concatenate([tokens_from_items(s, 5) for s in sessions])
    return scorer.score(torch.from_numpy(tokens)) - FALLBACK


def test_vsknn_idf_weighting_multiplies_each_vote_by_one_plus_idf():
    # Prefix [1], weight 1 ("same"): s0 {0, 1, 2} and s1 {1, 3} share item 1, cosines
    # 1/sqrt(3) and 1/sqrt(2), decay 1; each vote for item i is scaled by 1 + idf(i).
    scores = votes(VSKNN(k=2, sample_size=10, weighting="same", vote_decay="same",
                         idf_weighting=1.0), [1])[0]
    s0, s1 = 1 / math.sqrt(3), 1 / math.sqrt(2)
    expected = torch.tensor([s0, s0 + s1, s0, s1, 0, 0], dtype=torch.float64) * (1 + IDF)
    torch.testing.assert_close(scores, expected, rtol=0, atol=1e-12)


def test_vsknn_log_weighting_and_log_vote_decay():
    # Prefix [0, 2, 1] (L = 3): weights 1 / log10(L - p + 1.7): item 0 (p 1) 1/log10(3.7),
    # item 2 1/log10(2.7), item 1 1/log10(1.7). Shared: s0 all three (d = 1), s1 item 1
    # (d = 1), s2 item 2 (d = 2), s3 item 0 (d = 3); a vote decays by 1 / log10(d + 1.7).
    w0, w2, w1 = 1 / math.log10(3.7), 1 / math.log10(2.7), 1 / math.log10(1.7)
    norm = math.sqrt(w0**2 + w2**2 + w1**2)
    sim = [(w0 + w2 + w1) / (norm * math.sqrt(3)), w1 / (norm * math.sqrt(2)),
           w2 / (norm * math.sqrt(2)), w0 / (norm * math.sqrt(2))]
    decay = [1 / math.log10(d + 1.7) for d in (1, 1, 2, 3)]
    v = [s * d for s, d in zip(sim, decay)]
    expected = torch.tensor([v[0] + v[3], v[0] + v[1], v[0] + v[2], v[1], v[2], v[3]],
                            dtype=torch.float64)
    scores = votes(VSKNN(k=10, sample_size=10, weighting="log", vote_decay="log"), [0, 2, 1])
    torch.testing.assert_close(scores[0], expected, rtol=0, atol=1e-12)


def test_vsknn_linear_weighting_stops_at_zero_beyond_ten_clicks():
    # Twelve clicks of item 3 then item 1: item 3's latest click is 1 back (weight 0.9), but
    # the first clicks, 11 and 12 back, would weigh below 0: only the latest counts anyway.
    # A prefix whose first item lies 11 clicks back: [0] + [3] * 10 + [1]: item 0 weighs 0,
    # so s3 {0, 5}, sharing only item 0, has similarity 0 and is no neighbour.
    scorer = VSKNN(k=10, sample_size=10, weighting="linear", vote_decay="linear")
    tokens = torch.from_numpy(tokens_from_items([0] + [3] * 10 + [1], 12))
    scores = scorer.fit(LOG, all_targets(LOG)).score(tokens)[0] - FALLBACK
    assert abs(scores[5]) < 1e-20  # only s3 holds item 5
    # s1 {1, 3}: weights 1 (item 1) and 0.9 (item 3), norm sqrt(1.81); cosine 1.9 / (n sqrt 2).
    # s0 {0, 1, 2}: 1 / (n sqrt 3). Both share the last click: decay 1 - 0.1 = 0.9.
    n = math.sqrt(1 + 0.81)
    s1, s0 = 1.9 / (n * math.sqrt(2)) * 0.9, 1 / (n * math.sqrt(3)) * 0.9
    expected = torch.tensor([s0, s0 + s1, s0, s1, 0, 0], dtype=torch.float64)
    torch.testing.assert_close(scores, expected, rtol=0, atol=1e-12)


def test_vsknn_random_sampling_draws_from_a_seeded_order_of_the_sessions():
    # With room for every session, random and recent sampling agree exactly.
    recent = votes(VSKNN(k=10, sample_size=10), [0, 2, 1])
    shuffled = votes(VSKNN(k=10, sample_size=10, sampling="random", seed=3), [0, 2, 1])
    torch.testing.assert_close(recent, shuffled, rtol=0, atol=1e-15)
    # With room for one, the candidate first in the seeded order votes alone: every session
    # shares an item with [0, 2, 1], so the sample is the seeded order's first session.
    recency_order = [3, 2, 1, 0]  # most recent first, as the index numbers them
    for seed in range(4):
        first = int(np.random.default_rng(seed).permutation(recency_order)[0])
        scores = votes(VSKNN(k=10, sample_size=1, sampling="random", seed=seed), [0, 2, 1])[0]
        assert set(torch.nonzero(scores > 1e-12).squeeze(1).tolist()) == set(SESSIONS[first])


def test_stan_three_decays_by_hand():
    # lambda_1 = 1: prefix [0, 2, 1] weighs item 0 e^-2, item 2 e^-1, item 1 1.
    # lambda_2 = 10 days: ages 28, 20, 9, 0 days -> e^-2.8, e^-2, e^-0.9, 1.
    # lambda_3 = 1: each neighbour's items weigh exp(-|q(i) - q(i*)|), i* the prefix's most
    # recent click it shares: s0 [0, 1, 2], i* = 1 at 2: items 0, 1, 2 -> e^-1, 1, e^-1;
    # s1 [1, 3], i* = 1 at 1 -> 1, e^-1; s2 [2, 4, 2], i* = 2, last at 3: 2 -> 1, 4 (at 2)
    # -> e^-1; s3 [0, 5], i* = 0 at 1 -> 1, e^-1.
    e = math.exp
    norm = math.sqrt(e(-4) + e(-2) + 1)
    sim = [(e(-2) + e(-1) + 1) / (norm * math.sqrt(3)) * e(-2.8),
           1 / (norm * math.sqrt(2)) * e(-2), e(-1) / (norm * math.sqrt(2)) * e(-0.9),
           e(-2) / (norm * math.sqrt(2))]
    expected = torch.tensor([
        sim[0] * e(-1) + sim[3],  # item 0: s0, s3 (its i*)
        sim[0] + sim[1],  # item 1: i* of s0 and s1
        sim[0] * e(-1) + sim[2],  # item 2: s0, s2 (its i*)
        sim[1] * e(-1), sim[2] * e(-1), sim[3] * e(-1),
    ], dtype=torch.float64)
    scores = votes(STAN(k=10, sample_size=10, lambda_1=1, lambda_2=10, lambda_3=1), [0, 2, 1])
    torch.testing.assert_close(scores[0], expected, rtol=0, atol=1e-12)
    # k = 1 keeps the largest time-decayed similarity: s2 (0.098; s1, s3 0.089, s0 0.049).
    top1 = votes(STAN(k=1, sample_size=10, lambda_1=1, lambda_2=10, lambda_3=1), [0, 2, 1])[0]
    assert torch.nonzero(top1 > 1e-12).squeeze(1).tolist() == [2, 4]


def test_vstan_adds_the_sequence_aware_vote_and_idf_to_stan():
    # On top of test_stan_three_decays_by_hand: lambda_4 = 1 multiplies each neighbour's vote
    # by exp(p* - 3): s0, s1 share item 1 (p* 3) -> 1; s2 item 2 (p* 2) -> e^-1; s3 item 0
    # (p* 1) -> e^-2; and each item's vote by 1 + 2 idf(i) (lambda_idf = 2).
    e = math.exp
    stan = votes(STAN(k=10, sample_size=10, lambda_1=1, lambda_2=10, lambda_3=1), [0, 2, 1])[0]
    norm = math.sqrt(e(-4) + e(-2) + 1)
    sim = [(e(-2) + e(-1) + 1) / (norm * math.sqrt(3)) * e(-2.8),
           1 / (norm * math.sqrt(2)) * e(-2), e(-1) / (norm * math.sqrt(2)) * e(-0.9),
           e(-2) / (norm * math.sqrt(2))]
    ipw = [1, 1, e(-1), e(-2)]
    base = torch.tensor([
        sim[0] * e(-1) * ipw[0] + sim[3] * ipw[3], sim[0] * ipw[0] + sim[1] * ipw[1],
        sim[0] * e(-1) * ipw[0] + sim[2] * ipw[2], sim[1] * e(-1) * ipw[1],
        sim[2] * e(-1) * ipw[2], sim[3] * e(-1) * ipw[3],
    ], dtype=torch.float64)
    scores = votes(VSTAN(k=10, sample_size=10, lambda_1=1, lambda_2=10, lambda_3=1,
                         lambda_4=1, lambda_idf=2), [0, 2, 1])[0]
    torch.testing.assert_close(scores, base * (1 + 2 * IDF), rtol=0, atol=1e-12)
    assert not torch.allclose(scores, stan)


def test_stan_without_times_has_no_recency_decay():
    untimed = make_log(SESSIONS, 6, None)
    a = STAN(k=10, sample_size=10, lambda_2=0.001).fit(untimed, all_targets(untimed))
    b = STAN(k=10, sample_size=10, lambda_2=1000).fit(untimed, all_targets(untimed))
    tokens = torch.from_numpy(tokens_from_items([0, 2, 1], 5))
    torch.testing.assert_close(a.score(tokens), b.score(tokens), rtol=0, atol=0)


def test_knn_methods_read_the_whole_prefix_whatever_the_neural_window():
    # Targets of the 3-click sessions at position 2 have a 2-click prefix; with max_len 1 the
    # evaluator still hands a kNN method both clicks, but SR only the last.
    targets = all_targets(LOG)
    for scorer in (VSKNN(k=10, sample_size=10), STAN(k=10, sample_size=10)):
        scorer.fit(LOG, targets)
        _, ranks = evaluate_scorer(scorer, LOG, targets, max_len=1)
        whole = torch.from_numpy(prefix_matrix(LOG, targets, 3))
        items = torch.from_numpy(LOG.items[LOG.offsets[targets.session] + targets.position])
        assert ranks.tolist() == target_ranks(scorer.score(whole), items).tolist()
    assert not getattr(SequentialRules(), "whole_prefix", False)


def test_sequential_rules_weightings_and_pruning_by_hand():
    # Training sessions [0, 1, 1, 1], [2, 0, 3, 3], [4, 3, 5], steps 2, "quadratic" (gap 1
    # weighs 1, gap 2 1/4): 0 -> 1 1.25, 0 -> 3 1.25, 1 -> 1 2.25, 2 -> 0 1, 2 -> 3 0.25,
    # 3 -> 3 1, 3 -> 5 1, 4 -> 3 1, 4 -> 5 0.25. Fallback: popularity levels x 1e-9 / 6.
    data = make_log([[0, 1, 1, 1], [2, 0, 3, 3], [4, 3, 5]], 6, None)
    train = all_targets(data)
    pop = torch.tensor([1, 2, 0, 2, 0, 1], dtype=torch.float64) / 6
    tokens = torch.from_numpy(np.concatenate([tokens_from_items(s, 2) for s in ([0], [2], [4])]))
    quadratic = SequentialRules(steps=2, weighting="quadratic").fit(data, train).score(tokens)
    rules = torch.tensor([[0, 1.25, 0, 1.25, 0, 0], [1, 0, 0, 0.25, 0, 0],
                          [0, 0, 0, 1, 0, 0.25]], dtype=torch.float64)
    torch.testing.assert_close(quadratic, rules + pop * 1e-9, rtol=0, atol=1e-15)
    log = SequentialRules(steps=2, weighting="log").fit(data, train).score(tokens)
    g2 = 1 / math.log10(3.7) / (1 / math.log10(2.7))  # a gap-2 rule relative to a gap-1 rule
    assert log[0, 1] == pytest.approx((1 + g2) / math.log10(2.7))
    # Pruning 1 keeps each antecedent's heaviest rule (ties: the smaller successor id):
    # 0 -> 1 (tied with 0 -> 3), 2 -> 0, 4 -> 3. "div" units: lcm(1, 2) = 2.
    pruned = SequentialRules(steps=2, pruning=1).fit(data, train).score(tokens)
    kept = torch.tensor([[0, 1.5, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0]],
                        dtype=torch.float64)
    torch.testing.assert_close(pruned, kept * 2 + pop, rtol=0, atol=1e-15)


def test_options_are_validated_with_one_line_errors():
    for make, message in (
        (lambda: VSKNN(vote_decay="cubic"), "vote_decay = 'cubic'"),
        (lambda: VSKNN(sampling="oldest"), "sampling = 'oldest'"),
        (lambda: VSKNN(idf_weighting=-1), "idf_weighting = -1"),
        (lambda: STAN(lambda_2=0), "lambda_2 = 0"),
        (lambda: VSTAN(lambda_4=-2.0), "lambda_4 = -2.0"),
        (lambda: VSTAN(lambda_idf=-1), "lambda_idf = -1"),
        (lambda: SequentialRules(weighting="exp"), "weighting = 'exp'"),
        (lambda: SequentialRules(pruning=-1), "pruning = -1"),
    ):
        with pytest.raises(ValueError, match=message):
            make()


def test_search_spaces_name_constructor_arguments_and_every_corner_builds():
    tunable = {m.name: m for m in (SequentialRules, SessionKNN, VSKNN, STAN, VSTAN)}
    spaces = {name: dict(method.SEARCH_SPACE) for name, method in tunable.items()}
    assert set(spaces) == {"Sequential rules", "Session kNN", "V-SKNN", "STAN", "VSTAN"}
    for name, space in spaces.items():
        method = tunable[name]
        assert set(space) <= set(inspect.signature(method).parameters), name
        corners: list[dict[str, object]] = [{}, {}]
        for arg, entry in space.items():
            if entry[0] == "choice":
                for value in entry[1]:
                    method(**{arg: value})  # every option is accepted
                corners[0][arg] = corners[1][arg] = entry[1][0]
            else:
                kind, low, high, log = entry
                assert kind in ("int", "float") and low < high and isinstance(log, bool)
                assert not log or low > 0  # a log scale needs a positive range
                corners[0][arg], corners[1][arg] = low, high
        for corner in corners:
            method(**corner)
