"""Training on 2 processes under torchrun (gloo, CPU), `--batch-size` per process: a DDP step
equals one process's step on the whole batch of twice the size; a `torchrun -m streamrec train` run folder loads, recommends and matches a
single-process run; the dashboard's multi-process job stops on Stop and fails cleanly, keeping
its checkpoint, when a rank dies.

Run as a script under torchrun (`__main__` below), this file is the rank side of the step test.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.recommendation import recommend
from streamrec.training import distributed, jobs, runs

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 240.0  # seconds for 2 ranks to start and train on a loaded 2-core machine
# The exact-equivalence setting: the full softmax and no dropout draw no random numbers.
STEP_CONFIG = RunConfig(
    SimConfig(n_sessions=300, n_items=120, n_categories=6),
    LSTMConfig(n_items=120, embed_dim=16, hidden_size=24, dropout=0.0),
    TrainConfig(batch_size=128, loss="full"),
)
TINY_FLAGS = ["--no-baselines", "--quiet", "--n-sessions", "300", "--n-items", "120",
              "--epochs", "2", "--batch-size", "128", "--dropout", "0", "--loss", "full"]
LONG = RunConfig(
    SimConfig(n_sessions=150, n_items=40, n_categories=4, max_preferred=3),
    LSTMConfig(n_items=40, embed_dim=8, hidden_size=8, num_layers=1),
    TrainConfig(epochs=5_000, batch_size=64, log_every=1),
)


def torchrun(*args: str) -> list[str]:
    """`python -m torch.distributed.run --standalone --nproc-per-node 2 ...`"""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", *args]


def env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def first_step(out: Path) -> None:
    """One optimiser step on the first batch of 2 x batch_size targets (a 2-rank step), on 2
    ranks when under torchrun else alone; saves the loss and the gradients (after DDP's
    all-reduce) to `out`."""
    from torch.nn.parallel import DistributedDataParallel

    from streamrec.data.splits import batches, build_rows, make_split
    from streamrec.model import build_model
    from streamrec.training.loop import Objective, _row_batch, training_step
    from streamrec.training.objectives import full_softmax
    from streamrec.world.simulator import simulate

    data = simulate(STEP_CONFIG.sim)
    rows = build_rows(data, make_split(data, STEP_CONFIG.train).train, STEP_CONFIG.train.max_len)
    two_ranks = distributed.Ranks(0, 2, 0)
    size = distributed.step_batch_size(STEP_CONFIG.train.batch_size, two_ranks)
    assert size == 2 * STEP_CONFIG.train.batch_size
    index = batches(rows, size, np.random.default_rng(0))[0]
    torch.manual_seed(0)
    model = build_model(STEP_CONFIG.model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # keep the gradients, move nothing
    ranks = distributed.from_env()
    if ranks is None:
        loss = training_step(model, optimizer, full_softmax, _row_batch(rows, index), 0.0)
    else:
        distributed.setup(ranks, torch.device("cpu"))
        ddp = DistributedDataParallel(Objective(model, full_softmax))
        mine = distributed.shard(index, ranks)
        weight = distributed.step_weight(
            int(rows.loss_mask[mine].sum()), int(rows.loss_mask[index].sum()), ranks.world_size
        )
        loss = training_step(model, optimizer, full_softmax, _row_batch(rows, mine), 0.0,
                             ddp=ddp, weight=weight, ranks=ranks)
        distributed.teardown()
        if not ranks.is_main:
            return
    torch.save({"loss": loss, "grads": [p.grad for p in model.parameters()],
                "n_rows": len(index)}, out)


def test_from_env_reads_torchruns_variables():
    assert distributed.from_env({}) is None
    assert distributed.from_env({"WORLD_SIZE": "1", "RANK": "0"}) is None
    ranks = distributed.from_env({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert ranks == distributed.Ranks(3, 4, 1) and not ranks.is_main
    with pytest.raises(ValueError, match="torchrun"):
        distributed.from_env({"WORLD_SIZE": "2"})
    with pytest.raises(ValueError, match="out of range"):
        distributed.from_env({"WORLD_SIZE": "2", "RANK": "2"})


def test_shards_cover_the_batch_once_and_weights_restore_the_batch_mean():
    batch = np.arange(7)
    parts = [distributed.shard(batch, distributed.Ranks(r, 3, r)) for r in range(3)]
    assert sorted(np.concatenate(parts).tolist()) == batch.tolist()
    counts = [30, 20, 10]
    # DDP averages: mean over ranks of weight * rank mean == the batch's mean loss.
    means = [1.0, 2.0, 4.0]
    weights = [distributed.step_weight(n, sum(counts), 3) for n in counts]
    batch_mean = sum(n * m for n, m in zip(counts, means)) / sum(counts)
    assert np.mean([w * m for w, m in zip(weights, means)]) == pytest.approx(batch_mean)


def test_a_ddp_step_on_two_processes_equals_one_process_on_the_whole_batch(tmp_path):
    subprocess.run(torchrun(__file__, str(tmp_path / "two.pt")), env=env(), check=True,
                   timeout=DEADLINE, capture_output=True)
    first_step(tmp_path / "one.pt")
    one, two = torch.load(tmp_path / "one.pt"), torch.load(tmp_path / "two.pt")
    assert one["n_rows"] >= 2  # each rank had rows of its own
    assert float(two["loss"]) == pytest.approx(float(one["loss"]), rel=1e-6)
    for a, b in zip(one["grads"], two["grads"]):
        # Only the order of float additions differs (the all-reduce sums the ranks' parts).
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-7)


def train_cli(root: Path, name: str, *launcher: str,
              flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    command = [*launcher, "-m", "streamrec", "train", "--models-dir", str(root), "--name", name,
               *TINY_FLAGS, *flags, "--json"]
    if not launcher:
        command = [sys.executable, *command]
    return subprocess.run(command, check=False, env=env(), text=True, capture_output=True,
                          timeout=DEADLINE, cwd=ROOT)


def test_torchrun_train_writes_a_run_folder_that_loads_recommends_and_matches_one_process(tmp_path):
    two = train_cli(tmp_path, "two", *torchrun())
    assert two.returncode == 0, two.stderr[-2000:]
    # `--batch-size` is per process: one process with twice the batch takes the same steps.
    batch = int(TINY_FLAGS[TINY_FLAGS.index("--batch-size") + 1])
    one = train_cli(tmp_path, "one", flags=("--batch-size", str(2 * batch)))
    assert one.returncode == 0, one.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["one", "two"]

    status = runs.read_status(tmp_path / "two")
    assert status.state == "completed" and status.processes == 2
    model, config = runs.load_model(tmp_path / "two")
    top = recommend(model, [3, 7, 11], k=10, max_len=config.train.max_len).top_items
    assert len(set(top.tolist())) == 10 and top.max() < 120

    events = {name: runs.read_events(tmp_path / name) for name in ("one", "two")}
    assert events["two"][0]["processes"] == 2 and events["one"][0]["processes"] == 1
    kinds = {name: [e["event"] for e in ev] for name, ev in events.items()}
    assert kinds["one"] == kinds["two"]  # the same events, written once (by rank 0)
    # Same batches, same steps, same targets seen. The first epoch's logged losses agree to
    # float rounding; later, Adam's division by tiny second moments magnifies rounding-level
    # differences, so the runs drift apart: the end metrics agree within a tolerance.
    steps = {name: [(e["epoch"], e["step"], e["loss"]) for e in ev if e["event"] == "batch"]
             for name, ev in events.items()}
    assert [s[:2] for s in steps["one"]] == [s[:2] for s in steps["two"]]
    for (epoch, _, a), (_, _, b) in zip(steps["one"], steps["two"]):
        if epoch == 1:
            assert b == pytest.approx(a, rel=1e-4)
    final = {name: json.loads(run.stdout.strip().splitlines()[-1])["results"]
             for name, run in (("one", one), ("two", two))}
    hits = [next(iter(final[name].values()))["hit@10"] for name in ("one", "two")]
    assert abs(hits[0] - hits[1]) <= 0.06, hits  # ~580 test targets: one binomial s.e. ~0.02


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    """A models folder whose jobs are all stopped (then killed) at the end."""
    yield tmp_path
    for info in runs.list_runs(tmp_path):
        if info.state == "running":
            jobs.stop(info.path, timeout=10)


def wait_for(predicate, what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def children(pid: int) -> list[int]:
    """Live child processes of `pid`."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


