"""The tune of a data set in the browser: start and stop it from the Data page, watch trials
arrive, and read its final table there and on the Leaderboard. The tune itself is
`python -m streamrec tune`, started as a worker by `streamrec.training.tune_jobs`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from streamrec.charts.tune_charts import best_so_far_chart
from streamrec.data.datasets import default_data_root, list_datasets
from streamrec.text import escape_markdown
from streamrec.training import tune_jobs
from streamrec.training.jobs import JobBusy
from streamrec.training.recommended import default_for_dataset
from streamrec.training.search_spaces import METHODS
from streamrec.training.tune_table import AGAINST_COLUMN, result_rows, tune_sentence
from streamrec.training.tuning import TuneConfig, read_result, read_trials, tune_folder_for_dataset
from studio.viewer import viewer_mode, viewer_note

ROOT = Path(__file__).resolve().parents[1]
LEADERBOARD_PAGE = "pages/leaderboard.py"
BOARD_KEY = "board_tune_data"


def _folder(name: str) -> Path:
    return tune_folder_for_dataset(name, default_data_root())


def tune_section(name: str) -> None:
    """Data page: the tune's settings, Start / Stop, live progress and trials, final table."""
    folder = _folder(name)
    status = tune_jobs.tune_state(folder)
    running = status.state == "running"
    st.subheader("Tune every method", anchor=False)
    st.caption(
        "Hyper-parameter search (Optuna: TPE, median pruning per epoch) on the validation "
        "sessions for every baseline and model family, within one time budget shared fairly "
        "across them; each best setting is then scored on the test sessions. The winner's "
        "family becomes this data set's default on the Train page. Same as "
        f"`python -m streamrec tune --dataset {name} --budget 20m`; a tune resumes where the "
        "last one stopped."
    )
    if viewer_mode():
        viewer_note("Tuning")
    else:
        _controls(name, folder, running)
    st.fragment(_live, run_every=1.0 if running else None)(name, folder, running)


def _controls(name: str, folder: Path, running: bool) -> None:
    budget_col, methods_col = st.columns([1, 3])
    minutes = budget_col.number_input(
        "Budget (minutes)", min_value=0.25, max_value=600.0, value=20.0, step=0.25,
        key="tune_budget", help="Wall time for the whole tune, the final test scoring included.",
    )
    methods = methods_col.multiselect(
        "Methods", list(METHODS), default=list(METHODS), key="tune_methods",
        format_func=lambda key: METHODS[key].label,
        help="Baselines the data cannot support (no categories) are left out by the tune.",
    )
    refit = st.checkbox(
        "Refit the final models on training + validation", value=TuneConfig.refit, key="tune_refit",
        help="As the literature does for the final model: each method's best setting is fitted "
             "again on the training and validation sessions before its test scoring (the neural "
             "families for their best trial's epochs); keeps a quarter more of the budget for it. "
             "Off: the models the search validated, fitted on the training sessions only.",
    )
    start_col, stop_col = st.columns(2)
    if start_col.button("Start tune", key="tune_start", type="primary", disabled=running or not methods,
                        icon=":material/tune:"):
        try:
            tune_jobs.launch(name, folder, 60.0 * minutes, tuple(methods), default_data_root(),
                             refit=refit)
        except (JobBusy, ValueError, OSError) as error:
            st.error(f"Cannot start the tune: {escape_markdown(error)}")
        else:
            st.rerun()
    if stop_col.button("Stop tune", key="tune_stop", disabled=not running, icon=":material/stop:"):
        tune_jobs.stop(folder)
        st.toast("Stop requested: the best settings so far are scored on the test sessions.")


def _live(name: str, folder: Path, was_running: bool) -> None:
    status = tune_jobs.tune_state(folder)
    state = status.state
    if was_running and state != "running":
        st.rerun()  # the whole page: Start comes back, the refresh stops, the table shows
    if state == "running":
        progress = status.progress
        fraction = min(max(float(progress), 0.0), 1.0) if isinstance(progress, (int, float)) else 0.0
        st.progress(fraction, text=f"Tuning: {escape_markdown(status.message)} "
                                   f"({fraction:.0%} of the budget)")
    elif state in ("stopped", "failed") and status.reason:
        st.caption(f"Last tune {state}: {escape_markdown(status.reason)}")
    trials = read_trials(folder)
    if trials:
        st.plotly_chart(best_so_far_chart(trials), key=f"tune_chart_{state}")
    if state != "running":
        result = read_result(folder)
        if result is not None:
            result_table(result, "tune_table")
            recommendation_line(name)
            if (ROOT / LEADERBOARD_PAGE).exists():
                st.page_link(LEADERBOARD_PAGE, label="See it on the Leaderboard",
                             icon=":material/leaderboard:")


