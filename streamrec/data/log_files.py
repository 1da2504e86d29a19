"""Reading click-log files: CSV/TSV with any separator, or Parquet, into flat click arrays.

Columns are recognised by their usual names (or named by the caller; a number names a column
of a file without a header row), the separator is sniffed, and times are parsed from Unix
seconds, milliseconds, ISO datetimes or dates. Every problem is a one-line `ValueError` that
names the file, the column or the value.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
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
# Peak memory of an import per byte of file, with room to spare. The streaming read holds the
# per-click arrays, not the text: measured ~3x for the 3M-click CSV of benchmarks/bench_import.py
# (91 MiB -> +260 MiB); Parquet (compressed, fewer bytes per click) kept at its earlier ~20x.
MEMORY_PER_BYTE = {"csv": 5, "parquet": 25}


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

# A log is read in batches of about this size, so a read holds one batch of raw text at a time
# beyond the per-click code arrays: 64 MiB of CSV is ~2 M clicks of a YOOCHOOSE-like log.
CSV_BLOCK_BYTES = 64 << 20
PARQUET_BATCH_ROWS = 2_000_000
_TEXT_ROLES = ("session", "item", "category", "label")


@dataclass
class LogRead:
    """One log read into clicks, with what was found on the way."""

    clicks: Clicks
    columns: dict[str, str] = field(default_factory=dict)  # role -> column
    sep: str = ""  # '' for Parquet
    time_format: str = ""
    dropped_missing: int = 0  # rows without a session, item or time


def _batches(path: Path, sep: str, names: list[str], has_header: bool,
             mapping: dict[str, str]) -> Iterator[tuple[Any, float]]:
    """(record batch of the needed columns, share of the file read so far), batch by batch.

    Ids, categories and labels are read as text; pyarrow's streaming CSV reader (or the
    Parquet row-batch iterator) never holds more than a block of the file.
    """
    import pyarrow as pa

    text = {mapping[r] for r in _TEXT_ROLES if r in mapping}
    wanted = list(dict.fromkeys(mapping.values()))
    try:
        if _kind(path) == "parquet":
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            total, done = max(parquet.metadata.num_rows, 1), 0
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=wanted):
                columns = [batch.column(c).cast(pa.string()) if c in text else batch.column(c)
                           for c in batch.schema.names]
                done += batch.num_rows
                yield pa.RecordBatch.from_arrays(columns, names=batch.schema.names), done / total
            return
        from pyarrow import csv as pcsv

        read = pcsv.ReadOptions(column_names=None if has_header else names,
                                block_size=CSV_BLOCK_BYTES)
        parse = pcsv.ParseOptions(delimiter=sep)
        convert = pcsv.ConvertOptions(
            include_columns=wanted,
            column_types={c: pa.string() for c in text},
            strings_can_be_null=True,
            null_values=["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"],
        )
        size = max(path.stat().st_size, 1)
        with open(path, "rb") as fh:
            for batch in pcsv.open_csv(fh, read_options=read, parse_options=parse,
                                       convert_options=convert):
                yield batch, min(fh.tell() / size, 1.0)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        message = str(exc).splitlines()[0]
        raise ValueError(f"{path.name}: cannot be read as a click log ({message})") from None
    except OSError as exc:
        raise ValueError(f"{path.name}: cannot be read ({exc})") from None


class KeyTable:
    """A streaming dictionary: raw ids (text) -> dense codes in order of first appearance.

    Only the distinct ids are held, never the column. Ids that are all canonical integers
    (YOOCHOOSE's, Diginetica's) are kept as a sorted int64 array, so a batch is encoded by a
    sort and a binary search; the first id that is not switches the table to Arrow's hashed
    dictionary encoding of the text. The codes are the same either way.
    """

    def __init__(self) -> None:
        self._sorted = np.zeros(0, np.int64)  # distinct integer ids, ascending
        self._sorted_code = np.zeros(0, np.int64)  # the code of each
        self._text: Any = None  # pa.Array of the distinct ids in code order, once not integers
        self.size = 0

    def encode(self, column: Any) -> np.ndarray:
        """(rows,) int64 code of each row's id, -1 where the id is missing."""
        import pyarrow.compute as pc

        present = np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False), bool)
        codes = np.full(len(column), -1, np.int64)
        values = column.drop_null()
        if self._text is None:
            numbers = _canonical_integers(values)
            if numbers is not None:
                codes[present] = self._encode_integers(numbers)
                return codes
            self._text = self._integer_text()
        codes[present] = self._encode_text(values)
        return codes

    def _encode_integers(self, numbers: np.ndarray) -> np.ndarray:
        distinct, first, inverse = np.unique(numbers, return_index=True, return_inverse=True)
        at = np.searchsorted(self._sorted, distinct)
        known = at < self._sorted.size
        known[known] = self._sorted[at[known]] == distinct[known]
        code = np.empty(distinct.size, np.int64)
        code[known] = self._sorted_code[at[known]]
        new = np.flatnonzero(~known)  # ascending by id, as np.insert needs them
        by_appearance = new[np.argsort(first[new], kind="stable")]
        code[by_appearance] = self.size + np.arange(new.size)
        self.size += new.size
        self._sorted = np.insert(self._sorted, at[new], distinct[new])
        self._sorted_code = np.insert(self._sorted_code, at[new], code[new])
        return code[inverse.reshape(-1)]

    def _integer_text(self) -> Any:
        import pyarrow as pa

        return pa.array(self._integer_keys(), pa.large_string())

    def _integer_keys(self) -> np.ndarray:
        by_code = np.empty(self.size, np.int64)
        by_code[self._sorted_code] = self._sorted
        ends = (by_code.min(), by_code.max()) if by_code.size else ()
        width = max((len(str(int(v))) for v in ends), default=1)
        return by_code.astype(f"<U{width}")

    def _encode_text(self, values: Any) -> np.ndarray:
        import pyarrow as pa

        encoded = values.cast(pa.large_string()).dictionary_encode()
        # The table's ids come first and are distinct, so they keep their codes; the batch's
        # new ids follow in order of first appearance.
        merged = pa.concat_arrays([self._text, encoded.dictionary]).dictionary_encode()
        to_code = merged.indices.to_numpy(zero_copy_only=False)[len(self._text):]
        self._text, self.size = merged.dictionary, len(merged.dictionary)
        local = encoded.indices.to_numpy(zero_copy_only=False)
        codes: np.ndarray = np.asarray(to_code, np.int64)[local]
        return codes

    def keys(self) -> np.ndarray:
        """(size,) the raw ids as text, indexed by code."""
        if self._text is None:
            return self._integer_keys()
        return np.asarray(self._text.to_numpy(zero_copy_only=False), dtype=object).astype(str)


