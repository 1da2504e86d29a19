"""Command line: `python -m streamrec {simulate,train,baselines,scenarios,recommend,import,datasets,tune,runs,worker}`."""
from __future__ import annotations

# First, before anything imports torch: idle OpenMP threads must sleep, not spin, or a busy
# neighbour process slows a training ~15x (streamrec/threads.py). libgomp reads it at load.
from streamrec.threads import quiet_environment, training_threads

quiet_environment()

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from streamrec import memory
from streamrec.config import (
    MODEL_CONFIGS,
    FieldInfo,
    RunConfig,
    SimConfig,
    TrainConfig,
    field_infos,
    model_config,
)
from streamrec.data.datasets import DatasetError
from streamrec.evaluation.metrics import PairedDifference
from streamrec.text import printable
from streamrec.training import runs
from streamrec.training.runs import OracleReach
from streamrec.world.scenarios import SCENARIOS, Scenario, get_scenario

PRESETS: dict[str, dict[str, Any]] = {
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
    # models/demo-streaming: the scenario with the largest oracle gap, trained with what the
    # scenario recommended when it was built: skip path and copy pointer, without the
    # transition heads recommended since (`train --scenario streaming` adds them). Every figure
    # the docs give for the demo is of this model.
    "demo-streaming": {
        "sim": dict(SCENARIOS["streaming"].sim),
        "model": {"item_skip": True, "copy": True},
        "train": {"max_len": SCENARIOS["streaming"].max_len, **SCENARIOS["streaming"].train,
                  "keep_last": False},
    },
    # The real-data samples (docs/results-real.md), tuned on each one's validation sessions
    # (the latest 10% of training), never its test set. A preset may name its model family
    # ("family"), used when `--model` is not given. GRU4Rec (Hidasi et al., 2016; Hidasi &
    # Karatzoglou, 2018): a GRU read at its last state, input and output item vectors shared.
    "yoochoose": {
        "family": "gru4rec",
        "model": {"hidden_size": 256},
        "train": {"epochs": 4, "lr": 6e-3, "step_size": 2, "gamma": 0.5, "loss": "full"},
    },
    # The LSTM family on the same sample, as a GRU at its last state (better there than LSTM
    # with attention pooling): wider, smaller batches and a gentler rate than the defaults.
    "yoochoose-lstm": {
        "family": "lstm",
        "model": {"cell": "gru", "pooling": "last", "num_layers": 1, "hidden_size": 256,
                  "embed_dim": 128, "dropout": 0.25},
        "train": {"epochs": 5, "batch_size": 128, "lr": 3e-3, "step_size": 2, "gamma": 0.5},
    },
    # The LSTM family on the Diginetica sample (1,378 training clicks): more, cheaper epochs.
    "diginetica": {
        "family": "lstm",
        "model": {"cell": "gru", "pooling": "last", "num_layers": 1, "hidden_size": 128,
                  "embed_dim": 64, "dropout": 0.25},
        "train": {"epochs": 40, "batch_size": 128, "lr": 1e-2, "step_size": 20, "gamma": 0.5},
    },
}
# CLI flag names that differ from the field names, to keep the three sections apart.
_RENAMES = {("train", "seed"): "train-seed"}
_SKIP = {("model", "n_items")}  # follows the simulator's catalog


def _flag(section: str, name: str) -> str:
    return "--" + _RENAMES.get((section, name), name.replace("_", "-"))


def _add_config_flags(
    parser: argparse.ArgumentParser, sections: Mapping[str, type[Any] | tuple[type[Any], ...]]
) -> None:
    """One flag per config field, typed from the dataclass, its help from the field's
    metadata (`streamrec.config.setting`: help, unit, range); defaults stay None (= not given).

    A section may list several dataclasses (the model families): a field they share gets
    one flag, whose help names each family's default."""
    for section, classes in sections.items():
        group = parser.add_argument_group(f"{section} settings")
        classes = classes if isinstance(classes, tuple) else (classes,)
        seen: set[str] = set()
        for info in (info for cls in classes for info in field_infos(cls).values()):
            if (section, info.name) in _SKIP or info.name in seen:
                continue
            seen.add(info.name)
            shared = [field_infos(cls)[info.name] for cls in classes
                      if info.name in field_infos(cls)]
            defaults = {cls.family: field_infos(cls)[info.name].default for cls in classes
                        if len(classes) > 1 and info.name in field_infos(cls)}
            shown = "; ".join(f"{k}: {v}" for k, v in defaults.items()) or info.default
            flag, dest = _flag(section, info.name), f"{section}__{info.name}"
            one_range = len({(other.lo, other.hi) for other in shared}) == 1  # else per family
            help_text = _flag_help(info, shown, one_range)
            default = info.default
            if isinstance(default, bool):
                group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction,
                                   default=None, help=help_text)
            elif isinstance(default, tuple):
                group.add_argument(flag, dest=dest, default=None, metavar="K,K", help=help_text,
                                   type=lambda s: tuple(int(x) for x in s.split(",") if x))
            else:
                group.add_argument(flag, dest=dest, type=type(default), default=None,
                                   help=help_text)


