"""How far each explanation of a run can be trusted: the faithfulness table stored in the run
folder (computed on first need), its most faithful explainer, and the sentence that says so.

The record (`faithfulness.json`) holds `faithfulness.json_table` and the SHA-256 of the
checkpoint it measured, so a retrained run measures again and a copied run folder does not.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from streamrec.data.sessions import SessionData
from streamrec.data.splits import Split
from streamrec.explain.faithfulness import (
    ALL,
    IDEAL,
    Faithfulness,
    RowModel,
    json_table,
    measure_faithfulness,
)

RECORD_FILE = "faithfulness.json"
WEIGHTS_FILE = "best.safetensors"
BALANCED = "mean over mechanisms"  # the json_table entry most_faithful ranks by
N_SESSIONS = 2000  # held-out sessions the stored table measures (one target each)
VERSION = 1  # the record's layout; an older one is measured again


def checkpoint_digest(path: Path) -> str:
    """SHA-256 of the run's best checkpoint (what a stored record is valid for)."""
    digest = hashlib.sha256()
    with open(Path(path) / WEIGHTS_FILE, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stored_record(path: Path) -> dict[str, Any] | None:
    """The stored faithfulness record of a run if it is readable, of this layout and of the
    current checkpoint; else None (measure again)."""
    file = Path(path) / RECORD_FILE
    try:
        record = json.loads(file.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("version") != VERSION:
        return None
    table = record.get("table")
    if not isinstance(table, dict) or not isinstance(table.get("explainers"), dict):
        return None
    try:
        if record.get("checkpoint") != checkpoint_digest(path):
            return None
    except OSError:
        return None
    return record


def measure_and_store(
    path: Path,
    model: RowModel,
    data: SessionData,
    split: Split,
    max_len: int,
    n_sessions: int = N_SESSIONS,
    progress: Any = None,
) -> dict[str, Any]:
    """Measure every explainer of the run on its held-out sessions and store the record in
    the run folder (`store`)."""
    result = measure_faithfulness(model, data, split.report, max_len, n_sessions, progress=progress)
    return store(path, result)


def store(path: Path, result: Faithfulness) -> dict[str, Any]:
    """Write a measured result into the run folder as its record (atomically; a read-only
    folder keeps it in memory only) and return the record."""
    record = {"version": VERSION, "checkpoint": checkpoint_digest(path), "table": json_table(result)}
    try:
        fd, tmp = tempfile.mkstemp(dir=path, prefix=".faithfulness-", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh)
        os.replace(tmp, Path(path) / RECORD_FILE)
    except OSError:
        pass  # a read-only run folder (a shared demo): the caller still gets the record
    return record


def most_faithful(record: dict[str, Any]) -> str | None:
    """The explainer the record measured most faithful (None if it has none)."""
    name = record["table"].get("most_faithful")
    return name if isinstance(name, str) else None


def top1(record: dict[str, Any], explainer: str, mechanism: str = ALL) -> float | None:
    """The explainer's top-1 rate in the record, None if not measured."""
    cell = record["table"]["explainers"].get(explainer, {}).get(mechanism)
    return float(cell["top1"]) if isinstance(cell, dict) else None


def weakest(record: dict[str, Any], explainer: str) -> tuple[str, float] | None:
    """The mechanism on which `explainer` names the cause least often, and that rate."""
    cells = record["table"]["explainers"].get(explainer, {})
    rates = [(name, float(cell["top1"])) for name, cell in cells.items()
             if name not in (ALL, BALANCED) and isinstance(cell, dict) and cell.get("targets")]
    return min(rates, key=lambda pair: pair[1]) if rates else None


def trust_sentence(record: dict[str, Any], explainer: str, label: str | None = None) -> str:
    """One sentence: how often `explainer` (called `label` in it) names the true cause on
    held-out sessions, the best possible (the ideal explainer's rate) where the world is
    known, and its weakest cause."""
    label = label or explainer
    rate = top1(record, explainer)
    if rate is None:
        return f"{label[:1].upper() + label[1:]} was not measured for this run."
    n = int(record["table"].get("n_sessions", 0))
    sentence = (f"On {n:,} held-out sessions of this world, {label} names the click that "
                f"truly caused the next one {rate:.0%} of the time")
    best = top1(record, IDEAL)
    if best is not None:
        sentence += f"; the best possible is {best:.0%}"
    worst = weakest(record, explainer)
    if worst is not None:
        sentence += f" (weakest on {worst[0]} clicks: {worst[1]:.0%})"
    return sentence + "."
