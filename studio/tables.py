"""Tables as the pages show them: readable column names, widths and highlights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from streamrec.data.columns import CATEGORY, ITEM_ID
from streamrec.text import neutralise_formulas
from streamrec.views.session_view import (
    IN_SESSION,
    LABEL,
    PROBABILITY,
    RANK,
    TOP_K_COLUMNS,
    TRUE_NEXT,
)


def formula_safe(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with its text cells neutralised for spreadsheets (`text.neutralise_formula`):
    the table toolbar's "Download as CSV" writes cells as shown, and an id such as
    `=HYPERLINK(...)` from an imported log would run when the file is opened."""
    text = [c for c in table.columns if table[c].dtype == object or pd.api.types.is_string_dtype(table[c])]
    if not text:
        return table
    return table.assign(**{str(c): neutralise_formulas(table[c].tolist()) for c in text})


def ranked_table(table: pd.DataFrame, key: str, with_truth: bool) -> None:
    """A `session_view.top_k_table`; with a known next click, its row is highlighted.

    Column widths add up to ~455 px, so all six columns fit half of a wide page (1440 px
    window) without a horizontal scroll bar."""
    table = formula_safe(table)
    data: pd.DataFrame | Styler = table
    columns = [c for c in TOP_K_COLUMNS if c in table and (with_truth or c != TRUE_NEXT)]
    raw_ids = table[ITEM_ID].dtype == object  # an imported log's ids, as text
    if with_truth:
        data = table.assign(**{TRUE_NEXT: np.where(table[TRUE_NEXT], "★ true next", "")})
        data = data.style.apply(
            lambda row: ["background-color: #E3F4E1" if row[TRUE_NEXT] else ""] * len(row), axis=1
        )
    st.dataframe(
        data,
        column_order=columns,
        hide_index=True,
        key=key,
        height=min(35 * len(table) + 38, 400),
        column_config={
            RANK: st.column_config.NumberColumn("rank", width=45),
            ITEM_ID: st.column_config.TextColumn("item", width=95)
            if raw_ids
            else st.column_config.NumberColumn("item", format="%d", width=60),
            LABEL: st.column_config.TextColumn("label", width=120),
            CATEGORY: st.column_config.NumberColumn("category", format="%d", width=70),
            PROBABILITY: st.column_config.ProgressColumn(
                "probability",
                format="%.4f",
                min_value=0.0,
                max_value=max(float(table[PROBABILITY].max()), 1e-12),
                width=140,
            ),
            IN_SESSION: st.column_config.CheckboxColumn(
                "clicked", help="Already in the session", width=60
            ),
            TRUE_NEXT: st.column_config.TextColumn("true next", width=80),
        },
    )