def _canonical_integers(values: Any) -> np.ndarray | None:
    """The ids as int64 if every one is an integer written the canonical way, else None
    ('007' or '+4' stay text: their text is the id)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        numbers = pc.cast(values, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if pc.all(pc.equal(pc.cast(numbers, values.type), values)).as_py() is False:
        return None
    return np.asarray(numbers.to_numpy(zero_copy_only=False), np.int64)


_UNITS = ((1e17, 1e-9, "Unix nanoseconds"), (1e14, 1e-6, "Unix microseconds"),
          (1e11, 1e-3, "Unix milliseconds"), (0.0, 1.0, "Unix seconds"))


class TimeColumn:
    """A time column parsed batch by batch: float64 per row, NaN where missing.

    Numbers are Unix seconds, milliseconds, microseconds or nanoseconds by their magnitude over
    the whole column (seconds up to 1e11, i.e. the year 5138), so `finish` scales them once
    every batch is in; text is an ISO 8601 datetime or date (UTC unless it says otherwise).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.numeric: bool | None = None  # numbers still to be scaled to seconds
        self.format = ""

    def parse(self, column: Any, first_row: int = 0) -> np.ndarray:
        """(rows,) the batch's times; ValueError quoting the first value that is not a time."""
        import pyarrow as pa

        kind = column.type
        if pa.types.is_timestamp(kind):
            self.numeric, self.format = False, "ISO datetime"
            nanos = column.cast(pa.timestamp("ns", tz=kind.tz)).cast(pa.int64())
            return _float(nanos) * 1e-9
        if pa.types.is_date(kind):
            self.numeric, self.format = False, "date"
            return _float(column.cast(pa.date32()).cast(pa.int32())) * 86_400.0
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            self.numeric = True
            return _float(column)
        strings = pd.Series(column.to_pandas(), dtype=object)
        present = strings.notna()
        if self.numeric is None and present.any():
            # A column of numbers with a stray word is read as text: still a numeric column.
            first = pd.to_numeric(pd.Series([strings[present].iloc[0]]), errors="coerce")[0]
            self.numeric = bool(pd.notna(first))
        if self.numeric:
            numbers = pd.to_numeric(strings, errors="coerce")
            self._refuse(strings, numbers.isna() & present, first_row)
            return np.asarray(numbers.to_numpy(np.float64, na_value=np.nan), np.float64)
        parsed = pd.to_datetime(strings, utc=True, format="ISO8601", errors="coerce")
        self._refuse(strings, parsed.isna() & present, first_row)
        self.format = "ISO datetime"
        seconds = parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64) * 1e-9
        return np.where(parsed.isna().to_numpy(), np.nan, seconds)

    def finish(self, values: np.ndarray) -> tuple[np.ndarray, str]:
        """(Unix seconds, the format found) of the whole column's parsed values."""
        if not self.numeric:
            return values, self.format or "ISO datetime"
        finite = np.abs(values[np.isfinite(values)])
        size = float(np.median(finite)) if finite.size else 0.0
        for threshold, scale, label in _UNITS:
            if size >= threshold:
                return (values * scale if scale != 1.0 else values), label
        return values, "Unix seconds"

    def _refuse(self, strings: pd.Series, bad: pd.Series, first_row: int) -> None:
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"time column {self.name!r}: cannot parse {strings.iloc[row]!r} (row "
                f"{first_row + row + 1}) as Unix seconds or milliseconds, an ISO datetime or a date"
            )


