"""The Recommend page's session: the text of one input box, every widget that rewrites it, and
the link (`?run=<id>&items=1,2,3`) that carries it.

Typing, picking catalog items, sampling a held-out session, dropping a click and appending a
recommendation all end up in the `rec_text` box through callbacks, so what the user sees
there is always what the model reads; a typed text that does not parse is kept as typed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from streamrec.config import RunConfig
from streamrec.data.identity import data_key
from streamrec.data.items import ItemNames
from streamrec.text import escape_markdown
from streamrec.training.runs import RunInfo
from streamrec.views.session_view import (
    BEHAVIOUR_NAMES,
    SampledSession,
    drop_choices,
    held_out_sessions,
    option_labels,
    sample_session,
    sampling_hint,
)
from streamrec.world.simulator import BEHAVIOURS
from studio.notices import Notice
from studio.run_picker import run_sessions

EXAMPLE = "302, 310, 365"
APPEND_CHOICES = 10  # recommendations offered as one-click appends
MAX_DROP_CHOICES = 50  # clicks offered for dropping: the most recent ones of a long paste
TEXT_KEY = "rec_text"
SAMPLED_KEY = "rec_sampled"  # (run id, SampledSession) of the last sampled held-out session
URL_KEY = "rec_url"  # the (run, items) query parameters last applied or written
TYPED_KEY = "rec_typed"  # set once the user has edited the text: an empty box is then an error
SESSION_RUN_KEY = "rec_session_run"  # (run id, data key) of the run the session was entered for
NOTICE = Notice("rec_notice")  # a one-off warning from a callback or from the link


# --- callbacks: every way of changing the session rewrites the text ----------------------


def _current_items(names: ItemNames) -> list[int]:
    try:
        return names.parse(st.session_state.get(TEXT_KEY, ""))
    except ValueError:
        return []


def on_text_typed() -> None:
    """A typed session is the user's own: forget a sampled session it no longer follows."""
    st.session_state.pop(SAMPLED_KEY, None)
    st.session_state[TYPED_KEY] = True


def use_picked(pick_key: str, names: ItemNames) -> None:
    """Make the picked catalog items, in picking order, the session."""
    picked = st.session_state.get(pick_key) or []
    if picked:
        st.session_state[TEXT_KEY] = names.format(picked)
        st.session_state.pop(SAMPLED_KEY, None)


def draw_sample(run_id: str, path: Path, config: RunConfig, names: ItemNames) -> None:
    """Draw a held-out session (of the chosen behaviour, where the data has hidden truth) from
    the split stored with the run, and use all but its last click."""
    behaviour = st.session_state.get("rec_behaviour")
    data, split = run_sessions(path, config)
    if not data.has_truth:
        behaviour = None
    try:
        sample = sample_session(
            data, held_out_sessions(data, split, behaviour), np.random.default_rng()
        )
    except ValueError as error:
        NOTICE.leave(f"Cannot sample: {error}.")
        return
    st.session_state[SAMPLED_KEY] = (run_id, sample)
    st.session_state[TEXT_KEY] = names.format(sample.items[:-1])


def use_prefix(sample: SampledSession, slider_key: str, names: ItemNames) -> None:
    """Use the first n clicks of the sampled session, n from the slider."""
    st.session_state[TEXT_KEY] = names.format(sample.items[: st.session_state[slider_key]])


def drop_click(names: ItemNames) -> None:
    """Remove the click chosen in the pills from the session."""
    position = st.session_state.get("rec_drop")
    st.session_state["rec_drop"] = None
    items = _current_items(names)
    if position is not None and 0 <= position < len(items):
        del items[position]
        st.session_state[TEXT_KEY] = names.format(items)


def append_item(names: ItemNames) -> None:
    """Append the recommendation chosen in the pills to the session."""
    item = st.session_state.get("rec_append")
    st.session_state["rec_append"] = None
    if item is not None:
        st.session_state[TEXT_KEY] = names.format([*_current_items(names), item])


