"""Uploaded click logs on the server's disk: private, and deleted once imported.

The importer reads from a path, so an upload is written once to a folder only this user can
read (mkdtemp makes it 0700, the file is 0600), named after this server process so that the
folders of a server killed with -9 are removed at the next start. After an import the copy is
deleted and the upload is remembered as imported, so the next rerun does not write it again.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from pathlib import Path

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from streamrec.folders import pid_running

PREFIX = "streamrec-uploads-"
IMPORTED_KEY = "data_imported_uploads"  # file ids of uploads already imported (and deleted)
_OURS = re.compile(rf"^{PREFIX}(\d+)-")


def reclaim(parent: Path) -> list[str]:
    """Remove upload folders under `parent` that a server process now gone left behind (only
    this user's own folders); the names removed."""
    removed = []
    for entry in os.scandir(parent):
        match = _OURS.match(entry.name)
        if not match or pid_running(int(match.group(1))):
            continue
        try:
            if entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_uid == os.getuid():
                shutil.rmtree(entry.path)
                removed.append(entry.name)
        except OSError:
            continue
    return removed


@st.cache_resource(show_spinner=False)
def reclaim_at_start() -> list[str]:
    """Once per server process (app.py calls it): the upload folders of killed servers."""
    return reclaim(Path(tempfile.gettempdir()))


@st.cache_resource(show_spinner=False)
def upload_folder() -> str:
    """This server process's private upload folder (0700), removed when the process exits."""
    parent = Path(tempfile.gettempdir())
    reclaim_at_start()
    folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent)
    atexit.register(shutil.rmtree, folder, True)
    return folder


def saved_upload(upload: UploadedFile) -> Path | None:
    """The upload written once (0600) to the private folder; None if it was imported already."""
    slot = re.sub(r"[^A-Za-z0-9_-]", "_", upload.file_id)
    if slot in st.session_state.get(IMPORTED_KEY, ()):
        return None
    folder = Path(upload_folder()) / slot
    path = folder / (Path(upload.name).name or "upload")
    if not path.exists():
        folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(upload.getbuffer())
    return path


def discard(path: Path) -> None:
    """Delete an imported upload's copy (a path outside the upload folder is left alone)."""
    folder = Path(upload_folder())
    if path.parent.parent == folder:
        shutil.rmtree(path.parent, ignore_errors=True)
        imported = set(st.session_state.get(IMPORTED_KEY, ()))
        st.session_state[IMPORTED_KEY] = imported | {path.parent.name}
