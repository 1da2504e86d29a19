"""The one-sentence verdict: exact sentences on tiny hand-made scores."""

from __future__ import annotations

from streamrec.evaluation.verdict import difference_phrase, verdict

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


def test_with_a_session_bootstrap_interval_the_sentence_says_beats_trails_or_level():
    scores = {"V-SKNN": {"mrr@20": 0.355}, "Popularity": {"mrr@20": 0.02}}
    beats = {"V-SKNN": {"mrr@20": {"mean": 0.012, "lo": 0.006, "hi": 0.018}}}
    v = verdict({"mrr@20": 0.367}, scores, "mrr@20", beats)
    assert v.sentence == (
        "MRR@20 0.367: beats the best simple rule (V-SKNN, 0.355) by +0.012 MRR@20 "
        "(95% CI +0.006..+0.018); no ceiling is known for real data."
    )
    assert v.interval == (0.006, 0.018) and v.beats_rule is True
    level = {"V-SKNN": {"mrr@20": {"mean": 0.004, "lo": -0.002, "hi": 0.01}}}
    v = verdict({"mrr@20": 0.359}, scores, "mrr@20", level)
    assert v.lift.startswith(
        "level with the best simple rule (V-SKNN, 0.355) on MRR@20 (+0.004, 95% CI -0.002..+0.010)"
    )
    assert v.beats_rule is False  # above on the mean, but not beyond the interval
    trails = {"V-SKNN": {"mrr@20": {"mean": -0.03, "lo": -0.04, "hi": -0.02}}}
    assert "trails the best simple rule (V-SKNN, 0.355) by -0.030 MRR@20" in verdict(
        {"mrr@20": 0.325}, scores, "mrr@20", trails).sentence
    # A stored paired cell without an interval (older runs): the relative wording stays.
    old = {"V-SKNN": {"mrr@20": {"mean": 0.012, "se": 0.003, "n": 10}}}
    assert "3% above the best simple rule" in verdict({"mrr@20": 0.367}, scores, "mrr@20", old).lift


def test_difference_phrase_holds_zero_as_level():
    assert difference_phrase("SR", {"mean": 0.0, "lo": 0.0, "hi": 0.01}, "hit@20") == (
        "level with SR on Hit@20 (+0.000, 95% CI +0.000..+0.010)"
    )
    assert difference_phrase("SR", {"mean": 0.0}, "hit@20") is None