def result_table(result: dict[str, Any], key: str) -> None:
    """The final table: each method's best setting, its validation objective, test scores and
    paired difference to the best method of the other kind; the verdict sentence under it."""
    rows = pd.DataFrame(result_rows(result))
    number = st.column_config.NumberColumn(format="%.4f")
    st.dataframe(rows, hide_index=True, key=key, column_config={
        **{c: number for c in rows.columns if c.startswith(("valid ", "test "))},
        "search seconds": st.column_config.NumberColumn(format="%.0f"),
        AGAINST_COLUMN: st.column_config.TextColumn(
            AGAINST_COLUMN, width="large",
            help="Each method minus the best tuned baseline (the best baseline minus the best "
                 "neural method) on the same test targets, with a 95% interval from a paired "
                 "bootstrap over test sessions; 'level with' when the interval holds 0.",
        ),
    })
    sentence = tune_sentence(result)
    if sentence:
        st.markdown(f"**{escape_markdown(sentence)}**")
    seconds = result.get("seconds")
    st.caption(
        f"{result.get('test_targets', 0):,} {escape_markdown(result.get('report_split', 'test'))} "
        f"targets; every method fitted on the {escape_markdown(result.get('fit_on', 'train'))} "
        "sessions; rows ranked by the validation score the search maximised"
        + (f"; the tune took {seconds:.0f} s" if isinstance(seconds, (int, float)) else "")
        + (" (stopped early)" if result.get("stopped") else "") + "."
    )


def recommendation_line(name: str) -> None:
    """What the Train page will preselect for this data set, and why."""
    recommendation, note = default_for_dataset(name, default_data_root())
    st.info(f"Default model for **{escape_markdown(name)}**: "
            f"{escape_markdown(recommendation.describe())}.", icon=":material/star:")
    if note:
        st.caption(escape_markdown(f"recommended.json {note}"))


def tune_board() -> None:
    """Leaderboard: the final table and trial curves of every data set that has a tune."""
    names = [info.name for info in list_datasets(default_data_root())
             if info.error is None and read_result(_folder(info.name)) is not None]
    if not names:
        return
    st.subheader("Tuned methods", anchor=False)
    if st.session_state.get(BOARD_KEY) not in names:
        st.session_state.pop(BOARD_KEY, None)
    name = st.selectbox("Tuned data set", names, key=BOARD_KEY)
    folder = _folder(name)
    result = read_result(folder)
    if result is None:
        return
    result_table(result, "board_tune_table")
    recommendation_line(name)
    trials = read_trials(folder)
    if trials:
        st.plotly_chart(best_so_far_chart(trials, str(result.get("metric", "mrr@20"))),
                        key="board_tune_chart")


APPLIED_KEY = "train_recommended_applied"  # which data set's recommendation the form holds


def preselect_recommended(name: str) -> None:
    """Train page: put data set `name`'s recommended family and settings in the form, once per
    data set and recommendation (a user's later change stays). Call before the form's widgets."""
    recommendation, note = default_for_dataset(name, default_data_root())
    st.caption(f"Preselected for {escape_markdown(name)}: "
               f"{escape_markdown(recommendation.describe())}"
               + (escape_markdown(f" (recommended.json {note})") if note else "") + ".")
    file = default_data_root() / name / "recommended.json"
    stamp = f"{name}:{file.stat().st_mtime_ns if file.exists() else 'default'}"
    if st.session_state.get(APPLIED_KEY) == stamp:
        return
    st.session_state[APPLIED_KEY] = stamp
    family = recommendation.family
    st.session_state["train_family"] = family
    for field, value in recommendation.model.items():
        st.session_state[f"train_{family}_{field}"] = value
    for field, value in recommendation.train.items():
        st.session_state[f"train_{field}"] = value
