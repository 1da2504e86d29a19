"""The Data page's charts of one data set, computed once per data set version.

Each chart reduces every click (30 M of them in a large log) to a few hundred numbers; the
figures are cached by the data set's name and the modification time of its description file,
so a rerun of the page (a widget touched, the page reopened) draws them without recounting.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from streamrec.charts import log_charts as charts
from streamrec.data.datasets import Dataset


@st.cache_data(max_entries=8, show_spinner="Summarising the data set…")
def dataset_figures(name: str, root: str, stamp: float, _dataset: Dataset) -> dict[str, go.Figure]:
    """The charts of data set `name` (in `root`, version `stamp`) by key: lengths, popularity,
    transitions, and time and categories where the data has them."""
    data, n_test, n_valid = _dataset.data, _dataset.n_test_sessions, _dataset.n_valid_sessions
    figures = {
        "lengths": charts.session_lengths_chart(data, n_test, n_valid),
        "popularity": charts.item_popularity_chart(data),
        "transitions": charts.top_transitions_chart(data),
    }
    if data.has_time:
        figures["time"] = charts.clicks_over_time_chart(data, n_test, n_valid)
    if data.has_categories:
        figures["categories"] = charts.categories_chart(data)
    return figures
