"""Import a click log (CSV/TSV with any separator, or Parquet) into a data set under data/.

`import_log(ImportConfig(path, name, ...))` reads the log, recognises its columns by their
usual names (or takes them from the config), parses the times, runs the literature's
preprocessing (`streamrec.preprocess`) and writes the data set folder atomically
(`streamrec.datasets.save_dataset`). Every failure is a `ValueError` with one clear line, and
nothing is written before everything has succeeded.
"""
from __future__ import annotations

import csv
import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from streamrec.datasets import Dataset, check_name, content_hash, default_data_root, save_dataset
from streamrec.preprocess import (
    Clicks,
    Parts,
    Report,
    build_sessions,
    click_order,
    filter_clicks,
    restrict_test,
    sessions_mask,
    split_by_time,
    split_random,
)

SPLITS = ("given", "time", "random")
ROLES = ("session", "item", "time", "date", "category", "label")
# Usual column names per role, most specific first; compared lower-case without '_', '-', ' '.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "session": ("sessionid", "session", "sid", "sessionkey", "visitid", "visit"),
    "item": ("itemid", "item", "iid", "productid", "product", "articleid", "article", "sku"),
    "time": ("time", "timestamp", "ts", "datetime", "eventtime", "clicktime", "createdat",
             "timeframe"),
    "date": ("eventdate", "date", "day", "sessiondate"),
    "category": ("category", "cat", "categoryid", "catid", "itemcategory"),
    "label": ("label", "name", "title", "itemname", "productname", "itemlabel"),
}
SEPARATORS = (",", ";", "\t", "|")
# Peak memory of an import per byte of CSV (measured by benchmarks/bench_import.py: ~10x for a
# 1M-click CSV), with room to spare; Parquet is compressed, so it expands more.
MEMORY_PER_BYTE = {"csv": 12, "parquet": 40}
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


# -- looking at a file ---------------------------------------------------------------------------


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", name.lower())


def _kind(path: Path) -> str:
    return "parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv"


