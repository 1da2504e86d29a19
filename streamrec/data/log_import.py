"""Import a click log (CSV/TSV with any separator, or Parquet) into a data set under data/.

`import_log(ImportConfig(path, name, ...))` reads the log, recognises its columns by their
usual names (or takes them from the config), parses the times (`streamrec.data.log_files`), runs the
literature's preprocessing (`streamrec.data.preprocess`) and writes the data set folder atomically
(`streamrec.data.datasets.save_dataset`). Every failure is a `ValueError` with one clear line, and
nothing is written before everything has succeeded.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from streamrec.data.datasets import (
    Dataset,
    check_name,
    content_hash,
    default_data_root,
    save_dataset,
)
from streamrec.data.log_files import ROLES, LogRead, check_memory, check_readable, read_log
from streamrec.data.preprocess import (
    Clicks,
    Parts,
    Report,
    build_sessions,
    click_order,
    filter_clicks,
    join_given,
    restrict_test,
    sessions_mask,
    split_by_time,
    split_random,
)

SPLITS = ("given", "time", "random")
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ImportConfig:
    """How to read and preprocess one click log; empty column names are recognised."""

    path: str
    name: str
    test_path: str = ""  # a separate test log (split "given")
    sep: str = ""  # field separator of a CSV; "" = sniffed
    session_col: str = ""
    item_col: str = ""
    time_col: str = ""
    date_col: str = ""  # a per-session date beside a within-session time (Diginetica)
    category_col: str = ""
    label_col: str = ""
    split: str = ""  # given | time | random; "" = given with a test_path, else time
    test_days: float = 1.0  # split "time": sessions of the last days are the test set
    valid_days: float = 0.0  # last days of the training part held out for validation; 0 = none
    min_item_support: int | None = None  # None: 5, or no filter for a given split (kept as is)
    min_session_length: int = 2
    test_fraction: float = 0.1  # split "random": share of sessions in the test set
    seed: int = 42  # split "random"

    @property
    def split_kind(self) -> str:
        """The split actually used."""
        return self.split or ("given" if self.test_path else "time")

    @property
    def item_support(self) -> int:
        """min_item_support in effect: 5 by default; 1 (none) for a given split by default.

        A given split is usually one already preprocessed and published (session-rec's
        YOOCHOOSE files): filtering its training part again would change it.
        """
        if self.min_item_support is not None:
            return self.min_item_support
        return 1 if self.split_kind == "given" else 5

    def validate(self) -> ImportConfig:
        """Raise ValueError naming the field, the value and what is allowed."""
        if not self.path:
            raise ValueError("path = '' : name the click log to import")
        check_name(self.name)
        if self.split not in ("", *SPLITS):
            raise ValueError(f"split = {self.split!r} is not allowed: choose one of "
                             f"{', '.join(SPLITS)}")
        if self.split_kind == "given" and not self.test_path:
            raise ValueError("split = 'given' needs test_path: the separate test log")
        if self.test_path and self.split_kind != "given":
            raise ValueError(f"test_path = {self.test_path!r} is set but split = "
                             f"{self.split!r}: a separate test log needs split 'given'")
        if len(self.separator) > 1:
            raise ValueError(f"sep = {self.sep!r} must be one character (or '\\t')")
        _check_number("test_days", self.test_days, 0.0, 3650.0, open_low=True)
        _check_number("valid_days", self.valid_days, 0.0, 3650.0)
        _check_number("test_fraction", self.test_fraction, 0.0, 0.9, open_low=True)
        if self.min_item_support is not None:
            _check_whole("min_item_support", self.min_item_support, 1, 1_000_000)
        _check_whole("min_session_length", self.min_session_length, 2, 10_000)
        _check_whole("seed", self.seed, 0, 2**32 - 1)
        return self

    @property
    def separator(self) -> str:
        """The separator as a character ('' = sniff)."""
        return "\t" if self.sep in ("\\t", "tab") else self.sep

    def columns(self) -> dict[str, str]:
        """Columns named in the config, by role."""
        return {role: getattr(self, f"{role}_col") for role in ROLES if getattr(self, f"{role}_col")}


def _check_number(name: str, value: float, lo: float, hi: float, open_low: bool = False) -> None:
    bad = isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value)
    if bad or value > hi or value < lo or (open_low and value == lo):
        low = f"({lo}" if open_low else f"[{lo}"
        raise ValueError(f"{name} = {value!r} is out of range: allowed {low}, {hi}]")


def _check_whole(name: str, value: int, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} = {value!r} must be an integer in [{lo}, {hi}]")


# -- importing -----------------------------------------------------------------------------------


def check_import(config: ImportConfig, root: Path | None = None) -> tuple[Path, list[Path]]:
    """(data root, log paths) after the checks that need no reading; ValueError otherwise.

    The config is valid, the name is free, every file is readable and likely fits in memory.
    """
    config.validate()
    root = Path(root) if root else default_data_root()
    if (root / config.name).exists():
        raise ValueError(f"data set name = {config.name!r} already exists in {root}: choose "
                         "another name or delete it first")
    paths = [Path(config.path)] + ([Path(config.test_path)] if config.test_path else [])
    for path in paths:
        check_readable(path)
    check_memory(paths)
    return root, paths


def import_log(config: ImportConfig, root: Path | None = None,
               progress: Progress | None = None,
               on_step: Callable[[dict[str, Any]], None] | None = None) -> Dataset:
    """Read, preprocess and save a click log as data set `config.name`; return it.

    `progress(fraction, message)` follows the work; `on_step(entry)` sees each report entry.
    ValueError (one line) on bad input; nothing is written unless everything succeeds.
    """
    root, paths = check_import(config, root)
    tell = progress or (lambda fraction, message: None)
    report = Report(on_step)
    read, clicks, is_test = _read_logs(config, paths, report, tell)

    tell(0.45, "ordering clicks within sessions")
    rows = click_order(clicks)
    clicks, is_test = clicks.take(rows), is_test[rows]
    del rows  # the per-click arrays are the working set: each step frees what it replaced

    tell(0.55, "filtering sessions and items")
    n_item_codes = clicks.item_keys.shape[0]
    train, test = _filter_and_split(config, clicks, is_test, report)
    del clicks, is_test
    _require(train, "in the training part", config)
    seen = np.bincount(train.item, minlength=n_item_codes) > 0
    test = restrict_test(test, seen[test.item], report)
    _require(test, "in the test part", config)
    valid = train.take(np.zeros(train.n_clicks, bool))
    if config.valid_days:
        chosen, _ = split_by_time(train, config.valid_days)
        in_valid = sessions_mask(train, chosen)
        before = train.counts()
        train, valid = train.take(~in_valid), train.take(in_valid)
        report.add(f"validation: training sessions of the last {config.valid_days:g} days",
                   "train", before, train.counts())
        _require(train, "in the training part before the validation days", config)

    tell(0.75, "building the item map")
    parts = Parts(train, valid, test)
    del train, valid, test
    data, n_valid, n_test = build_sessions(parts, config.name)
    del parts
    settings = {
        **{k: v for k, v in dataclasses.asdict(config).items() if k != "name"},
        "split": config.split_kind,
        "min_item_support": config.item_support,
        "columns": read.columns,
        "sep": read.sep,
        "time_format": read.time_format,
    }
    dataset = Dataset(
        name=config.name, data=data, n_test_sessions=n_test,
        content_hash=content_hash(data, n_test), settings=settings, report=report.steps,
        n_valid_sessions=n_valid,
    )
    tell(0.85, f"writing data set {config.name}")
    save_dataset(dataset, root)
    tell(1.0, "done")
    return dataset


def _read_logs(config: ImportConfig, paths: list[Path], report: Report,
               tell: Progress) -> tuple[LogRead, Clicks, np.ndarray]:
    """(the log as read, its clicks, per click: from the test log) for one or two files."""
    nothing = {"sessions": 0, "clicks": 0, "items": 0}
    given = config.split_kind == "given"
    tell(0.02, f"reading {paths[0].name}")
    read = read_log(paths[0], config.separator, config.columns(),
                    _reading(tell, paths[0].name, 0.02, 0.30 if given else 0.40))
    clicks = read.clicks
    report.add(f"read {paths[0].name}", "train" if given else "all", nothing, clicks.counts())
    _note_missing(report, read.dropped_missing)
    is_test = np.zeros(clicks.n_clicks, bool)
    if given:
        tell(0.30, f"reading {paths[1].name}")
        test = read_log(paths[1], config.separator, read.columns,  # the same columns
                        _reading(tell, paths[1].name, 0.30, 0.40))
        report.add(f"read {paths[1].name}", "test", nothing, test.clicks.counts())
        _note_missing(report, test.dropped_missing)
        clicks, is_test = join_given(clicks, test.clicks)
    if config.split_kind == "time" and clicks.time is None:
        raise ValueError(f"split = 'time' needs a time column; {paths[0].name} has none "
                         "(name it with --time-col, or use --split random)")
    if config.valid_days and clicks.time is None:
        raise ValueError("valid_days needs a time column; the log has none")
    # The read's own reference to the clicks would keep them alive through the whole import.
    return dataclasses.replace(read, clicks=clicks.take(np.zeros(0, np.int64))), clicks, is_test


def _reading(tell: Progress, name: str, low: float, high: float) -> Callable[[float, int], None]:
    """A read_log progress callback that moves the bar from `low` to `high` with the file."""
    return lambda share, rows: tell(low + (high - low) * share, f"reading {name}: {rows:,} rows")


def _filter_and_split(config: ImportConfig, clicks: Clicks, is_test: np.ndarray,
                      report: Report) -> tuple[Clicks, Clicks]:
    """(training, test) clicks: a given split filters its training log only; the others
    filter the whole log and then split it, as the literature's scripts do."""
    if config.split_kind == "given":
        train = filter_clicks(clicks.take(~is_test), config.min_session_length,
                              config.item_support, report, "train")
        return train, clicks.take(is_test)
    clicks = filter_clicks(clicks, config.min_session_length, config.item_support, report, "all")
    _require(clicks, "after filtering", config)
    if config.split_kind == "time":
        chosen, _ = split_by_time(clicks, config.test_days)
        label = f"split: sessions of the last {config.test_days:g} days are the test set"
    else:
        chosen = split_random(len(clicks.starts()), config.test_fraction, config.seed)
        label = f"split: a random {config.test_fraction:.0%} of sessions (seed {config.seed})"
    in_test = sessions_mask(clicks, chosen)
    train, test = clicks.take(~in_test), clicks.take(in_test)
    report.add(label + " (training part)", "train", clicks.counts(), train.counts())
    report.add(label + " (test part)", "test", clicks.counts(), test.counts())
    return train, test


