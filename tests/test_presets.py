"""The real-data presets: a preset names its model family, `--model` and flags still win."""

from __future__ import annotations

import pytest

from streamrec.__main__ import PRESETS, _config_from_args, build_parser


def config(*argv: str):
    return _config_from_args(build_parser().parse_args(["train", *argv]))


def test_the_yoochoose_preset_trains_gru4rec_with_its_tuned_settings():
    run = config("--preset", "yoochoose")
    assert run.model.family == "gru4rec" and run.model.hidden_size == 256
    assert run.train.loss == "full" and run.train.epochs == 4


def test_a_preset_without_model_keeps_lstm_and_flags_override_the_preset():
    assert config("--preset", "demo").model.family == "lstm"
    run = config("--preset", "yoochoose-lstm", "--epochs", "2", "--hidden-size", "32")
    assert (run.model.family, run.model.cell, run.model.pooling) == ("lstm", "gru", "last")
    assert run.train.epochs == 2 and run.model.hidden_size == 32


def test_model_flag_beats_the_presets_family_and_foreign_settings_are_named():
    with pytest.raises(ValueError, match="--cell.* not a setting of model gru4rec"):
        config("--preset", "diginetica", "--model", "gru4rec")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_a_valid_config(name):
    config("--preset", name)
