"""Folders the app owns (run folders, data set folders): who wrote them, reading their files
without following links, deleting them safely and reclaiming the temp files of killed writers.

Every folder the app creates gets a marker file (`MARKER`, a tiny JSON object naming its kind)
at creation. A delete refuses any folder without the marker of its kind, so pointing
STREAMREC_DATA_DIR or STREAMREC_MODELS_DIR at a folder of one's own can never delete the
user's files. Links are never followed: a symlinked entry is deleted as a link, and a file
that is a symlink is refused when read, because a link can lead anywhere on the machine.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
from pathlib import Path

MARKER = ".streamrec"
RUN, DATASET = "run", "dataset"
_MARKER_LIMIT = 4096  # bytes: the marker is a one-line JSON object
# Temp names the app's atomic writers use: ".<target>.<pid>.tmp" (a file or a folder).
_TEMP = re.compile(r"^\..+\.(\d+)\.tmp$")


class FolderError(Exception):
    """A folder or file that the app must not read, serve or delete."""


def pid_running(pid: int) -> bool:
    """True if a process with this pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError, OverflowError, ValueError):
        return False
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
        return status.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def write_marker(folder: Path, kind: str) -> None:
    """Mark `folder` as one the app wrote, of `kind` (RUN or DATASET)."""
    (Path(folder) / MARKER).write_text(json.dumps({"kind": kind}) + "\n")


def marker_kind(folder: Path) -> str | None:
    """The kind recorded by the folder's marker, or None when it has no valid marker (missing,
    a symlink, not a small JSON object naming a kind)."""
    try:
        text = read_regular(Path(folder) / MARKER, _MARKER_LIMIT).decode("utf-8")
        data = json.loads(text)
    except (FolderError, OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def read_regular(path: Path, limit: int | None = None) -> bytes:
    """The bytes of `path`, refusing a symlink (O_NOFOLLOW, so no race with a swapped link),
    anything but a regular file, and files over `limit` bytes. FileNotFoundError passes."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FolderError(f"{path.name} is a symlink; the app never reads through links") from None
        raise
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise FolderError(f"{path.name} is not a regular file")
        if limit is not None and info.st_size > limit:
            raise FolderError(f"{path.name} is {info.st_size:,} bytes, over the {limit:,} allowed")
        return fh.read()


def check_regular(path: Path) -> None:
    """FolderError unless `path` is a regular file itself (not a symlink, FIFO or device, which
    could lead elsewhere or block a reader forever). FileNotFoundError passes."""
    info = Path(path).lstat()
    if stat.S_ISLNK(info.st_mode):
        raise FolderError(f"{Path(path).name} is a symlink; the app never reads through links")
    if not stat.S_ISREG(info.st_mode):
        raise FolderError(f"{Path(path).name} is not a regular file")


def symlinks_in(folder: Path) -> list[str]:
    """Names of the entries of `folder` that are symlinks (the app never writes one)."""
    try:
        return sorted(entry.name for entry in os.scandir(folder) if entry.is_symlink())
    except OSError:
        return []


def is_child_name(name: str) -> bool:
    """True if `name` names an entry directly inside a folder (any characters, spaces and
    non-ASCII included, but no separator and not '.' or '..')."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def remove_entry(root: Path, name: str, kind: str) -> None:
    """Delete the entry `name` directly inside `root` without following any link: a symlink is
    removed as a link (its target untouched); a folder only if it carries the `kind` marker.
    FolderError for anything else, with the reason."""
    if not is_child_name(name):
        raise FolderError(f"{name!r} is not a folder name")
    path = Path(root) / name
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise FolderError(f"{name!r} does not exist (was it deleted already?)") from None
    if stat.S_ISLNK(info.st_mode):
        path.unlink()
        return
    if not stat.S_ISDIR(info.st_mode):
        raise FolderError(f"{name!r} is not a folder; only folders the app wrote are deleted")
    if marker_kind(path) != kind:
        raise FolderError(
            f"{name!r} was not written by StreamRec (no {kind} marker file {MARKER}): "
            "it is left alone; delete it yourself if you mean to"
        )
    shutil.rmtree(path)  # rmtree removes links inside as links, never their targets


def reclaim_temps(folder: Path, kind: str | None = None) -> list[str]:
    """Remove the temp files and folders ('.<name>.<pid>.tmp') that a writer killed mid-save
    left in `folder` (its process is gone); the names removed. A live writer's are kept.

    With `kind`, `folder` is a root the user may have chosen: only temp folders that carry
    that marker (or are empty) are removed there, never a file or a folder of the user's."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match or pid_running(int(match.group(1))):
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            if kind is not None and not (is_dir and (marker_kind(Path(entry.path)) == kind
                                                     or not os.listdir(entry.path))):
                continue
            if is_dir:
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue  # removed by someone else meanwhile, or not ours to remove
        removed.append(entry.name)
    return removed
