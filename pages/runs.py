"""Runs: every training run with its settings and scores, curves side by side, downloads and
deletion. Everything is read from the run folders, so runs made by the CLI show up too."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from streamrec import folders
from streamrec.charts import training_charts as charts
from streamrec.data.identity import data_label, group_by_data
from streamrec.text import escape_markdown
from streamrec.training import runs
from studio.navigation import ensure_app_navigation
from studio.run_table import STATE_LABELS, runs_table
from studio.viewer import viewer_mode, viewer_note

ensure_app_navigation()

COMPARE_KEY = "runs_compare"
SELECT_KEY = "runs_selected"
CONFIRM_KEY = "runs_confirm_delete"  # run id waiting for the "Yes, delete it" click
FLASH_KEY = "runs_flash"  # (kind, message) to show after the rerun that follows a deletion
CURVES = ("hit@10", "hit@20", "mrr@20", "ndcg@20", "valid_loss", "train_loss")
DOWNLOADS = (
    (runs.CONFIG_FILE, "application/json", ":material/settings:"),
    (runs.METRICS_FILE, "application/x-ndjson", ":material/timeline:"),
    (runs.WEIGHTS["best"], "application/octet-stream", ":material/download:"),
)


def flash() -> None:
    """Show the message left by the previous run (a deletion), once."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        kind, text = message
        (st.success if kind == "success" else st.error)(escape_markdown(text))


def _keep_known(key: str, options: list[str]) -> None:
    """Drop from a widget's remembered value the runs that no longer exist."""
    if key in st.session_state:
        value = st.session_state[key]
        if isinstance(value, list):
            st.session_state[key] = [v for v in value if v in options]
        elif value not in options:
            del st.session_state[key]


def compare(infos: list[runs.RunInfo]) -> None:
    """Validation curves of the chosen runs on one chart."""
    st.subheader("Compare validation curves", anchor=False)
    curves, configs = {}, {}
    for info in infos:
        events = [] if info.error else runs.read_events(info.path)
        if info.config is not None and any(e["event"] == "epoch" for e in events):
            curves[info.run_id], configs[info.run_id] = events, info.config
    if not curves:
        st.info("No run has finished an epoch yet.")
        return
    options = list(curves)
    _keep_known(COMPARE_KEY, options)
    pick, metric_col = st.columns([3, 1])
    chosen = pick.multiselect(
        "Runs",
        options,
        default=None if COMPARE_KEY in st.session_state else options[:3],
        key=COMPARE_KEY,
    )
    metric = metric_col.selectbox(
        "Metric", CURVES, format_func=charts.metric_label, key="runs_metric"
    )
    if not chosen:
        st.caption("Choose one or more runs to draw their curves.")
        return
    groups = group_by_data((run_id, configs[run_id]) for run_id in chosen)
    if len(groups) > 1:
        st.warning(
            f"These runs were trained on {len(groups)} different data sets, so their scores "
            "are not comparable: each data set gets its own chart.",
            icon=":material/dataset:",
        )
    for n, (key, members) in enumerate(groups.items()):
        if len(groups) > 1:
            st.markdown(f"**Data set {key}**: {data_label(configs[members[0]])}")
        st.plotly_chart(
            charts.overlay_chart({run_id: curves[run_id] for run_id in members}, metric),
            key="runs_chart_overlay" if n == 0 else f"runs_chart_overlay_{key}",
        )


def downloads(path: Path) -> None:
    """Download buttons for the run's config, metrics and best weights (read on click)."""
    for column, (name, mime, icon) in zip(st.columns(len(DOWNLOADS)), DOWNLOADS):
        file = path / name
        column.download_button(
            name,
            data=lambda file=file: _read(file),
            file_name=f"{path.name}-{name}",
            mime=mime,
            key=f"runs_download_{name}",
            icon=icon,
            on_click="ignore",
            disabled=file.is_symlink() or not file.is_file(),  # never serve through a link
            width="stretch",
        )


def _read(file: Path) -> bytes:
    try:
        return folders.read_regular(file)  # refuses a link swapped in after the page drew
    except FileNotFoundError:
        raise runs.RunError(f"{file.parent.name}: {file.name} no longer exists") from None
    except folders.FolderError as exc:
        raise runs.RunError(f"{file.parent.name}: {exc}") from None


