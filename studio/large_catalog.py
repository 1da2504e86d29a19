"""Pages on a catalog too large to list or draw whole: search for an item, draw a sample.

A select box with one option per item sends every option to the browser and filters them
there: fine for a few thousand items, seconds for a million. Above `SEARCH_ABOVE` items the
Recommend and Item embeddings pages ask for a query instead (`ItemNames.search`: an id prefix,
a label, or 'category 4') and list at most `MAX_RESULTS` matches, the most clicked first.
The Item embeddings page draws at most `MAX_POINTS` items (a seeded sample) in its projection.
"""

from __future__ import annotations

import streamlit as st

from streamrec.data.items import ItemNames
from streamrec.text import escape_markdown

SEARCH_ABOVE = 20_000  # catalogs with more items are searched, not listed
MAX_RESULTS = 50  # matches listed for one query
# Items drawn in the embedding projection; a larger catalog is sampled. As many as the default
# simulated catalog has, whose page loads in ~1.3 s (README speed table): the browser's
# WebGL scatter, not the server, is what grows with the points.
MAX_POINTS = 5_000


def searched(names: ItemNames) -> bool:
    """True if this catalog is too large to list item by item."""
    return names.n_items > SEARCH_ABOVE


def search_item(names: ItemNames, key: str, label: str = "Search the catalog") -> int | None:
    """A search box and a list of its matches; the item chosen (None when nothing matches)."""
    what = "an id prefix" + (", a label" if names.labels is not None else "")
    if names.has_categories:
        what += " or 'category 4'"
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    query = left.text_input(
        label,
        key=f"{key}_query",
        placeholder=f"Type {what}…",
        help=f"{names.n_items:,} items: type {what}; the {MAX_RESULTS} most clicked matches "
        "are listed (the most clicked items while the box is empty).",
    )
    found = names.search(query, MAX_RESULTS)
    if not found.size:
        right.warning(f"No item matches {escape_markdown(query.strip())!r}.",
                      icon=":material/search_off:")
        return None
    return right.selectbox(
        f"{len(found)} match{'es' if len(found) > 1 else ''}, most clicked first",
        found.tolist(),
        format_func=names.option,
        key=f"{key}_match",
    )
