"""Imported data sets under data/: one folder each, written atomically, listed without crashing.

A data set folder holds:

- ``sessions.npz``: the clicks as a `SessionData` (`sessions.to_arrays`): dense item indices,
  session offsets, the raw item ids, and times, categories and labels where the log has them.
  Training sessions come first, then the held-out test sessions.
- ``dataset.json``: the name, the content hash of the clicks, the test sessions' range, the
  import settings and the report of every preprocessing step (counts before and after).

- ``.streamrec``: the marker (streamrec/folders.py) saying the app wrote the folder; a delete
  refuses any folder without it, whatever folder STREAMREC_DATA_DIR names.

The folder is written under a temporary name and renamed into place, so an import that fails
part-way leaves nothing behind (and the temp folder of an import killed with -9 is removed at
the next listing). A corrupt folder raises `DatasetError` when opened and shows up in
`list_datasets` with its error: dataset.json's fields and the arrays are checked by type and
range on read, no file is read through a symlink, and a folder name the app cannot have
written (a space, a symlink leading elsewhere) is flagged rather than opened.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from streamrec import folders
from streamrec.data.array_checks import check_session_arrays
from streamrec.data.sessions import SessionData, from_arrays, to_arrays

SESSIONS_FILE = "sessions.npz"
META_FILE = "dataset.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
META_LIMIT = 64 * 2**20  # bytes: dataset.json holds counts and a short report
_HASH = re.compile(r"^[0-9a-f]{16}$")


class DatasetError(Exception):
    """A data set folder that is missing, corrupt or foreign."""


def default_data_root() -> Path:
    """data/ next to the package, or $STREAMREC_DATA_DIR."""
    env = os.environ.get("STREAMREC_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


def check_name(name: str) -> str:
    """The name if it is a safe folder name; ValueError otherwise."""
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
        raise ValueError(
            f"data set name = {name!r}: use 1-80 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def content_hash(data: SessionData, n_test_sessions: int) -> str:
    """SHA-256 (first 16 hex digits) of the clicks, the raw item ids and the test boundary."""
    digest = hashlib.sha256()
    digest.update(data.offsets.astype(np.int64).tobytes())
    digest.update(data.items.astype(np.int64).tobytes())
    digest.update("\x1f".join(data.raw_ids(np.arange(data.n_items))).encode())
    digest.update(np.int64(n_test_sessions).tobytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Dataset:
    """An imported data set: all sessions, which of them are the test set, and how it was made."""

    name: str
    data: SessionData  # training sessions first, then the test sessions
    n_test_sessions: int
    content_hash: str
    settings: dict[str, Any] = field(default_factory=dict)  # the import settings, JSON-ready
    report: list[dict[str, Any]] = field(default_factory=list)  # one entry per step, with counts
    n_valid_sessions: int = 0  # validation sessions given by the import, just before the test

    @property
    def test_sessions(self) -> np.ndarray:
        """(n_test,) indices of the held-out test sessions (the last ones)."""
        n = self.data.n_sessions
        return np.arange(n - self.n_test_sessions, n, dtype=np.int64)

    @property
    def valid_sessions(self) -> np.ndarray:
        """(n_valid,) indices of the validation sessions the import set aside (often none)."""
        end = self.data.n_sessions - self.n_test_sessions
        return np.arange(end - self.n_valid_sessions, end, dtype=np.int64)


def save_dataset(dataset: Dataset, root: Path | None = None, overwrite: bool = False) -> Path:
    """Write the data set's folder atomically; ValueError if the name exists (unless overwrite)."""
    root = Path(root) if root else default_data_root()
    check_name(dataset.name)
    target = root / dataset.name
    if target.exists() and not overwrite:
        raise ValueError(f"data set name = {dataset.name!r} already exists in {root}")
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{dataset.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        folders.write_marker(tmp, folders.DATASET)  # first, so a killed import's is reclaimable
        with open(tmp / SESSIONS_FILE, "wb") as fh:
            # Uncompressed: zlib took ~40% of a 1M-click import for a 3x smaller file.
            arrays: dict[str, Any] = to_arrays(dataset.data)
            np.savez(fh, **arrays)
        meta = {
            "name": dataset.name,
            "content_hash": dataset.content_hash,
            "n_test_sessions": dataset.n_test_sessions,
            "n_valid_sessions": dataset.n_valid_sessions,
            "n_sessions": dataset.data.n_sessions,
            "n_clicks": dataset.data.n_clicks,
            "n_items": dataset.data.n_items,
            "settings": dataset.settings,
            "report": dataset.report,
        }
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))
        if target.is_symlink():
            target.unlink()
        elif target.exists():
            folders.remove_entry(root, dataset.name, folders.DATASET)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53