def current_sample(run_id: str) -> SampledSession | None:
    """The sampled held-out session, if it belongs to this run."""
    stored = st.session_state.get(SAMPLED_KEY)
    return stored[1] if stored and stored[0] == run_id else None


# --- the link: ?run=<id>&items=1,2,3 -----------------------------------------------------


def follow_link() -> str | None:
    """Take a link's `?items=` as the session the first time the link is seen, and return its
    `?run=` for the run picker (None when the link is not new or names no run)."""
    wanted = (st.query_params.get("run"), st.query_params.get("items"))
    if wanted == st.session_state.get(URL_KEY):
        return None
    st.session_state[URL_KEY] = wanted
    run, items = wanted
    if items is not None:
        st.session_state[TEXT_KEY] = items
        st.session_state.pop(SAMPLED_KEY, None)
        st.session_state.pop(SESSION_RUN_KEY, None)  # the link's session belongs to its run
    return run


def follow_run(info: RunInfo) -> None:
    """When the chosen run changes, keep the session if the new run was trained on the same
    data (its ids name the same items) and clear it otherwise; a notice says which."""
    key = data_key(info.config)
    previous = st.session_state.get(SESSION_RUN_KEY)
    st.session_state[SESSION_RUN_KEY] = (info.run_id, key)
    if previous is None or previous[0] == info.run_id:
        return
    stored = st.session_state.get(SAMPLED_KEY)
    if not st.session_state.get(TEXT_KEY, "").strip() and stored is None:
        return
    old, new = escape_markdown(previous[0]), escape_markdown(info.run_id)
    if previous[1] == key:
        if stored is not None and stored[0] == old:
            st.session_state[SAMPLED_KEY] = (info.run_id, stored[1])  # same sessions, same truth
        NOTICE.add(
            f"Run **{new}** was trained on the same data as **{old}**, so the session "
            "is kept: its item ids name the same items."
        )
        return
    st.session_state[TEXT_KEY] = ""
    st.session_state.pop(SAMPLED_KEY, None)
    st.session_state.pop(TYPED_KEY, None)
    NOTICE.add(
        f"The session was cleared: run **{new}** was trained on different data than "
        f"**{old}**, so the same item ids would name other items. Enter or sample a new one."
    )


def write_link(run_id: str, items: list[int], names: ItemNames) -> None:
    """Point the URL at what the page shows, so reloading or sharing it shows the same."""
    wanted = (run_id, ",".join(names.raw(i) for i in items))
    if (st.query_params.get("run"), st.query_params.get("items")) != wanted:
        st.query_params.update({"run": wanted[0], "items": wanted[1]})
    st.session_state[URL_KEY] = wanted


# --- widgets -----------------------------------------------------------------------------


def session_input(run_id: str, path: Path, config: RunConfig, names: ItemNames) -> None:
    """The three ways to enter a session; each one ends up in the `rec_text` box."""
    # Tabs that track which one is open, so the catalog picker (one option per item, the
    # heaviest widget here) is only built while someone looks at it.
    typed, picked, sampled = st.tabs(
        ["Type item ids", "Pick from the catalog", "Sample a held-out session"],
        key="rec_input",
        on_change="rerun",
    )
    n_items = config.model.n_items
    if names.raw_ids is None:
        example, hint = EXAMPLE, f"Whole numbers 0–{n_items - 1}, separated by commas or spaces."
    else:
        example = names.format(range(min(3, n_items)))
        hint = (
            f"The raw item ids of data set {names.dataset!r} ({n_items:,} items), separated by "
            "commas or spaces."
        )
    with typed:
        st.text_input(
            "Session: item ids in click order, oldest first",
            key=TEXT_KEY,
            placeholder=f"e.g. {example}",
            help=hint,
            on_change=on_text_typed,
            persist_state="session",
        )
    with picked:
        if picked.open:
            catalog_picker(run_id, names)
    with sampled:
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        if run_sessions(path, config)[0].has_truth:
            left.selectbox(
                "Hidden behaviour of the session",
                options=[None, *range(len(BEHAVIOURS))],
                format_func=lambda b: "any" if b is None else BEHAVIOUR_NAMES[BEHAVIOURS[b]],
                key="rec_behaviour",
            )
        right.button(
            "Sample a session",
            key="rec_sample",
            icon=":material/casino:",
            on_click=draw_sample,
            args=(run_id, path, config, names),
            width="stretch",
        )
        sample = current_sample(run_id)
        if sample is not None:
            slider_key = f"rec_prefix_{run_id}_{sample.session_id}"
            st.slider(
                f"Clicks of held-out session #{sample.session_id} to use "
                f"(it has {len(sample.items)})",
                min_value=1,
                max_value=len(sample.items),
                value=len(sample.items) - 1,
                key=slider_key,
                on_change=use_prefix,
                args=(sample, slider_key, names),
            )
        else:
            st.caption(sampling_hint(config))