def _flag_help(info: FieldInfo, shown: object, with_range: bool = True) -> str:
    """'Label: help [lo, hi] (default: 20000 sessions)' for a config field's flag."""
    text = info.label + (f": {info.help.rstrip('.')}" if info.help else "")
    if with_range and info.lo is not None and info.hi is not None:
        ends = [f"{x:,}" if isinstance(x, int) else f"{x:g}" for x in (info.lo, info.hi)]
        text += f" [{ends[0]}, {ends[1]}]"
    unit = f" {info.unit}" if info.unit and not isinstance(shown, str) else ""
    return f"{text} (default: {shown}{unit})".replace("%", "%%")  # argparse formats help with %


def _config_from_args(args: argparse.Namespace) -> RunConfig:
    """Preset first, then the scenario, then explicit flags on top; validated."""
    parts: dict[str, dict[str, Any]] = {"sim": {}, "model": {}, "train": {}}
    preset = PRESETS.get(getattr(args, "preset", None) or "", {})
    for section, values in preset.items():
        if section != "family":
            parts[section].update(values)
    family = getattr(args, "model", None) or preset.get("family")
    if not family and getattr(args, "command", None) == "train" and getattr(args, "dataset", None):
        family = _recommended(args, parts)  # the data set's tune winner, else the measured default
    family = family or "lstm"
    if getattr(args, "scenario", None):
        scenario = get_scenario(args.scenario)
        parts["sim"].update(scenario.sim)
        parts["model"].update(scenario.model_settings(MODEL_CONFIGS[family]))
        parts["train"].update(scenario.train, max_len=scenario.max_len)
    for key, value in vars(args).items():
        if "__" in key and value is not None:
            section, name = key.split("__", 1)
            parts[section][name] = value
    sim = SimConfig(**parts["sim"])
    known = {f.name for f in dataclasses.fields(model_config(family))}
    foreign = sorted(set(parts["model"]) - known)
    if foreign:
        raise ValueError(
            f"{', '.join(_flag('model', n) for n in foreign)} is not a setting of model {family}: "
            f"its settings are {', '.join(_flag('model', n) for n in sorted(known - {'n_items'}))}"
        )
    model = model_config(family, n_items=sim.n_items, **parts["model"])
    return RunConfig(sim, model, TrainConfig(**parts["train"])).validate()


def _recommended(args: argparse.Namespace, parts: dict[str, dict[str, Any]]) -> str:
    """The family (its settings put into `parts`) that `train --dataset NAME` defaults to."""
    from streamrec.training.recommended import default_for_dataset

    recommendation, note = default_for_dataset(args.dataset)
    if note:
        print(f"note: recommended.json {note}", file=sys.stderr)
    parts["model"].update(recommendation.model)
    parts["train"].update(recommendation.train)
    print(f"model: {recommendation.describe()}; --model or --preset to choose another",
          file=sys.stderr)
    return recommendation.family


def _with_dataset(config: RunConfig, args: argparse.Namespace) -> RunConfig:
    """`config` pointed at the imported data set `--dataset` names, if any; simulator flags
    given beside it are ignored, and said so."""
    name = getattr(args, "dataset", None)
    if not name:
        return config
    from streamrec.data.sources import dataset_config

    ignored = [_flag("sim", key.split("__", 1)[1]) for key, value in vars(args).items()
               if key.startswith("sim__") and value is not None]
    if ignored:
        print(f"note: training on data set {name!r}; simulator flags ignored: "
              + ", ".join(ignored), file=sys.stderr)
    return dataset_config(config, name)


def _print_stats(stats: dict[str, float]) -> None:
    for key, value in stats.items():
        shown = f"{value:,}" if isinstance(value, int) else f"{value:.4f}"
        print(f"  {key:<24} {shown}")


def cmd_simulate(args: argparse.Namespace) -> int:
    """Generate sessions, print statistics, optionally write a CSV."""
    from streamrec.world.simulator import dataset_stats, simulate

    config = _config_from_args(args).sim
    out = _writable_file(args.out) if args.out else None
    start = time.perf_counter()
    data = simulate(config)
    print(f"simulated with the {config.engine} engine in {time.perf_counter() - start:.2f} s")
    _print_stats(dataset_stats(data))
    if out:
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:  # through a temp file, so a full disk leaves no half-written CSV
            data.to_frame().to_csv(tmp, index=False)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        print(f"wrote {data.n_clicks:,} clicks to {out}")
    return 0


