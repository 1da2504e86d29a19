"""Named scenarios: valid, recognisable from their config, on the command line, and with the
oracle's lead over last-category popularity the issue asks for."""
from __future__ import annotations

import json

import pytest

from streamrec.__main__ import main, scenario_gap
from streamrec.config import SimConfig
from streamrec.world.scenarios import SCENARIOS, get_scenario, recommended_max_len, scenario_of


def test_casestudy_is_the_default_world_and_the_others_turn_mechanisms_on():
    assert SCENARIOS["casestudy"].config() == SimConfig()
    assert len(SCENARIOS) >= 4
    for name, scenario in SCENARIOS.items():
        config = scenario.config()
        assert scenario_of(config) == name
        assert scenario_of(scenario.config(n_sessions=77, seed=3)) == name
        assert scenario.story and scenario.title
        assert config.has_mechanisms == (name != "casestudy")
        # With a mechanism on, the window covers whole sessions (the oracle is exact there).
        assert scenario.max_len == recommended_max_len(config)
        assert scenario.max_len >= config.max_session_length or not config.has_mechanisms
    assert scenario_of(SimConfig(anchor_return=0.01)) is None


def test_an_unknown_scenario_names_the_known_ones():
    with pytest.raises(ValueError, match="casestudy, streaming"):
        get_scenario("sports")


def test_scenarios_command_lists_every_story(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for scenario in SCENARIOS.values():
        assert f"{scenario.name}: {scenario.title}" in out
        assert scenario.story.split()[0] in out


def test_simulate_with_a_scenario_writes_the_causes(tmp_path, capsys):
    out = tmp_path / "news.csv"
    assert main(["simulate", "--scenario", "news", "--n-sessions", "300", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cause_anchor" in printed
    header, first, *rest = out.read_text().splitlines()
    assert header == "session_id,position,item_id,category,cause,cause_position"
    assert first.endswith(",first,-1")
    assert {line.split(",")[4] for line in rest} >= {"stay", "anchor", "repeat", "successor"}


def test_baselines_with_a_scenario_use_its_window_and_print_the_gap(capsys):
    code = main(["baselines", "--scenario", "streaming", "--n-sessions", "600", "--json"])
    assert code == 0
    captured = capsys.readouterr()
    assert "oracle minus last-category popularity:" in captured.out
    assert "note:" not in captured.err  # max_len 20 covers the scenario's sessions
    results = json.loads(captured.out.strip().splitlines()[-1])
    assert results["Oracle"]["hit@10"] > results["Last-category popularity"]["hit@10"] + 0.15
    # A shorter window than the sessions is flagged: the oracle is approximate there.
    main(["baselines", "--scenario", "streaming", "--n-sessions", "300", "--max-len", "5"])
    assert "approximation" in capsys.readouterr().err


def test_bad_scenario_flag_is_refused(capsys):
    assert main(["simulate", "--scenario", "sports"]) == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.slow
def test_two_scenarios_lead_last_category_popularity_by_ten_points():
    gaps = {name: scenario_gap(scenario)[0] for name, scenario in SCENARIOS.items()}
    assert abs(gaps["casestudy"]) < 0.01
    assert sum(gap >= 0.10 for gap in gaps.values()) >= 2, gaps
    # The shipped second demo is trained on the world with the largest gap.
    from pathlib import Path

    from streamrec.training import runs
    from streamrec.world.scenarios import scenario_of

    demo = Path(__file__).resolve().parents[1] / "models" / "demo-streaming"
    assert scenario_of(runs.read_config(demo).sim) == max(gaps, key=gaps.get), gaps


def test_train_with_a_scenario_takes_its_world_and_window_unless_a_flag_says_otherwise():
    from streamrec.__main__ import _config_from_args, build_parser

    parse = build_parser().parse_args
    config = _config_from_args(parse(["train", "--scenario", "streaming"]))
    assert config.sim == SCENARIOS["streaming"].config()
    assert config.train.max_len == 20
    config = _config_from_args(parse(["train", "--scenario", "streaming", "--max-len", "12",
                                      "--repeat-prob", "0.2"]))
    assert config.train.max_len == 12 and config.sim.repeat_prob == 0.2


def test_scenario_recommendations_reach_the_config_and_the_case_study_keeps_the_defaults():
    from streamrec.__main__ import _config_from_args, build_parser
    from streamrec.config import LSTMConfig, TrainConfig

    parse = build_parser().parse_args
    case = _config_from_args(parse(["train", "--scenario", "casestudy"]))
    assert case.model == LSTMConfig() and case.train == TrainConfig()
    for name, scenario in SCENARIOS.items():
        config = _config_from_args(parse(["train", "--scenario", name]))
        assert {key: getattr(config.model, key) for key in scenario.model} == scenario.model
        assert {key: getattr(config.train, key) for key in scenario.train} == scenario.train
        # An explicit flag still wins over a recommendation.
        flagged = _config_from_args(parse(["train", "--scenario", name, "--dropout", "0.25",
                                           "--epochs", "3"]))
        assert flagged.model.dropout == 0.25 and flagged.train.epochs == 3
        # Another family takes the world and the training settings, not the LSTM's options.
        other = _config_from_args(parse(["train", "--scenario", name, "--model", "sasrec"]))
        assert other.model == type(other.model)(n_items=config.sim.n_items)
        assert other.sim == config.sim and other.train == config.train
