"""Item embeddings: what the model's item vectors learned about the catalog.

The model never sees categories; items land near each other only because they appear in
similar session contexts. Category purity@10 against its chance level says how much of the
category structure the vectors recovered from behaviour alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from streamrec import insights
from streamrec.charts import insight_charts as charts
from streamrec.data.columns import CATEGORY, ITEM_ID
from streamrec.data.items import ItemNames
from streamrec.model import SessionModel
from streamrec.text import escape_markdown
from streamrec.training import runs
from studio.navigation import ensure_app_navigation
from studio.run_picker import (
    cached_model,
    file_stamp,
    item_names,
    openable_runs_or_stop,
    pick_run,
    run_sessions,
)
from studio.tables import formula_safe

ensure_app_navigation()

PURITY_K = 10
FREQUENT = 50  # training clicks from which an item's vector counts as well trained


@st.cache_data(max_entries=4, show_spinner=False)
def embedding_figures(
    path: str, stamp: int
) -> tuple[pd.DataFrame, insights.Purity | None, insights.Purity | None]:
    """PCA of the item vectors (grouped by category, else by popularity decile), purity@10
    over all items and over the items that were a training target at least FREQUENT times
    (None if too few, or if the data has no categories), cached per checkpoint."""
    model, config = cached_model(Path(path))
    names = item_names(Path(path), config)
    groups, _ = names.groups()
    projection = insights.embedding_projection(model, groups, names.popularity)
    if not names.has_categories:
        return projection, None, None
    category = names.category
    data, split = run_sessions(Path(path), config)
    clicks = insights.training_clicks(data, config, split)
    frequent = np.flatnonzero(clicks >= FREQUENT)
    return (
        projection,
        insights.category_purity_at_k(model, category, PURITY_K),
        insights.category_purity_at_k(model, category, PURITY_K, items=frequent)
        if frequent.size > PURITY_K
        else None,
    )


def lift_delta(purity: insights.Purity) -> dict:
    """st.metric delta arguments: purity as a multiple of chance, green only for clear structure."""
    clear = insights.structure_grade(purity.lift).level == "clear"
    return {
        "delta": f"{purity.lift:.1f}× chance",
        "delta_color": "normal" if clear else "off",
        "delta_arrow": "auto" if clear else "off",
    }


def purity_metrics(purity: insights.Purity, frequent: insights.Purity | None) -> None:
    """Purity@10 against chance, over all items and over well-trained ones, graded."""
    row = st.columns(4)
    row[0].metric(
        f"Category purity@{purity.k}",
        f"{purity.purity:.1%}",
        **lift_delta(purity),
        help="Mean share of an item's nearest neighbours (cosine) in its own category.",
    )
    row[1].metric(
        "Chance level",
        f"{purity.chance:.1%}",
        help="Expected share if the neighbours were random items: Σ_c (n_c/N)·(n_c−1)/(N−1).",
    )
    if frequent is not None:
        row[2].metric(
            f"Purity@{frequent.k}, well-trained items",
            f"{frequent.purity:.1%}",
            **lift_delta(frequent),
            help=f"Only the {frequent.n_items:,} items that were a training target at least "
            f"{FREQUENT} times, among themselves (chance {frequent.chance:.1%}): rarely "
            "clicked items keep near-random vectors.",
        )
    row[3].metric("Items", f"{purity.n_items:,}")
    grade = insights.structure_grade(purity.lift)
    st.badge(
        grade.badge,
        color=grade.color,
        help="Purity as a multiple of chance: under 2×, little; 2–5×, some; 5× and up, clear.",
    )
    st.caption(insights.purity_sentence(purity))


def neighbours_section(
    model: SessionModel,
    names: ItemNames,
    projection: pd.DataFrame,
    n_categories: int,
) -> None:
    """Item picker, its nearest neighbours and the scatter with them ringed."""
    n_items, category, popularity = names.n_items, names.category, names.popularity
    left, right = st.columns([3, 1])
    item = left.selectbox(
        "Item",
        range(n_items),
        key="emb_item",
        format_func=(lambda i: f"item {i} · category {category[i]}")
        if names.simulated_ids
        else (lambda i: f"item {names.option(i)}"),
        help="Type an item id to search.",
    )
    k = right.number_input(
        "Neighbours",
        min_value=1,
        max_value=min(50, n_items - 1),
        value=min(10, n_items - 1),
        key="emb_k",
    )
    neighbours = insights.nearest_neighbours(model, int(item), int(k), category)
    focus = None
    if category is not None:
        neighbours["same category"] = neighbours[CATEGORY] == category[item]
        every = st.toggle("Colour every category", key="emb_every_colour",
                          help="Off: only the picked item's and its neighbours' categories.")
        focus = None if every else [int(category[item]), *neighbours[CATEGORY].tolist()]
    neighbours["popularity"] = popularity[neighbours[ITEM_ID]]
    st.plotly_chart(
        charts.embedding_scatter(
            projection,
            n_categories,
            int(item),
            neighbours[ITEM_ID].tolist(),
            None if names.simulated_ids else names,
            focus,
        ),
        key="emb_chart_scatter",
    )
    ratio = projection.attrs.get("explained_variance", [0.0, 0.0])
    st.caption(
        f"The two components keep {sum(ratio):.1%} of the vectors' variance, so the picture "
        "is a rough shadow; neighbours and purity use all "
        f"{model.item_embeddings().shape[1]} dimensions."
    )
    if category is not None:
        same = int(neighbours["same category"].sum())
        st.markdown(
            f"**Nearest neighbours of item {escape_markdown(names.raw(item))}** (category {category[item]}): "
            f"{same} of {len(neighbours)} in the same category."
        )
    else:
        st.markdown(
            f"**Nearest neighbours of {escape_markdown(names.label(item))}** (share of the log's clicks "
            f"{popularity[item]:.4f})"
        )
    if names.raw_ids is not None:
        index = neighbours[ITEM_ID].to_numpy()
        neighbours[ITEM_ID] = names.raw_ids[index]
        if names.labels is not None:
            neighbours.insert(2, "label", names.labels[index])
    st.dataframe(
        formula_safe(neighbours),  # ids from a log: "Download as CSV" must not run them
        hide_index=True,
        column_config={
            "cosine": st.column_config.ProgressColumn(
                "cosine", format="%.3f", min_value=-1.0, max_value=1.0
            ),
            "popularity": st.column_config.NumberColumn(format="%.4f"),
        },
        key="emb_neighbours",
    )


st.title("Item embeddings")
st.caption(
    "The item vectors the model learned jointly with next-item prediction, projected to 2-D "
    "with PCA and coloured by the item categories (the simulator's, or the log's where it has "
    "them), which the model never saw; by popularity decile where there are none."
)
info = pick_run(openable_runs_or_stop(), "emb_run")
try:
    model, config = cached_model(info.path)
    names = item_names(info.path, config)
    with st.spinner("Projecting the item vectors and finding their neighbours…"):
        projection, purity, frequent = embedding_figures(str(info.path), file_stamp(info.path))
except (runs.RunError, OSError, ValueError) as error:
    st.error(f"Cannot open run {info.run_id}: {escape_markdown(error)}")
    st.stop()
if purity is not None:
    purity_metrics(purity, frequent)
else:
    st.info(
        "This data set has no item categories, so there is no category purity to measure: "
        "items are coloured by popularity decile (decile 10: the most clicked tenth).",
        icon=":material/info:",
    )
neighbours_section(model, names, projection, len(names.groups()[1]))
