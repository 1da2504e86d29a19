"""What the Simulator page shows about generated sessions: headline counts and the charts."""

from __future__ import annotations

import streamlit as st

from streamrec.charts import world_charts as charts
from streamrec.data.sessions import SessionData
from streamrec.world.simulator import dataset_stats


def headline(data: SessionData) -> None:
    """Headline counts of the dataset."""
    stats = dataset_stats(data)
    row = st.columns(4)
    row[0].metric("Sessions", f"{stats['sessions']:,}")
    row[1].metric("Clicks", f"{stats['clicks']:,}")
    row[2].metric("Prediction targets", f"{stats['prediction_targets']:,}")
    row[3].metric("Mean session length", f"{stats['mean_session_length']:.1f} clicks")
    row = st.columns(4)
    row[0].metric("Items", f"{stats['items']:,}")
    row[1].metric("Items ever clicked", f"{stats['distinct_items_clicked']:,}")
    row[2].metric("Categories", f"{stats['categories']:,}")
    row[3].metric(
        "Next click in the same category",
        f"{stats['stay_in_category_rate']:.0%}",
        help="Share of consecutive click pairs within a session that share a category.",
    )
    causes = [
        f"{name.removeprefix('cause_')} {share:.0%}"
        for name, share in stats.items()
        if name.startswith("cause_") and share > 0
    ]
    if causes:
        st.caption("What produced the clicks (the simulator's truth): " + ", ".join(causes) + ".")


def dataset_charts(data: SessionData) -> None:
    """The charts of the simulated dataset."""
    left, right = st.columns(2)
    left.plotly_chart(charts.session_length_histogram(data), key="sim_chart_lengths")
    right.plotly_chart(charts.behaviour_mix_chart(data), key="sim_chart_behaviour")
    left, right = st.columns(2)
    left.plotly_chart(charts.category_sizes_chart(data), key="sim_chart_categories")
    right.plotly_chart(charts.popularity_long_tail(data), key="sim_chart_popularity")
    st.plotly_chart(charts.sample_session_strips(data), key="sim_chart_strips")
    st.plotly_chart(charts.transition_heatmap(data), key="sim_chart_transitions")
