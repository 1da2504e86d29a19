"""How much memory a viewer-mode server can be made to take: the pages driven with the largest
inputs viewer mode allows, peak RSS printed.

A child process (a fresh interpreter, like a fresh `STREAMREC_VIEWER=1 streamlit run app.py`)
runs the app in AppTest, which executes the page scripts as the server does:

1. the Simulator page generates the largest simulation viewer mode accepts (studio/limits.py:
   VIEWER_SIM_BYTES, VIEWER_MAX_ITEMS), then again with three more seeds (each a
   new entry for the byte-bounded store), then asks for 2,000,000 sessions (refused);
2. the Train page is opened with the widest model the viewer's timing limit accepts;
3. the Attention patterns page computes its profile on the most held-out sessions it offers.

The child prints its RSS before and after each step and its peak (VmHWM); the bound stated in
the README is the peak above the idle server's RSS.

Usage: python benchmarks/bench_viewer.py   (a few minutes)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys
from streamlit.testing.v1 import AppTest
from streamrec import memory
from streamrec.config import SimConfig
from studio.limits import VIEWER_MAX_ITEMS, VIEWER_SIM_BYTES

def status(name):
    for line in open("/proc/self/status"):
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024

def report(step, at=None):
    errors = [e.value for e in at.error] if at is not None else []
    print(json.dumps({"step": step, "rss": status("VmRSS"), "peak": status("VmHWM"),
                      "errors": errors[:1]}), flush=True)

at = AppTest.from_file("app.py", default_timeout=900)
at.run()
at.switch_page("pages/simulator.py").run()
report("idle server, Simulator page open", at)
# The most sessions the viewer limit allows with default lengths and the largest catalog.
n = 1
while SimConfig(n_sessions=n * 2, n_items=VIEWER_MAX_ITEMS).memory_bytes() <= VIEWER_SIM_BYTES:
    n *= 2
lo, hi = n, n * 2
while hi - lo > 100:
    mid = (lo + hi) // 2
    lo, hi = (mid, hi) if SimConfig(n_sessions=mid, n_items=VIEWER_MAX_ITEMS).memory_bytes() <= VIEWER_SIM_BYTES else (lo, mid)
for seed in (1, 2, 3, 4):
    at.number_input(key="sim_n_sessions").set_value(lo)
    at.number_input(key="sim_n_items").set_value(VIEWER_MAX_ITEMS)
    at.number_input(key="sim_seed").set_value(seed)
    at.button(key="sim_generate").click().run()
    report(f"Simulator: {lo:,} sessions, {VIEWER_MAX_ITEMS:,} items, seed {seed}", at)
at.number_input(key="sim_n_sessions").set_value(2_000_000)
at.number_input(key="sim_n_items").set_value(5_000)
at.button(key="sim_generate").click().run()
report("Simulator: 2,000,000 sessions (refused)", at)
at.switch_page("pages/train.py").run()
for key, value in (("train_lstm_hidden_size", 4096), ("train_lstm_embed_dim", 4096)):
    at.number_input(key=key).set_value(value)
at.run()
report("Train page: LSTM 4096 wide (timing refused above the viewer limit)", at)
at.switch_page("pages/attention.py").run()
at.number_input(key="att_sessions").set_value(20_000).run()
report("Attention patterns: 20,000 held-out sessions", at)
"""


def main() -> None:
    env = {**os.environ, "STREAMREC_VIEWER": "1", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    idle = peak = 0
    for line in process.stdout:
        step = json.loads(line)
        idle = idle or step["rss"]
        peak = max(peak, step["peak"])
        note = f"  ({step['errors'][0][:90]})" if step["errors"] else ""
        print(f"{step['step']:70} RSS {step['rss'] / 2**20:6.0f} MiB, peak so far "
              f"{step['peak'] / 2**20:6.0f} MiB{note}", flush=True)
    process.wait()
    print(f"viewer mode: peak RSS {peak / 2**20:.0f} MiB, {(peak - idle) / 2**20:.0f} MiB above the "
          f"idle server ({idle / 2**20:.0f} MiB)")
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())


if __name__ == "__main__":
    main()
