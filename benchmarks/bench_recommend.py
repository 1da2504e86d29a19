"""Server-side time of one Recommend-page update on the default-size setup (5,000 items).

One update is what the page computes after every edit of the session, `session_update`:
the model's top-K and attention, the oracle's posterior and top-K, and both top-K tables.
The four figures the page then builds are timed separately. The model is a randomly
initialised default LSTMConfig: its speed does not depend on the weights.

Usage: python benchmarks/bench_recommend.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from _common import machine

from streamrec.charts import explain_charts as charts
from streamrec.config import LSTMConfig, SimConfig, TrainConfig
from streamrec.data.splits import make_split
from streamrec.evaluation.baselines import Oracle
from streamrec.model import LSTMRecommender
from streamrec.views.session_view import SessionUpdate, session_update
from streamrec.world.simulator import simulate


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` calls after two warm-up calls, in milliseconds."""
    fn()
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    """Print the median update and figure times for K = 10 and K = 50."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    torch.manual_seed(0)
    sim, train = SimConfig(), TrainConfig()
    data = simulate(sim)
    oracle = Oracle().fit(data, make_split(data, train).train)
    model = LSTMRecommender(LSTMConfig(n_items=sim.n_items)).eval()
    category = data.item_category
    lengths = data.lengths
    session_id = int((lengths >= train.max_len).argmax())  # a session that fills the window
    session = [int(i) for i in data.session(session_id)[: train.max_len]]

    print(f"{machine()}")
    print(
        f"default setup: {sim.n_items:,} items, {sim.n_categories} categories, "
        f"session of {len(session)} clicks (max_len {train.max_len}); "
        f"median of {args.repeat} repeats"
    )
    for k in (10, 50):

        def update(k: int = k) -> SessionUpdate:
            return session_update(model, oracle, session, k, train.max_len, category)

        shown = update()

        def figures(shown: SessionUpdate = shown) -> list:
            rec = shown.rec
            return [
                charts.attention_heatmap(rec.session, rec.attention, category),
                charts.attention_growth_heatmap(rec.session, rec.attention_growth, category),
                charts.top_k_bars(shown.model_table.head(20), sim.n_categories, shown.oracle.probs),
                charts.behaviour_posterior_chart(shown.oracle.behaviour, sim.behaviour_mix),
            ]

        print(
            f"  K = {k:>2}: update (model + oracle + tables) "
            f"{median_ms(update, args.repeat):6.1f} ms   "
            f"figures {median_ms(figures, max(args.repeat // 4, 5)):6.1f} ms"
        )


if __name__ == "__main__":
    main()
