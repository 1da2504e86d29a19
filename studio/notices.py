"""One-off warnings that outlive the code that raised them until the page draws them."""

from __future__ import annotations

import streamlit as st


class Notice:
    """A warning kept in session state under `key` and shown once, where the page chooses.

    Callbacks and link handling run before anything is drawn, so what they have to say must
    wait for its place on the page.
    """

    def __init__(self, key: str) -> None:
        self.key = key

    def leave(self, text: str) -> None:
        """Keep `text` for the next `show` (a later one replaces an earlier one)."""
        st.session_state[self.key] = text

    def add(self, text: str) -> None:
        """Keep `text` after any warning already waiting, so both are shown."""
        waiting = st.session_state.get(self.key)
        self.leave(f"{waiting} {text}" if waiting else text)

    def show(self) -> None:
        """The kept warning, if any, drawn here once."""
        text = st.session_state.pop(self.key, None)
        if text:
            st.warning(text, icon=":material/warning:")
