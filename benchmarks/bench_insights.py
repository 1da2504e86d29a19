"""Time the Insight pages' computations at the default scale.

The model is a randomly initialised default LSTMConfig network: the time depends on the
shapes, not on the trained weights, so no trained run is needed (its purity is near chance).

Usage: python benchmarks/bench_insights.py
"""

from __future__ import annotations

import time

import torch
from _common import best_of, machine

from streamrec import insights
from streamrec.config import RunConfig
from streamrec.model import LSTMRecommender
from streamrec.world.simulator import simulate

N_SESSIONS = 2_000
K = 10
BUDGET_SECONDS = 3.0  # the Attention page's budget for one profile of 2,000 sessions


def main() -> None:
    config = RunConfig()
    torch.manual_seed(0)
    model = LSTMRecommender(config.model).eval()
    print(machine())
    print(
        f"model: randomly initialised default LSTMConfig ({config.model.cell}, "
        f"{config.model.pooling} pooling, hidden {config.model.hidden_size}, "
        f"{config.model.n_items:,} items): timing only"
    )
    start = time.perf_counter()
    data = simulate(config.sim)
    held_out = insights.held_out_targets(data, config)
    print(
        f"simulate + split (default SimConfig, not part of the figures below): "
        f"{time.perf_counter() - start:.2f} s"
    )

    def profile() -> insights.AttentionProfile:
        return insights.attention_profile(model, data, held_out, config.train.max_len, N_SESSIONS)

    result = profile()
    seconds = best_of(profile)
    print(
        f"attention_profile: {result.n_sessions:,} sessions, {len(result):,} prefixes in "
        f"{seconds:.2f} s (best of 3; budget {BUDGET_SECONDS:.0f} s)"
    )
    seconds = best_of(
        lambda: (
            insights.mean_by_position(result, "length"),
            insights.mean_by_position(result, "behaviour"),
            insights.edge_shares(result),
            insights.entropy_by_length(result),
            insights.pattern_counts(result),
            insights.pattern_table(result),
            insights.pattern_examples(result),
        )
    )
    print(f"aggregates and pattern rules on that profile: {seconds:.3f} s")

    category = data.item_category
    purity = insights.category_purity_at_k(model, category, K)
    seconds = best_of(lambda: insights.category_purity_at_k(model, category, K))
    print(
        f"category_purity_at_k: k={K} over {purity.n_items:,} items in {seconds:.2f} s "
        f"(purity {purity.purity:.3f}, chance {purity.chance:.3f})"
    )
    seconds = best_of(lambda: insights.embedding_projection(model, category, data.item_popularity))
    print(f"embedding_projection: PCA of {category.shape[0]:,} item vectors in {seconds:.3f} s")


if __name__ == "__main__":
    main()
