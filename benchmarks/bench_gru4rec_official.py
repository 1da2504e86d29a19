"""Reference: GRU4Rec's official PyTorch code (hidasib/GRU4Rec_PyTorch_Official, not part of
this repository) trained on the same default simulator and split, in the same process as a
run of this project's gru4rec, so both figures see the same machine load.

Usage: python benchmarks/bench_gru4rec_official.py --official PATH/gru4rec_pytorch.py
       [--epochs 1] [--ours "loss=sampled batch_size=512"]
The official model is scored like ours: full-catalog rank of every TEST target, pessimistic
ties, Hit@10 against the oracle's; it sees the whole prefix (ours sees the last max_len = 25
clicks; sessions are at most 34 clicks long).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import time

import numpy as np
import pandas as pd
import torch
from _common import machine, uptime
from bench_zoo import parse_try, run

from streamrec.config import RunConfig, TrainConfig
from streamrec.data.splits import make_split
from streamrec.evaluation.baselines import Oracle, evaluate_scorer
from streamrec.evaluation.metrics import metrics_from_ranks


def train_frame(data, split) -> pd.DataFrame:
    """The training sessions as GRU4Rec's SessionId / ItemId / Time columns."""
    sessions = np.unique(split.train.session)
    starts, ends = data.offsets[sessions], data.offsets[sessions + 1]
    lengths = ends - starts
    index = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)])
    return pd.DataFrame({
        "SessionId": np.repeat(sessions, lengths),
        "ItemId": data.items[index],
        "Time": np.arange(index.shape[0], dtype=np.float64),
    })


@torch.no_grad()
def official_test_hit(gru, data, split, k: int = 10) -> tuple[float, int]:
    """(Hit@k over the test targets, targets whose items the model never saw)."""
    model = gru.model.eval()
    idmap = gru.data_iterator.itemidmap
    lookup = np.full(data.config.n_items, -1)
    lookup[idmap.index.values] = idmap.values
    sessions = np.unique(split.test.session)
    ranks = []
    unknown = 0
    for chunk in np.array_split(sessions, max(1, len(sessions) // 512)):
        lengths = data.lengths[chunk]
        width = int(lengths.max())
        items = np.full((len(chunk), width), -1)
        for r, s in enumerate(chunk):
            items[r, : lengths[r]] = lookup[data.items[data.offsets[s] : data.offsets[s + 1]]]
        hidden = [torch.zeros(len(chunk), size) for size in gru.layers]
        for t in range(width - 1):
            x = torch.from_numpy(np.maximum(items[:, t], 0))
            embedded, out, bias = model.embed(x, hidden, None)
            state = model.hidden_step(embedded, hidden)
            scores = model.score_items(state, out, bias)  # (S, n_items)
            has_next = t + 1 < lengths
            target = items[:, t + 1]
            known = has_next & (target >= 0)
            unknown += int((has_next & (target < 0)).sum())
            rows = np.flatnonzero(known)
            tgt = torch.from_numpy(target[rows])
            s = scores[torch.from_numpy(rows)]
            ranks.append((s >= s.gather(1, tgt.view(-1, 1))).sum(dim=1).numpy())
            ranks.append(np.full(int((has_next & (target < 0)).sum()), 10**9))
    return metrics_from_ranks(np.concatenate(ranks), (k,))[f"hit@{k}"], unknown


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--official", required=True, help="path to gru4rec_pytorch.py")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--ours", default="loss=sampled", help="our gru4rec's fields as key=value")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    spec = importlib.util.spec_from_file_location("gru4rec_pytorch", args.official)
    official = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(official)

    config = RunConfig()
    from streamrec.world.simulator import simulate

    data = simulate(config.sim)
    split = make_split(data, TrainConfig())
    oracle, _ = evaluate_scorer(Oracle().fit(data, split.train), data, split.test, TrainConfig().max_len)
    print(f"machine: {machine()}\nload: {uptime()}")
    print(f"oracle TEST hit@10 = {oracle['hit@10']:.4f}")

    frame = train_frame(data, split)
    gru = official.GRU4Rec(layers=[128], loss="cross-entropy", batch_size=128, n_sample=2048,
                           n_epochs=1, device=torch.device("cpu"))
    trained = 0.0
    for epoch in range(1, args.epochs + 1):
        torch.manual_seed(epoch)
        log = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(log):
            if epoch == 1:
                gru.fit(frame, compatibility_mode=False)  # its numpy init fails on this torch
            else:  # fit() starts over; later epochs reuse the model and optimiser state
                raise SystemExit("--epochs > 1 is not supported by this harness")
        trained += time.perf_counter() - start
        hit, unknown = official_test_hit(gru, data, split)
        print(f"official GRU4Rec (GRU 128, XE + 2048 negatives, batch 128): epoch {epoch} "
              f"train {trained:.1f} s  test hit@10 {hit:.4f} = {hit / oracle['hit@10']:.3f} of oracle "
              f"({unknown} targets unseen in training)", flush=True)
    family, model_fields, train_fields = parse_try("gru4rec " + args.ours)
    train_fields.setdefault("epochs", args.epochs)
    print(f"load: {uptime()}")
    run(f"ours: gru4rec {args.ours}", (family, model_fields, train_fields), data, split,
        oracle["hit@10"], budget=1e6)
    print(f"load after: {uptime()}")


if __name__ == "__main__":
    main()
