"""Baselines at session-rec's published rsc15 settings and at hand-picked ones, beside the
trained neural models, on the YOOCHOOSE 100k sample (given split, all 10,152 test targets):
HR@10, HR@20, MRR@20, NDCG@20, and every difference with a 95% paired bootstrap interval over
test sessions.

The sample lives outside the repository (`STREAMREC_SHARED_DATA`, default
`<repo>/../shared/data`; see its README). It is imported with the README's command into a
temporary data root; the README's neural rows are trained there with the README's flags (as
`bench_real_data.py` does), and every baseline fits on the very training sessions those runs
used (the run folder's stored split: training sessions minus the validation tenth), so each
difference pairs the same 10,152 targets. `--refit` fits the baselines on every non-test
session instead (as session-rec's `train_full`; the neural rows are not refitted).

The kNN methods read each target's whole prefix (every earlier click of its session); SR and
the Markov chain read the last click.

Usage: python benchmarks/bench_baselines_real.py [--no-neural] [--refit] [--only NAME ...]
       python benchmarks/bench_baselines_real.py --pick   # the validation sweep behind the
                                                          # hand-picked rows (no test figures)
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _common import machine

from streamrec.__main__ import main as cli
from streamrec.config import RunConfig
from streamrec.data.sessions import SessionData
from streamrec.data.sources import dataset_config, open_data
from streamrec.data.splits import Split, Targets, all_targets
from streamrec.evaluation.baselines import (
    STAN,
    VSKNN,
    VSTAN,
    GlobalPopularity,
    MarkovChain,
    Scorer,
    SequentialRules,
    SessionKNN,
    evaluate_scorer,
)
from streamrec.evaluation.metrics import metrics_from_ranks, paired_difference
from streamrec.training import runs
from streamrec.training.loop import evaluate_model

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STREAMREC_SHARED_DATA", ROOT.parent / "shared" / "data"))
YC = SHARED / "yoochoose-100k" / "yoochoose-clicks-100k_"
NAME = "yoochoose-100k"
# The README's neural rows (bench_real_data.py): label -> `train` flags.
NEURAL = {
    "GRU4Rec `--preset yoochoose`": ["--preset", "yoochoose"],
    "LSTM family `--preset yoochoose-lstm`": ["--preset", "yoochoose-lstm"],
    "NARM `--model narm --epochs 5`": ["--model", "narm", "--epochs", "5"],
    "SASRec `--model sasrec --epochs 5`": ["--model", "sasrec", "--epochs", "5"],
}  # no --max-seconds (bench_real_data.py's safety cap): under load it would cut epochs short
REFERENCE = "V-SKNN, session-rec rsc15 (k 100, sample 1000, quadratic / quadratic)"
# label -> unfitted scorer. "session-rec rsc15": the settings of session-rec's rsc15
# configurations (conf/save/rsc15/window: window_rsc15_baselines.yml, window_rsc15_stan.yml,
# window_rsc15_vstan.yml; SR's pruning 20 is its constructor default). "issue #17": the
# VMContextKNN settings the issue quotes. "picked": chosen on the validation targets by `--pick`.
BASELINES: dict[str, Any] = {
    "Popularity": lambda: GlobalPopularity(),
    "Markov chain": lambda: MarkovChain(),
    "SR, defaults (steps 10, div)": lambda: SequentialRules(),
    "SR, session-rec rsc15 (steps 8, div, pruning 20)":
        lambda: SequentialRules(steps=8, weighting="div", pruning=20),
    "SR, picked (steps 8, quadratic)": lambda: SequentialRules(steps=8, weighting="quadratic"),
    "Session kNN, defaults (k 100)": lambda: SessionKNN(),
    "Session kNN, k 500 (session-rec's k)": lambda: SessionKNN(k=500),
    "V-SKNN, defaults (k 100, sample 1000, div / div)": lambda: VSKNN(),
    REFERENCE: lambda: VSKNN(k=100, sample_size=1000, weighting="quadratic",
                             vote_decay="quadratic"),
    "V-SKNN, issue #17 (k 500, sample 5000, quadratic / div)":
        lambda: VSKNN(k=500, sample_size=5000, weighting="quadratic", vote_decay="div"),
    "V-SKNN, picked (k 500, sample 5000, quadratic / quadratic, IDF 5)":
        lambda: VSKNN(k=500, sample_size=5000, weighting="quadratic", vote_decay="quadratic",
                      idf_weighting=5.0),
    "STAN, paper defaults (k 100, sample 5000, 1.02 / 5 d / 2.05)": lambda: STAN(),
    "STAN, session-rec rsc15 mrr (k 1000, sample 10000, 1e-5 / 10 d / 2)":
        lambda: STAN(k=1000, sample_size=10000, lambda_1=1e-5, lambda_2=10, lambda_3=2),
    "STAN, session-rec rsc15 hr (k 1000, sample 10000, 0.5 / 20 d / 0.5)":
        lambda: STAN(k=1000, sample_size=10000, lambda_1=0.5, lambda_2=20, lambda_3=0.5),
    "STAN, picked (k 1000, sample 5000, 0.5 / 20 d / 2)":
        lambda: STAN(k=1000, sample_size=5000, lambda_1=0.5, lambda_2=20, lambda_3=2),
    "VSTAN, session-rec rsc15 mrr (k 1500, sample 10000, 0.5 / 5 d / 2 / 2, idf 2)":
        lambda: VSTAN(k=1500, sample_size=10000, lambda_1=0.5, lambda_2=5, lambda_3=2,
                      lambda_4=2, lambda_idf=2),
    "VSTAN, session-rec rsc15 hr (k 2000, sample 10000, 4 / 20 d / 0.5 / 1, idf 2)":
        lambda: VSTAN(k=2000, sample_size=10000, lambda_1=4, lambda_2=20, lambda_3=0.5,
                      lambda_4=1, lambda_idf=2),
    "VSTAN, picked (k 500, sample 5000, 0.5 / 20 d / 4 / 1, idf 5)":
        lambda: VSTAN(k=500, sample_size=5000, lambda_1=0.5, lambda_2=20, lambda_3=4,
                      lambda_4=1, lambda_idf=5),
}
COLUMNS = ("hit@10", "hit@20", "mrr@20", "ndcg@20")
PAIRED = (("hit", 20), ("mrr", 20))


def run_cli(args: list[str]) -> dict[str, Any]:
    """Run `python -m streamrec ARGS --json` in-process; its last stdout line parsed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli([*args, "--json"])
    if code != 0:
        raise SystemExit(f"`{' '.join(args)}` exited {code}:\n{out.getvalue()[-2000:]}")
    result: dict[str, Any] = json.loads(out.getvalue().strip().splitlines()[-1])
    return result