def launch_two(root: Path, name: str) -> tuple[Path, list[int]]:
    """A job on 2 ranks, once it has finished an epoch; its path and its ranks' pids."""
    path = jobs.launch(LONG, root, name, processes=2)
    launcher = runs.read_status(path).pid
    wait_for(lambda: any(e["event"] == "epoch" for e in runs.read_events(path)), "an epoch")
    ranks = children(launcher)
    assert len(ranks) == 2, "the launcher runs the 2 ranks itself"
    return path, ranks


def test_stop_ends_every_rank_of_a_multi_process_job(root):
    path, ranks = launch_two(root, "stopped")
    assert runs.read_status(path).processes == 2
    jobs.stop(path)
    wait_for(lambda: runs.read_status(path).state != "running", "the job to stop")
    status = runs.read_status(path)
    assert status.state == "stopped" and status.reason == "stop requested"
    wait_for(lambda: not any(runs.pid_running(pid) for pid in ranks), "the ranks to exit", 60)
    runs.load_model(path)  # the best checkpoint is there


def test_a_rank_that_dies_fails_the_run_and_keeps_its_checkpoint(root):
    path, ranks = launch_two(root, "killed")
    rank_one, = (pid for pid in ranks
                 if b"\0RANK=1\0" in b"\0" + Path(f"/proc/{pid}/environ").read_bytes())
    os.kill(rank_one, signal.SIGKILL)
    launcher = runs.read_status(path).pid
    wait_for(lambda: not runs.pid_running(launcher), "the launcher to record the end")
    status = runs.read_status(path)
    assert status.state == "failed"
    assert status.reason.startswith("training process 1 of 2 ended unexpectedly (killed by SIGKILL)")
    assert "the best checkpoint so far (epoch" in status.reason
    wait_for(lambda: not any(runs.pid_running(pid) for pid in ranks), "rank 0 to exit", 60)
    model, _ = runs.load_model(path)
    assert model.config == LONG.model


if __name__ == "__main__":
    first_step(Path(sys.argv[1]))
