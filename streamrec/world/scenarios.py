"""Named simulator worlds: the case study's, and worlds in which the order of clicks matters.

Each scenario is a story a stakeholder recognises, the SimConfig settings that tell it, and
the window (`max_len`) a model and the oracle should read: with an order mechanism on it
covers the longest session, because the mechanisms read the first click (anchor) and every
earlier click (recall, repeat), and the oracle is exact only for whole sessions so far.
The mechanisms themselves are described in docs/scenarios.md and streamrec/world/mechanisms.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from streamrec.config import SimConfig


@dataclass(frozen=True)
class Scenario:
    """A named world: its story, its simulator settings and the window to read it with."""

    name: str
    title: str
    story: str
    sim: dict[str, Any] = field(default_factory=dict)  # SimConfig fields that differ from default
    max_len: int = 25  # recommended TrainConfig.max_len (covers whole sessions with mechanisms)
    # Recommended LSTMConfig / TrainConfig settings beyond max_len, each measured (docs/results-simulator.md):
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)

    def model_settings(self, config_class: type) -> dict[str, Any]:
        """The recommended model settings for a family's config dataclass: all of them when
        the family has every one of those settings (they were measured on the LSTM), else none."""
        names = {f.name for f in fields(config_class)}
        return dict(self.model) if set(self.model) <= names else {}

    def config(self, **overrides: Any) -> SimConfig:
        """The scenario's SimConfig, with `overrides` on top; validated."""
        return replace(SimConfig(**self.sim), **overrides).validate()


# What the LSTM needs in a world where order matters, each measured on every order scenario
# (docs/results-simulator.md, "Worlds where order matters"): the item-embedding skip path learns an item's
# successor from few examples, the copy pointer takes the re-clicks, two transition heads read
# the counted chain from any click (the recall clicks), and a learning-rate step every 4
# epochs instead of 3. Without the first two the case study's network trails the first-order
# Markov chain in every such world; the heads took each world from 92.0-94.1% to 94.4-95.2%
# of the oracle's test Hit@10.
ORDER_MODEL: dict[str, Any] = {"item_skip": True, "copy": True, "transitions": 2}
ORDER_TRAIN: dict[str, Any] = {"step_size": 4}

SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "casestudy",
            "Case study",
            "The case study's world, unchanged: explorers, deep divers and comparison shoppers "
            "move between categories, and the next category depends on the current one only. "
            "Popular items of the last click's category come within a point of the ceiling.",
        ),
        Scenario(
            "streaming",
            "Streaming: series and a first title",
            "Viewers of a 2,500-title catalogue binge: after an episode the next one follows (successor chains are series, "
            "within a genre), a series started earlier in the evening is picked up again, and "
            "viewers drift back to the genre of the title they opened the session with.",
            {
                "explorer_share": 0.2, "deep_dive_share": 0.6, "comparison_share": 0.2,
                "successor_prob": 0.5, "recall_prob": 0.1, "anchor_return": 0.15,
                "repeat_prob": 0.05, "repeat_decay": 0.5,
                "min_session_length": 4, "max_session_length": 20, "n_items": 2_500,
            },
            max_len=20,
            model=ORDER_MODEL,
            train=ORDER_TRAIN,
        ),
        Scenario(
            "ecommerce",
            "E-commerce: accessories and repeat views",
            "Shoppers compare: they go back to products they viewed a moment ago, an accessory "
            "follows the product it fits (successor chains within a category), and they return "
            "to the category of the product they searched for first.",
            {
                "explorer_share": 0.2, "deep_dive_share": 0.3, "comparison_share": 0.5,
                "popularity_exponent": 1.0, "repeat_prob": 0.3, "repeat_decay": 0.6,
                "successor_prob": 0.2, "recall_prob": 0.05, "anchor_return": 0.1,
                "min_session_length": 3, "max_session_length": 20,
            },
            max_len=20,
            model=ORDER_MODEL,
            train=ORDER_TRAIN,
        ),
        Scenario(
            "news",
            "News: the front page and the latest story",
            "Readers of 2,500 live stories skim: most wander across sections, headlines are head-heavy, they keep "
            "coming back to the section they came in from (the front page), re-open the story "
            "they just read, and sometimes follow a story's follow-up.",
            {
                "explorer_share": 0.6, "deep_dive_share": 0.3, "comparison_share": 0.1,
                "popularity_exponent": 1.2, "anchor_return": 0.3, "repeat_prob": 0.12,
                "repeat_decay": 0.3, "successor_prob": 0.1,
                "min_session_length": 3, "max_session_length": 15, "n_items": 2_500,
            },
            max_len=15,
            model=ORDER_MODEL,
            train=ORDER_TRAIN,
        ),
    )
}


def recommended_settings() -> dict[str, set[str]]:
    """{"model": names, "train": names} of every setting some scenario recommends (max_len
    included), so a form can reset them when another scenario is picked."""
    return {
        "model": {name for scenario in SCENARIOS.values() for name in scenario.model},
        "train": {"max_len"} | {name for scenario in SCENARIOS.values() for name in scenario.train},
    }


def get_scenario(name: str) -> Scenario:
    """The scenario called `name`; ValueError listing the known names otherwise."""
    if name not in SCENARIOS:
        raise ValueError(f"scenario = {name!r} is not known: choose one of {', '.join(SCENARIOS)}")
    return SCENARIOS[name]


def recommended_max_len(sim: SimConfig, default: int = 25) -> int:
    """The window to read `sim`'s sessions with: whole sessions once a mechanism is on."""
    return sim.max_session_length if sim.has_mechanisms else default


def scenario_of(sim: SimConfig) -> str | None:
    """The name of the scenario `sim` tells, whatever its size and seed; None if none does."""
    free = {"n_sessions", "seed", "engine"}
    for scenario in SCENARIOS.values():
        expected = SimConfig(**scenario.sim)
        if all(getattr(sim, name) == getattr(expected, name)
               for name in SimConfig.__dataclass_fields__ if name not in free):
            return scenario.name
    return None
