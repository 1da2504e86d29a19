"""Viewer mode (STREAMREC_VIEWER=1): every page can be looked at; nothing can be started,
stopped, deleted or written. Each check also runs without viewer mode, so it can fail."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streamrec.training import runs
from tests.test_probes import CONFIG, make_run


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A finished run and one that reads as training (this process's pid and a fresh heartbeat)."""
    root = tmp_path / "models"
    make_run(root, "done")
    live = runs.create_run(CONFIG, root, "live")
    runs.write_status(live, state="running", pid=os.getpid(), heartbeat=time.time(), phase="training")
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(root))
    return root


def buttons(at: Any) -> set[str]:
    """Keys of the buttons on the page."""
    return {b.key for b in at.button}


def words(at: Any) -> str:
    """All message and caption text on the page."""
    return " ".join(e.value for kind in ("info", "caption") for e in at.get(kind))


@pytest.mark.parametrize("viewer", [True, False])
def test_train_page_has_no_start_or_stop_in_viewer_mode(
    open_page: Callable[..., Any], models: Path, monkeypatch: pytest.MonkeyPatch, viewer: bool
) -> None:
    if viewer:
        monkeypatch.setenv("STREAMREC_VIEWER", "1")
    at = open_page("pages/train.py")
    assert not at.exception, [e.message for e in at.exception]
    assert at.subheader[0].value == "Run live"  # the training run is still shown, live
    assert ("train_start" in buttons(at), "train_stop" in buttons(at)) == (not viewer, not viewer)
    assert ("Viewer mode" in words(at)) == viewer
    if viewer:
        assert "Start training is turned off" in words(at) and "Stop is turned off" in words(at)
    assert not runs.stop_requested(models / "live")


@pytest.mark.parametrize("viewer", [True, False])
def test_runs_page_has_no_delete_in_viewer_mode(
    open_page: Callable[..., Any], models: Path, monkeypatch: pytest.MonkeyPatch, viewer: bool
) -> None:
    if viewer:
        monkeypatch.setenv("STREAMREC_VIEWER", "1")
    at = open_page("pages/runs.py")
    at.selectbox(key="runs_selected").set_value("done").run()
    assert not at.exception, [e.message for e in at.exception]
    assert ("runs_delete" in buttons(at)) == (not viewer)
    assert ("Delete is turned off" in words(at)) == viewer
    assert len(at.dataframe) == 1 and (models / "done").is_dir()  # still all there to look at


@pytest.mark.parametrize("page", ["pages/home.py", "pages/recommend.py", "pages/embeddings.py"])
def test_every_page_says_viewer_mode_and_still_shows_the_run(
    open_page: Callable[..., Any], models: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    monkeypatch.setenv("STREAMREC_VIEWER", "1")
    at = open_page(page)
    assert not at.exception, [e.message for e in at.exception]
    assert "Viewer mode" in at.info[0].value


@pytest.mark.parametrize("viewer", [True, False])
def test_data_page_has_no_import_or_delete_in_viewer_mode(
    open_page: Callable[..., Any], models: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    viewer: bool,
) -> None:
    """An import reads a path on the server and writes a data set: neither on a viewer server."""
    from streamrec.data.datasets import Dataset, content_hash, save_dataset
    from tests.test_sessions import log_data

    data_root = tmp_path / "data"
    save_dataset(Dataset("shop", log_data(), 1, content_hash(log_data(), 1)), data_root)
    monkeypatch.setenv("STREAMREC_DATA_DIR", str(data_root))
    if viewer:
        monkeypatch.setenv("STREAMREC_VIEWER", "1")
    at = open_page("pages/data.py")
    assert not at.exception, [e.message for e in at.exception]
    keys = {w.key for kind in ("text_input", "button", "checkbox") for w in at.get(kind)}
    assert ("data_delete" in keys) == (not viewer)
    assert ("Importing a click log is turned off" in words(at)) == viewer
    assert len(at.dataframe) >= 1 and (data_root / "shop").is_dir()  # the listing is still there
