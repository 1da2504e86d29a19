"""Torch's thread count around work too small to share between threads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from streamrec.threads import (
    available_cores,
    one_thread,
    quiet_environment,
    training_threads,
    worker_env,
)

ROOT = Path(__file__).resolve().parents[1]


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_training_threads_follows_the_environment_and_never_exceeds_the_cores():
    cores = available_cores()
    assert training_threads({}) == cores
    assert training_threads({"OMP_NUM_THREADS": "1"}) == 1
    assert training_threads({"STREAMREC_THREADS": "1", "OMP_NUM_THREADS": "9"}) == 1
    assert training_threads({"STREAMREC_THREADS": str(cores + 5)}) == cores
    assert training_threads({"STREAMREC_THREADS": "lots", "OMP_NUM_THREADS": "0"}) == cores


def test_worker_env_sets_the_passive_wait_policy_and_pins_the_threads():
    env = worker_env(env={"PATH": "/bin", "OMP_NUM_THREADS": "1"})
    assert env["OMP_WAIT_POLICY"] == "PASSIVE" and env["OMP_NUM_THREADS"] == "1"
    assert env["PATH"] == "/bin"
    assert worker_env(env={"OMP_WAIT_POLICY": "ACTIVE"})["OMP_WAIT_POLICY"] == "ACTIVE"  # asked for
    assert worker_env(threads=1, env={})["OMP_NUM_THREADS"] == "1"


def test_quiet_environment_refuses_once_torch_is_loaded():
    assert "torch" in sys.modules  # this test module imported it
    assert quiet_environment() is False


WATCH_TORCH = """
import os, sys
seen = []
class Watch:  # records the wait policy at the moment torch is first imported
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and not seen:
            seen.append(os.environ.get("OMP_WAIT_POLICY"))
sys.meta_path.insert(0, Watch())
"""


def test_the_cli_sets_the_wait_policy_before_torch_loads():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = WATCH_TORCH + "import streamrec.__main__\nprint(seen)\n"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "['PASSIVE']"


def test_the_worker_runs_with_the_passive_wait_policy(tmp_path, monkeypatch):
    """The app's training worker gets the policy in its environment (it imports torch itself)."""
    from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
    from streamrec.training import jobs, runs

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    config = RunConfig(
        sim=SimConfig(n_sessions=60, n_items=30, n_categories=6), model=LSTMConfig(n_items=30),
        train=TrainConfig(epochs=1),
    )
    path = jobs.launch(config, tmp_path)
    pid = runs.read_status(path).pid
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except FileNotFoundError:
        pytest.skip("the worker finished before its environment could be read")
    finally:
        jobs.stop(path, timeout=30)
    assert b"OMP_WAIT_POLICY=PASSIVE" in environ
