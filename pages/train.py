"""Train: model and training settings, Start, and a live view of the run that trains.

The training runs in a separate worker process (`streamrec.training.jobs.launch`); this page only
reads its run folder. A fragment polls the folder once a second while the run is alive, so
the page survives reruns, page switches and reloads: it re-attaches to whatever trains.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from streamrec.charts import training_charts as charts
from streamrec.config import (
    MODEL_CONFIGS,
    RunConfig,
    SimConfig,
    TrainConfig,
    from_dict,
    model_config,
    to_dict,
)
from streamrec.data import datasets
from streamrec.data.sources import dataset_config
from streamrec.text import escape_markdown
from streamrec.training import jobs, runs
from streamrec.training.estimate import estimate_epoch_seconds, expected_train_targets, speed_config
from streamrec.training.events import Event
from streamrec.world.scenarios import recommended_max_len
from studio.config_form import config_fields
from studio.navigation import ensure_app_navigation
from studio.processes import processes_input
from studio.scenarios import scenario_picker
from studio.verdict import verdict_box
from studio.viewer import viewer_mode, viewer_note

ensure_app_navigation()

SIM_CONFIG_KEY = "sim_config"  # written by the Simulator page: the last generated SimConfig
RUN_KEY = "train_run"  # the run started from this browser session
RUN_SIM_KEY = "train_run_sim"  # (run id, SimConfig dict) of the training run the form shows
PREFILLED_KEY = "train_prefilled"  # the running run whose settings were put in the form
RECOMMEND_PAGE = "pages/recommend.py"
DATA_PAGE = "pages/data.py"
SIMULATED = ""  # the "Training data" choice of simulated sessions; any other is a data set name
ROOT = Path(__file__).resolve().parents[1]
TRAIN_DEFAULTS = TrainConfig()
PHASES = {
    "starting": "Starting the worker",
    "simulating": "Simulating the sessions",
    "loading": "Loading the data set",
    "baselines": "Scoring the baselines and the oracle",
    "training": "Training",
    "final evaluation": "Scoring the best epoch and the baselines on the held-out sessions",
    "done": "Finishing",
}


def duration(seconds: float) -> str:
    """'45 s', '3 min 20 s', '1 h 05 min'."""
    seconds = max(float(seconds), 0.0)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def sim_settings() -> tuple[SimConfig, str]:
    """The data to train on, and where it comes from: the Simulator page's last generated
    config, else the data of the training run the form was filled from, else the default."""
    data = st.session_state.get(SIM_CONFIG_KEY)
    if data:
        try:
            return (
                from_dict(SimConfig, data).validate(),
                "the last configuration generated on the Simulator page",
            )
        except ValueError as error:
            st.warning(
                f"The Simulator page's settings are not usable ({escape_markdown(error)}); "
                "using defaults."
            )
    from_run = st.session_state.get(RUN_SIM_KEY)
    if from_run:
        return from_dict(SimConfig, from_run[1]), f"the data of run {escape_markdown(from_run[0])}"
    return SimConfig(), "the default configuration (nothing generated on the Simulator page yet)"


def fill_from_run(path: Path) -> None:
    """Put a training run's settings and data in the form, once per run and browser session:
    after a reload (a new session) the form shows what is training, not the defaults."""
    if st.session_state.get(PREFILLED_KEY) == path.name:
        return
    st.session_state[PREFILLED_KEY] = path.name
    try:
        config = runs.read_config(path)
    except runs.RunError:
        return
    family = config.model.family
    st.session_state["train_family"] = family
    for name, value in dataclasses.asdict(config.model).items():
        if name != "n_items":
            st.session_state[f"train_{family}_{name}"] = value
    for name in (n for names in TRAIN_SECTIONS.values() for n in names):
        st.session_state[f"train_{name}"] = getattr(config.train, name)
    st.session_state["train_data"] = SIMULATED if config.data.is_simulated else config.data.dataset
    if SIM_CONFIG_KEY not in st.session_state:
        st.session_state[RUN_SIM_KEY] = (path.name, to_dict(config.sim))


def data_summary(sim: SimConfig, source: str) -> None:
    """One line on the data the model will train on, with a link to change it."""
    with st.container(border=True):
        scenario_picker("train_scenario")
        st.markdown(
            f"**Training data:** {sim.n_sessions:,} sessions of {sim.min_session_length}–"
            f"{sim.max_session_length} clicks over {sim.n_items:,} items in "
            f"{sim.n_categories:,} categories, seed {sim.seed} ({sim.engine} engine) — {source}."
        )
        st.page_link(
            "pages/simulator.py",
            label="Change the data on the Simulator page",
            icon=":material/scatter_plot:",
        )


def pick_data() -> str:
    """The "Training data" choice: simulated sessions, or one of the readable imported data
    sets (broken ones are named in a caption, not offered)."""
    found = datasets.list_datasets()
    names = [info.name for info in found if info.error is None]
    broken = [info for info in found if info.error is not None]
    if st.session_state.get("train_data") not in (SIMULATED, *names):
        st.session_state.pop("train_data", None)  # a data set deleted since it was picked
    choice = st.selectbox(
        "Training data",
        [SIMULATED, *names],
        format_func=lambda n: "Simulated sessions (Simulator page)" if n == SIMULATED else n,
        key="train_data",
        help="Simulated sessions, or a click log imported on the Data page or with "
        "`python -m streamrec import`.",
    )
    if broken:
        st.caption(
            f"{len(broken)} data set folder(s) cannot be read and are not offered: "
            + "; ".join(escape_markdown(info.error or info.name) for info in broken)
        )
    return choice


def dataset_summary(name: str) -> None:
    """One line on the imported data set the model will train on."""
    meta = next((i.meta for i in datasets.list_datasets() if i.name == name), {})
    with st.container(border=True):
        st.markdown(
            f"**Training data:** the imported data set **{name}**: "
            f"{meta.get('n_sessions', 0):,} sessions ({meta.get('n_test_sessions', 0):,} of "
            f"them held out as its test set), {meta.get('n_clicks', 0):,} clicks over "
            f"{meta.get('n_items', 0):,} items. The simulator's settings and the evaluation "
            "protocol do not apply: the data set's own test sessions are held out, and "
            "validation takes the latest of the others."
        )
        if (ROOT / DATA_PAGE).exists():
            st.page_link(DATA_PAGE, label="See it on the Data page", icon=":material/dataset:")


@st.cache_data(max_entries=8, show_spinner=False)
def _on_dataset(config: dict, name: str, stamp: int) -> dict:
    """`config` (as a dict) pointed at data set `name`, whose sessions file has mtime `stamp`."""
    return dataset_config(RunConfig.from_dict(config), name).to_dict()


def on_dataset(config: RunConfig, name: str) -> RunConfig:
    """The run config pointed at an imported data set, its hash read once per file version."""
    file = datasets.default_data_root() / name / datasets.SESSIONS_FILE
    stamp = file.stat().st_mtime_ns if file.exists() else 0
    return RunConfig.from_dict(_on_dataset(config.to_dict(), name, stamp))


# The form's columns; each field's widget, label and help come from its config dataclass
# (studio.config_form, streamrec.config.setting), so every family's own settings show.
TRAIN_SECTIONS = {
    "Training": ("epochs", "batch_size", "max_len", "protocol", "seed"),
    "Optimiser": ("lr", "step_size", "gamma", "clip_norm"),
    "Objective and device": ("loss", "n_negatives", "sample_alpha", "bpreg", "device"),
}


def settings_form() -> tuple[str, dict, dict, str]:
    """The family, then its settings and the training settings, all built from the config
    dataclasses; returns (family, model fields, train fields, run name)."""
    model_col, *train_cols = st.columns(1 + len(TRAIN_SECTIONS), border=True)
    with model_col:
        st.markdown("**Model**")
        family = st.selectbox(
            "Model family",
            list(MODEL_CONFIGS),
            index=None if "train_family" in st.session_state else 0,  # a running job's wins
            key="train_family",
            persist_state="session",
            help="Each family has its own settings below.",
        )
        st.caption(MODEL_CONFIGS[family].__doc__ or "")
        # Keys carry the family, so each family keeps its own values when switching.
        model = config_fields(MODEL_CONFIGS[family](), f"train_{family}", skip=("n_items",))
    train: dict = {}
    for column, (section, names) in zip(train_cols, TRAIN_SECTIONS.items()):
        with column:
            st.markdown(f"**{section}**")
            train |= config_fields(TRAIN_DEFAULTS, "train", names)
    with model_col:
        name = st.text_input(
            "Run name (optional)",
            key="train_name",
            persist_state="session",
            placeholder="time stamp and model summary",
            help="Letters, digits, '_', '-' and '.'; must be new.",
        )
    return family, model, train, name.strip()


@st.cache_data(max_entries=32, show_spinner=False)
def epoch_seconds(speed: dict) -> float:
    """Measured seconds per epoch for a `speed_config` given as a dict (the cache key)."""
    return estimate_epoch_seconds(RunConfig.from_dict(speed))


def estimate(config: RunConfig) -> None:
    """Expected batches and a measured time per epoch."""
    n_batches = max(expected_train_targets(config) / config.train.batch_size, 1.0)
    try:
        with st.spinner("Timing a few training batches of this model…"):
            seconds = epoch_seconds(speed_config(config).to_dict())
    except (ValueError, RuntimeError) as error:  # RuntimeError: torch itself gave up
        st.warning(f"No time estimate: {escape_markdown(error)}")
        return
    st.markdown(
        f"**Estimated time:** about **{duration(seconds)} per epoch** "
        f"(~{n_batches:,.0f} batches), **{duration(seconds * config.train.epochs)}** for "
        f"{config.train.epochs} epochs, plus "
        + ("simulation" if config.data.is_simulated else "loading the data set")
        + " and baselines."
    )
    st.caption(
        "Measured on this machine now: half a second of training batches of this model on "
        "sessions of the same shape, scaled to the epoch's target clicks. Validation is extra."
    )


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


def progress(status: runs.RunStatus, events: list[Event], epochs: int) -> None:
    """Progress bar with the phase, the epoch and the time left (from the latest batch event,
    which is exact; status.json only carries them every few seconds)."""
    phase = status.phase or "starting"
    text = PHASES.get(phase, phase)
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
        progress(status, events, epochs)
        viewer_note("Stop")
    elif state == "running":
        bar, stop = st.columns([5, 1], vertical_alignment="bottom")
        with bar:
            progress(status, events, epochs)
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


def results_table(status: runs.RunStatus, config: RunConfig) -> None:
    """The best checkpoint beside the baselines and the oracle on the report split."""
    model_row = f"This model ({config.model.summary()})"
    rows = {model_row: status.final}
    baselines = status.baselines
    for name in sorted(baselines, key=lambda n: (n == charts.ORACLE, n)):
        rows[charts.ORACLE_LABEL if name == charts.ORACLE else name] = baselines[name]
    metrics = charts.metric_names(config.train.cutoffs) + [f"ndcg@{max(config.train.cutoffs)}"]
    table = pd.DataFrame(
        [{charts.metric_label(k): row.get(k) for k in metrics} for row in rows.values()],
        index=pd.Index(list(rows), name="scorer"),
    )
    split = status.report_split
    st.markdown(f"**Final scores** on the held-out {split} targets (best epoch)")
    st.dataframe(
        table,
        column_config={c: st.column_config.NumberColumn(format="%.4f") for c in table.columns},
        key="train_final_table",
    )
    for name, reason in status.baselines_left_out.items():
        st.caption(f"{name}: left out, {reason}.")


def outcome(path: Path) -> None:
    """What a finished run ended with: its error, or its final table and where to go next."""
    try:
        status = runs.read_status(path)
        config = runs.read_config(path)
    except runs.RunError:
        return  # live_view already said why
    state = status.state
    reason = status.reason
    if state == "failed":
        st.error(f"Training failed: {escape_markdown(reason or 'no reason recorded')}")
        return
    best = status.best_epoch or 0
    if state == "stopped":
        if (path / runs.WEIGHTS["best"]).exists():
            st.warning(
                f"Training stopped ({escape_markdown(reason or 'stop requested')}): the best checkpoint "
                f"(epoch {best:.2f}) is kept."
                + ("" if status.final else " It was not scored on the held-out sessions.")
            )
        else:
            st.warning(
                "Training stopped before its first epoch ended: there is no trained model, "
                "so this run is listed as stopped early."
            )
    elif state == "completed":
        st.success(f"Training completed; the best epoch was {best:g}.")
    else:
        return
    if status.final:
        verdict_box(status)
        results_table(status, config)
    if not (path / runs.WEIGHTS["best"]).exists() or not (ROOT / RECOMMEND_PAGE).exists():
        return
    if st.button(
        "Recommend with this run", key="train_open_recommend", icon=":material/recommend:"
    ):
        try:
            st.switch_page(RECOMMEND_PAGE, query_params={"run": path.name})
        except StreamlitAPIException as error:
            st.error(f"The Recommend page cannot be opened: {error}")


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
