"""Reading click-log files: CSV/TSV with any separator, or Parquet, into flat click arrays.

Columns are recognised by their usual names (or named by the caller; a number names a column
of a file without a header row), the separator is sniffed, and times are parsed from Unix
seconds, milliseconds, ISO datetimes or dates. Every problem is a one-line `ValueError` that
names the file, the column or the value.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from streamrec.data.preprocess import Clicks

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
# Peak memory of an import per byte of file, with room to spare: measured ~10x for the 1M-click
# CSV of benchmarks/bench_import.py (30 MiB -> ~290 MiB) and ~20x for the same log as Parquet.
MEMORY_PER_BYTE = {"csv": 12, "parquet": 25}


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
        best = max(counts, key=lambda sep: counts[sep])
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
            found = normal.get(candidate)
            if found is not None and found not in taken:
                mapping[role] = found
                taken.add(found)
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
class LogRead:
    """One log read into clicks, with what was found on the way."""

    clicks: Clicks
    columns: dict[str, str] = field(default_factory=dict)  # role -> column
    sep: str = ""  # '' for Parquet
    time_format: str = ""
    dropped_missing: int = 0  # rows without a session, item or time


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


def read_log(path: Path, sep: str = "", named: dict[str, str] | None = None) -> LogRead:
    """Read one log into `Clicks`: rows with a missing session, item or time are dropped.

    `sep` is the separator of a text log ('' = sniffed); `named` the columns given by role,
    the others are recognised.
    """
    check_readable(path)
    named = named or {}
    sep = "" if _kind(path) == "parquet" else (sep or sniff_separator(path))
    names, has_header = header_names(path, sep, named)
    mapping = recognise_columns(names, named, path)
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
    return LogRead(clicks, mapping, sep, time_format, dropped)
