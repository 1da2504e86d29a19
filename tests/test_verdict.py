"""The one-sentence verdict: exact sentences on tiny hand-made scores."""

from __future__ import annotations

from streamrec.evaluation.verdict import verdict

DEMO = {  # the shipped demo's held-out Hit@10 figures (README table)
    "Popularity": {"hit@10": 0.0483},
    "Last-category popularity": {"hit@10": 0.2844},
    "Markov chain": {"hit@10": 0.2451},
    "Session kNN": {"hit@10": 0.1803},
    "Oracle": {"hit@10": 0.2856},
}


def test_below_the_best_rule_and_share_of_the_ceiling():
    v = verdict({"hit@10": 0.2749}, DEMO)
    assert v.sentence == (
        "Hit@10 0.275: 3% below the best simple rule (Last-category popularity, 0.284); "
        "96% of the best possible (0.286)."
    )
    assert v.lift == v.sentence.removeprefix("Hit@10 0.275: ")
    assert (v.rule_name, v.rule, v.ceiling, v.beats_rule) == (
        "Last-category popularity",
        0.2844,
        0.2856,
        False,
    )


def test_above_and_level_with_the_rule():
    scores = {"Markov chain": {"mrr@20": 0.10}, "Oracle": {"mrr@20": 0.20}}
    assert verdict({"mrr@20": 0.15}, scores, "mrr@20").sentence == (
        "MRR@20 0.150: 50% above the best simple rule (Markov chain, 0.100); "
        "75% of the best possible (0.200)."
    )
    level = verdict({"mrr@20": 0.1004}, scores, "mrr@20")
    assert level.sentence.startswith("MRR@20 0.100: level with the best simple rule (Markov")
    assert level.beats_rule is True


def test_real_data_has_no_ceiling():
    v = verdict({"hit@10": 0.30}, {"Popularity": {"hit@10": 0.20}})
    assert v.ceiling is None
    assert v.sentence == (
        "Hit@10 0.300: 50% above the best simple rule (Popularity, 0.200); "
        "no ceiling is known for real data."
    )


def test_missing_baselines_and_missing_scores():
    assert verdict({"hit@10": 0.3}, None).sentence == (
        "Hit@10 0.300: no baseline or ceiling was scored for this run."
    )
    assert verdict({"hit@10": 0.3}, {"Oracle": {"hit@10": 0.6}}).sentence == (
        "Hit@10 0.300: no simple rule was scored; 50% of the best possible (0.600)."
    )
    unscored = verdict({}, DEMO)
    assert unscored.sentence == "No held-out Hit@10 yet: the run has no scored checkpoint."
    assert unscored.lift == ""
    # A baseline without this metric is left out, not read as zero.
    v = verdict({"hit@10": 0.3}, {"Popularity": {"hit@20": 0.9}, "Oracle": {"hit@10": 0.4}})
    assert v.rule_name is None and v.beats_rule is None
