"""Make a page opened by direct link on a fresh server run inside app.py's navigation."""
from __future__ import annotations

import streamlit as st
from streamlit import config
from streamlit.runtime.pages_manager import PagesManager

from studio.viewer import viewer_banner


def ensure_app_navigation() -> None:
    """Rerun through app.py when Streamlit ran this page in its legacy pages/ mode; then
    say so at the top of the page when the server runs in viewer mode.

    Until some session has run app.py (whose st.navigation switches the legacy mode off,
    process-wide), Streamlit 1.67 treats a folder named pages/ as the old multipage
    layout: a direct link such as /recommend?run=demo on a freshly started server runs
    pages/recommend.py alone, without app.py's page config and navigation menu. Switching
    the flag off and rerunning sends the same URL through app.py, which then opens this
    page as registered there (query parameters kept).
    """
    # AppTest resets the flag before every run, so there it would rerun every run and drop
    # each button click (a click lives for one run only); AppTest runs pages directly anyway.
    if PagesManager.uses_pages_directory and not config.get_option("global.appTest"):
        PagesManager.uses_pages_directory = False
        st.rerun()
    viewer_banner()  # every page calls this first, so the banner is on every page