def catalog_picker(run_id: str, names: ItemNames) -> None:
    """A searchable multiselect over the catalog ('302 · category 4', '214536502 · label'),
    narrowed by an exact category pick, and a button to use it.

    Typing matches by substring in catalog order, so "302" + Enter picks item 302 (the first
    id containing "302"), and there is no "Select all matches" entry to pick by accident; a
    category is chosen in its own box, because typed text cannot tell category 4 from 14."""
    pick_key, category_key = f"rec_pick_{run_id}", f"rec_pick_category_{run_id}"
    labels = option_labels(names)
    picked = [i for i in st.session_state.get(pick_key) or [] if 0 <= i < names.n_items]
    searchable = "an id, a label" if names.labels is not None else "an id"
    options: list[int] | range = range(names.n_items)
    if names.category is not None:
        category = names.category
        left, middle, right = st.columns([1, 4, 1], vertical_alignment="bottom")
        chosen = left.selectbox(
            "Category",
            range(int(category.max(initial=-1)) + 1),
            index=None,
            placeholder="any",
            key=category_key,
            help="Show only this category's items (exactly this one: 4 is not 14 or 24).",
        )
        if chosen is not None:  # the items already picked stay, whatever their category
            options = sorted(set(np.flatnonzero(category == chosen).tolist()) | set(picked))
    else:
        middle, right = st.columns([5, 1], vertical_alignment="bottom")
    middle.multiselect(
        f"Items, in click order (type {searchable} to search)",
        options=options,
        format_func=labels.__getitem__,
        key=pick_key,
        placeholder="Search the catalog…",
        persist_state="page",
        filter_mode="contains",
        select_all=False,
    )
    right.button(
        "Use as session",
        key="rec_use_pick",
        on_click=use_picked,
        args=(pick_key, names),
        disabled=not st.session_state.get(pick_key),
        width="stretch",
    )


def edit_controls(items: list[int], top_items: np.ndarray, names: ItemNames) -> None:
    """One-click what-ifs: drop a click, or append one of the model's recommendations."""
    labels = drop_choices(items, names, MAX_DROP_CHOICES)
    shown = f", the last {MAX_DROP_CHOICES} shown" if len(labels) < len(items) else ""
    left, right = st.columns(2)
    left.pills(
        f"The session, {len(items)} clicks{shown}: click one to drop it",
        options=list(labels),
        format_func=lambda p: f"✕ {escape_markdown(labels[p])}",  # pills render Markdown
        key="rec_drop",
        on_change=drop_click,
        args=(names,),
        wrap=True,
    )
    right.pills(
        f"Append a recommendation (the model's top {min(APPEND_CHOICES, len(top_items))})",
        options=[int(i) for i in top_items[:APPEND_CHOICES]],
        format_func=lambda i: f"+ {escape_markdown(names.label(i))}",
        key="rec_append",
        on_change=append_item,
        args=(names,),
        wrap=True,
    )