# dataset.json field -> (check, what it must be); "settings" and "report" are shown as given.
META_FIELDS: dict[str, tuple[Any, str]] = {
    "n_test_sessions": (_count, "a count >= 0"),
    "n_valid_sessions": (_count, "a count >= 0"),
    "n_sessions": (_count, "a count >= 0"),
    "n_clicks": (_count, "a count >= 0"),
    "n_items": (_count, "a count >= 0"),
    "content_hash": (lambda v: isinstance(v, str) and bool(_HASH.match(v)), "16 hex digits"),
    "name": (lambda v: isinstance(v, str), "a text"),
    "settings": (lambda v: isinstance(v, dict), "an object"),
    "report": (lambda v: isinstance(v, list) and all(isinstance(e, dict) for e in v),
               "a list of objects"),
}


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(folders.read_regular(path / META_FILE, META_LIMIT).decode("utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path.name}: {META_FILE} is missing") from None
    except folders.FolderError as exc:
        raise DatasetError(f"{path.name}: {exc}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DatasetError(f"{path.name}: {META_FILE} is not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(meta, dict) or "n_test_sessions" not in meta:
        raise DatasetError(f"{path.name}: {META_FILE} is not a StreamRec data set description")
    for name, (ok, allowed) in META_FIELDS.items():
        if name in meta and not ok(meta[name]):
            shown = repr(meta[name])
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise DatasetError(f"{path.name}: {META_FILE} field {name!r} = {shown} is not {allowed}")
    return meta


def _resolve(name: str, root: Path | None) -> Path:
    root = Path(root) if root else default_data_root()
    check_name(name)
    path = root / name
    if not path.is_dir():
        raise DatasetError(f"data set {name!r} does not exist in {root} (import it first)")
    try:
        inside = path.resolve().parent == root.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        inside = False
    if not inside:
        raise DatasetError(f"data set {name!r} points outside {root}")
    links = folders.symlinks_in(path)
    if links:
        raise DatasetError(f"{name}: {', '.join(links)} is a symlink; the app never reads through one")
    return path


def load_dataset(name: str, root: Path | None = None) -> Dataset:
    """Open an imported data set; DatasetError if anything is off."""
    path = _resolve(name, root)
    meta = _read_meta(path)
    try:
        folders.check_regular(path / SESSIONS_FILE)
        with np.load(path / SESSIONS_FILE, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        check_session_arrays(arrays)
        data = from_arrays(arrays)
    except FileNotFoundError:
        raise DatasetError(f"{name}: {SESSIONS_FILE} is missing") from None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, folders.FolderError) as exc:
        raise DatasetError(f"{name}: {SESSIONS_FILE} is unreadable ({exc})") from None
    n_test, n_valid = meta["n_test_sessions"], meta.get("n_valid_sessions", 0)
    if not 0 <= n_test < data.n_sessions or not 0 <= n_valid < data.n_sessions - n_test:
        raise DatasetError(f"{name}: {n_test} test and {n_valid} validation sessions out of "
                           f"{data.n_sessions} is inconsistent")
    digest = content_hash(data, n_test)
    if digest != meta.get("content_hash"):
        raise DatasetError(f"{name}: the clicks do not match the recorded content hash (modified?)")
    return Dataset(
        name=name, data=data, n_test_sessions=n_test, content_hash=digest,
        settings=meta.get("settings", {}), report=meta.get("report", []),
        n_valid_sessions=n_valid,
    )


@dataclass
class DatasetInfo:
    """One row of the data set listing; `error` is set for a folder that cannot be read."""

    name: str
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def list_datasets(root: Path | None = None) -> list[DatasetInfo]:
    """Every data set folder by name; unreadable folders are listed with their error."""
    root = Path(root) if root else default_data_root()
    if not root.is_dir():
        return []
    folders.reclaim_temps(root, folders.DATASET)  # imports killed mid-write
    infos = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not (path.is_dir() or path.is_symlink()):
            continue
        info = DatasetInfo(path.name)
        try:
            check_name(path.name)
        except ValueError:
            info.error = f"{path.name!r} is not a data set name the app writes"
            infos.append(info)
            continue
        try:
            _resolve(path.name, root)
            info.meta = _read_meta(path)
            try:
                folders.check_regular(path / SESSIONS_FILE)
            except FileNotFoundError:
                raise DatasetError(f"{path.name}: {SESSIONS_FILE} is missing") from None
            except folders.FolderError as exc:
                raise DatasetError(f"{path.name}: {exc}") from None
            if folders.marker_kind(path) != folders.DATASET and not path.is_symlink():
                _adopt(path)
        except DatasetError as exc:
            info.error = str(exc)
        infos.append(info)
    return infos


def _adopt(path: Path) -> None:
    """Mark a data set written before folders carried markers: its dataset.json was checked
    and its clicks file exists, so it is one the app wrote. DatasetError if it cannot be."""
    try:
        folders.write_marker(path, folders.DATASET)
    except OSError:
        raise DatasetError(f"{path.name}: not marked as a StreamRec data set (no "
                           f"{folders.MARKER} file, and the folder is read-only)") from None


def delete_dataset(name: str, root: Path | None = None) -> None:
    """Remove the data set folder `name` (any folder name, spaces and non-ASCII included): a
    symlink is removed as a link, never followed; a folder only if the app wrote it (its
    marker file). DatasetError with the reason otherwise."""
    root = Path(root) if root else default_data_root()
    try:
        folders.remove_entry(root, name, folders.DATASET)
    except folders.FolderError as exc:
        raise DatasetError(f"cannot delete {name!r}: {exc}") from None