def check_readable(path: Path) -> None:
    """ValueError unless `path` is a readable, non-empty file."""
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if not path.is_file():
        raise ValueError(f"{path}: not a file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(1)
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise ValueError(f"{path}: the file is empty")


def available_memory() -> int | None:
    """Bytes of memory available now (Linux MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(paths: list[Path]) -> None:
    """ValueError if importing these files would likely not fit in the memory available."""
    need = sum(p.stat().st_size * MEMORY_PER_BYTE[_kind(p)] for p in paths)
    have = available_memory()
    if have is not None and need > have:
        size = sum(p.stat().st_size for p in paths)
        raise ValueError(
            f"{paths[0].name}: too large for memory ({size / 2**30:.1f} GiB on disk needs about "
            f"{need / 2**30:.1f} GiB to import, {have / 2**30:.1f} GiB available): import a "
            "sample or convert it to Parquet with only the needed columns"
        )


def sniff_separator(path: Path) -> str:
    """The field separator of a text log: tab for .tsv, else guessed from the first lines."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    sample = _head_text(path)
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {sep: first.count(sep) for sep in SEPARATORS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _head_text(path: Path, size: int = 64 * 1024) -> str:
    with open(path, "rb") as fh:
        raw = fh.read(size)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(raw) - 4:  # not just a character cut at the sample's end
            raise ValueError(f"{path}: not a UTF-8 text log (byte {exc.start})") from None
        text = raw[: exc.start].decode("utf-8-sig")
    lines = text.splitlines()
    return "\n".join(lines[:-1] if len(raw) == size and len(lines) > 1 else lines)


def header_names(path: Path, sep: str, named: dict[str, str]) -> tuple[list[str], bool]:
    """(column names, whether the file has a header row); headerless columns are '0', '1', …"""
    if _kind(path) == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names), True
        except (pa.ArrowException, OSError) as exc:
            raise ValueError(f"{path}: not a readable Parquet file ({exc})") from None
    sample = _head_text(path)
    rows = list(csv.reader(sample.splitlines()[:50], delimiter=sep))
    if not rows:
        raise ValueError(f"{path}: the file is empty")
    first = [cell.strip() for cell in rows[0]]
    known = {name for names in COLUMN_NAMES.values() for name in names}
    known_text = {c for c in named.values() if not c.isdigit()}  # digits name a position
    if any(_normal(c) in known or c in known_text for c in first):
        return first, True
    try:
        has_header = csv.Sniffer().has_header(sample)
    except csv.Error:
        has_header = True
    if has_header:
        return first, True
    return [str(i) for i in range(len(first))], False


def recognise_columns(names: list[str], named: dict[str, str], path: Path) -> dict[str, str]:
    """Column per role: the named ones (checked) and the recognised ones for the rest."""
    mapping: dict[str, str] = {}
    for role, column in named.items():
        if column not in names:
            raise ValueError(f"{role}_col = {column!r} is not a column of {path.name} "
                             f"(columns: {', '.join(names)})")
        mapping[role] = column
    taken = set(mapping.values())
    normal = {_normal(n): n for n in reversed(names)}  # first column wins on a clash
    for role in ROLES:
        if role in mapping:
            continue
        for candidate in COLUMN_NAMES[role]:
            column = normal.get(candidate)
            if column is not None and column not in taken:
                mapping[role] = column
                taken.add(column)
                break
    for role in ("session", "item"):
        if role not in mapping:
            raise ValueError(
                f"{path.name}: no {role} column found among {', '.join(names)}: "
                f"name it with --{role}-col"
            )
    if "date" in mapping and "time" not in mapping:
        mapping["time"] = mapping.pop("date")
    return mapping


@dataclass(frozen=True)
class LogPreview:
    """The first rows of a log as read, with the separator and the recognised columns."""

    rows: pd.DataFrame
    sep: str
    has_header: bool
    columns: dict[str, str]  # role -> column
    problem: str = ""  # why the columns could not be recognised, or ""


def preview_log(path: str | Path, sep: str = "", named: dict[str, str] | None = None,
                n_rows: int = 10) -> LogPreview:
    """The first `n_rows` rows and the column mapping import_log would use."""
    path = Path(path)
    check_readable(path)
    named = named or {}
    sep = sep or ("" if _kind(path) == "parquet" else sniff_separator(path))
    names, has_header = header_names(path, sep, named)
    if _kind(path) == "parquet":
        import pyarrow.parquet as pq

        batch = next(pq.ParquetFile(path).iter_batches(batch_size=n_rows), None)
        rows = batch.to_pandas() if batch is not None else pd.DataFrame(columns=names)
    else:
        rows = pd.read_csv(path, sep=sep, header=0 if has_header else None, names=names,
                           nrows=n_rows, dtype=str, keep_default_na=False, engine="python")
    try:
        columns, problem = recognise_columns(names, named, path), ""
    except ValueError as exc:
        columns, problem = {}, str(exc)
    return LogPreview(rows, sep, has_header, columns, problem)


# -- reading -------------------------------------------------------------------------------------


@dataclass
class _Read:
    clicks: Clicks
    time_format: str = ""
    dropped_missing: int = 0
    columns: dict[str, str] = field(default_factory=dict)


def _read_table(path: Path, sep: str, names: list[str], has_header: bool,
                mapping: dict[str, str]) -> Any:
    """The log's needed columns as a pyarrow Table; ids, categories and labels as text."""
    import pyarrow as pa

    text = {mapping[r] for r in ("session", "item", "category", "label") if r in mapping}
    wanted = list(dict.fromkeys(mapping.values()))
    try:
        if _kind(path) == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path, columns=wanted)
            for column in text:
                index = table.schema.get_field_index(column)
                table = table.set_column(index, column, table.column(column).cast(pa.string()))
            return table
        from pyarrow import csv as pcsv

        read = pcsv.ReadOptions(column_names=None if has_header else names,
                                block_size=16 << 20)
        parse = pcsv.ParseOptions(delimiter=sep)
        convert = pcsv.ConvertOptions(
            include_columns=wanted,
            column_types={c: pa.string() for c in text},
            strings_can_be_null=True,
            null_values=["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"],
        )
        return pcsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        message = str(exc).splitlines()[0]
        raise ValueError(f"{path.name}: cannot be read as a click log ({message})") from None
    except OSError as exc:
        raise ValueError(f"{path.name}: cannot be read ({exc})") from None


def _codes(column: Any) -> tuple[np.ndarray, np.ndarray]:
    """(per-row int64 code, -1 where missing; (n_codes,) str keys) of a text column."""
    encoded = column.combine_chunks().dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    keys = np.asarray(encoded.dictionary.to_pylist(), dtype=object).astype(str)
    return codes, keys


_UNITS = ((1e17, 1e-9, "Unix nanoseconds"), (1e14, 1e-6, "Unix microseconds"),
          (1e11, 1e-3, "Unix milliseconds"), (0.0, 1.0, "Unix seconds"))