def _note_missing(report: Report, dropped: int) -> None:
    if dropped:
        report.steps[-1]["note"] = f"{dropped:,} rows without a session, item or time left out"


def _require(clicks: Clicks, where: str, config: ImportConfig) -> None:
    if clicks.n_clicks == 0:
        days = (f", test_days = {config.test_days:g}" if config.split_kind == "time" else "")
        raise ValueError(
            f"{Path(config.path).name}: no clicks left {where} (min_session_length = "
            f"{config.min_session_length}, min_item_support = {config.item_support}, "
            f"split = {config.split_kind!r}{days}): loosen the filters, check the columns or "
            "the split"
        )


def format_report(report: list[dict[str, Any]]) -> str:
    """The preprocessing steps as a plain-text table: counts after each step and the change."""
    lines = [f"{'step':<72}{'part':>6}{'sessions':>11}{'clicks':>12}{'items':>9}"]
    for entry in report:
        cells = []
        for key, width in (("sessions", 11), ("clicks", 12), ("items", 9)):
            cells.append(f"{entry[key]:>{width},}")
        lines.append(f"{entry['step'][:71]:<72}{entry['part']:>6}" + "".join(cells))
        changes = [f"{entry[k] - entry[f'{k}_before']:+,} {k}" for k in ("sessions", "clicks",
                   "items") if not entry["step"].startswith("read ") and entry[k] != entry[f"{k}_before"]]
        if changes:
            lines.append(f"{'':<8}({', '.join(changes)})")
        if entry.get("note"):
            lines.append(f"{'':<8}{entry['note']}")
    return "\n".join(lines)


def describe_columns(settings: dict[str, Any]) -> str:
    """One line naming the column chosen for each role, the separator and the time format."""
    columns = settings.get("columns", {})
    parts = [f"{role} = {columns[role]}" for role in ROLES if role in columns]
    sep = settings.get("sep", "")
    shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(sep, repr(sep))
    text = "columns: " + ", ".join(parts)
    if sep:
        text += f"; separator {shown}"
    if settings.get("time_format"):
        text += f"; times as {settings['time_format']}"
    return text

