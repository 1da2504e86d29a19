"""Run folders under models/: config, live metrics, weights and status, all written atomically.

A run folder holds:

- ``config.json``: the RunConfig (simulator, model, training) that rebuilds everything.
- ``catalog.npz``: item -> category and true popularity, to check a session's ids against.
- ``metrics.jsonl``: the training events, one JSON object per line, appended live.
- ``status.json``: state (created / running / completed / stopped / failed), reason, pid,
  heartbeat, final metrics and baselines.
- ``best.safetensors`` and ``last.safetensors``: weights; loading never unpickles code.

A corrupt or foreign folder raises `RunError` with a clear message when opened, and shows
up in `list_runs` with its error instead of breaking the listing.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from streamrec.config import RunConfig
from streamrec.model import SessionRecommender

CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
METRICS_FILE = "metrics.jsonl"
CATALOG_FILE = "catalog.npz"
STOP_FILE = "STOP"
LOG_FILE = "log.txt"
WEIGHTS = {"best": "best.safetensors", "last": "last.safetensors"}
TERMINAL = ("completed", "stopped", "failed")
HEARTBEAT_TIMEOUT = 120.0  # seconds without a heartbeat before a running run counts as dead
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


class RunError(Exception):
    """A run folder that is missing, corrupt, foreign or incompatible."""


def default_root() -> Path:
    """models/ next to the package, or $STREAMREC_MODELS_DIR."""
    env = os.environ.get("STREAMREC_MODELS_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "models"


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
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"{path.parent.name}: {path.name} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path.parent.name}: {path.name} is not valid JSON ({exc})") from None
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
    m = config.model
    base = time.strftime("%Y%m%d-%H%M%S") + f"-{m.cell}-{m.pooling}-h{m.hidden_size}"
    run_id, n = base, 1
    while (root / run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def create_run(config: RunConfig, root: Path | None = None, name: str | None = None) -> Path:
    """Make a run folder holding the validated config and a 'created' status."""
    config.validate()
    root = Path(root) if root else default_root()
    root.mkdir(parents=True, exist_ok=True)
    path = root / new_run_id(config, root, name)
    path.mkdir()
    write_json(path / CONFIG_FILE, config.to_dict())
    write_status(path, state="created", created=time.time())
    return path


_status_lock = threading.Lock()  # a worker's heartbeat thread merges into status.json too


def write_status(path: Path, **fields: Any) -> dict[str, Any]:
    """Merge fields into status.json (atomically) and return the new status."""
    with _status_lock:
        try:
            status = _read_json(path / STATUS_FILE)
        except RunError:
            status = {}
        status.update(fields)
        write_json(path / STATUS_FILE, status)
    return status


def read_status(path: Path) -> dict[str, Any]:
    """The status dict, with a 'running' run whose process is gone reported as failed."""
    status = _read_json(Path(path) / STATUS_FILE)
    if status.get("state") == "running" and not _alive(status):
        status = {**status, "state": "failed", "reason": "the training process died (no heartbeat)"}
    return status


def _alive(status: dict[str, Any]) -> bool:
    pid = status.get("pid")
    if not isinstance(pid, int) or not pid_running(pid):
        return False
    beat = status.get("heartbeat", 0)
    return isinstance(beat, (int, float)) and time.time() - beat < HEARTBEAT_TIMEOUT


def pid_running(pid: int) -> bool:
    """True if a process with this pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def read_config(path: Path) -> RunConfig:
    """The run's config, validated."""
    data = _read_json(Path(path) / CONFIG_FILE)
    try:
        return RunConfig.from_dict(data).validate()
    except (TypeError, ValueError) as exc:
        raise RunError(f"{Path(path).name}: config.json is not a valid StreamRec config ({exc})") from None


def append_event(path: Path, event: dict[str, Any]) -> None:
    """Append one event as a JSON line (a single write, so readers never see half a line
    unless the process dies mid-write; `read_events` skips such a tail)."""
    with open(Path(path) / METRICS_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(event) + "\n")


def read_events(path: Path) -> list[dict[str, Any]]:
    """All complete events of a run (an unfinished or corrupt line is skipped)."""
    try:
        text = (Path(path) / METRICS_FILE).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    events = []
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and "event" in event:
            events.append(event)
    return events


