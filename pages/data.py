"""Data: import a click log (an upload or a path on the server) and look at the data sets.

The import itself is `streamrec.data.log_import.import_log`, the same code as `python -m streamrec import`;
this page only gathers its settings (columns mapped over a preview of the first rows, the
preprocessing from `ImportConfig`'s fields) and shows what came out.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from streamrec.charts import log_charts as charts
from streamrec.data import log_files as logfiles
from streamrec.data import log_import as logs
from streamrec.data.datasets import (
    META_FILE,
    Dataset,
    DatasetError,
    default_data_root,
    list_datasets,
    load_dataset,
)
from streamrec.text import escape_markdown
from studio.dataset_delete import delete_box
from studio.navigation import ensure_app_navigation
from studio.tables import formula_safe
from studio.uploads import discard, saved_upload
from studio.viewer import viewer_mode, viewer_note

ensure_app_navigation()

VIEW_KEY = "data_view"  # the data set shown below the import
NONE = "(none)"
SEPARATORS = {"sniff": "", "comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
ROLE_LABELS = {
    "session": "Session column", "item": "Item column", "time": "Time column",
    "date": "Session date column", "category": "Category column", "label": "Item label column",
}
# (ImportConfig field, label, help); the widget kind follows the field's type.
PREPROCESSING = [
    ("split", "Test set", ("time: sessions of the last days; random: a seeded share of "
     "sessions; given: a separate test file.")),
    ("test_days", "Test days", "Split 'time': sessions of the last days form the test set."),
    ("valid_days", "Validation days", "Last days of training held out for validation; 0 = none."),
    ("min_item_support", "Min clicks per item", ("Rarer items are dropped, repeated until "
     "stable. Empty: 5, or no filter for a given split (kept as published).")),
    ("min_session_length", "Min session length (clicks)", "Shorter sessions are dropped."),
    ("test_fraction", "Test share", "Split 'random': share of sessions in the test set."),
    ("seed", "Seed", "Split 'random'."),
]
DEFAULTS = logs.ImportConfig(path="", name="")
UPLOAD_TYPES = ["csv", "tsv", "txt", "dat", "parquet", "pq"]


def data_root() -> Path:
    """Where data sets live (data/ or $STREAMREC_DATA_DIR)."""
    return default_data_root()


def log_source(label: str, key: str) -> Path | None:
    """A click log chosen by upload or by a path on the server; None until one is given."""
    how = st.segmented_control(f"{label} from", ["Upload", "Path on the server"],
                               default="Upload", key=f"{key}_how")
    if how == "Path on the server":
        text = st.text_input(f"{label}: path on the server", key=f"{key}_path",
                             placeholder="/data/clicks.csv")
        return Path(text.strip()).expanduser() if text.strip() else None
    upload = st.file_uploader(
        f"{label}: CSV/TSV (any separator) or Parquet", type=UPLOAD_TYPES, key=f"{key}_upload",
        help="Uploads go up to the server's limit (200 MB by default); name a path on the "
             "server for bigger logs.",
    )
    saved = saved_upload(upload) if upload is not None else None
    if upload is not None and saved is None:
        st.caption("This upload is imported (its copy on the server is deleted): upload "
                   "another file to import it.")
    return saved


@st.cache_data(max_entries=16, show_spinner=False)
def cached_preview(path: str, stamp: float, sep: str) -> logfiles.LogPreview:
    """The first rows and recognised columns of a log (keyed by its modification time)."""
    return logfiles.preview_log(path, sep)


def column_mapping(preview: logfiles.LogPreview, key: str) -> dict[str, str]:
    """One selectbox per role over the log's columns, starting at the recognised one."""
    options = [NONE, *[str(c) for c in preview.rows.columns]]
    chosen = {}
    for column, role in zip(st.columns(len(ROLE_LABELS)), ROLE_LABELS):
        found = preview.columns.get(role)
        index = options.index(found) if found in options else 0
        value = column.selectbox(ROLE_LABELS[role], options, index=index,
                                 key=f"data_col_{role}_{key}")
        if value != NONE:
            chosen[role] = value
    return chosen


