"""Mixed precision and the GPU path: bf16 autocast trains every family (checked on the CPU,
where torch's autocast runs the same bf16 matmuls), and GPU tests that run where CUDA is.

Run the GPU tests on a machine with a GPU: `python -m pytest -q tests/test_precision.py`
(they skip with their reason elsewhere; the 2-GPU one needs 2 GPUs).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from streamrec.config import MODEL_CONFIGS, RunConfig, SimConfig, TrainConfig, model_config
from streamrec.recommendation import recommend
from streamrec.training import jobs, runs
from streamrec.training.loop import train
from streamrec.training.objectives import use_bf16

ROOT = Path(__file__).resolve().parents[1]
SIM = SimConfig(n_sessions=300, n_items=120, n_categories=6)
NO_GPU = "no CUDA GPU on this machine"


def config(family: str, **train_fields: object) -> RunConfig:
    return RunConfig(SIM, model_config(family, n_items=120), TrainConfig(
        **{"epochs": 1, "batch_size": 128, "loss": "sampled", "n_negatives": 64, **train_fields}))


def test_precision_choices():
    cpu = torch.device("cpu")
    assert not use_bf16("auto", cpu) and not use_bf16("fp32", cpu) and use_bf16("bf16", cpu)
    with pytest.raises(ValueError, match="precision = 'half'"):
        TrainConfig(precision="half").validate()


@pytest.mark.parametrize("family", list(MODEL_CONFIGS))
def test_bf16_autocast_trains_every_family_with_sampled_softmax(family, monkeypatch):
    autocast_calls = []
    real = torch.autocast

    def spy(device_type: str, *args: object, **kwargs: object) -> torch.autocast:
        autocast_calls.append((device_type, kwargs.get("dtype"), kwargs.get("enabled", True)))
        return real(device_type, *args, **kwargs)

    monkeypatch.setattr(torch, "autocast", spy)
    half = list(train(config(family, precision="bf16", device="cpu")))
    assert ("cpu", torch.bfloat16, True) in autocast_calls  # the steps really ran under bf16
    monkeypatch.setattr(torch, "autocast", real)
    full = list(train(config(family, precision="fp32", device="cpu")))
    assert half[-1]["status"] == full[-1]["status"] == "completed"
    # bf16 keeps ~3 significant digits: the epoch's loss and the test Hit@10 stay close to fp32's.
    losses = [[e["train_loss"] for e in run if e["event"] == "epoch"] for run in (half, full)]
    assert losses[0] == pytest.approx(losses[1], rel=0.02)
    assert abs(half[-1]["final"]["hit@10"] - full[-1]["final"]["hit@10"]) <= 0.05


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_GPU)
@pytest.mark.parametrize("family", list(MODEL_CONFIGS))
def test_every_family_trains_on_the_gpu_in_mixed_precision_and_loads_on_the_cpu(family, tmp_path):
    run = config(family, device="cuda", precision="auto", epochs=2)
    path = runs.create_run(run, tmp_path, f"gpu-{family}")
    status = jobs.run_training(path, run, with_baselines=False)
    assert status.state == "completed", status.reason
    assert runs.read_events(path)[0]["device"].startswith("cuda")
    model, _ = runs.load_model(path)  # weights are saved from the GPU as CPU tensors
    assert next(model.parameters()).device.type == "cpu"
    assert len(recommend(model, [1, 2, 3], k=10, max_len=run.train.max_len).top_items) == 10
    assert status.final["hit@10"] > 0.1  # well above chance (10 / 120)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA GPUs")
def test_torchrun_trains_on_two_gpus_with_nccl(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "streamrec", "train", "--models-dir", str(tmp_path), "--name", "nccl",
         "--no-baselines", "--quiet", "--device", "cuda", "--n-sessions", "300", "--n-items", "120",
         "--epochs", "2", "--loss", "sampled"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    status = runs.read_status(tmp_path / "nccl")
    assert status.state == "completed" and status.processes == 2
