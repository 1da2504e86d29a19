"""Command line: `python -m streamrec {simulate,train,baselines,recommend,worker}`."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from streamrec import runs
from streamrec.config import ModelConfig, RunConfig, SimConfig, TrainConfig

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # The case study's exact setup: its generator, its random example split and optimiser.
    "casestudy": {
        "sim": {"engine": "reference"},
        "train": {
            "protocol": "example", "epochs": 20, "batch_size": 256, "lr": 1e-3,
            "step_size": 8, "gamma": 0.5, "clip_norm": 5.0, "max_len": 25, "seed": 42,
        },
    },
    # The demo run shipped in models/demo: default simulator and model, a short training.
    "demo": {"train": {"epochs": 6, "keep_last": False}},
}
# CLI flag names that differ from the field names, to keep the three sections apart.
_RENAMES = {("train", "seed"): "train-seed"}
_SKIP = {("model", "n_items")}  # follows the simulator's catalog


def _flag(section: str, name: str) -> str:
    return "--" + _RENAMES.get((section, name), name.replace("_", "-"))


def _add_config_flags(parser: argparse.ArgumentParser, sections: dict[str, type]) -> None:
    """One flag per config field, typed from the dataclass; defaults stay None (= not given)."""
    for section, cls in sections.items():
        group = parser.add_argument_group(f"{section} settings")
        for f in dataclasses.fields(cls):
            if (section, f.name) in _SKIP:
                continue
            flag, dest = _flag(section, f.name), f"{section}__{f.name}"
            default = f.default
            if isinstance(default, bool):
                group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=None)
            elif isinstance(default, tuple):
                group.add_argument(flag, dest=dest, default=None, metavar="K,K",
                                   type=lambda s: tuple(int(x) for x in s.split(",") if x))
            else:
                kind = type(default)
                group.add_argument(flag, dest=dest, type=kind, default=None,
                                   help=f"(default: {default})")


def _config_from_args(args: argparse.Namespace) -> RunConfig:
    """Preset first, then explicit flags on top; validated."""
    parts: dict[str, dict[str, Any]] = {"sim": {}, "model": {}, "train": {}}
    for section, values in PRESETS.get(getattr(args, "preset", None) or "", {}).items():
        parts[section].update(values)
    for key, value in vars(args).items():
        if "__" in key and value is not None:
            section, name = key.split("__", 1)
            parts[section][name] = value
    sim = SimConfig(**parts["sim"])
    model = ModelConfig(n_items=sim.n_items, **parts["model"])
    return RunConfig(sim, model, TrainConfig(**parts["train"])).validate()


def _print_stats(stats: dict[str, float]) -> None:
    for key, value in stats.items():
        shown = f"{value:,}" if isinstance(value, int) else f"{value:.4f}"
        print(f"  {key:<24} {shown}")


def cmd_simulate(args: argparse.Namespace) -> int:
    """Generate sessions, print statistics, optionally write a CSV."""
    from streamrec.simulator import dataset_stats, simulate

    config = _config_from_args(args).sim
    start = time.perf_counter()
    data = simulate(config)
    print(f"simulated with the {config.engine} engine in {time.perf_counter() - start:.2f} s")
    _print_stats(dataset_stats(data))
    if args.out:
        data.to_frame().to_csv(args.out, index=False)
        print(f"wrote {data.n_clicks:,} clicks to {args.out}")
    return 0


def _table(rows: dict[str, dict[str, float]], cutoffs: tuple[int, ...]) -> str:
    """A plain-text results table like the case study's, one row per method."""
    k_max = max(cutoffs)
    cols = [f"hit@{k}" for k in cutoffs] + [f"mrr@{k_max}", f"ndcg@{k_max}"]
    lines = [f"{'method':<26}" + "".join(f"{c:>10}" for c in cols)]
    for name, metrics in rows.items():
        lines.append(f"{name:<26}" + "".join(f"{metrics.get(c, float('nan')):>10.4f}" for c in cols))
    return "\n".join(lines)


def _print_left_out(left_out: dict[str, str]) -> None:
    """One line per baseline the data cannot support, with the reason."""
    for name, reason in left_out.items():
        print(f"{name}: left out, {reason}")


