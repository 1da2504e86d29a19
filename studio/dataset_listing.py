"""The Data page's listing of every data set folder, with Delete, and where data sets live."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from streamrec.data.datasets import default_data_root, list_datasets
from streamrec.text import escape_markdown
from studio.dataset_delete import delete_box
from studio.tables import formula_safe
from studio.viewer import viewer_mode, viewer_note

VIEW_KEY = "data_view"  # the data set shown below the import


def data_root() -> Path:
    """Where data sets live (data/ or $STREAMREC_DATA_DIR)."""
    return default_data_root()


def listing_section() -> list[str]:
    """Every data set folder with its sizes, broken ones flagged; returns the readable names."""
    infos = list_datasets(data_root())
    if not infos:
        st.info(f"No data set yet in {data_root()}: import a click log above.")
        return []
    rows = [{
        "data set": info.name,
        "status": "broken" if info.error else "ok",
        "sessions": info.meta.get("n_sessions"),
        "test sessions": info.meta.get("n_test_sessions"),
        "clicks": info.meta.get("n_clicks"),
        "items": info.meta.get("n_items"),
        "source": Path(str(info.meta.get("settings", {}).get("path", ""))).name,
        "problem": info.error or "",
    } for info in infos]
    counts = ("sessions", "test sessions", "clicks", "items")
    st.dataframe(formula_safe(pd.DataFrame(rows)), hide_index=True, key="data_listing", column_config={
        c: st.column_config.NumberColumn(c, format="localized") for c in counts
    })
    broken = [escape_markdown(info.name) for info in infos if info.error]
    if broken:
        st.warning(f"Broken data set folder(s): {', '.join(broken)}. Delete and re-import them.")
    if viewer_mode():
        viewer_note("Delete")
        return [info.name for info in infos if not info.error]
    delete_box(infos, data_root(), VIEW_KEY)
    return [info.name for info in infos if not info.error]
