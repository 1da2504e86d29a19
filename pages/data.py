"""Data: import a click log (an upload or a path on the server) and look at the data sets.

The import itself is `streamrec.data.log_import.import_log`, the same code as `python -m streamrec import`;
the form (studio.import_form) only gathers its settings (columns mapped over a preview of the
first rows, the preprocessing from `ImportConfig`'s fields); this page shows what came out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from streamrec.data import log_import as logs
from streamrec.data.datasets import META_FILE, Dataset, DatasetError, load_dataset
from streamrec.text import escape_markdown
from studio.dataset_charts import dataset_figures
from studio.dataset_listing import VIEW_KEY, data_root, listing_section
from studio.import_form import import_section
from studio.navigation import ensure_app_navigation
from studio.tune_panel import tune_section
from studio.viewer import viewer_mode, viewer_note

ensure_app_navigation()


@st.cache_resource(max_entries=4, show_spinner=False)
def open_dataset(name: str, root: str, stamp: float) -> Dataset:
    """A data set (kept while its description file is unchanged)."""
    return load_dataset(name, Path(root))


def report_table(dataset: Dataset) -> None:
    """The preprocessing steps with counts before and after."""
    table = pd.DataFrame(dataset.report)
    columns = ["step", "part"] + [f"{k}{s}" for k in ("sessions", "clicks", "items")
                                  for s in ("_before", "")]
    if not set(columns) <= set(table.columns):  # saved by other code than the importer
        st.caption("This data set records no preprocessing report.")
        return
    st.dataframe(table[columns], hide_index=True, key="data_report", column_config={
        f"{k}{s}": st.column_config.NumberColumn(f"{k} {'before' if s else 'after'}",
                                                 format="localized")
        for k in ("sessions", "clicks", "items") for s in ("_before", "")
    })


def dataset_view(name: str) -> None:
    """Headline counts, the preprocessing report and the charts of one data set."""
    root = data_root()
    try:
        stamp = (root / name / META_FILE).stat().st_mtime
        dataset = open_dataset(name, str(root), stamp)
    except (DatasetError, OSError) as error:
        st.error(escape_markdown(f"Cannot open data set {name!r}: {error}"))
        return
    data, n_test, n_valid = dataset.data, dataset.n_test_sessions, dataset.n_valid_sessions
    targets = int((data.lengths[dataset.test_sessions] - 1).sum())
    row = st.columns(6)
    row[0].metric("Training sessions", f"{data.n_sessions - n_test - n_valid:,}")
    row[1].metric("Validation sessions", f"{n_valid:,}")
    row[2].metric("Test sessions", f"{n_test:,}")
    row[3].metric("Test targets", f"{targets:,}", help="Every test click after the first.")
    row[4].metric("Clicks", f"{data.n_clicks:,}")
    row[5].metric("Items", f"{data.n_items:,}")
    settings = dataset.settings
    extras = [what for what, has in (("times", data.has_time), ("categories",
              data.has_categories), ("item labels", data.has_labels)) if has]
    st.caption(
        f"From {Path(str(settings.get('path', '?'))).name}"
        + (f" with test file {Path(settings['test_path']).name}" if settings.get("test_path")
           else "")
        + f"; split {settings.get('split', '?')}; {logs.describe_columns(settings)}. "
        + f"Has {', '.join(extras) if extras else 'no times, categories or labels'}. "
        + f"Content hash {dataset.content_hash}."
    )
    st.subheader("Preprocessing")
    report_table(dataset)
    st.subheader("Charts")
    figures = dataset_figures(name, str(root), stamp, dataset)
    left, right = st.columns(2)
    left.plotly_chart(figures["lengths"], key="data_lengths")
    right.plotly_chart(figures["popularity"], key="data_popularity")
    left, right = st.columns(2)
    if "time" in figures:
        left.plotly_chart(figures["time"], key="data_time")
    else:
        left.info("This log has no times: no clicks-over-time chart.")
    right.plotly_chart(figures["transitions"], key="data_transitions")
    if "categories" in figures:
        st.plotly_chart(figures["categories"], key="data_categories")


st.title("Data")
st.caption(
    "Import a real click log (YOOCHOOSE, Diginetica, RetailRocket or your own) with the "
    "standard session-based preprocessing, then look at what it holds. The same import runs "
    "from the command line: `python -m streamrec import PATH --name NAME`."
)
if viewer_mode():  # an import reads server paths and writes a data set folder
    viewer_note("Importing a click log")
else:
    # Open while nothing is imported yet, and while an import is under way (a log chosen), so
    # showing a data set below never folds the form away under the user's hands.
    started = st.session_state.get("data_log_upload") or st.session_state.get("data_log_path")
    with st.expander("Import a click log", expanded=VIEW_KEY not in st.session_state or bool(started)):
        import_section()
st.header("Data sets")
names = listing_section()
if names:
    if st.session_state.get(VIEW_KEY) not in names:
        st.session_state[VIEW_KEY] = names[0]
    shown = st.selectbox("Show data set", names, key=VIEW_KEY)
    dataset_view(shown)
    tune_section(shown)
