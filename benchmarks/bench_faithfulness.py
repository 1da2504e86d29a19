"""Time the attention-faithfulness analysis (2,000 sessions) and one Recommend occlusion.

The model is a randomly initialised default LSTMConfig network and every click gets a
random recorded cause (an earlier click of its session): the time depends on the shapes, not
on the weights or on which click is the cause, so no trained run or scenario is needed.

Usage: python benchmarks/bench_faithfulness.py
"""

from __future__ import annotations

import dataclasses
import subprocess

import numpy as np
import torch
from _common import best_of, machine

from streamrec import insights
from streamrec.config import RunConfig
from streamrec.data.sessions import CAUSES, NO_CAUSE, SessionData
from streamrec.explain.faithfulness import occlusion
from streamrec.model import LSTMRecommender
from streamrec.world.simulator import simulate

N_SESSIONS = 2_000
BUDGET_SECONDS = 5.0  # issue #10: the faithfulness analysis of 2,000 sessions


def with_random_causes(data: SessionData, seed: int = 0) -> SessionData:
    """`data` with a random earlier click recorded as each later click's cause."""
    rng = np.random.default_rng(seed)
    position = np.arange(data.n_clicks) - np.repeat(data.offsets[:-1], data.lengths)
    earlier = (rng.random(data.n_clicks) * position).astype(np.int64)
    cause_position = np.where(position > 0, earlier, NO_CAUSE)
    mechanism = rng.integers(CAUSES.index("anchor"), len(CAUSES), size=data.n_clicks)
    cause = np.where(position > 0, mechanism, CAUSES.index("first")).astype(np.int8)
    return dataclasses.replace(data, cause=cause, cause_position=cause_position)


def main() -> None:
    config = RunConfig()
    torch.manual_seed(0)
    model = LSTMRecommender(config.model).eval()
    print(machine())
    print(
        f"model: randomly initialised default LSTMConfig ({config.model.cell}, "
        f"{config.model.pooling} pooling, {config.model.num_layers} x "
        f"{config.model.hidden_size}, {config.model.n_items:,} items): timing only"
    )
    data = with_random_causes(simulate(config.sim))
    held_out = insights.held_out_targets(data, config)
    max_len = config.train.max_len

    def analyse() -> insights.Faithfulness:
        return insights.measure_faithfulness(model, data, held_out, max_len, N_SESSIONS)

    result = analyse()
    seconds = best_of(analyse)
    variants = int(result.targets["window"].sum())
    print(
        f"measure_faithfulness: {result.n_sessions:,} sessions (one target each, windows of "
        f"{result.targets['window'].mean():.1f} clicks on average, {variants:,} drop-one "
        f"variants) in {seconds:.2f} s (best of 3; budget {BUDGET_SECONDS:.0f} s)"
    )
    session = data.session(int(np.argmax(data.lengths)))[:max_len]
    seconds = best_of(lambda: occlusion(model, session, int(session[0])), repeat=20)
    print(f"occlusion of one {session.size}-click session (Recommend): {seconds * 1000:.1f} ms")
    print("load:", subprocess.run(["uptime"], check=False, capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
