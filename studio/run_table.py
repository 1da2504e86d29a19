"""The Runs page's table: one row per run folder with its status, scores, verdict and
settings, scores first so they show without scrolling on a narrow screen."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from streamrec.charts import training_charts as charts
from streamrec.data.identity import data_key
from streamrec.evaluation.verdict import verdict
from streamrec.training import runs

STATE_LABELS = {
    "running": "▶ training now",
    "completed": "✓ completed",
    "stopped": "■ stopped",
    "stopped early": "□ stopped before epoch 1: no model",
    "failed": "✗ failed",
    "created": "… created",
    "corrupt": "⚠ unreadable",
}
# Scores first, so they show without scrolling; then the settings that produced them.
COLUMN_ORDER = (
    "run",
    "status",
    "Hit@10",
    "Hit@20",
    "MRR@20",
    "best rule Hit@10",
    "ceiling Hit@10",
    "verdict",
    "best rule",
    "best epoch",
    "family",
    "model",
    "hidden",
    "epochs",
    "protocol",
    "data",
    "sessions",
    "items",
    "categories",
    "data set",
    "created",
    "problem",
)

def table_row(info: runs.RunInfo) -> dict[str, Any]:
    """One row of the runs table: status, key settings, best epoch and final scores."""
    state = info.listed_state
    row: dict[str, Any] = {"run": info.run_id, "status": STATE_LABELS.get(state, state)}
    created = info.status.created
    row["created"] = pd.Timestamp(created, unit="s", tz="UTC") if created else pd.NaT
    config = info.config
    if config is not None:
        row |= {
            "family": config.model.family,
            "model": config.model.slug(),
            "hidden": config.model.hidden_size,
            "epochs": config.train.epochs,
            "protocol": config.train.protocol,
            "items": config.model.n_items,
            "data set": data_key(config),
        }
        if config.data.is_simulated:
            row |= {
                "data": "simulated",
                "sessions": config.sim.n_sessions,
                "categories": config.sim.n_categories,
            }
        else:  # the data set's own sizes are in its folder; the run records its name
            row["data"] = config.data.dataset
    row["best epoch"] = info.status.best_epoch
    final = info.status.final
    for metric in ("hit@10", "hit@20", "mrr@20"):
        row[charts.metric_label(metric)] = final.get(metric)
    # Is the model worth it: the strongest simple rule and the ceiling, on the same targets.
    worth = verdict(final, info.status.baselines, paired=info.status.paired)
    row["best rule"] = worth.rule_name
    row["best rule Hit@10"] = worth.rule
    row["ceiling Hit@10"] = worth.ceiling
    row["verdict"] = worth.lift
    row["problem"] = info.error or (info.status.reason if info.state == "failed" else "")
    return row


def runs_table(infos: list[runs.RunInfo]) -> None:
    """All runs, newest first; unreadable folders keep their row with the error."""
    table = pd.DataFrame([table_row(info) for info in infos])
    scores = ("Hit@10", "Hit@20", "MRR@20", "best rule Hit@10", "ceiling Hit@10")
    for column in (*scores, "best epoch"):
        table[column] = pd.to_numeric(table[column])  # a run without scores yet: blank, not None
    texts = [c for c in table.columns if table[c].dtype == object and c != "created"]
    table[texts] = table[texts].astype(object).where(table[texts].notna(), "")  # no "None" cells
    number = {m: st.column_config.NumberColumn(format="%.4f") for m in scores}
    st.dataframe(
        table,
        hide_index=True,
        key="runs_table",
        column_order=[c for c in COLUMN_ORDER if c in table.columns],
        column_config={
            # Pinned: on a phone the table scrolls sideways, and each score keeps its run.
            "run": st.column_config.TextColumn(pinned=True),
            "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "best epoch": st.column_config.NumberColumn(format="%.2f"),
            "problem": st.column_config.TextColumn(width="large"),
            "verdict": st.column_config.TextColumn(width="large"),
            **number,
        },
    )
    corrupt = [info for info in infos if info.error]
    if corrupt:
        st.warning(
            f"{len(corrupt)} folder(s) cannot be read as runs; they are listed with the "
            "problem and can be deleted below."
        )