def _writable_file(name: str) -> Path:
    """`name` as an output file, checked before any work: not a folder, its folder exists."""
    out = Path(name)
    if out.is_dir():
        raise ValueError(f"--out = {name!r} is a folder: give a file name such as clicks.csv")
    if not out.parent.is_dir():
        raise ValueError(f"--out = {name!r}: the folder {str(out.parent)!r} does not exist")
    return out


def _models_root(args: argparse.Namespace) -> Path:
    """--models-dir, else $STREAMREC_MODELS_DIR, else models/."""
    return Path(args.models_dir) if args.models_dir else runs.default_root()


def _table(rows: dict[str, dict[str, float]], cutoffs: tuple[int, ...]) -> str:
    """A plain-text results table like the case study's, one row per method."""
    k_max = max(cutoffs)
    cols = [f"hit@{k}" for k in cutoffs] + [f"mrr@{k_max}", f"ndcg@{k_max}"]
    width = max([26, *(len(name) + 2 for name in rows)])
    lines = [f"{'method':<{width}}" + "".join(f"{c:>10}" for c in cols)]
    for name, metrics in rows.items():
        lines.append(f"{name:<{width}}" + "".join(f"{metrics.get(c, float('nan')):>10.4f}" for c in cols))
    return "\n".join(lines)


def _paired_table(paired: Mapping[str, Mapping[str, PairedDifference]]) -> str:
    """The model minus each method, per measure: the mean difference with its 95% interval
    from a bootstrap over test sessions, then one sentence per method."""
    from streamrec.evaluation.verdict import difference_phrase

    measures = list(next(iter(paired.values()), {}))
    cells = [cell for row in paired.values() for cell in row.values()]
    n, sessions = (cells[0].get("n", 0), cells[0].get("sessions", 0)) if cells else (0, 0)
    head = (f"paired difference, this run minus each method, on the same {n:,} "
            f"targets of {sessions:,} sessions (mean, 95% CI from a bootstrap "
            "over sessions):")
    lines = [head, f"{'method':<26}" + "".join(f"{m:>27}" for m in measures)]
    for name, row in paired.items():
        texts = [f"{row[m]['mean']:+.4f} ({row[m].get('lo', float('nan')):+.4f}.."
                 f"{row[m].get('hi', float('nan')):+.4f})" for m in measures]
        lines.append(f"{name:<26}" + "".join(f"{c:>27}" for c in texts))
    for name, row in paired.items():
        phrases = [difference_phrase(name, row[m], m) for m in measures]
        if all(phrases):
            lines.append(f"this run {'; '.join(p for p in phrases if p)}")
    return "\n".join(lines)


def _to_oracle_line(to_oracle: OracleReach) -> str:
    """One line: when validation Hit@K first reached the set share of the oracle's."""
    share, key, best = f"{100 * to_oracle['fraction']:.0f}%", to_oracle["key"], to_oracle["best"]
    if best is None:
        return f"validation {key}: oracle {to_oracle['oracle']:.4f}; no epoch was validated"
    head = (f"validation {key}: oracle {to_oracle['oracle']:.4f}, best epoch "
            f"{best:.4f} ({100 * best / to_oracle['oracle']:.1f}% of it)")
    if to_oracle["epoch"] is None:
        return f"{head}; never reached {share} of the oracle"
    return (f"{head}; {share} of the oracle reached at epoch {to_oracle['epoch']:g}, after "
            f"{to_oracle['train_seconds']:.0f} s of training ({to_oracle['elapsed']:.0f} s with "
            "validation)")


def _print_left_out(left_out: dict[str, str]) -> None:
    """One line per baseline the data cannot support, with the reason."""
    for name, reason in left_out.items():
        print(f"{name}: left out, {reason}")


def cmd_baselines(args: argparse.Namespace) -> int:
    """Baselines and the oracle on the held-out targets, no training."""
    from streamrec.data.sources import open_data
    from streamrec.evaluation.baselines import (
        LastCategoryPopularity,
        evaluate_baselines,
        left_out_baselines,
    )
    from streamrec.world.oracle import Oracle

    if args.compare:
        return _compare_run(args)
    config = _with_dataset(_config_from_args(args), args)
    data, split = open_data(config)
    tc = config.train
    results = evaluate_baselines(data, split, tc.max_len, tc.cutoffs, tc.exclude_seen)
    print(f"{len(split.report):,} held-out targets ({'test' if len(split.test) else 'valid'} split)")
    print(_table(results, tc.cutoffs))
    _print_left_out(left_out_baselines(data))
    k = min(tc.cutoffs)
    oracle, rule = Oracle.name, LastCategoryPopularity.name
    if oracle in results and rule in results:  # simulated data
        gap = results[oracle][f"hit@{k}"] - results[rule][f"hit@{k}"]
        print(f"oracle minus last-category popularity: {100 * gap:+.1f} points of Hit@{k}")
    simulated = config.data.is_simulated
    if simulated and config.sim.has_mechanisms and tc.max_len < config.sim.max_session_length:
        print(f"note: max_len {tc.max_len} < the longest session ({config.sim.max_session_length}):"
              " the oracle reads a window that misses the session start as if it were the start,"
              " an approximation", file=sys.stderr)
    if args.json:
        print(json.dumps(results))
    return 0


