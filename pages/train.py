"""Train: model and training settings, Start, and a live view of the run that trains.

The training runs in a separate worker process (`streamrec.training.jobs.launch`); this page only
reads its run folder. A fragment polls the folder once a second while the run is alive, so
the page survives reruns, page switches and reloads: it re-attaches to whatever trains.
"""

from __future__ import annotations

import streamlit as st

from streamrec.config import RunConfig, TrainConfig, model_config
from streamrec.text import escape_markdown
from streamrec.training import jobs, runs
from streamrec.world.scenarios import recommended_max_len
from studio.navigation import ensure_app_navigation
from studio.processes import processes_input
from studio.train_data import (
    SIMULATED,
    data_summary,
    dataset_summary,
    fill_from_run,
    on_dataset,
    pick_data,
    sim_settings,
)
from studio.train_estimate import estimate
from studio.train_form import settings_form
from studio.train_outcome import outcome
from studio.train_progress import RUN_KEY, live_view, shown_run
from studio.tune_panel import preselect_recommended
from studio.viewer import viewer_mode, viewer_note

ensure_app_navigation()


def start(config: RunConfig | None, name: str, processes: int = 1) -> None:
    """Launch the training; a busy worker, a bad name or a disk error shows as an error."""
    if config is None:
        return  # the settings error is already on the page
    try:
        path = jobs.launch(config, runs.default_root(), name or None, processes=processes)
    except (jobs.JobBusy, ValueError, runs.RunError) as error:
        st.error(escape_markdown(error), icon=":material/block:")
        return
    except OSError as error:  # models folder unwritable, disk full: no run folder is left
        st.error(
            f"Could not start the training: {escape_markdown(error.strerror or error)}",
            icon=":material/block:",
        )
        return
    st.session_state[RUN_KEY] = path.name
    st.query_params["run"] = path.name
    st.rerun()


st.title("Train")
st.caption(
    "Train the session recommender on simulated sessions or an imported click log. Training "
    "runs in a separate process: switch pages or reload at will, this page re-attaches to it."
)
models_root = runs.default_root()
current = shown_run(models_root)
try:
    running = current is not None and runs.read_status(current).state == "running"
except runs.RunError:
    running = False

if running:
    fill_from_run(current)
source = pick_data()
if source != SIMULATED and not running:
    preselect_recommended(source)  # the data set's tune winner, else the measured default
sim, sim_source = sim_settings()
if source == SIMULATED:
    data_summary(sim, sim_source)
else:
    dataset_summary(source)
family, model_fields, train_fields, run_name = settings_form()
try:
    run_config: RunConfig | None = RunConfig(
        sim, model_config(family, n_items=sim.n_items, **model_fields), TrainConfig(**train_fields)
    ).validate()
    if source != SIMULATED:
        run_config = on_dataset(run_config, source)
except (TypeError, ValueError) as error:
    run_config = None
    st.error(f"Invalid setting: {escape_markdown(error)}", icon=":material/error:")
exact_window = recommended_max_len(sim, 0)  # 0: no mechanism, any window is exact
if source == SIMULATED and run_config is not None and run_config.train.max_len < exact_window:
    st.warning(
        f"With order mechanisms on, the oracle is exact only when max_len covers whole sessions "
        f"({sim.max_session_length} clicks); with {run_config.train.max_len} it reads a window "
        "that misses the session start as if it were the start.",
        icon=":material/warning:",
    )
if run_config is not None and running:
    st.caption(
        "No time estimate while a training runs: measuring would slow it down, and the "
        "shared cores would make the figure read slow."
    )
elif run_config is not None:
    estimate(run_config)
if viewer_mode():
    viewer_note("Start training")
else:
    processes = processes_input()
    if st.button("Start training", key="train_start", type="primary", icon=":material/play_arrow:"):
        start(run_config, run_name, processes)

if current is None:
    st.info("No training yet in this session. Past runs are on the Runs page.")
    st.page_link("pages/runs.py", label="Open the Runs page", icon=":material/history:")
else:
    st.divider()
    st.subheader(f"Run {current.name}", anchor=False)
    st.fragment(live_view, run_every=1.0 if running else None)(current, running)
    if not running:
        outcome(current)
