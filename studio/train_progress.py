"""The Train page's live view of a run: which run to show, its progress bar, Stop and charts.

Everything is read from the run folder, so the view re-attaches after reruns and reloads.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from streamrec.charts import training_charts as charts
from streamrec.text import escape_markdown
from streamrec.training import jobs, runs
from streamrec.training.events import Event
from studio.train_estimate import duration
from studio.viewer import viewer_mode, viewer_note

RUN_KEY = "train_run"  # the run started from this browser session
PHASES = {
    "starting": "Starting the worker",
    "simulating": "Simulating the sessions",
    "loading": "Loading the data set",
    "baselines": "Scoring the baselines and the oracle",  # "the baselines" on real data
    "training": "Training",
    "final evaluation": "Scoring the best epoch and the baselines on the held-out sessions",
    "done": "Finishing",
}


def shown_run(root: Path) -> Path | None:
    """The run to show: the one training now, else this session's (or the URL's) last run.

    A `?run=` that is not a run name inside the models folder (`..`, a path, a symlink out)
    is refused with a warning, so nothing outside the models folder is shown or stopped.
    """
    active = jobs.active_runs(root)
    if active:
        # Pin it, so this session (and a reload) still shows it once it has finished.
        st.session_state[RUN_KEY] = st.query_params["run"] = active[0].run_id
        return active[0].path
    for run_id in (st.query_params.get("run"), st.session_state.get(RUN_KEY)):
        if not run_id:
            continue
        try:
            path = runs.run_path(run_id, root)
        except runs.RunError as error:
            st.warning(f"The link's run cannot be shown: {escape_markdown(error)}")
            continue
        if path.is_dir():
            return path
    return None


def progress(status: runs.RunStatus, events: list[Event], epochs: int, simulated: bool) -> None:
    """Progress bar with the phase, the epoch and the time left (from the latest batch event,
    which is exact; status.json only carries them every few seconds)."""
    phase = status.phase or "starting"
    text = PHASES.get(phase, phase)
    if phase == "baselines" and not simulated:  # a real log has no oracle
        text = "Scoring the baselines"
    batches = [e for e in events if e["event"] == "batch"]
    value = 0.0
    if phase == "training" and batches:
        last = batches[-1]
        value = float(last["progress"])
        text += f" — epoch {last['epoch']} of {epochs}, {value:.0%}"
        text += f", about {duration(last['eta'])} left"
    elif phase == "training":
        text += " — first batches…"
    elif phase == "final evaluation":
        value = 1.0
        text += "…"
    else:
        text += "…"
    st.progress(min(max(value, 0.0), 1.0), text=text)


def live_view(path: Path, was_running: bool) -> None:
    """Status, progress, Stop and the charts of one run, redrawn from its folder."""
    try:
        status = runs.read_status(path)
        config = runs.read_config(path)
    except runs.RunError as error:
        st.warning(f"This run cannot be shown any more: {escape_markdown(error)}")
        return
    state = status.state
    if was_running and state != "running":
        st.rerun()  # one full rerun shows the final state and stops the polling
    events = runs.read_events(path)
    epochs = config.train.epochs
    if state == "running" and viewer_mode():
        progress(status, events, epochs, config.data.is_simulated)
        viewer_note("Stop")
    elif state == "running":
        bar, stop = st.columns([5, 1], vertical_alignment="bottom")
        with bar:
            progress(status, events, epochs, config.data.is_simulated)
        with stop:
            if runs.stop_requested(path):
                st.button("Stopping…", key="train_stop", disabled=True, width="stretch")
            elif st.button("Stop", key="train_stop", icon=":material/stop:", width="stretch"):
                try:
                    jobs.stop(path)
                except (OSError, runs.RunError) as error:  # e.g. its folder is gone
                    st.error(f"Could not stop the run: {escape_markdown(error)}")
                else:
                    st.toast("Stopping after the current batch; the best checkpoint is kept.")
    trained = any(e["event"] in ("batch", "epoch") for e in events)
    if trained:
        st.plotly_chart(
            charts.loss_chart(events, epochs=epochs, n_items=config.model.n_items),
            key="train_chart_loss",
        )
    if trained or status.baselines_valid:
        st.plotly_chart(
            charts.metrics_chart(
                events,
                status.baselines_valid,
                charts.metric_names(config.train.cutoffs),
                epochs=epochs,
            ),
            key="train_chart_metrics",
        )
    if not trained and state == "running":
        st.caption("The loss curve appears with the first logged batches.")