def cmd_baselines(args: argparse.Namespace) -> int:
    """Baselines and the oracle on the held-out targets, no training."""
    from streamrec.baselines import evaluate_baselines, left_out_baselines
    from streamrec.data import make_split
    from streamrec.simulator import simulate

    config = _config_from_args(args)
    data = simulate(config.sim)
    split = make_split(data, config.train)
    tc = config.train
    results = evaluate_baselines(data, split, tc.max_len, tc.cutoffs, tc.exclude_seen)
    print(f"{len(split.report):,} held-out targets ({'test' if len(split.test) else 'valid'} split)")
    print(_table(results, tc.cutoffs))
    _print_left_out(left_out_baselines(data))
    if args.json:
        print(json.dumps(results))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train a run folder with a progress bar; print the final table."""
    from tqdm import tqdm

    from streamrec.baselines import default_scorers
    from streamrec.jobs import run_training

    config = _config_from_args(args)
    root = Path(args.models_dir) if args.models_dir else runs.default_root()
    path = runs.create_run(config, root, args.name)
    print(f"run folder: {path}", file=sys.stderr)
    bar = tqdm(total=1.0, unit="run", bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}",
               file=sys.stderr, disable=args.quiet)

    def on_event(event: dict[str, Any]) -> None:
        if event["event"] == "batch":
            bar.n = round(event["progress"], 4)
            bar.set_postfix_str(f"epoch {event['epoch']} loss {event['loss']:.3f}")
        elif event["event"] == "epoch":
            k = min(config.train.cutoffs)
            bar.write(f"epoch {event['epoch']:>5.2f}: valid loss {event['valid_loss']:.4f}  "
                      f"hit@{k} {event[f'hit@{k}']:.4f}  ({event['epoch_seconds']:.1f} s)")

    status = run_training(path, config, with_baselines=not args.no_baselines, on_event=on_event)
    bar.close()
    print(f"\nstatus: {status['state']}" + (f" ({status['reason']})" if status.get("reason") else ""))
    baselines = status.get("baselines", {})  # stored with sorted keys: restore display order
    order = [scorer.name for scorer in default_scorers()]
    rows = {"LSTM (this run)": status.get("final", {}),
            **{name: baselines[name] for name in order if name in baselines}}
    print(f"final metrics on the {status.get('report_split', 'valid')} split:")
    print(_table(rows, config.train.cutoffs))
    _print_left_out(status.get("baselines_left_out", {}))
    if args.json:
        print(json.dumps({"run": str(path), "status": status["state"], "results": rows}))
    return 0 if status["state"] in ("completed", "stopped") else 1


def cmd_recommend(args: argparse.Namespace) -> int:
    """Top-K for a typed session from a trained run."""
    from streamrec.recommend import parse_items, recommend

    model, config = runs.load_model(Path(args.run))
    items = parse_items(args.items, config.model.n_items)
    rec = recommend(model, items, args.k, config.train.max_len)
    category, _ = runs.load_catalog(Path(args.run))
    if rec.dropped:
        print(f"note: the session has {len(items)} clicks; the model sees the last {len(rec.session)}")
    print("attention over the clicks:")
    for item, weight in zip(rec.session, rec.attention):
        print(f"  item {item:>6} (category {category[item]:>3})  {weight:.3f}")
    print(f"top {args.k}:")
    for rank, (item, prob) in enumerate(zip(rec.top_items, rec.top_probs), start=1):
        print(f"  {rank:>3}. item {item:>6} (category {category[item]:>3})  p = {prob:.4f}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Internal: train an existing run folder (used by the dashboard's launcher)."""
    from streamrec.jobs import run_training

    status = run_training(Path(args.run_dir))
    return 0 if status["state"] in ("completed", "stopped") else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m streamrec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sim_only = {"sim": SimConfig}
    everything = {"sim": SimConfig, "model": ModelConfig, "train": TrainConfig}

    p = sub.add_parser("simulate", help="generate sessions and print statistics")
    _add_config_flags(p, sim_only)
    p.add_argument("--out", metavar="FILE.csv", help="write session_id,position,item_id,category")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("train", help="train a model into a new run folder under models/")
    p.add_argument("--preset", choices=sorted(PRESETS), help="start from a named setup")
    p.add_argument("--name", help="run folder name (default: time stamp and model summary)")
    p.add_argument("--models-dir", help="where run folders live (default: models/)")
    p.add_argument("--no-baselines", action="store_true", help="skip baselines and the oracle")
    p.add_argument("--json", action="store_true", help="print the final metrics as JSON last")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_config_flags(p, everything)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("baselines", help="baselines and the Bayes-optimal oracle, no training")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON last")
    _add_config_flags(p, {"sim": SimConfig, "train": TrainConfig})
    p.set_defaults(func=cmd_baselines)

    p = sub.add_parser("recommend", help="top-K for a session from a trained run")
    p.add_argument("--run", required=True, help="run folder, e.g. models/demo")
    p.add_argument("--items", required=True, help="comma-separated item ids, e.g. 302,310,365")
    p.add_argument("--k", type=int, default=10)
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("worker", help=argparse.SUPPRESS)
    p.add_argument("run_dir")
    p.set_defaults(func=cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; bad input gives a one-line error and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, runs.RunError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
