"""The Data page's import form: a click log by upload or path, its columns, the preprocessing.

The import itself is `streamrec.data.log_import.import_log`, the same code as
`python -m streamrec import`; this form only gathers its settings.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st

from streamrec.data import log_files as logfiles
from streamrec.data import log_import as logs
from streamrec.text import escape_markdown
from studio.dataset_listing import VIEW_KEY, data_root
from studio.tables import formula_safe
from studio.uploads import discard, saved_upload

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
# Settings that only one way of splitting reads: the others do not show them (a given split
# takes its test sessions from the test file, so it has no test days or share).
SPLIT_ONLY = {"test_days": "time", "test_fraction": "random", "seed": "random"}
DEFAULTS = logs.ImportConfig(path="", name="")
UPLOAD_TYPES = ["csv", "tsv", "txt", "dat", "parquet", "pq"]


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
    split = st.session_state.get("data_split", "time")  # the split picked (first widget below)
    shown = [f for f in PREPROCESSING if SPLIT_ONLY.get(f[0], split) == split]
    for column, (name, label, help_text) in zip(st.columns(len(shown)), shown):
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
