"""The attention part of a recommendation's explanation, shaped by what the model's
`explain` returns: a layer × head picker (with the model's reductions, such as the mean over
heads) when the maps form a grid, a choice among maps of their own (rollout, NARM's local
attention, the LSTM's attention pooling), and a note when it returns none (GRU4Rec). A map
is titled and coloured as shares of attention only if its rows sum to 1."""

from __future__ import annotations

import numpy as np
import streamlit as st

from streamrec.charts import explain_charts as charts
from streamrec.data.items import ItemNames
from streamrec.explain.explanations import MapLayout, is_normalised, map_layout
from streamrec.recommendation import Recommendation

GRID = "by layer and head"  # the map-kind option that opens the layer × head pickers


def pick_map(layout: MapLayout, key: str) -> str:
    """The name of the map to draw: a kind (a single map, or the grid), then layer and view.
    The first single map (`summary_map`, the one the headline's "most attended" reads) is
    the default."""
    kinds = layout.single + ([GRID] if layout.layers else [])
    kind = kinds[0]
    if len(kinds) > 1:
        kind = st.radio("Map", kinds, key=f"{key}_map", horizontal=True,
                        help="Attention of one layer and head, a reduction of a layer's heads, "
                        "or a map over all layers (rollout chains the layers' head means with "
                        "the residual; Abnar & Zuidema, 2020).")
    if kind != GRID:
        return kind
    layer_col, view_col = st.columns([1, 3])
    layer = layer_col.selectbox("Layer", layout.layers, index=len(layout.layers) - 1,
                                key=f"{key}_layer")
    view = view_col.radio("Head", layout.views, key=f"{key}_head", horizontal=True,
                          index=len(layout.views) - 1)
    return layout.grid_name(layer, view)


def attention_maps(rec: Recommendation, names: ItemNames, key: str) -> bool:
    """The chosen map as the next-click row and as the growth over the session; False (and a
    note) when the model has no map."""
    layout = map_layout(list(rec.explanations))
    if layout.empty:
        st.caption(
            "This model pools its clicks without attention, so it has no weights to show: "
            "the explanations above ask the model itself which clicks its ranking rests on."
        )
        return False
    name = pick_map(layout, key)
    weights = np.asarray(rec.explanations[name])  # (L, L)
    normalised = is_normalised(weights)
    st.plotly_chart(charts.attention_heatmap(rec.session, weights[-1], names, map_name=name,
                                             normalised=normalised),
                    key=f"{key}_chart_map")
    st.plotly_chart(
        charts.attention_growth_heatmap(rec.session, weights, names, first_click=rec.dropped + 1,
                                        map_name=name, normalised=normalised),
        key=f"{key}_chart_growth",
    )
    st.caption(charts.ATTENTION_MEANING if normalised else charts.SCORE_MEANING)
    return True