def neural_ranks(labels: list[str], models: Path) -> tuple[dict[str, np.ndarray], dict[str, str], Path]:
    """Train each neural row (README flags) and rank the test targets with its best
    checkpoint; each run's epochs and end state; the last run's folder, whose stored data and
    split the baselines then use."""
    ranks, runs_done, path = {}, {}, models
    for i, label in enumerate(labels):
        path = models / f"nn{i}"
        run_cli(["train", "--dataset", NAME, *NEURAL[label], "--name", path.name,
                 "--models-dir", str(models), "--no-baselines", "--quiet"])
        model, config = runs.load_model(path, "best")
        data, split = runs.load_data(path, config)
        _, ranks[label] = evaluate_model(model, data, split.report, config.train.max_len,
                                         config.train.cutoffs)
        epochs = [e for e in runs.read_events(path) if e["event"] == "epoch"]
        runs_done[label] = (f"{epochs[-1]['epoch']:g} epochs, {epochs[-1]['train_seconds']:.0f} s "
                            f"train, {runs.read_status(path)['state']}")
        print(f"  trained {label}: {runs_done[label]}", flush=True)
    return ranks, runs_done, path


def dataset_split() -> tuple[SessionData, Split]:
    """The data and split `train --dataset` uses, without training (a default config)."""
    return open_data(dataset_config(RunConfig(), NAME))


