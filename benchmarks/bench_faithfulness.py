"""Time the faithfulness table (every explainer, 2,000 held-out sessions) and one Recommend
explanation (every explainer, a 20-click session) on the shipped `models/demo-streaming`.

Wall time is inflated by whatever else runs on the machine; the CPU time of this process is
printed beside it (both on one torch thread), with the load from `uptime`.

Usage: python benchmarks/bench_faithfulness.py [--run models/demo-streaming] [--sessions 2000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import machine, uptime

from streamrec.explain.explanations import explain_session
from streamrec.explain.faithfulness import measure_faithfulness
from streamrec.training import runs

TABLE_BUDGET_S = 60.0  # issue #15: the whole table within 60 s on 2 cores
EXPLANATION_BUDGET_MS = 300.0  # issue #15: one Recommend explanation within 300 ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="models/demo-streaming")
    parser.add_argument("--sessions", type=int, default=2000)
    args = parser.parse_args()
    path = Path(args.run)
    model, config = runs.load_model(path)
    data, split = runs.load_data(path, config)
    print(machine())
    print(f"run {path.name}: {config.model.summary()}, max_len {config.train.max_len}")
    print("load before:", uptime())

    wall, cpu = time.perf_counter(), time.process_time()
    result = measure_faithfulness(model, data, split.report, config.train.max_len, args.sessions)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"faithfulness table: {result.n_sessions:,} sessions, {len(result.methods)} explainers: "
          f"{wall:.1f} s wall, {cpu:.1f} s CPU (budget {TABLE_BUDGET_S:.0f} s)")
    for name, seconds in sorted(result.seconds.items(), key=lambda pair: -pair[1]):
        print(f"  {name:<24}{seconds:8.2f} s wall")

    longest = int(np.argmax(data.lengths))
    session = [int(i) for i in data.session(longest)[-20:]]
    explain_session(model, session[:-1], session[-1])  # warm-up (imports, first allocations)
    walls, cpus = [], []
    for _ in range(5):
        w, c = time.perf_counter(), time.process_time()
        explain_session(model, session[:-1], session[-1])
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    print(f"one Recommend explanation ({len(session) - 1} clicks, every explainer): "
          f"{1000 * min(walls):.0f} ms wall, {1000 * min(cpus):.0f} ms CPU, best of 5 "
          f"(budget {EXPLANATION_BUDGET_MS:.0f} ms)")
    print("load after:", uptime())


if __name__ == "__main__":
    main()
