"""Run folders under models/: config, live metrics, weights and status, all written atomically.

A run folder holds:

- ``config.json``: the RunConfig (simulator, model, training) that rebuilds everything.
- ``catalog.npz``: item -> category and true popularity, to check a session's ids against.
- ``sessions.npz`` and ``split.npz``: the sessions the run was trained and tested on (with the
  item-id map and whatever extras the source has) and its train / validation / test targets,
  so a page rebuilds exactly what the run saw without re-simulating or re-importing. Stored
  compact (`load_data` reads them); a trained folder without them (made by an older version,
  whose pages re-simulated) is flagged with a request to retrain it.
- ``metrics.jsonl``: the training events, one JSON object per line, appended live.
- ``status.json``: state (created / running / completed / stopped / failed), reason, pid,
  heartbeat, final metrics and baselines.
- ``best.safetensors`` and ``last.safetensors``: weights; loading never unpickles code.

- ``.streamrec``: the marker (streamrec/folders.py) that says the app wrote this folder; a
  delete refuses a folder without it.

A corrupt or foreign folder raises `RunError` with a clear message when opened, and shows
up in `list_runs` with its error instead of breaking the listing. Every field read is checked
by type and range (streamrec/training/run_fields.py), no file is read through a symlink, and
temp files of a writer killed mid-save are removed at the next listing.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, TypedDict, get_args

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from streamrec import folders
from streamrec.config import RunConfig
from streamrec.data.array_checks import check_session_arrays
from streamrec.data.datasets import check_name
from streamrec.data.sessions import SessionData, expand_arrays, from_arrays, to_arrays
from streamrec.data.splits import Split, split_from_arrays, split_to_arrays
from streamrec.evaluation.metrics import PairedDifference
from streamrec.model import SessionModel, build_model
from streamrec.training.events import Event, as_event
from streamrec.training.run_fields import FieldError, check_event, check_status

CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
METRICS_FILE = "metrics.jsonl"
CATALOG_FILE = "catalog.npz"
DATA_FILE = "sessions.npz"
SPLIT_FILE = "split.npz"
STOP_FILE = "STOP"
LOG_FILE = "log.txt"
WEIGHTS = {"best": "best.safetensors", "last": "last.safetensors"}
State = Literal["created", "running", "completed", "stopped", "failed"]
TERMINAL: tuple[State, ...] = ("completed", "stopped", "failed")
HEARTBEAT_TIMEOUT = 120.0  # seconds without a heartbeat before a running run counts as dead
JSON_LIMIT = 16 * 2**20  # bytes: config.json and status.json are a few kB
METRICS_LIMIT = 256 * 2**20  # bytes: ~60 lines an epoch; far beyond any real run
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


class RunError(Exception):
    """A run folder that is missing, corrupt, foreign or incompatible."""


def default_root() -> Path:
    """models/ next to the package, or $STREAMREC_MODELS_DIR."""
    env = os.environ.get("STREAMREC_MODELS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "models"


def run_path(run_id: str, root: Path | None = None) -> Path:
    """The folder of run `run_id` under `root`; RunError unless `run_id` is a plain run name
    (letters, digits, '_', '-', '.', starting with a letter or digit) whose folder, symlinks
    resolved, lies directly inside `root`. Every page, the CLI and the jobs go through here."""
    root = Path(root) if root else default_root()
    shown = str(run_id)[:80]
    if not isinstance(run_id, str) or not _NAME.fullmatch(run_id):
        raise RunError(
            f"{shown!r} is not a run name: use 1-80 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    path = root / run_id
    try:
        inside = path.resolve(strict=False).parent == root.resolve(strict=False)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        inside = False
    if not inside:
        raise RunError(f"run {run_id!r} points outside the models folder (a symlink loop or link)")
    return path


def cli_run_path(arg: str, root: Path | None = None) -> Path:
    """A run given on the command line, as a name (`demo`) or a folder (`models/demo`), checked
    with `run_path`: the folder must lie directly inside the models folder `root`."""
    root = Path(root) if root else default_root()
    given = Path(arg)
    if given.name != arg and given.name not in ("", ".", ".."):
        try:
            parent_ok = given.parent.resolve() == root.resolve()
        except (OSError, RuntimeError):
            parent_ok = False
        if not parent_ok:
            raise RunError(f"{arg!r} is not a run folder inside the models folder {root}")
        arg = given.name
    return run_path(arg, root)


def _atomic_write(path: Path, write: Any) -> None:
    """Write through a temp file in the same folder, then rename over the target."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomically write a JSON object."""
    _atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=2, sort_keys=True)))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(folders.read_regular(path, JSON_LIMIT).decode("utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path.parent.name}: {path.name} is missing") from None
    except folders.FolderError as exc:
        raise RunError(f"{path.parent.name}: {exc}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise RunError(f"{path.parent.name}: {path.name} is not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(data, dict):
        raise RunError(f"{path.parent.name}: {path.name} does not hold a JSON object")
    return data


def new_run_id(config: RunConfig, root: Path, name: str | None = None) -> str:
    """A readable, unique folder name: given name, or time + a short description."""
    if name:
        if not _NAME.match(name):
            raise ValueError(
                f"run name = {name!r}: use 1-80 letters, digits, '_', '-' or '.', "
                "starting with a letter or digit"
            )
        if (root / name).exists():
            raise ValueError(f"run name = {name!r} already exists in {root}")
        return name
    base = time.strftime("%Y%m%d-%H%M%S") + f"-{config.model.slug()}"
    run_id, n = base, 1
    while (root / run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def make_root(root: Path | None = None) -> Path:
    """The models folder, created if missing; RunError if a file stands in its place."""
    root = Path(root) if root else default_root()
    if root.exists() and not root.is_dir():
        raise RunError(f"the models folder {root.name!r} is a file, not a folder")
    root.mkdir(parents=True, exist_ok=True)
    return root


def create_run(config: RunConfig, root: Path | None = None, name: str | None = None) -> Path:
    """Make a run folder holding the validated config and a 'created' status."""
    config.validate()
    root = make_root(root)
    path = run_path(new_run_id(config, root, name), root)
    path.mkdir()
    try:
        folders.write_marker(path, folders.RUN)
        write_json(path / CONFIG_FILE, config.to_dict())
        write_status(path, state="created", created=time.time())
    except BaseException:  # disk full, folder removed: leave no half-made run behind
        shutil.rmtree(path, ignore_errors=True)
        raise
    return path


Metrics = dict[str, float]  # metric key ("hit@10") -> value


class OracleReach(TypedDict):
    """When a run's validation Hit@K first reached `fraction` of the oracle's (None: never)."""

    fraction: float
    key: str  # "hit@10"
    oracle: float  # the oracle's validation Hit@K (baselines_valid)
    best: float | None  # the best epoch's validation Hit@K
    epoch: float | None
    train_seconds: float | None  # training time by then, validation excluded
    elapsed: float | None  # wall time by then, validation included


@dataclass(frozen=True)
class RunStatus:
    """status.json: where a run (or a tune job, which keeps the same file) stands and what it
    scored. Written only by `write_status`, read only by `read_status` (validated by
    `parse_status`); unknown keys on disk are ignored so that a newer writer's extra field never
    breaks an older reader."""

    state: State = "created"
    reason: str = ""  # why it stopped or failed; "" while it runs or when it completed
    phase: str = ""  # starting / simulating / loading / baselines / training / ... / done
    message: str = ""  # a tune job's current step ("V-SKNN: trial 12")
    budget: float | None = None  # a tune job's wall-clock budget, seconds
    pid: int | None = None  # the training process while it runs
    processes: int = 1  # training processes (torchrun ranks) the run was started on
    token: str | None = None  # the launcher's start token, checked before any signal
    created: float | None = None  # Unix times
    started: float | None = None
    heartbeat: float | None = None
    finished: float | None = None
    progress: float | None = None  # 0..1 of the whole run
    eta: float | None = None  # seconds left
    best_epoch: float | None = None
    best_valid: Metrics = field(default_factory=dict)  # the best epoch's validation scores
    final: Metrics = field(default_factory=dict)  # best checkpoint on the report split
    report_split: Literal["test", "valid"] = "valid"
    baselines: dict[str, Metrics] = field(default_factory=dict)  # name -> report-split metrics
    baselines_valid: dict[str, Metrics] = field(default_factory=dict)  # on a validation sample
    baselines_valid_targets: int | None = None
    baselines_left_out: dict[str, str] = field(default_factory=dict)  # name -> why
    paired: dict[str, dict[str, PairedDifference]] = field(default_factory=dict)
    to_oracle: OracleReach | None = None


_FIELDS = {f.name for f in fields(RunStatus)}
_NUMBER = (int, float)


def _is_number(value: object) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def _is_metrics(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and _is_number(v) for k, v in value.items()
    )


def _is_table(value: object, row: Callable[[object], bool]) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and row(v) for k, v in value.items())


def _is_paired(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(v, dict) and {"mean", "se", "n"} <= set(v) and all(_is_number(x) for x in v.values())
        for v in value.values()
    )


def _is_reach(value: object) -> bool:
    return isinstance(value, dict) and {"fraction", "key", "oracle"} <= set(value)


# What each status field must hold on disk; None is allowed wherever the default is None.
_CHECKS: dict[str, Callable[[object], bool]] = {
    "state": lambda v: v in get_args(State),
    "reason": lambda v: isinstance(v, str),
    "phase": lambda v: isinstance(v, str),
    "message": lambda v: isinstance(v, str),
    "budget": _is_number,
    "pid": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "processes": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "token": lambda v: isinstance(v, str),
    "created": _is_number, "started": _is_number, "heartbeat": _is_number,
    "finished": _is_number, "progress": _is_number, "eta": _is_number,
    "best_epoch": _is_number,
    "final": _is_metrics,
    "best_valid": _is_metrics,
    "report_split": lambda v: v in ("test", "valid"),
    "baselines": lambda v: _is_table(v, _is_metrics),
    "baselines_valid": lambda v: _is_table(v, _is_metrics),
    "baselines_valid_targets": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "baselines_left_out": lambda v: _is_table(v, lambda reason: isinstance(reason, str)),
    "paired": lambda v: _is_table(v, _is_paired),
    "to_oracle": _is_reach,
}
# A writer before typed status wrote "no value" as {} for these.
_EMPTY_AS_NONE = {"to_oracle"}


def parse_status(data: Mapping[str, Any], where: str = "status.json") -> RunStatus:
    """A RunStatus from status.json's object; RunError naming the first field of the wrong
    type (the folder is flagged, nothing downstream sees a bad value). Checks of a field's
    type and range belong here, in one place: ranges in `run_fields.check_status`."""
    try:  # a None is "no value": allowed where the field's default is None, checked below
        check_status({name: value for name, value in data.items() if value is not None})
    except FieldError as exc:
        raise RunError(f"{where}: {exc}") from None
    known: dict[str, Any] = {}
    for name, value in data.items():
        if name not in _FIELDS:
            continue
        if value is None or (name in _EMPTY_AS_NONE and value == {}):
            if getattr(_DEFAULT_STATUS, name) is not None:
                raise RunError(f"{where}: {name} is missing a value")
            continue
        if not _CHECKS[name](value):
            raise RunError(f"{where}: {name} = {str(value)[:60]!r} is not a valid value")
        known[name] = value
    return RunStatus(**known)


_DEFAULT_STATUS = RunStatus()
_status_lock = threading.Lock()  # a worker's heartbeat thread merges into status.json too


def write_status(path: Path, **changes: Any) -> RunStatus:
    """Merge fields of RunStatus into status.json (atomically) and return the new status;
    TypeError for a name that is not a RunStatus field."""
    unknown = sorted(set(changes) - _FIELDS)
    if unknown:
        raise TypeError(f"not a run status field: {', '.join(unknown)}")
    with _status_lock:
        try:
            stored = _read_json(path / STATUS_FILE)
        except RunError:
            stored = {}
        merged = {**stored, **changes}
        status = parse_status(merged, f"{path.name}: {STATUS_FILE}")
        write_json(path / STATUS_FILE, merged)
    return status


def read_status(path: Path) -> RunStatus:
    """The run's status, validated by type and range (RunError naming the field otherwise),
    with a 'running' run whose process is gone reported as failed."""
    path = Path(path)
    status = parse_status(_read_json(path / STATUS_FILE), f"{path.name}: {STATUS_FILE}")
    if status.state == "running" and not _alive(status):
        status = replace(status, state="failed", reason="the training process died (no heartbeat)")
    return status


def _alive(status: RunStatus) -> bool:
    if status.pid is None or not pid_running(status.pid):
        return False
    return time.time() - (status.heartbeat or 0) < HEARTBEAT_TIMEOUT


pid_running = folders.pid_running


def read_config(path: Path) -> RunConfig:
    """The run's config, validated."""
    data = _read_json(Path(path) / CONFIG_FILE)
    try:
        config = RunConfig.from_dict(data).validate()
        if config.data.dataset:  # a name, never a path: it is opened under the data folder
            check_name(config.data.dataset)
        return config
    except (TypeError, ValueError) as exc:
        raise RunError(f"{Path(path).name}: config.json is not a valid StreamRec config ({exc})") from None


def append_event(path: Path, event: Event) -> None:
    """Append one event as a JSON line (a single write, so readers never see half a line
    unless the process dies mid-write; `read_events` skips such a tail)."""
    with open(Path(path) / METRICS_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(event) + "\n")


def _event_lines(path: Path) -> list[tuple[int, Event, str | None]]:
    """(line number, event, why it is invalid or None) for every line that parses as an event."""
    try:
        blob = folders.read_regular(Path(path) / METRICS_FILE, METRICS_LIMIT)
    except FileNotFoundError:
        return []
    except folders.FolderError as exc:
        raise RunError(f"{Path(path).name}: {exc}") from None
    except OSError as exc:  # e.g. a folder in its place
        raise RunError(f"{Path(path).name}: {METRICS_FILE} is unreadable ({exc.strerror})") from None
    lines: list[tuple[int, Event, str | None]] = []
    for number, line in enumerate(blob.decode("utf-8", errors="replace").splitlines(), 1):
        try:
            event = as_event(json.loads(line))
        except (json.JSONDecodeError, RecursionError):
            continue
        if event is None:  # not an object, or no known event kind
            continue
        try:
            check_event(event)
        except FieldError as exc:
            lines.append((number, event, str(exc)))
        else:
            lines.append((number, event, None))
    return lines


def read_events(path: Path) -> list[Event]:
    """All complete, valid events of a run, as the trainer wrote them (an unfinished, corrupt
    or foreign line, or an event with a field of the wrong type, is skipped; `check_files`
    names the first such event)."""
    return [event for _, event, problem in _event_lines(path) if problem is None]


def events_problem(path: Path) -> str | None:
    """Why the run's metrics.jsonl cannot be trusted (its first invalid event), or None."""
    for number, _, problem in _event_lines(path):
        if problem:
            return f"{Path(path).name}: {METRICS_FILE} line {number}: {problem}"
    return None


def save_weights(path: Path, kind: str, model: SessionModel) -> None:
    """Atomically save the model's weights as safetensors ('best' or 'last')."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    _atomic_write(Path(path) / WEIGHTS[kind], lambda p: save_file(state, str(p)))


def save_catalog(path: Path, item_category: np.ndarray, item_popularity: np.ndarray) -> None:
    """Store the catalog the run was trained on (compressed, the arrays as given)."""
    def write(p: Path) -> None:
        with open(p, "wb") as fh:
            np.savez_compressed(fh, item_category=item_category, item_popularity=item_popularity)

    _atomic_write(Path(path) / CATALOG_FILE, write)


def save_data(path: Path, data: SessionData, split: Split) -> None:
    """Store the run's sessions and split, compressed in the compact layout
    (`sessions.to_arrays(compact=True)`, the split by session part where it can be): under
    1 MB for the default simulator's 20,000 sessions."""
    def write(arrays: dict[str, Any]) -> Any:
        def to(p: Path) -> None:
            with open(p, "wb") as fh:
                np.savez_compressed(fh, **arrays)

        return to

    _atomic_write(Path(path) / DATA_FILE, write(to_arrays(data, compact=True)))
    _atomic_write(Path(path) / SPLIT_FILE, write(split_to_arrays(split, data)))


def missing_data(path: Path) -> str | None:
    """Why the run folder has no stored sessions and split to open, or None if it has them."""
    path = Path(path)
    if (path / DATA_FILE).exists() and (path / SPLIT_FILE).exists():
        return None
    return f"{path.name} has no stored sessions (made by an older version); retrain it"


def load_data(path: Path, config: RunConfig) -> tuple[SessionData, Split]:
    """The sessions and split stored with the run; RunError if the folder has none (made by an
    older version, which rebuilt them from the config) or they are unreadable or damaged."""
    path = Path(path)
    problem = missing_data(path)
    if problem:
        raise RunError(problem)
    try:
        folders.check_regular(path / DATA_FILE)
        folders.check_regular(path / SPLIT_FILE)
        with np.load(path / DATA_FILE, allow_pickle=False) as npz:
            arrays = expand_arrays({key: npz[key] for key in npz.files})
        check_session_arrays(arrays)
        data = from_arrays(arrays, config.sim if config.data.is_simulated else None)
        with np.load(path / SPLIT_FILE, allow_pickle=False) as npz:
            split = split_from_arrays({key: npz[key] for key in npz.files}, data)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, folders.FolderError) as exc:
        raise RunError(f"{path.name}: its stored sessions are unreadable ({exc})") from None
    return data, split


def load_catalog(path: Path, n_items: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(item_category, item_popularity) of the run's catalog; RunError if it is unreadable or,
    given `n_items` (the model's catalog size), holds another number of items."""
    try:
        folders.check_regular(Path(path) / CATALOG_FILE)
        with np.load(Path(path) / CATALOG_FILE, allow_pickle=False) as npz:
            category, popularity = npz["item_category"], npz["item_popularity"]
    except FileNotFoundError:
        raise RunError(f"{Path(path).name}: catalog.npz is missing") from None
    except folders.FolderError as exc:
        raise RunError(f"{Path(path).name}: {exc}") from None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise RunError(f"{Path(path).name}: catalog.npz is unreadable ({exc})") from None
    if n_items is not None and (category.shape != (n_items,) or popularity.shape != (n_items,)):
        raise RunError(
            f"{Path(path).name}: catalog.npz has {category.shape[0] if category.ndim else 0} "
            f"items, the model {n_items}"
        )
    return category, popularity


def _new_model(config: RunConfig) -> SessionModel:
    """An untrained model of the run's family and size (on torch's current default device)."""
    return build_model(config.model)


def expected_shapes(config: RunConfig) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape of the model `config` describes, built on the meta device (no
    memory, no initialisation), so any model family is checked the same way."""
    with torch.device("meta"):
        model = _new_model(config)
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


def check_files(path: Path, config: RunConfig) -> str | None:
    """Why the run's files cannot serve its config, or None: the best checkpoint's safetensors
    header (read without loading a tensor) against the model's tensor shapes, the catalog's
    size, metrics.jsonl, and that a trained run stores its sessions. Cheap enough to run for
    every run in a listing."""
    path = Path(path)
    links = folders.symlinks_in(path)
    if links:
        return (f"{path.name}: {', '.join(links)} is a symlink; the app never writes one and "
                "never reads through one")
    if folders.marker_kind(path) != folders.RUN:
        return (f"{path.name}: not written by StreamRec (no {folders.MARKER} marker file); "
                "it is left alone")
    metrics = path / METRICS_FILE
    if metrics.exists() and not metrics.is_file():
        return f"{path.name}: {METRICS_FILE} is not a file"
    try:
        problem = events_problem(path)
    except RunError as exc:
        return str(exc)
    if problem:
        return problem
    weights = path / WEIGHTS["best"]
    if not weights.exists():
        return None  # not trained yet, or stopped before its first epoch: nothing to check
    problem = missing_data(path)  # stored before training begins, so any trained run has them
    if problem:
        return problem
    if not weights.is_file() or weights.is_symlink():
        return f"{path.name}: {weights.name} is not a file"
    try:
        with safe_open(str(weights), framework="pt") as fh:
            stored = {name: tuple(fh.get_slice(name).get_shape()) for name in fh.keys()}  # noqa: SIM118 (not iterable)
            dtypes = {fh.get_slice(name).get_dtype() for name in fh.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        return f"{path.name}: {weights.name} is not a readable safetensors file ({exc})"
    if dtypes - {"F32"}:  # the app saves float32; float64 may not fit (1e300 -> inf -> p = nan)
        return (f"{path.name}: {weights.name} holds {', '.join(sorted(dtypes - {'F32'}))} tensors; "
                "StreamRec saves float32 weights")
    expected = expected_shapes(config)
    if stored != expected:
        wrong = sorted(set(stored) ^ set(expected)) or sorted(
            name for name in expected if stored[name] != expected[name]
        )
        return (
            f"{path.name}: {weights.name} does not fit its config.json "
            f"({len(wrong)} tensor(s) missing, extra or of another shape, e.g. {wrong[0]})"
        )
    if config.data.is_simulated or (path / CATALOG_FILE).exists():  # imported logs may have none
        try:
            load_catalog(path, config.model.n_items)
        except RunError as exc:
            return str(exc)
    return None


def load_model(path: Path, kind: str = "best") -> tuple[SessionModel, RunConfig]:
    """Rebuild the model from the folder alone, in eval mode; RunError if anything is off."""
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"run {path.name!r} does not exist (was it deleted?)")
    config = read_config(path)
    weights = path / WEIGHTS[kind]
    if not weights.exists():
        raise RunError(f"{path.name}: no {kind} checkpoint yet ({weights.name} is missing)")
    try:
        folders.check_regular(weights)
    except folders.FolderError as exc:
        raise RunError(f"{path.name}: {exc}") from None
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RunError(f"{path.name}: {weights.name} is not a readable safetensors file ({exc})") from None
    # Checked as the model will hold them: float64 weights beyond float32's range become inf.
    bad = [name for name, tensor in state.items()
           if not (tensor.is_floating_point() and torch.isfinite(tensor.float()).all())]
    if bad:
        raise RunError(
            f"{path.name}: {weights.name} holds NaN or infinite weights ({', '.join(bad[:3])}); "
            "the training diverged, so this checkpoint cannot rank anything"
        )
    model = _new_model(config)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise RunError(f"{path.name}: weights do not fit its config.json ({first})") from None
    model.eval()
    return model, config


@dataclass
class RunInfo:
    """One row of the runs listing; `error` is set for a folder that cannot be read."""

    path: Path
    status: RunStatus = field(default_factory=RunStatus)
    config: RunConfig | None = None
    error: str | None = None

    @property
    def run_id(self) -> str:
        """The folder name."""
        return self.path.name

    @property
    def state(self) -> str:
        """created / running / completed / stopped / failed, or 'corrupt'."""
        return "corrupt" if self.error else self.status.state

    @property
    def has_weights(self) -> bool:
        """True if a best checkpoint exists."""
        return (self.path / WEIGHTS["best"]).exists()

    @property
    def listed_state(self) -> str:
        """`state`, except 'stopped early' for a run stopped before its first epoch ended: it
        has no trained model and must not be listed like one."""
        untrained = not self.status.best_epoch and not self.has_weights
        return "stopped early" if self.state == "stopped" and untrained else self.state


def list_runs(root: Path | None = None) -> list[RunInfo]:
    """Every run folder, newest first; unreadable folders are listed with their error."""
    root = Path(root) if root else default_root()
    if not root.is_dir():
        return []
    infos = []
    for path in root.iterdir():
        if path.name.startswith(".") or not (path.is_dir() or path.is_symlink()):
            continue
        info = RunInfo(path)
        try:
            run_path(path.name, root)
            if not path.is_dir():
                raise RunError(f"{path.name}: a symlink that leads to no folder")
            if not path.is_symlink():
                folders.reclaim_temps(path)  # a checkpoint save killed by kill -9
            info.config = read_config(path)
            info.status = read_status(path)
            _adopt(path)
            info.error = check_files(path, info.config)
        except RunError as exc:
            info.error = str(exc)
        infos.append(info)
    return sorted(infos, key=lambda i: (-(i.status.created or 0), i.run_id))


def _adopt(path: Path) -> None:
    """Mark a run made before run folders carried markers: its config and status just read
    as valid, so the app wrote it. A read-only folder stays unmarked (and is flagged)."""
    if folders.marker_kind(path) is None and not (path / folders.MARKER).is_symlink():
        try:
            folders.write_marker(path, folders.RUN)
        except OSError:
            pass


def openable_runs(root: Path | None = None) -> tuple[list[RunInfo], list[RunInfo]]:
    """(runs with a readable config and a best checkpoint, run folders that cannot be read).

    A run still training is openable once it has saved a best checkpoint.
    """
    listed = list_runs(root)
    return (
        [info for info in listed if info.error is None and info.has_weights],
        [info for info in listed if info.error is not None],
    )


def delete_path(name: str, root: Path | None = None) -> Path:
    """The entry `name` directly inside the models folder, for a delete: any folder name is
    accepted (a listing shows folders the app could not have named, e.g. with a space), but
    never a path; RunError if there is no such entry."""
    root = Path(root) if root else default_root()
    if not folders.is_child_name(name):
        raise RunError(f"{name[:80]!r} is not a folder name in the models folder")
    path = root / name
    if not (path.is_dir() or path.is_symlink()):
        raise RunError(f"run {name!r} does not exist in {root}")
    return path


def delete_run(path: Path) -> None:
    """Remove a run folder (any folder name); refuses while its training process is alive and
    any folder without the run marker. A symlink is removed as a link, never followed."""
    path = Path(path)
    if path.is_symlink():  # a link (to itself, outside, anywhere): remove the link, not its target
        path.unlink()
        return
    if not path.is_dir():
        raise RunError(f"run {path.name!r} does not exist")
    try:
        status = read_status(path)
    except RunError:
        status = RunStatus(state="failed")
    if status.state == "running":
        raise RunError(f"run {path.name!r} is still training: stop it before deleting it")
    try:
        folders.remove_entry(path.parent, path.name, folders.RUN)
    except folders.FolderError as exc:
        raise RunError(f"cannot delete {path.name!r}: {exc}") from None


def request_stop(path: Path) -> None:
    """Ask a running worker to stop after its current batch (it polls for this file)."""
    (Path(path) / STOP_FILE).touch()


def stop_requested(path: Path) -> bool:
    """True once `request_stop` was called for this run."""
    return (Path(path) / STOP_FILE).exists()

