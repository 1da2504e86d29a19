"""Simulator engines side by side on the default config (20,000 sessions, 5,000 items):
the case study's own generator (optional, ~30 s), the draw-for-draw reference engine and
the vectorised fast engine.

Usage: python benchmarks/bench_simulator.py [--with-casestudy]
"""
from __future__ import annotations

import argparse
import sys
import tracemalloc
from pathlib import Path

from _common import best_of, machine

from streamrec.config import SimConfig
from streamrec.world.simulator import simulate


def peak_mib(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--with-casestudy", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    times = {}
    if args.with_casestudy:
        sys.path.insert(0, str(Path(__file__).parent))
        from casestudy_generator import generate_realistic_sessions

        times["case study code"] = best_of(generate_realistic_sessions, repeat=1)
    for engine in ("reference", "fast"):
        config = SimConfig(engine=engine)
        times[f"{engine} engine"] = best_of(lambda config=config: simulate(config), repeat=3)
        mem = peak_mib(lambda config=config: simulate(config))
        print(f"{engine + ' engine':>17}: {times[engine + ' engine']:6.3f} s, peak {mem:6.1f} MiB traced")
    if "case study code" in times:
        print(f"{'case study code':>17}: {times['case study code']:6.3f} s")
    print(f"fast is {times['reference engine'] / times['fast engine']:.1f}x faster than reference")


if __name__ == "__main__":
    main()
