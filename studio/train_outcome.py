"""The Train page's view of a finished run: its error, or its verdict and final scores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from streamrec.charts import training_charts as charts
from streamrec.config import RunConfig
from streamrec.text import escape_markdown
from streamrec.training import runs
from studio.verdict_box import verdict_box

RECOMMEND_PAGE = "pages/recommend.py"
ROOT = Path(__file__).resolve().parents[1]


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
    verdict_box(status)  # held-out scores, else a stopped run's validation scores, labelled
    if status.final:
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