def delete(info: runs.RunInfo) -> None:
    """Delete with a confirmation step; refused while the run trains, absent in viewer mode."""
    if viewer_mode():
        viewer_note("Delete")
        return
    if info.state == "running":
        st.info(
            "This run is training right now: stop it on the Train page before deleting it.",
            icon=":material/block:",
        )
        st.page_link(
            "pages/train.py", label="Open the Train page", icon=":material/model_training:"
        )
        return
    if not info.path.is_symlink() and folders.marker_kind(info.path) != folders.RUN:
        st.info(
            f"This folder was not written by StreamRec (it has no `{folders.MARKER}` marker "
            "file), so the app leaves it alone: delete it yourself if you mean to.",
            icon=":material/block:",
        )
        return
    if st.session_state.get(CONFIRM_KEY) != info.run_id:
        if st.button("Delete this run…", key="runs_delete", icon=":material/delete:"):
            st.session_state[CONFIRM_KEY] = info.run_id
            st.rerun()
        return
    st.warning(f"Delete run **{escape_markdown(info.run_id)}** with its weights and metrics? "
               "This cannot be undone.")
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button("Yes, delete it", key="runs_delete_yes", type="primary", width="stretch"):
        st.session_state.pop(CONFIRM_KEY, None)
        try:
            runs.delete_run(info.path)
        except (runs.RunError, OSError) as error:
            st.session_state[FLASH_KEY] = ("error", f"Could not delete {info.run_id}: {error}")
        else:
            st.session_state[FLASH_KEY] = ("success", f"Deleted run {info.run_id}.")
            del st.session_state[SELECT_KEY]
        st.rerun()
    if no.button("Cancel", key="runs_delete_no", width="stretch"):
        st.session_state.pop(CONFIRM_KEY, None)
        st.rerun()


def manage(infos: list[runs.RunInfo]) -> None:
    """One run's details, its files and its deletion."""
    st.subheader("Download or delete a run", anchor=False)
    by_id = {info.run_id: info for info in infos}
    options = list(by_id)
    gone = st.session_state.get(SELECT_KEY)
    if gone is not None and gone not in by_id:
        st.info(f"Run {escape_markdown(gone)} no longer exists: it was deleted in the meantime.")
        del st.session_state[SELECT_KEY]
        st.session_state.pop(CONFIRM_KEY, None)
    run_id = st.selectbox(
        "Run",
        options,
        format_func=lambda r: f"{r} ({STATE_LABELS.get(by_id[r].listed_state, by_id[r].state)})",
        key=SELECT_KEY,
    )
    info = by_id[run_id]
    if not (info.path.is_dir() or info.path.is_symlink()):  # a broken link can still be deleted
        st.warning(f"Run {escape_markdown(run_id)} was deleted in the meantime.")
        return
    if info.error:
        st.error(escape_markdown(info.error))
    elif info.state == "failed":
        reason = info.status.reason or "no reason recorded"
        st.error(f"This run failed: {escape_markdown(reason)}")
    try:  # never serve files through a link that leads out of the models folder
        runs.run_path(info.run_id, info.path.parent)
    except runs.RunError:
        st.caption("No downloads: this folder's files lie outside the models folder.")
    else:
        downloads(info.path)
    delete(info)


st.title("Runs")
st.caption(
    "Every run folder under the models directory, newest first: from the Train page or the "
    "command line. Scores are the best checkpoint's on the held-out sessions."
)
flash()
all_runs = runs.list_runs(runs.default_root())
if not all_runs:
    st.info("No runs yet: start one on the Train page.")
    st.page_link("pages/train.py", label="Open the Train page", icon=":material/model_training:")
else:
    training = any(info.state == "running" for info in all_runs)

    @st.fragment(run_every=2.0 if training else None)
    def live_runs_table() -> None:
        """The table, re-read every 2 s while a run trains."""
        infos = runs.list_runs(runs.default_root())
        runs_table(infos)
        if training and not any(info.state == "running" for info in infos):
            st.rerun()  # the run has ended: one full refresh, and polling stops

    live_runs_table()
    compare(all_runs)
    manage(all_runs)
