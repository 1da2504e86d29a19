"""`python -m streamrec tune`: the sub-command's flags and what it prints."""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from streamrec.training.search_spaces import METHODS, parse_methods

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


def parse_budget(text: str) -> float:
    """'20m' / '90s' / '1.5h' / '600' (seconds) -> seconds; ValueError otherwise."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"budget = {text!r}: give a duration such as 20m, 90s or 1h")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def add_parser(sub: Any) -> None:
    """The `tune` sub-command."""
    from streamrec.world.scenarios import SCENARIOS

    p = sub.add_parser(
        "tune", allow_abbrev=False,
        help="tune every method on the validation sessions within a time budget, score each "
             "best setting on the test sessions, record the winner as the data set's default",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--dataset", metavar="NAME", help="an imported data set")
    where.add_argument("--scenario", choices=list(SCENARIOS), help="a named simulated world")
    p.add_argument("--budget", default="20m",
                   help="wall time for the whole tune, final scoring included: 20m, 90s, 1h "
                        "(default: 20m)")
    p.add_argument("--methods", default="",
                   help=f"comma list (default: all that the data supports): {', '.join(METHODS)}")
    p.add_argument("--metric", help="validation score to maximise (default: the stored "
                   "search's, else mrr@20 on a data set and hit@10 on a scenario)")
    p.add_argument("--refit", action=argparse.BooleanOptionalAction, default=True,
                   help="fit each method's final model on training + validation sessions, as the "
                        "literature does (default); --no-refit: training only, the models the "
                        "search validated")
    p.add_argument("--trial-seconds", type=float, default=0.0,
                   help="time limit of one neural trial (default: half its fair share)")
    p.add_argument("--max-len", type=int, help="clicks a prefix shows (default: the stored "
                   "search's, else the scenario's or 25)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--fresh", action="store_true",
                   help="forget the stored search and start over (default: resume it)")
    p.add_argument("--data-dir", help="where data sets live (default: data/ or $STREAMREC_DATA_DIR)")
    p.add_argument("--json", action="store_true", help="print the result as JSON last")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--token", help=argparse.SUPPRESS)  # set by the Data page's launcher
    p.set_defaults(func=cmd_tune)


def cmd_tune(args: argparse.Namespace) -> int:
    """Run the tune with a progress bar; print the final table and where it is stored."""
    import time

    from tqdm import tqdm

    started = time.time()  # the budget counts from here: loading the data is part of it

    from streamrec.training.tune_jobs import run_tune
    from streamrec.training.tune_table import result_rows, tune_sentence
    from streamrec.training.tuning import (
        TuneConfig,
        dataset_target,
        scenario_target,
        stored_settings,
    )

    methods = tuple(m.key for m in parse_methods(args.methods))
    budget = parse_budget(args.budget)
    TuneConfig(budget=budget, methods=methods).validate()  # bad flags fail before loading
    root = Path(args.data_dir) if args.data_dir else None
    if args.dataset:
        target = dataset_target(args.dataset, root)
    else:
        target = scenario_target(args.scenario, root)
    stored = {} if args.fresh else stored_settings(target.folder)
    default_metric = "hit@10" if args.scenario else "mrr@20"  # a world's bar is the oracle's Hit@10
    config = TuneConfig(budget=budget, methods=methods,
                        metric=args.metric or stored.get("metric", default_metric),
                        refit=args.refit, trial_seconds=args.trial_seconds,
                        max_len=args.max_len or stored.get("max_len", target.max_len),
                        seed=args.seed).validate()
    print(f"tuning {target.label} for {config.budget:g} s; trials in {target.folder}",
          file=sys.stderr)
    bar = tqdm(total=100, unit="%", file=sys.stderr, disable=args.quiet,
               bar_format="{l_bar}{bar}| {elapsed} {postfix}")

    def progress(fraction: float, message: str) -> None:
        bar.n = round(100 * fraction)
        bar.set_postfix_str(message)

    try:
        status = run_tune(target, config, args.fresh, progress,
                          target.folder.parent if args.dataset else None,
                          clear_stop=not args.token, started=started)
    finally:
        bar.close()
    from streamrec.training.tuning import read_result

    result = read_result(target.folder) or {}
    print(f"status: {status.state}" + (f" ({status.reason})" if status.reason else ""))
    print(f"test scores of each method's best setting ({result.get('test_targets', 0):,} "
          f"{result.get('report_split', 'test')} targets; fitted on {result.get('fit_on')}; "
          f"ranked by validation {config.metric}):")
    print(format_table(result_rows(result), config.metric))
    if result.get("oracle"):
        print(f"oracle (ceiling): test hit@10 {result['oracle']['hit@10']:.4f}")
    sentence = tune_sentence(result)
    if sentence:
        print(sentence)
    if result.get("oracle"):
        best = max(result["methods"], key=lambda e: (e.get("test") or {}).get("hit@10", -1.0))
        share = best["test"]["hit@10"] / result["oracle"]["hit@10"]
        print(f"best test hit@10: {best['label']} {best['test']['hit@10']:.4f}, "
              f"{100 * share:.1f}% of the oracle's")
    if result.get("winner"):
        print(f"winner on validation: {result['winner']}; best neural family: "
              f"{result.get('best_neural') or 'none finished'}")
    if args.dataset and result.get("best_neural"):
        print(f"recommended for `train --dataset {args.dataset}`: stored in "
              f"{target.folder.parent / 'recommended.json'}")
    if args.json:
        print(json.dumps(result))
    return 0 if status.state in ("completed", "stopped") else 1


def format_table(rows: list[dict[str, Any]], metric: str) -> str:
    """The final table in plain text; last, when the result has it, each method's paired
    difference to the best method of the other kind with its 95% session-bootstrap interval."""
    from streamrec.training.tune_table import AGAINST_COLUMN

    columns = [f"valid {metric}", "test hit@10", "test hit@20", "test mrr@20", "test ndcg@20"]
    against = any(AGAINST_COLUMN in row for row in rows)
    lines = [f"{'method':<20}{'kind':<10}" + "".join(f"{c:>14}" for c in columns)
             + f"{'trials':>8}{'seconds':>9}" + (f"  {AGAINST_COLUMN}" if against else "")]
    for row in rows:
        cells = "".join(f"{row[c]:>14.4f}" if isinstance(row[c], float) else f"{'-':>14}"
                        for c in columns)
        after = [text for text in (row.get(AGAINST_COLUMN), row["note"]) if text]
        lines.append(f"{row['method']!s:<20}{row['kind']!s:<10}{cells}"
                     f"{row['trials'] or 0:>8}{row['search seconds'] or 0:>9.0f}"
                     + "".join(f"  {text}" for text in after))
    return "\n".join(lines)