def save_weights(path: Path, kind: str, model: SessionRecommender) -> None:
    """Atomically save the model's weights as safetensors ('best' or 'last')."""
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    _atomic_write(Path(path) / WEIGHTS[kind], lambda p: save_file(state, str(p)))


def save_catalog(path: Path, item_category: np.ndarray, item_popularity: np.ndarray) -> None:
    """Store the catalog the run was trained on."""
    def write(p: Path) -> None:
        with open(p, "wb") as fh:
            np.savez(fh, item_category=item_category, item_popularity=item_popularity)

    _atomic_write(Path(path) / CATALOG_FILE, write)


def load_catalog(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(item_category, item_popularity) of the run's catalog."""
    try:
        with np.load(Path(path) / CATALOG_FILE, allow_pickle=False) as npz:
            return npz["item_category"], npz["item_popularity"]
    except FileNotFoundError:
        raise RunError(f"{Path(path).name}: catalog.npz is missing") from None
    except (OSError, ValueError, KeyError) as exc:
        raise RunError(f"{Path(path).name}: catalog.npz is unreadable ({exc})") from None


def load_model(path: Path, kind: str = "best") -> tuple[SessionRecommender, RunConfig]:
    """Rebuild the model from the folder alone, in eval mode; RunError if anything is off."""
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"run {path.name!r} does not exist (was it deleted?)")
    config = read_config(path)
    weights = path / WEIGHTS[kind]
    if not weights.exists():
        raise RunError(f"{path.name}: no {kind} checkpoint yet ({weights.name} is missing)")
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RunError(f"{path.name}: {weights.name} is not a readable safetensors file ({exc})") from None
    model = SessionRecommender(config.model)
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
    status: dict[str, Any] = field(default_factory=dict)
    config: RunConfig | None = None
    error: str | None = None

    @property
    def run_id(self) -> str:
        """The folder name."""
        return self.path.name

    @property
    def state(self) -> str:
        """created / running / completed / stopped / failed, or 'corrupt'."""
        return "corrupt" if self.error else str(self.status.get("state", "unknown"))

    @property
    def has_weights(self) -> bool:
        """True if a best checkpoint exists."""
        return (self.path / WEIGHTS["best"]).exists()

    @property
    def listed_state(self) -> str:
        """`state`, except 'stopped early' for a run stopped before its first epoch ended: it
        has no trained model and must not be listed like one."""
        untrained = not self.status.get("best_epoch") and not self.has_weights
        return "stopped early" if self.state == "stopped" and untrained else self.state


def list_runs(root: Path | None = None) -> list[RunInfo]:
    """Every run folder, newest first; unreadable folders are listed with their error."""
    root = Path(root) if root else default_root()
    if not root.is_dir():
        return []
    infos = []
    for path in root.iterdir():
        if not path.is_dir() or path.name.startswith("."):
            continue
        info = RunInfo(path)
        try:
            info.config = read_config(path)
            info.status = read_status(path)
        except RunError as exc:
            info.error = str(exc)
        infos.append(info)
    return sorted(infos, key=lambda i: (-float(i.status.get("created", 0) or 0), i.run_id))


def openable_runs(root: Path | None = None) -> tuple[list[RunInfo], list[RunInfo]]:
    """(runs with a readable config and a best checkpoint, run folders that cannot be read).

    A run still training is openable once it has saved a best checkpoint.
    """
    listed = list_runs(root)
    return (
        [info for info in listed if info.error is None and info.has_weights],
        [info for info in listed if info.error is not None],
    )


def delete_run(path: Path) -> None:
    """Remove a run folder; refuses while its training process is alive."""
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"run {path.name!r} does not exist")
    try:
        status = read_status(path)
    except RunError:
        status = {}
    if status.get("state") == "running":
        raise RunError(f"run {path.name!r} is still training: stop it before deleting it")
    shutil.rmtree(path)


def request_stop(path: Path) -> None:
    """Ask a running worker to stop after its current batch (it polls for this file)."""
    (Path(path) / STOP_FILE).touch()


def stop_requested(path: Path) -> bool:
    """True once `request_stop` was called for this run."""
    return (Path(path) / STOP_FILE).exists()

