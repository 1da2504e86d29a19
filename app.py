"""StreamRec Studio: the Streamlit entry point, page setup and navigation only."""

import streamlit as st

from studio.heap import freeze_loaded_libraries
from studio.uploads import reclaim_at_start

st.set_page_config(page_title="StreamRec Studio", layout="wide")
reclaim_at_start()  # uploads left by a server killed with -9 (once per process)

# Every page of the app, in menu order. A new page is one more line here: automatic
# discovery of pages/ is off once st.navigation is called.
PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/simulator.py", title="Simulator", icon=":material/scatter_plot:"),
    st.Page("pages/data.py", title="Data", icon=":material/database:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/history:"),
    st.Page("pages/leaderboard.py", title="Leaderboard", icon=":material/leaderboard:"),
    st.Page("pages/recommend.py", title="Recommend", icon=":material/recommend:"),
    st.Page("pages/attention.py", title="Attention patterns", icon=":material/visibility:"),
    st.Page("pages/embeddings.py", title="Item embeddings", icon=":material/bubble_chart:"),
]

try:
    st.navigation(PAGES).run()
finally:  # also when the page stopped early (st.stop, st.rerun)
    freeze_loaded_libraries()  # once per server process, after the first page that loads torch
