"""The Data page's "Delete a data set" box: only folders the app wrote are offered.

A folder under the data root without the data set marker (a folder of the user's own, when
STREAMREC_DATA_DIR points at one) is named as left alone and never offered; a symlink is
offered and removed as a link, its target untouched. Any folder name works (spaces, non-ASCII).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from streamrec import folders
from streamrec.data.datasets import DatasetError, DatasetInfo, delete_dataset
from streamrec.text import escape_markdown

FLASH_KEY = "data_delete_flash"  # (kind, message) shown after the rerun that follows a delete


def deletable(root: Path, name: str) -> bool:
    """True for a symlink (removed as a link) or a folder carrying the data set marker."""
    path = root / name
    return path.is_symlink() or folders.marker_kind(path) == folders.DATASET


def delete_box(infos: list[DatasetInfo], root: Path, on_delete: str) -> None:
    """Pick, confirm, delete; `on_delete` is a session-state key dropped after a delete."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        (st.success if message[0] == "success" else st.error)(escape_markdown(message[1]))
    names = [info.name for info in infos if deletable(root, info.name)]
    foreign = [info.name for info in infos if info.name not in names]
    with st.expander("Delete a data set"):
        if foreign:
            st.caption(
                "Not written by StreamRec (no marker file), so left alone: "
                + ", ".join(escape_markdown(name) for name in foreign)
            )
        if not names:
            st.caption("No data set to delete.")
            return
        target = st.selectbox("Data set to delete", names, key="data_delete_name")
        sure = st.checkbox(f"Yes, delete {escape_markdown(target)} and its files",
                           key="data_delete_sure")
        if st.button("Delete", key="data_delete", disabled=not sure):
            try:
                delete_dataset(target, root)
            except (DatasetError, OSError) as error:
                st.session_state[FLASH_KEY] = ("error", str(error))
            else:
                st.session_state[FLASH_KEY] = ("success", f"Deleted data set {target}.")
                st.session_state.pop(on_delete, None)
                st.session_state.pop("data_delete_sure", None)
            st.rerun()