def _float(column: Any) -> np.ndarray:
    import pyarrow as pa

    return np.asarray(column.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False),
                      np.float64)


def read_log(path: Path, sep: str = "", named: dict[str, str] | None = None,
             progress: Callable[[float, int], None] | None = None) -> LogRead:
    """Read one log into `Clicks`, batch by batch: rows with a missing session, item or time
    are dropped.

    `sep` is the separator of a text log ('' = sniffed); `named` the columns given by role,
    the others are recognised; `progress(share of the file read, rows read)` follows the read.
    Beyond the per-click arrays only one batch and the distinct ids are held.
    """
    check_readable(path)
    named = named or {}
    sep = "" if _kind(path) == "parquet" else (sep or sniff_separator(path))
    names, has_header = header_names(path, sep, named)
    mapping = recognise_columns(names, named, path)
    tables = {role: KeyTable() for role in _TEXT_ROLES if role in mapping}
    times: dict[str, TimeColumn] = {
        role: TimeColumn(mapping[role]) for role in ("time", "date") if role in mapping
    }
    parts: dict[str, list[np.ndarray]] = {role: [] for role in [*tables, *times]}
    rows = 0
    for batch, share in _batches(path, sep, names, has_header, mapping):
        values = {role: table.encode(batch.column(mapping[role])) for role, table in tables.items()}
        for role, column in times.items():
            values[role] = column.parse(batch.column(mapping[role]), rows)
        keep = (values["session"] >= 0) & (values["item"] >= 0)
        for name in times:
            keep &= np.isfinite(values[name])
        for name, array in values.items():
            if name in tables and tables[name].size < 2**31:
                array = array.astype(np.int32)  # half the memory of the per-click codes
            parts[name].append(array if keep.all() else array[keep])
        rows += batch.num_rows
        if progress is not None:
            progress(share, rows)
    if rows == 0:
        raise ValueError(f"{path.name}: no clicks (only a header)")
    arrays = {role: np.concatenate(parts.pop(role)) for role in list(parts)}
    extras: dict[str, Any] = {}
    time_format = ""
    if "time" in times:
        time, time_format = times["time"].finish(arrays["time"])
        if "date" in times:
            date, date_format = times["date"].finish(arrays["date"])
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
    for extra in ("category", "label"):
        if extra in tables:
            extras[extra], extras[f"{extra}_keys"] = arrays[extra], tables[extra].keys()
    clicks = Clicks(session=arrays["session"], item=arrays["item"],
                    session_keys=tables["session"].keys(), item_keys=tables["item"].keys(),
                    **extras)
    return LogRead(clicks, mapping, sep, time_format, rows - clicks.n_clicks)
