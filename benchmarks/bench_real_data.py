"""The README's real-data tables: baselines and trained models on the two shared click-log
samples, HR@10, HR@20, MRR@20, NDCG@20 over all test targets, with training time.

Runs exactly the README's commands, in-process: `import` (into a temporary STREAMREC_DATA_DIR),
`baselines --dataset NAME` and `train --dataset NAME --preset P` for each model preset, each
trained once, one after the other. The samples live outside the repository
(`STREAMREC_SHARED_DATA`, default `<repo>/../shared/data`); a missing sample is skipped with the
reason. Training time is the run's own `train_seconds` (batches only) and the wall time of the
whole `train` command (loading, validation after every epoch and the test scoring included).
The best validation MRR@20 and the training seconds it took to reach it come from the run's
metrics.jsonl (the issue's "best validation MRR@20 within 2 minutes").

Usage: python benchmarks/bench_real_data.py [--only yoochoose-100k] [--train '--preset yoochoose']
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

from _common import machine

from streamrec.__main__ import main as cli

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STREAMREC_SHARED_DATA", ROOT.parent / "shared" / "data"))
YC = SHARED / "yoochoose-100k" / "yoochoose-clicks-100k_"
# Families without a tuned preset: their own defaults, a fixed epoch count and time limit.
UNTUNED = ["--epochs", "5", "--max-seconds", "110"]
# name -> (import arguments, as in the README; the `train` flags of each model row)
SAMPLES: dict[str, tuple[list[str], list[list[str]]]] = {
    "yoochoose-100k": (
        [f"{YC}train_full.txt", "--test", f"{YC}test.txt", "--split", "given"],
        [["--preset", "yoochoose"], ["--preset", "yoochoose-lstm"],
         ["--model", "narm", *UNTUNED], ["--model", "sasrec", *UNTUNED]],
    ),
    "diginetica-sample": (
        [str(SHARED / "diginetica-sample" / "sample_train-item-views.csv"),
         "--split", "time", "--test-days", "7"],
        [["--preset", "diginetica"], ["--model", "gru4rec", "--epochs", "40"],
         ["--model", "narm", "--epochs", "40"], ["--model", "sasrec", "--epochs", "40"]],
    ),
}
COLUMNS = ("hit@10", "hit@20", "mrr@20", "ndcg@20")


def run_cli(args: list[str]) -> dict:
    """Run `python -m streamrec ARGS --json` in-process; its last stdout line parsed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli([*args, "--json"])
    if code != 0:
        raise SystemExit(f"`{' '.join(args)}` exited {code}:\n{out.getvalue()[-2000:]}")
    return json.loads(out.getvalue().strip().splitlines()[-1])


def epoch_figures(run: Path) -> dict[str, float]:
    """Training seconds, epochs, and the best validation MRR@20 with when it was reached."""
    events = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    epochs = [e for e in events if e["event"] == "epoch"]
    best = max(epochs, key=lambda e: e["mrr@20"])
    return {"train_seconds": epochs[-1]["train_seconds"], "epochs": epochs[-1]["epoch"],
            "best_valid_mrr20": best["mrr@20"], "best_epoch": best["epoch"],
            "best_at_seconds": best["train_seconds"], "best_at_elapsed": best["elapsed"]}


def family_of(config: dict) -> str:
    """The model family a run folder's config.json names."""
    return str(config.get("model", {}).get("family", "lstm")).upper()


def row(name: str, metrics: dict[str, float], seconds: str) -> str:
    """One markdown table row."""
    return f"| {name} | " + " | ".join(f"{metrics[c]:.4f}" for c in COLUMNS) + f" | {seconds} |"


def bench(name: str, rows: list[list[str]], data_dir: Path, models_dir: Path) -> None:
    """Import one sample, score the baselines, train every model row; print its table."""
    import_args, default_rows = SAMPLES[name]
    if not Path(import_args[0]).exists():
        print(f"\n{name}: skipped, {import_args[0]} is absent (set STREAMREC_SHARED_DATA)")
        return
    run_cli(["import", *import_args, "--name", name, "--quiet"])
    baselines = run_cli(["baselines", "--dataset", name])
    lines = [f"\n### {name}\n", "| method | HR@10 | HR@20 | MRR@20 | NDCG@20 | training |",
             "|---|---:|---:|---:|---:|---|"]
    for method, metrics in baselines.items():
        if isinstance(metrics, dict) and all(c in metrics for c in COLUMNS):
            lines.append(row(method, metrics, "fit in the scoring"))
    notes = []
    for i, flags in enumerate(rows or default_rows):
        run_name, label = f"{name}-{i}", " ".join(flags)
        start = time.perf_counter()
        result = run_cli(["train", "--dataset", name, *flags, "--name", run_name,
                          "--models-dir", str(models_dir), "--no-baselines", "--quiet"])
        wall = time.perf_counter() - start
        figures = epoch_figures(models_dir / run_name)
        metrics = next(iter(result["results"].values()))
        family = json.loads((models_dir / run_name / "config.json").read_text())
        lines.append(row(f"{family_of(family)} `{label}`", metrics,
                         f"{figures['train_seconds']:.0f} s train, {wall:.0f} s wall, "
                         f"{figures['epochs']:g} epochs"))
        notes.append(f"- `{label}`: best validation MRR@20 {figures['best_valid_mrr20']:.4f} at "
                     f"epoch {figures['best_epoch']:g}, after {figures['best_at_seconds']:.0f} s "
                     f"of training ({figures['best_at_elapsed']:.0f} s with validation); "
                     f"status {result['status']}")
    print("\n".join(lines + [""] + notes))
    print("uptime:", os.popen("uptime").read().strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SAMPLES), help="one sample")
    parser.add_argument("--train", action="append", default=[], metavar="FLAGS",
                        help="train flags of one model row, e.g. '--preset yoochoose' "
                        "(repeatable; default: each sample's own rows)")
    args = parser.parse_args()
    print(machine(), "|", os.popen("uptime").read().strip())
    rows = [flags.split() for flags in args.train]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, models_dir = Path(tmp) / "data", Path(tmp) / "models"
        os.environ["STREAMREC_DATA_DIR"] = str(data_dir)
        for name in [args.only] if args.only else list(SAMPLES):
            bench(name, rows, data_dir, models_dir)


if __name__ == "__main__":
    main()
