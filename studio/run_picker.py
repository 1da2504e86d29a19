"""A trained run on a page: which runs can be opened, one run picker, cached loaders.

Shared by the Recommend, Attention patterns and Item embeddings pages. The model and catalog
loaders are keyed on the modification time of the file they read, so a run retrained (or
rewritten) under the same name is read again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from streamrec.config import RunConfig
from streamrec.data.items import ItemNames
from streamrec.data.sessions import SessionData
from streamrec.data.splits import Split
from streamrec.model import SessionModel
from streamrec.text import escape_markdown
from streamrec.training import runs
from streamrec.world.oracle import Oracle
from studio.notices import Notice

# The shipped demo runs, the first one present preselected: the streaming world, where the
# model beats the simple rules, then the case study's.
DEFAULT_RUNS = ("demo-streaming", "demo")
PICK_HELP = "A trained run from models/ (a shipped demo run by default)."
NO_RUNS = (
    "No trained run with a checkpoint yet: train one on the Train page or with "
    "`python -m streamrec train`."
)


# --- which runs ----------------------------------------------------------------------------


def openable_runs_or_stop() -> list[runs.RunInfo]:
    """The runs a page can open, newest first; unreadable folders are named in a caption, and
    the page stops with a hint when there is no run to open."""
    choices, broken = runs.openable_runs()
    if broken:
        st.caption(
            f"{len(broken)} run folder(s) cannot be opened: "
            + "; ".join(escape_markdown(info.error or info.run_id) for info in broken)
        )
    if not choices:
        st.info(NO_RUNS)
        st.stop()
    return choices


def broken_runs_expander(broken: Sequence[runs.RunInfo]) -> None:
    """Folders that cannot be opened, one error each, folded away but never silently hidden."""
    if broken:
        with st.expander(f"{len(broken)} run folder(s) cannot be opened and are not listed"):
            for info in broken:
                st.error(escape_markdown(info.error), icon=":material/folder_off:")


def pick_run(
    choices: Sequence[runs.RunInfo],
    key: str,
    *,
    where: DeltaGenerator | None = None,
    label: Callable[[runs.RunInfo], str] = lambda info: info.run_id,
    hint: str = PICK_HELP,
    linked: str | None = None,
    notice: Notice | None = None,
    persist: bool = False,
) -> runs.RunInfo:
    """The "Run" selectbox under `key`: the first of DEFAULT_RUNS present by default, else the
    first (newest) choice.

    `linked` is a run named by a link (`?run=`), chosen if it is among `choices`. A pick no
    longer among them (deleted, or its checkpoint gone) falls back to the default; a `notice`
    reports that and an unknown linked run. `persist` keeps the pick across page switches;
    `where` is the column or container to draw in (the page itself by default).
    """
    by_id = {info.run_id: info for info in choices}
    ids = list(by_id)
    if linked is not None:
        if linked in by_id:
            st.session_state[key] = linked
        elif notice is not None:
            notice.leave(
                f"The link asks for run **{escape_markdown(linked)}**, which does not exist here or has no "
                "trained checkpoint; showing another run."
            )
    picked = st.session_state.get(key)
    if picked not in by_id:
        if picked is not None and notice is not None:
            notice.leave(
                f"Run **{escape_markdown(picked)}** is no longer available (deleted, or its checkpoint is gone); "
                "showing another run."
            )
        st.session_state[key] = next((run for run in DEFAULT_RUNS if run in by_id), ids[0])
    run_id = (st if where is None else where).selectbox(
        "Run",
        ids,
        key=key,
        format_func=lambda r: label(by_id[r]),
        help=hint,
        persist_state="session" if persist else None,
    )
    return by_id[run_id]


# --- cached loaders ------------------------------------------------------------------------


def file_stamp(path: Path, name: str = runs.WEIGHTS["best"]) -> int:
    """Modification time (ns) of a run file, the cache key that reloads a rewritten file."""
    file = Path(path) / name
    try:
        return file.stat().st_mtime_ns
    except FileNotFoundError:
        raise runs.RunError(
            f"run {file.parent.name!r}: {file.name} is gone (was the run deleted?)"
        ) from None


@st.cache_resource(max_entries=4, show_spinner=False)
def _model(path: str, stamp: int) -> tuple[SessionModel, RunConfig]:
    return runs.load_model(Path(path), "best")


def cached_model(path: Path) -> tuple[SessionModel, RunConfig]:
    """The run's best checkpoint in eval mode and its config, loaded once per checkpoint file."""
    return _model(str(path), file_stamp(path))


@st.cache_resource(max_entries=4, show_spinner=False)
def _catalog(path: str, stamp: int) -> tuple[np.ndarray, np.ndarray]:
    return runs.load_catalog(Path(path))


def cached_catalog(path: Path, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """(item -> category, true popularity) of the run's catalog, loaded once per file;
    RunError unless it has `n_items` items (the model's catalog size)."""
    category, popularity = _catalog(str(path), file_stamp(path, runs.CATALOG_FILE))
    if category.shape[0] != n_items:
        raise runs.RunError(
            f"{Path(path).name}: catalog.npz has {category.shape[0]} items, the model {n_items}"
        )
    return category, popularity


@st.cache_resource(max_entries=4, show_spinner="Loading this run's sessions…")
def _run_sessions(path: str, stamp: int, config: RunConfig) -> tuple[SessionData, Split]:
    return runs.load_data(Path(path), config)


def run_sessions(path: Path, config: RunConfig) -> tuple[SessionData, Split]:
    """The sessions and split the run was trained and tested on, stored in its folder;
    RunError for a folder without them (made by an older version) or with damaged ones."""
    try:
        stamp = file_stamp(path, runs.DATA_FILE)
    except runs.RunError:
        stamp = 0
    return _run_sessions(str(path), stamp, config)


def item_names(path: Path, config: RunConfig) -> ItemNames:
    """How the run's items are named and grouped: the raw ids, labels and categories of the
    sessions stored with it; RunError unless it has them, with the model's `n_items` items."""
    path, n_items = Path(path), config.model.n_items
    problem = runs.missing_data(path)
    if problem:
        raise runs.RunError(problem)
    names = _stored_names(str(path), file_stamp(path, runs.DATA_FILE), config)
    if names.has_categories:
        # A run whose data has categories also keeps them in catalog.npz (the CLI reads it):
        # without it the folder is damaged, and saying so beats a page that half works.
        cached_catalog(path, n_items)
    if names.n_items != n_items:
        raise runs.RunError(
            f"{path.name}: its sessions have {names.n_items} items, the model {n_items}"
        )
    return names


@st.cache_resource(max_entries=4, show_spinner=False)
def _stored_names(path: str, stamp: int, config: RunConfig) -> ItemNames:
    data, _ = run_sessions(Path(path), config)
    return ItemNames.from_data(data)


@st.cache_resource(max_entries=4, show_spinner="Fitting the oracle on this run's sessions…")
def _run_oracle(path: str, stamp: int, config: RunConfig) -> Oracle:
    data, split = run_sessions(Path(path), config)
    return Oracle().fit(data, split.train)


def run_oracle(path: Path, config: RunConfig) -> Oracle | None:
    """The Bayes-optimal oracle of the run's sessions, fitted on its training part; None when
    the data's generating process is unknown (an imported log: no ceiling is known)."""
    data, _ = run_sessions(path, config)
    if not data.has_truth:
        return None
    try:
        stamp = file_stamp(path, runs.DATA_FILE)
    except runs.RunError:
        stamp = 0
    return _run_oracle(str(path), stamp, config)