def refit_split(data: SessionData, split: Split) -> Split:
    """Every non-test session trains (training + validation), the same test targets report."""
    test = np.unique(split.test.session)
    train = np.setdiff1d(np.arange(data.n_sessions), test)
    empty = Targets(np.zeros(0, np.int64), np.zeros(0, np.int64))
    return Split(split.protocol, all_targets(data, train), empty, split.test)


def score(make: Any, data: SessionData, train: Targets, targets: Targets) -> tuple[np.ndarray, float]:
    """(ranks of `targets`, fit + score seconds) of one fresh scorer."""
    start = time.perf_counter()
    scorer: Scorer = make().fit(data, train)
    _, ranks = evaluate_scorer(scorer, data, targets, max_len=50, cutoffs=(10, 20))
    return ranks, time.perf_counter() - start


def cell(a: np.ndarray, b: np.ndarray, sessions: np.ndarray, measure: str, k: int) -> str:
    """"+0.0120 (+0.0060..+0.0180)": a minus b with its 95% session-bootstrap interval."""
    d = paired_difference(a, b, measure, k, sessions)
    mark = "**" if d["lo"] > 0 or d["hi"] < 0 else ""
    return f"{mark}{d['mean']:+.4f}{mark} ({d['lo']:+.4f}..{d['hi']:+.4f})"


def table(rows: dict[str, np.ndarray], seconds: dict[str, str], sessions: np.ndarray,
          neural: set[str]) -> list[str]:
    """Markdown: metrics, then each row minus the reference V-SKNN and minus the best other
    kind (a baseline minus the best neural row by MRR@20, a neural row minus the best baseline)."""
    metrics = {name: metrics_from_ranks(r, (10, 20)) for name, r in rows.items()}
    best = {kind: max((n for n in rows if (n in neural) == kind),
                      key=lambda n: metrics[n]["mrr@20"], default=None) for kind in (True, False)}
    head = ("| method | HR@10 | HR@20 | MRR@20 | NDCG@20 | HR@20 − ref. V-SKNN (95% CI) | "
            "MRR@20 − ref. V-SKNN (95% CI) | vs | HR@20 − that (95% CI) | MRR@20 − that (95% CI) "
            "| fit + score / train |")
    lines = [head, "|---|" + "---:|" * 4 + "---|---|---|---|---|---|"]
    for name, ranks in rows.items():
        other = best[name not in neural]
        ref = [cell(ranks, rows[REFERENCE], sessions, m, k) if REFERENCE in rows else ""
               for m, k in PAIRED]
        vs = [cell(ranks, rows[other], sessions, m, k) if other else "" for m, k in PAIRED]
        lines.append(f"| {name} | " + " | ".join(f"{metrics[name][c]:.4f}" for c in COLUMNS)
                     + f" | {ref[0]} | {ref[1]} | {other or ''} | {vs[0]} | {vs[1]} | "
                     f"{seconds[name]} |")
    return lines