def preprocessing_widget(name: str, label: str, help_text: str) -> object:
    """The widget of one ImportConfig field, keyed `data_<field>`."""
    default = getattr(DEFAULTS, name)
    common = {"key": f"data_{name}", "help": help_text}
    if name == "split":
        return st.selectbox(label, logs.SPLITS, index=logs.SPLITS.index("time"), **common)
    if name == "min_item_support":
        return st.number_input(label, value=None, min_value=1, step=1, placeholder="auto",
                               **common)
    if isinstance(default, float):
        return st.number_input(label, value=default, step=0.5 if "days" in name else 0.05,
                               **common)
    return st.number_input(label, value=default, step=1, **common)


def import_section() -> None:
    """Choose a log, map its columns, set the preprocessing, import with a progress bar."""
    path = log_source("Click log", "data_log")
    if path is None:
        st.info("Upload a click log or name a path on the server to import it.")
        return
    sep_name = st.segmented_control("Separator", list(SEPARATORS), default="sniff",
                                    key="data_sep") or "sniff"
    try:
        check = path.stat().st_mtime
        preview = cached_preview(str(path), check, SEPARATORS[sep_name])
    except (OSError, ValueError) as error:
        st.error(escape_markdown(f"Cannot read {path}: {error}" if isinstance(error, OSError)
                                 else str(error)))
        return
    shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(preview.sep, "")
    st.caption(f"First rows of **{escape_markdown(path.name)}**" + (f", separated by {shown}" if shown else "")
               + ("" if preview.has_header else " (no header row: columns are numbered)"))
    st.dataframe(formula_safe(preview.rows), hide_index=True, key="data_preview")
    key = hashlib.sha1(f"{path}|{preview.sep}".encode()).hexdigest()[:8]
    mapping = column_mapping(preview, key)
    values = {}
    for column, (name, label, help_text) in zip(st.columns(len(PREPROCESSING)), PREPROCESSING):
        with column:
            values[name] = preprocessing_widget(name, label, help_text)
    test_path = log_source("Test log", "data_test") if values["split"] == "given" else None
    name = st.text_input("Data set name", value=path.stem.split(".")[0][:80], key="data_name",
                         help="A folder under data/: letters, digits, '_', '-', '.'.")
    missing = [ROLE_LABELS[r].lower() for r in ("session", "item") if r not in mapping]
    if missing:
        st.warning(f"Choose the {' and '.join(missing)} to import.")
    if not st.button("Import", type="primary", key="data_import", disabled=bool(missing)):
        return
    try:
        config = logs.ImportConfig(
            path=str(path), name=name.strip(), test_path=str(test_path or ""),
            sep=SEPARATORS[sep_name], **{f"{role}_col": column for role, column in mapping.items()},
            **values,
        )
        bar = st.progress(0.0, text="Starting the import…")
        dataset = logs.import_log(
            config, data_root(), lambda fraction, message: bar.progress(fraction, text=message)
        )
    except ValueError as error:
        st.error(f"Import failed: {escape_markdown(error)}")  # it quotes the log's values
        return
    bar.empty()
    for source in (path, test_path):
        if source is not None:
            discard(source)  # an upload's copy: never kept on the server after its import
    st.session_state[VIEW_KEY] = dataset.name
    st.success(f"Imported **{dataset.name}**: {dataset.data.n_sessions:,} sessions "
               f"({dataset.n_test_sessions:,} held out for testing), "
               f"{dataset.data.n_clicks:,} clicks, {dataset.data.n_items:,} items.")


@st.cache_resource(max_entries=4, show_spinner=False)
def open_dataset(name: str, root: str, stamp: float) -> Dataset:
    """A data set (kept while its description file is unchanged)."""
    return load_dataset(name, Path(root))


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
        dataset = open_dataset(name, str(root), (root / name / META_FILE).stat().st_mtime)
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
    left, right = st.columns(2)
    left.plotly_chart(charts.session_lengths_chart(data, n_test, n_valid), key="data_lengths")
    right.plotly_chart(charts.item_popularity_chart(data), key="data_popularity")
    left, right = st.columns(2)
    if data.has_time:
        left.plotly_chart(charts.clicks_over_time_chart(data, n_test, n_valid), key="data_time")
    else:
        left.info("This log has no times: no clicks-over-time chart.")
    right.plotly_chart(charts.top_transitions_chart(data), key="data_transitions")
    if data.has_categories:
        st.plotly_chart(charts.categories_chart(data), key="data_categories")


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