def parse_times(column: Any, name: str) -> tuple[np.ndarray, str]:
    """(float64 Unix seconds per row, NaN where missing; the format found) of a time column.

    Numbers are Unix seconds, milliseconds, microseconds or nanoseconds by their magnitude
    (seconds up to 1e11, i.e. the year 5138); text is an ISO 8601 datetime or date (UTC unless
    it says otherwise).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_timestamp(kind):
        nanos = pc.cast(column, pa.timestamp("ns", tz=kind.tz)).cast(pa.int64())
        return _float(nanos) * 1e-9, "ISO datetime"
    if pa.types.is_date(kind):
        days = column.cast(pa.date32()).cast(pa.int32())
        return _float(days) * 86_400.0, "date"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return _unix(_float(column))
    strings = pd.Series(column.to_pandas(), dtype=object)
    present = strings.notna()
    numbers = pd.to_numeric(strings, errors="coerce")
    # A column of numbers with a stray word is read as text: it is still a numeric column.
    first = strings[present].iloc[0] if present.any() else ""
    if pd.notna(pd.to_numeric(pd.Series([first]), errors="coerce")[0]):
        _refuse(strings, numbers.isna() & present, name)
        return _unix(numbers.to_numpy(np.float64))
    parsed = pd.to_datetime(strings, utc=True, format="ISO8601", errors="coerce")
    _refuse(strings, parsed.isna() & present, name)
    seconds = parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64) * 1e-9
    return np.where(parsed.isna().to_numpy(), np.nan, seconds), "ISO datetime"


def _unix(values: np.ndarray) -> tuple[np.ndarray, str]:
    """(seconds, unit found) of Unix times in s, ms, µs or ns, told apart by magnitude."""
    finite = np.abs(values[np.isfinite(values)])
    size = float(np.median(finite)) if finite.size else 0.0
    for threshold, scale, label in _UNITS:
        if size >= threshold:
            return values * scale, label
    return values, "Unix seconds"


def _refuse(strings: pd.Series, bad: pd.Series, name: str) -> None:
    """ValueError quoting the first value that is not a time."""
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"time column {name!r}: cannot parse {strings.iloc[row]!r} (row {row + 1}) as Unix "
            "seconds or milliseconds, an ISO datetime or a date"
        )


def _float(column: Any) -> np.ndarray:
    import pyarrow as pa

    return np.asarray(column.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False),
                      np.float64)


def read_log(path: Path, config: ImportConfig, columns: dict[str, str] | None = None) -> _Read:
    """Read one log into `Clicks`: rows with a missing session, item or time are dropped."""
    check_readable(path)
    sep = "" if _kind(path) == "parquet" else (config.separator or sniff_separator(path))
    names, has_header = header_names(path, sep, config.columns())
    mapping = recognise_columns(names, columns or config.columns(), path)
    table = _read_table(path, sep, names, has_header, mapping)
    if table.num_rows == 0:
        raise ValueError(f"{path.name}: no clicks (only a header)")
    session, session_keys = _codes(table.column(mapping["session"]))
    item, item_keys = _codes(table.column(mapping["item"]))
    keep = (session >= 0) & (item >= 0)
    extras: dict[str, Any] = {}
    time_format = ""
    if "time" in mapping:
        time, time_format = parse_times(table.column(mapping["time"]), mapping["time"])
        keep &= np.isfinite(time)
        if "date" in mapping:
            date, date_format = parse_times(table.column(mapping["date"]), mapping["date"])
            keep &= np.isfinite(date)
            extras["order"] = time
            extras["session_time"] = date
            if time_format == "Unix seconds" and np.nanmax(np.abs(time), initial=0) < 1e8:
                # Not a point in time but an offset within the session: Diginetica's timeframe,
                # milliseconds since the session's first event. Clicks are dated from the date.
                time = date + time * 1e-3
                time_format = f"milliseconds within the session's {date_format}"
            else:
                time_format = f"{time_format}, sessions dated by {date_format}"
        extras["time"] = time
    for role in ("category", "label"):
        if role in mapping:
            extras[role], extras[f"{role}_keys"] = _codes(table.column(mapping[role]))
    clicks = Clicks(session=session, item=item, session_keys=session_keys, item_keys=item_keys,
                    **extras)
    dropped = int((~keep).sum())
    if dropped:
        clicks = clicks.take(keep)
    return _Read(clicks, time_format, dropped, {"sep": sep, **mapping})


def _join_given(train: Clicks, test: Clicks) -> tuple[Clicks, np.ndarray]:
    """(train and test clicks over shared key tables, per-click bool: in the test log).

    Test items are looked up in the training log's item table; a test session is a session of
    its own even when its raw id also occurs in training.
    """
    item_index = pd.Index(train.item_keys)
    test_item = item_index.get_indexer(test.item_keys)
    unseen = test_item < 0
    test_item[unseen] = np.arange(unseen.sum()) + train.item_keys.shape[0]
    item_keys = np.concatenate([train.item_keys, test.item_keys[unseen]])
    n_train_sessions = train.session_keys.shape[0]
    joined = Clicks(
        session=np.concatenate([train.session, test.session + n_train_sessions]),
        item=np.concatenate([train.item, test_item[test.item]]),
        session_keys=np.concatenate([train.session_keys, test.session_keys]),
        item_keys=item_keys,
    )
    extras: dict[str, Any] = {}
    for name in ("order", "time", "session_time"):
        a, b = getattr(train, name), getattr(test, name)
        if (a is None) != (b is None):
            raise ValueError(f"the training and test logs differ in their columns ({name})")
        if a is not None:
            extras[name] = np.concatenate([a, b])
    for role in ("category", "label"):
        a, b = getattr(train, role), getattr(test, role)
        if a is not None and b is not None:
            keys = np.concatenate([getattr(train, f"{role}_keys"), getattr(test, f"{role}_keys")])
            shift = getattr(train, f"{role}_keys").shape[0]
            extras[role] = np.concatenate([a, np.where(b >= 0, b + shift, -1)])
            extras[f"{role}_keys"] = keys
    is_test = np.zeros(joined.n_clicks, bool)
    is_test[train.n_clicks:] = True
    return dataclasses.replace(joined, **extras), is_test


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
    split = config.split_kind

    tell(0.02, f"reading {paths[0].name}")
    read = read_log(paths[0], config)
    clicks = read.clicks
    is_test = None
    if split == "given":
        tell(0.30, f"reading {paths[1].name}")
        roles = {r: c for r, c in read.columns.items() if r != "sep"}
        test_read = read_log(paths[1], config, roles)
    nothing = {"sessions": 0, "clicks": 0, "items": 0}
    report.add(f"read {paths[0].name}", "train" if split == "given" else "all", nothing,
               clicks.counts())
    _note_missing(report, read.dropped_missing)
    if split == "given":
        report.add(f"read {paths[1].name}", "test", nothing, test_read.clicks.counts())
        _note_missing(report, test_read.dropped_missing)
        clicks, is_test = _join_given(clicks, test_read.clicks)
    if split == "time" and clicks.time is None:
        raise ValueError(f"split = 'time' needs a time column; {paths[0].name} has none "
                         "(name it with --time-col, or use --split random)")
    if config.valid_days and clicks.time is None:
        raise ValueError("valid_days needs a time column; the log has none")

    tell(0.45, "ordering clicks within sessions")
    rows = click_order(clicks)
    clicks = clicks.take(rows)
    if is_test is not None:
        is_test = is_test[rows]

    tell(0.55, "filtering sessions and items")
    if split == "given":
        train = filter_clicks(clicks.take(~is_test), config.min_session_length,
                              config.item_support, report, "train")
        test = clicks.take(is_test)
    else:
        clicks = filter_clicks(clicks, config.min_session_length, config.item_support, report,
                               "all")
        _require(clicks, "after filtering", config)
        if split == "time":
            chosen, _ = split_by_time(clicks, config.test_days)
        else:
            chosen = split_random(len(clicks.starts()), config.test_fraction, config.seed)
        in_test = sessions_mask(clicks, chosen)
        train, test = clicks.take(~in_test), clicks.take(in_test)
        label = (f"split: sessions of the last {config.test_days:g} days are the test set"
                 if split == "time" else
                 f"split: a random {config.test_fraction:.0%} of sessions (seed {config.seed})")
        report.add(label + " (training part)", "train", clicks.counts(), train.counts())
        report.add(label + " (test part)", "test", clicks.counts(), test.counts())
    _require(train, "in the training part", config)
    seen = np.bincount(train.item, minlength=clicks.item_keys.shape[0]) > 0
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
    data, n_valid, n_test = build_sessions(Parts(train, valid, test), config.name)
    settings = {
        **{k: v for k, v in dataclasses.asdict(config).items() if k not in ("name",)},
        "split": split,
        "min_item_support": config.item_support,
        "columns": {r: c for r, c in read.columns.items() if r != "sep"},
        "sep": read.columns.get("sep", ""),
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


def _note_missing(report: Report, dropped: int) -> None:
    if dropped:
        report.steps[-1]["note"] = f"{dropped:,} rows without a session, item or time left out"


def _require(clicks: Clicks, where: str, config: ImportConfig) -> None:
    if clicks.n_clicks == 0:
        raise ValueError(
            f"{Path(config.path).name}: no clicks left {where} (min_session_length = "
            f"{config.min_session_length}, min_item_support = {config.item_support}, "
            f"split = {config.split_kind!r}): loosen the filters or check the columns"
        )


def format_report(report: list[dict[str, Any]]) -> str:
    """The preprocessing steps as a plain-text table: counts after each step and the change."""
    lines = [f"{'step':<66}{'part':>6}{'sessions':>11}{'clicks':>12}{'items':>9}"]
    for entry in report:
        cells = []
        for key, width in (("sessions", 11), ("clicks", 12), ("items", 9)):
            cells.append(f"{entry[key]:>{width},}")
        lines.append(f"{entry['step'][:65]:<66}{entry['part']:>6}" + "".join(cells))
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

