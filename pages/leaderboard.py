"""Leaderboard: per data set, every run beside the baselines and the ceiling, sortable, with
the chosen runs' curves overlaid. Everything is read from the run folders."""

from __future__ import annotations

import streamlit as st

from streamrec.charts import training_charts as charts
from streamrec.evaluation import leaderboard
from streamrec.text import escape_markdown, plural
from streamrec.training import runs
from studio.navigation import ensure_app_navigation
from studio.tune_panel import tune_board

ensure_app_navigation()

DATA_KEY = "board_data"
TABLE_KEY = "board_table"
MAX_DEFAULT_CURVES = 8  # with no row chosen, the best runs drawn
X_AXES = {"train_seconds": "training time", "epoch": "epoch"}
KIND_LABELS = {leaderboard.RUN: "run", leaderboard.BASELINE: "baseline",
               leaderboard.CEILING: "ceiling (oracle)"}


def leaderboard_table(board: leaderboard.Board) -> list[str]:
    """The sortable table; returns the run ids of the rows the user selected."""
    table = board.table.assign(kind=board.table["kind"].map(KIND_LABELS))
    seconds = st.column_config.NumberColumn(format="%.1f")
    event = st.dataframe(
        table,
        hide_index=True,
        key=f"{TABLE_KEY}_{board.key}",  # one selection per data set
        on_select="rerun",
        selection_mode="multi-row",
        column_config={
            "name": st.column_config.TextColumn(width="medium", pinned=True),
            leaderboard.AGAINST: st.column_config.TextColumn(
                width="large", help="The run minus the best baseline on the same test targets, "
                "with a 95% interval from a paired bootstrap over test sessions; 'level with' "
                "when the interval holds 0."),
            "parameters": st.column_config.NumberColumn(format="localized"),
            "epochs": st.column_config.NumberColumn(format="%.2f"),
            "training time (s)": seconds,
            "time to 95% of ceiling (s)": st.column_config.NumberColumn(
                format="%.1f",
                help="Training seconds until the first epoch whose validation "
                f"{charts.metric_label('hit@10')} reaches 95% of the oracle's on the "
                "validation sample; blank when no epoch did or there is no oracle.",
            ),
            **{m: st.column_config.NumberColumn(charts.metric_label(m), format="%.4f")
               for m in board.metrics},
        },
    )
    chosen = table.iloc[[r for r in event.selection.rows if r < len(table)]]
    return list(chosen.loc[chosen["kind"] == KIND_LABELS[leaderboard.RUN], "name"])


def overlay(board: leaderboard.Board, chosen: list[str]) -> None:
    """The chosen runs' validation curves on one chart, against time or epochs, with the
    oracle's validation score and 95% of it as dashed lines."""
    by_id = {info.run_id: info for info in board.runs}
    if not chosen:
        ranked = [n for n in board.table["name"] if n in by_id]
        chosen = ranked[:MAX_DEFAULT_CURVES]
        st.caption("Click rows of the table to overlay just those runs; showing the best "
                   f"{len(chosen)}.")
    metric_col, axis_col = st.columns([1, 2])
    metric = metric_col.selectbox(
        "Curve", [*board.metrics, "valid_loss"], format_func=charts.metric_label, key="board_metric"
    )
    x = axis_col.radio("Against", list(X_AXES), format_func=X_AXES.get, horizontal=True,
                       key="board_x")
    curves = {run_id: runs.read_events(by_id[run_id].path) for run_id in chosen}
    oracle = next((info.status.baselines_valid[leaderboard.ORACLE].get(metric)
                   for info in board.runs
                   if leaderboard.ORACLE in info.status.baselines_valid), None)
    references = {} if oracle is None else {
        "oracle (validation sample)": oracle,
        f"{leaderboard.CEILING_SHARE:.0%} of the oracle": leaderboard.CEILING_SHARE * oracle,
    }
    st.plotly_chart(charts.overlay_chart(curves, metric, x=x, references=references),
                    key="board_chart_overlay")


st.title("Leaderboard")
st.caption(
    "Every run on one data set, with the baselines and the Bayes-optimal ceiling as rows: "
    "click a column header to sort. Test scores are the best checkpoint's on the held-out "
    "sessions of the run's split; runs on other data are on their own board."
)
tune_board()
all_boards = leaderboard.boards(runs.list_runs(runs.default_root()))
if not all_boards:
    st.info("No readable runs yet: start one on the Train page.")
    st.page_link("pages/train.py", label="Open the Train page", icon=":material/model_training:")
    st.stop()
by_key = {board.key: board for board in all_boards}
if st.session_state.get(DATA_KEY) not in by_key:
    st.session_state.pop(DATA_KEY, None)
picked = st.selectbox(
    "Data set",
    list(by_key),
    key=DATA_KEY,
    format_func=lambda key: f"{by_key[key].label} ({plural(len(by_key[key].runs), 'run')})",
)
current = by_key[picked]
chosen_runs = leaderboard_table(current)
if current.baselines_from:
    st.caption(f"Baselines and ceiling: test scores from run {escape_markdown(current.baselines_from)}.")
elif not (current.table["kind"] != leaderboard.RUN).any():
    st.caption("No run of this data set scored the baselines (trained with --no-baselines).")
st.subheader("Curves", anchor=False)
overlay(current, chosen_runs)