def pick(data: SessionData, split: Split) -> None:
    """The validation sweep behind the "picked" rows: each candidate's validation HR@20 and
    MRR@20 (no test target is read)."""
    candidates: dict[str, Any] = {
        **{f"SR steps {s} {w}": (lambda s=s, w=w: SequentialRules(steps=s, weighting=w))
           for s in (2, 4, 8) for w in ("div", "quadratic", "linear")},
        **{f"V-SKNN k {k} sample {n} {w}/{d} idf {i}":
           (lambda k=k, n=n, w=w, d=d, i=i: VSKNN(k=k, sample_size=n, weighting=w,
                                                  vote_decay=d, idf_weighting=i))
           for k, n in ((100, 1000), (500, 5000)) for w in ("div", "quadratic")
           for d in ("div", "quadratic") for i in (0.0, 1.0, 5.0)},
        **{f"STAN k {k} l1 {a} l2 {b} l3 {c}":
           (lambda k=k, a=a, b=b, c=c: STAN(k=k, sample_size=5000, lambda_1=a, lambda_2=b,
                                             lambda_3=c))
           for k in (200, 1000) for a in (0.5, 2.0) for b in (5.0, 20.0) for c in (0.5, 2.0)},
        **{f"VSTAN k {k} l4 {d} idf {i}":
           (lambda k=k, d=d, i=i: VSTAN(k=k, sample_size=5000, lambda_1=0.5, lambda_2=5,
                                         lambda_3=2, lambda_4=d, lambda_idf=i))
           for k in (500, 1500) for d in (1.0, 2.0, 4.0) for i in (0.0, 2.0, 5.0)},
        **{f"VSTAN k 500 l1 {a} l2 {b} l3 {c} l4 1 idf 5":
           (lambda a=a, b=b, c=c: VSTAN(k=500, sample_size=5000, lambda_1=a, lambda_2=b,
                                         lambda_3=c, lambda_4=1, lambda_idf=5))
           for a in (0.25, 0.5, 1.0) for b in (5.0, 20.0) for c in (2.0, 4.0)},
        **{f"V-SKNN k 1000 sample 10000 {w}/quadratic idf 5":
           (lambda w=w: VSKNN(k=1000, sample_size=10000, weighting=w, vote_decay="quadratic",
                              idf_weighting=5))
           for w in ("div", "quadratic")},
    }
    for name, make in candidates.items():
        ranks, seconds = score(make, data, split.train, split.valid)
        m = metrics_from_ranks(ranks, (20,))
        print(f"{name:<48} valid HR@20 {m['hit@20']:.4f} MRR@20 {m['mrr@20']:.4f} ({seconds:.0f} s)",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-neural", action="store_true", help="baselines only")
    parser.add_argument("--refit", action="store_true",
                        help="fit the baselines on training + validation sessions")
    parser.add_argument("--only", nargs="+", metavar="LABEL_START",
                        help="baselines whose label starts with one of these")
    parser.add_argument("--pick", action="store_true", help="the validation sweep only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not YC.parent.is_dir():
        raise SystemExit(f"no YOOCHOOSE sample at {YC.parent}: set STREAMREC_SHARED_DATA")
    print(machine(), "|", os.popen("uptime").read().strip(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STREAMREC_DATA_DIR"] = str(Path(tmp) / "data")
        models = Path(tmp) / "models"
        run_cli(["import", f"{YC}train_full.txt", "--test", f"{YC}test.txt", "--split", "given",
                 "--name", NAME, "--quiet"])
        if args.no_neural or args.pick:
            data, split = dataset_split()
            neural: dict[str, np.ndarray] = {}
            trained: dict[str, str] = {}
        else:
            neural, trained, last = neural_ranks(list(NEURAL), models)
            data, split = runs.load_data(last, runs.read_config(last))
        if args.pick:
            pick(data, split)
            return
        fit = refit_split(data, split) if args.refit else split
        targets = split.report
        print(f"{NAME}: {len(np.unique(fit.train.session)):,} training sessions "
              f"({len(fit.train):,} targets) for the baselines, {len(targets):,} test targets "
              f"in {len(np.unique(targets.session)):,} sessions", flush=True)
        rows: dict[str, np.ndarray] = {}
        seconds: dict[str, str] = {}
        for label, make in BASELINES.items():
            if args.only and not any(label.startswith(p) for p in args.only):
                continue
            rows[label], took = score(make, data, fit.train, targets)
            seconds[label] = f"{took:.0f} s"
            print(f"  scored {label} ({took:.0f} s)", flush=True)
        for label, ranks in neural.items():
            rows[label], seconds[label] = ranks, trained[label]
        print("\n".join(["", *table(rows, seconds, targets.session, set(neural)), ""]))
        print("bold: the 95% interval excludes 0 | uptime:", os.popen("uptime").read().strip())


if __name__ == "__main__":
    main()
