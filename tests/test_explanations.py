"""Explaining one recommendation: the layout of a model's named maps, and occlusion checked
against separate runs of the model without each click."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from streamrec.insights import (  # occlusion: faithfulness.occlusion
    map_layout,
    occlusion,
    summary_map,
)
from streamrec.model import build_model
from streamrec.recommendation import recommend
from tests.zoo_runs import tiny_config


def test_layer_head_names_make_a_grid_and_other_names_stand_alone():
    names = ["layer 1 · head 1", "layer 1 · head 2", "layer 1 · mean over heads",
             "layer 2 · head 1", "layer 2 · head 2", "layer 2 · mean over heads", "rollout"]
    layout = map_layout(names)
    assert layout.layers == ["layer 1", "layer 2"]
    assert layout.views == ["head 1", "head 2", "mean over heads"]
    assert layout.single == ["rollout"]
    assert layout.grid_name("layer 2", "head 1") in names
    assert map_layout(["local attention"]).single == ["local attention"]
    assert not map_layout(["local attention"]).layers
    assert map_layout([]).empty
    # The map a profile reads by default: the first of its own, else the grid's last.
    assert summary_map(names) == "rollout"
    assert summary_map(["attention pooling", "copy pointer"]) == "attention pooling"
    assert summary_map(["layer 1 · head 1", "layer 1 · mean over heads"]) == "layer 1 · mean over heads"


@pytest.mark.parametrize("family", ["lstm", "sasrec", "gru4rec", "narm"])
def test_what_each_family_explains_fits_the_layout(family):
    torch.manual_seed(0)
    model = build_model(tiny_config(family).model).eval()
    tokens = torch.tensor([[3, 5, 7, 0]])
    maps = model.explain(tokens)
    layout = map_layout(list(maps))
    cells = [layout.grid_name(la, v) for la in layout.layers for v in layout.views]
    assert set(cells + layout.single) == set(maps)  # every map is reachable from the pickers
    for weights in maps.values():
        assert weights.shape == (1, 4, 4)


@pytest.mark.parametrize("family", ["sasrec", "gru4rec"])
def test_occlusion_is_the_drop_in_probability_without_each_click(family):
    torch.manual_seed(1)
    model = build_model(tiny_config(family).model).eval()
    session, item = [4, 9, 9, 17, 2], 11
    full = recommend(model, session, k=1).probs[item]
    expected = [full - recommend(model, session[:i] + session[i + 1:], k=1).probs[item]
                for i in range(len(session))]
    np.testing.assert_allclose(occlusion(model, session, item), expected, atol=1e-6)
    assert model.training is False


def test_occlusion_needs_two_clicks():
    model = build_model(tiny_config("gru4rec").model)
    with pytest.raises(ValueError, match="at least 2"):
        occlusion(model, [3], 1)
