"""Home: what StreamRec Studio does, in three steps, with links to the pages."""

import streamlit as st

from streamrec.text import escape_markdown, markdown_code
from streamrec.training.runs import list_runs
from studio.navigation import ensure_app_navigation

ensure_app_navigation()

RUN_BADGES = {
    "running": ":orange-badge[:material/progress_activity: training now]",
    "completed": ":green-badge[completed]",
    "stopped": ":gray-badge[stopped]",
    "stopped early": ":gray-badge[stopped before epoch 1: no model]",
    "failed": ":red-badge[failed]",
    "corrupt": ":red-badge[unreadable]",
}

st.title("StreamRec Studio")
st.markdown(
    "Next-item recommendation from click sessions: an LSTM with attention reads what a "
    "visitor has clicked so far in a session and ranks the whole catalog for the next click."
)

simulate, train, recommend = st.columns(3, border=True)
with simulate:
    st.subheader("1. Simulate", anchor=False)
    st.markdown(
        "Generate click sessions from explorers, deep divers and comparison shoppers over a "
        "catalog with Zipf popularity. Inspect lengths, categories and transitions, and see "
        "the best score any recommender could reach on them."
    )
    st.page_link("pages/simulator.py", label="Open the Simulator", icon=":material/scatter_plot:")
    st.page_link("pages/data.py", label="Or import a real click log", icon=":material/database:")
with train:
    st.subheader("2. Train", anchor=False)
    st.markdown(
        "Train the attentive LSTM on the simulated sessions, watch the loss and Hit@K live, "
        "and compare the model with the baselines and the oracle on held-out sessions."
    )
    st.page_link("pages/train.py", label="Open the Train page", icon=":material/model_training:")
    all_runs = list_runs()
    if all_runs:
        lines = [
            f"- {markdown_code(r.run_id)} {RUN_BADGES.get(r.listed_state, r.state)}"
            + (f" {escape_markdown(r.error)}" if r.error else "")
            for r in all_runs[:5]
        ]
        more = [f"- …and {len(all_runs) - 5} more"] if len(all_runs) > 5 else []
        st.markdown("\n".join(["**Your runs**, newest first:", *lines, *more]))
    if any(r.state == "running" for r in all_runs):
        st.page_link("pages/train.py", label="Watch the training", icon=":material/monitoring:")
    st.page_link("pages/runs.py", label=f"All runs ({len(all_runs)})", icon=":material/history:")
with recommend:
    st.subheader("3. Recommend and inspect attention", anchor=False)
    st.markdown(
        "Type or pick a session, get the top-K next items, and see which past clicks the "
        "attention weighed most for that recommendation."
    )
    st.page_link("pages/recommend.py", label="Open the Recommend page", icon=":material/recommend:")
    st.markdown(
        "Across many sessions: where attention goes, and what the item embeddings learned."
    )
    st.page_link("pages/attention.py", label="Attention patterns", icon=":material/visibility:")
    st.page_link("pages/embeddings.py", label="Item embeddings", icon=":material/bubble_chart:")