def _compare_run(args: argparse.Namespace) -> int:
    """`baselines --compare RUN`: the run's best checkpoint beside every baseline on its own
    stored sessions and report split, with the paired differences and its time to the oracle."""
    from streamrec.evaluation.baselines import left_out_baselines, score_baselines
    from streamrec.evaluation.metrics import paired_differences
    from streamrec.training.jobs import to_oracle
    from streamrec.training.loop import evaluate_model

    path = runs.cli_run_path(args.compare, _models_root(args))
    given = [key for key, value in vars(args).items() if "__" in key and value is not None]
    if given or args.scenario or args.dataset:
        print(f"note: --compare {args.compare} scores the run's own data and settings; the other "
              "data and config flags are ignored", file=sys.stderr)
    model, config = runs.load_model(path)
    data, split = runs.load_data(path, config)
    tc = config.train
    scored = score_baselines(data, split, tc.max_len, tc.cutoffs, tc.exclude_seen)
    metrics, ranks = evaluate_model(model, data, split.report, tc.max_len, tc.cutoffs, tc.exclude_seen)
    metrics.pop("loss")
    rows = {f"this run ({path.name})": metrics, **{name: m for name, (m, _) in scored.items()}}
    print(f"{len(split.report):,} held-out targets ({'test' if len(split.test) else 'valid'} split)")
    print(_table(rows, tc.cutoffs))
    _print_left_out(left_out_baselines(data))
    paired = paired_differences(ranks, {name: other for name, (_, other) in scored.items()},
                                sessions=split.report.session)
    print(_paired_table(paired))
    epochs = [event for event in runs.read_events(path) if event["event"] == "epoch"]
    reached = to_oracle(epochs, runs.read_status(path).baselines_valid, config)
    if reached and epochs:
        print(_to_oracle_line(reached))
    if args.json:
        print(json.dumps({"results": rows, "paired": paired, "to_oracle": reached}))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train a run folder with a progress bar; print the final table."""
    from tqdm import tqdm

    from streamrec.evaluation.baselines import default_scorers
    from streamrec.training import distributed, launcher
    from streamrec.training.estimate import check_training_memory
    from streamrec.training.events import Event, epoch_metric
    from streamrec.training.jobs import run_training

    config = _with_dataset(_config_from_args(args), args)
    # Measured estimate (streamrec/memory.py), before any work; --memory-limit raises the ceiling.
    limit = memory.MAX_TRAIN_BYTES if args.memory_limit is None else memory.parse_size(args.memory_limit)
    try:
        check_training_memory(config, limit)
    except ValueError as exc:
        hint = "" if args.memory_limit is not None else " (raise it with --memory-limit if the machine has it)"
        raise ValueError(f"{exc}{hint}") from None
    ranks = launcher.join(config)  # under torchrun: this process's share of the training
    if ranks is not None and not ranks.is_main:
        shared = distributed.broadcast_text(None)  # the run folder rank 0 made ("" if none)
        if shared:
            run_training(Path(shared), config, with_baselines=not args.no_baselines, ranks=ranks)
        distributed.teardown()
        return 0 if shared else 2
    made: Path | None = None
    try:
        made = path = runs.create_run(config, _models_root(args), args.name)
    finally:
        if ranks is not None:  # the other ranks wait for the folder (or for "": none made)
            distributed.broadcast_text(str(made.resolve()) if made else "")
    print(f"run folder: {path}", file=sys.stderr)
    bar = tqdm(total=1.0, unit="run", bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}",
               file=sys.stderr, disable=args.quiet)

    def on_event(event: Event) -> None:
        if event["event"] == "batch":
            bar.n = round(event["progress"], 4)
            bar.set_postfix_str(f"epoch {event['epoch']} loss {event['loss']:.3f}")
        elif event["event"] == "epoch":
            key = f"hit@{min(config.train.cutoffs)}"
            bar.write(f"epoch {event['epoch']:>5.2f}: valid loss {event['valid_loss']:.4f}  "
                      f"{key} {epoch_metric(event, key) or 0.0:.4f}  "
                      f"({event['epoch_seconds']:.1f} s)")

    status = run_training(path, config, with_baselines=not args.no_baselines, on_event=on_event,
                          ranks=ranks)
    distributed.teardown()
    bar.close()
    print(f"\nstatus: {status.state}" + (f" ({status.reason})" if status.reason else ""))
    baselines = status.baselines  # stored with sorted keys: restore display order
    order = [scorer.name for scorer in default_scorers()]
    rows = {f"{config.model.family.upper()} (this run)": status.final,
            **{name: baselines[name] for name in order if name in baselines}}
    print(f"final metrics on the {status.report_split} split:")
    print(_table(rows, config.train.cutoffs))
    _print_left_out(status.baselines_left_out)
    if status.paired:
        print(_paired_table({name: status.paired[name] for name in order
                             if name in status.paired}))
    if status.to_oracle:
        print(_to_oracle_line(status.to_oracle))
    if args.json:
        print(json.dumps({"run": str(path), "status": status.state, "results": rows,
                          "paired": status.paired, "to_oracle": status.to_oracle or {}}))
    return 0 if status.state in ("completed", "stopped") else 1


def cmd_recommend(args: argparse.Namespace) -> int:
    """Top-K for a typed session from a trained run."""
    from streamrec.recommendation import parse_items, recommend

    path = runs.cli_run_path(args.run, _models_root(args))
    model, config = runs.load_model(path)
    if not config.data.is_simulated:
        return _recommend_dataset(path, args, model, config)
    category, _ = runs.load_catalog(path, config.model.n_items)
    items = parse_items(args.items, config.model.n_items)
    if not 1 <= args.k <= config.model.n_items:
        raise ValueError(f"k = {args.k} is out of range: allowed [1, {config.model.n_items}]")
    rec = recommend(model, items, args.k, config.train.max_len)
    if rec.dropped:
        print(f"note: the session has {len(items)} clicks; the model sees the last {len(rec.session)}")
    if rec.attention is not None:
        print("attention over the clicks:")
        for item, weight in zip(rec.session, rec.attention):
            print(f"  item {item:>6} (category {category[item]:>3})  {weight:.3f}")
    print(f"top {args.k}:")
    for rank, (item, prob) in enumerate(zip(rec.top_items, rec.top_probs), start=1):
        print(f"  {rank:>3}. item {item:>6} (category {category[item]:>3})  p = {prob:.4f}")
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the named scenarios with their story; with --gaps, the oracle's lead on each."""
    import textwrap

    for scenario in SCENARIOS.values():
        print(f"{scenario.name}: {scenario.title} (max_len {scenario.max_len})")
        print(textwrap.fill(scenario.story, 92, initial_indent="  ", subsequent_indent="  "))
        settings = ", ".join(f"{key}={value}" for key, value in scenario.sim.items())
        print(textwrap.fill(f"settings: {settings or 'the defaults'}", 92,
                            initial_indent="  ", subsequent_indent="    "))
        if args.gaps:
            gap, oracle = scenario_gap(scenario)
            print(f"  oracle Hit@10 {oracle:.4f}, {100 * gap:+.1f} points above last-category "
                  "popularity (test split)")
    return 0


