"""Viewer mode: a demo server that can be looked at but not changed.

`STREAMREC_VIEWER=1 streamlit run app.py --server.address 0.0.0.0` serves every page, but
hides Start and Stop on the Train page, Delete on the Runs page and import and delete on the
Data page, so nobody on the
network can start, stop, delete or write anything. This module alone decides it.
"""

from __future__ import annotations

import os

import streamlit as st

ENV = "STREAMREC_VIEWER"
NOTE = (
    "**Viewer mode**: everything here can be looked at; nothing can be started, stopped, "
    "deleted or written."
)


def viewer_mode() -> bool:
    """True when the server was started with STREAMREC_VIEWER=1 (or true/yes/on)."""
    return os.environ.get(ENV, "").strip().lower() in ("1", "true", "yes", "on")


def viewer_banner() -> None:
    """One plain line at the top of every page while viewer mode is on."""
    if viewer_mode():
        st.info(NOTE, icon=":material/visibility:")


def viewer_note(what: str) -> None:
    """A caption where a control is left out in viewer mode, e.g. what = 'Start training'."""
    st.caption(f":material/visibility: Viewer mode: {what} is turned off on this server.")