def scenario_gap(scenario: Scenario) -> tuple[float, float]:
    """(oracle minus last-category popularity, oracle) Hit@10 on the scenario's test split."""
    from streamrec.data.splits import make_split
    from streamrec.evaluation.baselines import LastCategoryPopularity, evaluate_scorer
    from streamrec.world.oracle import Oracle
    from streamrec.world.simulator import simulate

    data = simulate(scenario.config())
    split = make_split(data, TrainConfig(max_len=scenario.max_len))
    hits = [
        evaluate_scorer(scorer.fit(data, split.train), data, split.report, scenario.max_len)[0][
            "hit@10"
        ]
        for scorer in (LastCategoryPopularity(), Oracle())
    ]
    return hits[1] - hits[0], hits[1]


def _recommend_dataset(path: Path, args: argparse.Namespace, model: Any, config: RunConfig) -> int:
    """`recommend` for a run trained on an imported log: raw item ids in and out."""
    from streamrec.data.items import ItemNames
    from streamrec.recommendation import recommend

    data, _ = runs.load_data(path, config)
    names = ItemNames.from_data(data)
    items = names.parse(args.items)
    rec = recommend(model, items, args.k, config.train.max_len)
    shown = {int(i): printable(names.label(int(i))) for i in [*rec.session, *rec.top_items]}
    width = max(len(label) for label in shown.values())  # 'item 214536502 · label · cat 3'
    if rec.dropped:
        print(f"note: the session has {len(items)} clicks; the model sees the last {len(rec.session)}")
    print(f"data set {config.data.dataset!r}")
    if rec.attention is not None:
        print("attention over the clicks:")
        for item, weight in zip(rec.session, rec.attention):
            print(f"  {shown[item]:<{width}}  {weight:.3f}")
    print(f"top {args.k}:")
    for rank, (item, prob) in enumerate(zip(rec.top_items, rec.top_probs), start=1):
        print(f"  {rank:>3}. {shown[int(item)]:<{width}}  p = {prob:.4f}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import a click log as a data set, with a progress bar; print every step's counts."""
    from tqdm import tqdm

    from streamrec.data.log_import import (
        ImportConfig,
        check_import,
        describe_columns,
        format_report,
        import_log,
    )

    config = ImportConfig(
        path=args.path, name=args.name, test_path=args.test or "", sep=args.sep or "",
        session_col=args.session_col or "", item_col=args.item_col or "",
        time_col=args.time_col or "", date_col=args.date_col or "",
        category_col=args.category_col or "", label_col=args.label_col or "",
        split=args.split or "", test_days=args.test_days, valid_days=args.valid_days,
        min_item_support=args.min_item_support, min_session_length=args.min_session_length,
        test_fraction=args.test_fraction, seed=args.seed,
    )
    root, _ = check_import(config, Path(args.data_dir) if args.data_dir else None)
    bar = tqdm(total=100, unit="%", file=sys.stderr, disable=args.quiet,
               bar_format="{l_bar}{bar}| {elapsed} {postfix}")

    def progress(fraction: float, message: str) -> None:
        bar.n = round(100 * fraction)
        bar.set_postfix_str(message)

    start = time.perf_counter()
    try:
        dataset = import_log(config, root, progress)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    data = dataset.data
    print(printable(describe_columns(dataset.settings)))
    print(printable(format_report(dataset.report)))
    n_train = data.n_sessions - dataset.n_test_sessions - dataset.n_valid_sessions
    targets = int((data.lengths[dataset.test_sessions] - 1).sum())
    print(f"data set {dataset.name!r}: {n_train:,} training sessions, "
          f"{dataset.n_valid_sessions:,} validation, {dataset.n_test_sessions:,} test "
          f"({targets:,} test targets), {data.n_clicks:,} clicks, {data.n_items:,} items; "
          f"imported in {seconds:.2f} s")
    if args.json:
        print(json.dumps({
            "name": dataset.name, "content_hash": dataset.content_hash,
            "train_sessions": n_train, "valid_sessions": dataset.n_valid_sessions,
            "test_sessions": dataset.n_test_sessions, "test_targets": targets,
            "clicks": data.n_clicks, "items": data.n_items, "seconds": round(seconds, 3),
            "settings": dataset.settings, "report": dataset.report,
        }))
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    """List the imported data sets; a broken folder is listed with its error."""
    from streamrec.data.datasets import default_data_root, list_datasets

    root = Path(args.data_dir) if args.data_dir else default_data_root()
    infos = list_datasets(root)
    if args.json:
        print(json.dumps([{"name": i.name, "error": i.error, **({} if i.error else {
            k: i.meta.get(k) for k in ("n_sessions", "n_test_sessions", "n_clicks", "n_items",
                                       "content_hash")})} for i in infos]))
        return 0
    if not infos:
        print(f"no data sets in {root} (import one with `python -m streamrec import`)")
        return 0
    print(f"{'name':<28}{'sessions':>10}{'test':>8}{'clicks':>12}{'items':>9}  source")
    for info in infos:
        if info.error:
            print(printable(f"{info.name:<28}  BROKEN: {info.error}"))
            continue
        meta = info.meta
        source = Path(str(meta.get("settings", {}).get("path", "?"))).name
        print(printable(f"{info.name:<28}{meta.get('n_sessions', 0):>10,}{meta['n_test_sessions']:>8,}"
                        f"{meta.get('n_clicks', 0):>12,}{meta.get('n_items', 0):>9,}  {source}"))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Internal: train an existing run folder (used by the dashboard's launcher)."""
    from streamrec.training import distributed, launcher
    from streamrec.training.jobs import run_training

    path = runs.cli_run_path(args.run_dir, _models_root(args))
    if args.processes > 1:  # the dashboard's multi-process run: this process launches the ranks
        status = launcher.supervise(path, args.processes)
    else:
        ranks = launcher.join(runs.read_config(path))
        status = run_training(path, ranks=ranks)
        distributed.teardown()
        if ranks is not None and not ranks.is_main:
            return 0
    return 0 if status.state in ("completed", "stopped") else 1


def cmd_faithfulness(args: argparse.Namespace) -> int:
    """Every explainer against the recorded causes of a run's held-out clicks and against the
    ideal one; stored in the run folder (streamrec.explain.trust)."""
    from streamrec.explain import trust
    from streamrec.explain.faithfulness import (
        json_table,
        markdown_table,
        measure_faithfulness,
        share_of_ideal_table,
    )

    path = runs.cli_run_path(args.run, _models_root(args))
    model, config = runs.load_model(path)
    data, split = runs.load_data(path, config)
    start = time.perf_counter()
    if not data.has_causes:  # an imported log: what needs no ground truth (ERASER)
        from streamrec.explain.eraser import eraser_markdown, measure_eraser

        eraser = measure_eraser(model, data, split.report, config.train.max_len, args.sessions,
                                seed=args.seed)
        if args.json:
            print(json.dumps({"run": str(path), "eraser": eraser.to_dict(orient="records")}))
            return 0
        print(f"This run's data records no cause per click: comprehensiveness and sufficiency "
              f"(ERASER) of each explainer over {int(eraser['targets'].to_numpy().max(initial=0)):,} held-out "
              f"targets in {time.perf_counter() - start:.1f} s, in points of P(true next), "
              "averaged over rationales of the top 1-3 clicks (± 2 SE):")
        print(eraser_markdown(eraser))
        return 0
    result = measure_faithfulness(model, data, split.report, config.train.max_len, args.sessions,
                                  seed=args.seed)
    table = json_table(result)
    if args.sessions == trust.N_SESSIONS and args.seed == 0:  # the table the Recommend page reads
        trust.store(path, result)
    if args.json:
        print(json.dumps({"run": str(path), **table}))
        return 0
    print(
        f"{result.n_sessions:,} held-out targets caused by an earlier click inside the model's "
        f"window, one per session ({result.n_outside:,} caused targets skipped: cause before "
        f"the window) in {time.perf_counter() - start:.1f} s. Percent of targets whose cause "
        "each explainer ranks first / in its top two:"
    )
    print(markdown_table(result))
    ideal = share_of_ideal_table(result)
    if ideal:
        print("\nTop-1 rate as a percent of the best possible (the ideal explainer's):")
        print(ideal)
    print(f"\nMost faithful: {table['most_faithful']}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    """Every run folder with its state, and the problem of each broken one."""
    infos = runs.list_runs(_models_root(args))
    for info in infos:
        print(printable(f"{info.run_id:<40} {info.state:<10} {info.error or ''}".rstrip()))
    if not infos:
        print("no runs yet")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Delete one run or data set folder the app wrote (any folder name; a symlink is removed
    as a link, never followed; a folder without the app's marker is refused)."""
    from streamrec.data.datasets import default_data_root, delete_dataset

    if args.run is not None:
        runs.delete_run(runs.delete_path(args.run, _models_root(args)))
        print(printable(f"deleted run {args.run}"))
    else:
        delete_dataset(args.dataset, Path(args.data_dir) if args.data_dir else default_data_root())
        print(printable(f"deleted data set {args.dataset}"))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (sub-parsers inherit the class)."""

    def error(self, message: str) -> NoReturn:
        """Print 'error: ...' and exit with code 2, like every other bad input."""
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all sub-commands."""
    # allow_abbrev=False: a mistyped or future flag must not be taken for another
    # (`train --model x` would otherwise set --models-dir).
    parser = _Parser(prog="python -m streamrec", description=__doc__, allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)
    sim_only = {"sim": SimConfig}
    everything: dict[str, type[Any] | tuple[type[Any], ...]] = {
        "sim": SimConfig, "model": tuple(MODEL_CONFIGS.values()), "train": TrainConfig
    }

    scenario_help = "start from a named world (see the scenarios command)"

    p = sub.add_parser("simulate", help="generate sessions and print statistics", allow_abbrev=False)
    p.add_argument("--scenario", choices=list(SCENARIOS), help=scenario_help)
    _add_config_flags(p, sim_only)
    p.add_argument("--out", metavar="FILE.csv",
                   help="write session_id,position,item_id,category,cause,cause_position")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser(
        "train", help="train a model into a new run folder under models/", allow_abbrev=False
    )
    p.add_argument("--preset", choices=sorted(PRESETS), help="start from a named setup")
    p.add_argument("--scenario", choices=list(SCENARIOS), help=scenario_help)
    p.add_argument("--name", help="run folder name (default: time stamp and model summary)")
    p.add_argument("--models-dir", help="where run folders live (default: models/)")
    p.add_argument("--no-baselines", action="store_true", help="skip baselines and the oracle")
    p.add_argument("--json", action="store_true", help="print the final metrics as JSON last")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--dataset", metavar="NAME",
                   help="train on an imported data set instead of simulated sessions")
    p.add_argument("--model", choices=list(MODEL_CONFIGS), default=None,
                   help="model family; its settings are the model flags below (default: the "
                   "preset's family, else lstm)")
    p.add_argument("--memory-limit", metavar="SIZE", default=None,
                   help="refuse a training whose estimated peak memory per process is above "
                   "this (e.g. 8G; default: 4G, so a typo cannot take the machine down)")
    _add_config_flags(p, everything)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "baselines", help="baselines and the Bayes-optimal oracle, no training", allow_abbrev=False
    )
    p.add_argument("--json", action="store_true", help="print the metrics as JSON last")
    p.add_argument("--scenario", choices=list(SCENARIOS), help=scenario_help)
    p.add_argument("--dataset", metavar="NAME",
                   help="score an imported data set instead of simulated sessions")
    p.add_argument("--compare", metavar="RUN",
                   help="add a trained run on its own data: its row, and its paired difference "
                        "to every method with the standard error")
    p.add_argument("--models-dir", help="where run folders live (default: models/)")
    _add_config_flags(p, {"sim": SimConfig, "train": TrainConfig})
    p.set_defaults(func=cmd_baselines)

    p = sub.add_parser("scenarios", help="list the named scenarios and their stories",
                       allow_abbrev=False)
    p.add_argument("--gaps", action="store_true",
                   help="also score the oracle and last-category popularity on each (~1 min)")
    p.set_defaults(func=cmd_scenarios)

    models_dir = "where run folders live (default: $STREAMREC_MODELS_DIR or models/)"
    p = sub.add_parser("recommend", help="top-K for a session from a trained run", allow_abbrev=False)
    p.add_argument("--run", required=True, help="run name or folder inside the models folder, e.g. demo")
    p.add_argument("--items", required=True, help="comma-separated item ids, e.g. 302,310,365 (an imported "
                   "data set's run: the log's raw item ids)")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--models-dir", help=models_dir)
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("import", help="import a click log (CSV/TSV/Parquet) as a data set",
                       allow_abbrev=False)
    p.add_argument("path", help="the click log (training part with --test)")
    p.add_argument("--name", required=True, help="data set name (a folder under data/)")
    p.add_argument("--test", metavar="PATH", help="a separate test log (split 'given')")
    p.add_argument("--sep", help="field separator (default: sniffed; '\\t' for tab)")
    for role in ("session", "item", "time", "date", "category", "label"):
        p.add_argument(f"--{role}-col", metavar="C",
                       help=f"{role} column (default: recognised by name; a number when the "
                            "file has no header)")
    p.add_argument("--split", choices=("given", "time", "random"),
                   help="test set: a given file, the last --test-days, or random sessions "
                        "(default: given with --test, else time)")
    p.add_argument("--test-days", type=float, default=1.0, help="(default: 1)")
    p.add_argument("--valid-days", type=float, default=0.0,
                   help="last days of training held out for validation (default: 0, none)")
    p.add_argument("--min-item-support", type=int, default=None,
                   help="drop items with fewer clicks (default: 5; none for --split given)")
    p.add_argument("--min-session-length", type=int, default=2, help="(default: 2)")
    p.add_argument("--test-fraction", type=float, default=0.1,
                   help="share of sessions in the test set for --split random (default: 0.1)")
    p.add_argument("--seed", type=int, default=42, help="seed of --split random (default: 42)")
    p.add_argument("--data-dir", help="where data sets live (default: data/ or "
                                      "$STREAMREC_DATA_DIR)")
    p.add_argument("--json", action="store_true", help="print a JSON summary last")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("datasets", help="list the imported data sets", allow_abbrev=False)
    p.add_argument("--data-dir", help="where data sets live")
    p.add_argument("--json", action="store_true", help="print the listing as JSON")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("runs", help="list the run folders, with the problem of any broken one",
                       allow_abbrev=False)
    p.add_argument("--models-dir", help=models_dir)
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("delete", help="delete a run or data set folder the app wrote",
                       allow_abbrev=False)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", help="the run folder's name (as `runs` lists it)")
    which.add_argument("--dataset", help="the data set folder's name (as `datasets` lists it)")
    p.add_argument("--models-dir", help=models_dir)
    p.add_argument("--data-dir", help="where data sets live")
    p.set_defaults(func=cmd_delete)
    from streamrec.training import tune_cli

    tune_cli.add_parser(sub)

    p = sub.add_parser("worker", help=argparse.SUPPRESS, allow_abbrev=False)
    p.add_argument("run_dir")
    p.add_argument("--models-dir", help=models_dir)
    p.add_argument("--token", help="the start token the launcher kept in status.json")
    p.add_argument("--processes", type=int, default=1, help="training processes to launch")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "faithfulness",
        help="does each explanation point at each click's recorded cause? (a run)",
        allow_abbrev=False,
    )
    p.add_argument("--run", required=True, help="a run in the models folder: demo or models/demo")
    p.add_argument("--models-dir", default=None, help="models folder (default: models/)")
    p.add_argument("--sessions", type=int, default=2000, help="held-out sessions, one target each")
    p.add_argument("--seed", type=int, default=0,
                   help="which target of each session, and Shapley's orderings (only seed 0 "
                        "is stored as the run's record)")
    p.add_argument("--json", action="store_true",
                   help="print only one JSON object: explainer -> mechanism -> rates")
    p.set_defaults(func=cmd_faithfulness)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; bad input gives a one-line error and exit code 2."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2): return it like the rest
        return exit_.code if isinstance(exit_.code, int) else 2
    import torch

    torch.set_num_threads(training_threads())  # STREAMREC_THREADS, else every core we may use
    try:
        code: int = args.func(args)
        return code
    except (ValueError, runs.RunError, DatasetError, OSError) as exc:  # OSError: disk full, a folder gone, ...
        # Always one line, and no terminal escape from a bad row or folder name gets through.
        print("error: " + printable(" ".join(str(exc).split())), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
