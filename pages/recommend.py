"""Recommend: a session in; the model's top-K and its attention out, beside the oracle's.

The session lives in one place, the text of the `rec_text` input; picking items, sampling a
held-out session, dropping a click and appending a recommendation all rewrite that text
through callbacks, so what the user sees in the box is always what the model reads, and a
typed text that does not parse is kept as typed. `?run=<id>&items=1,2,3` preloads a session
(the Attention page links here that way) and the URL follows the page, so it can be shared.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler
from streamlit.errors import StreamlitAPIException

from streamrec import runs
from streamrec.baselines import Oracle
from streamrec.charts import attention as charts
from streamrec.columns import CATEGORY, ITEM_ID
from streamrec.config import RunConfig
from streamrec.data import Split, make_split
from streamrec.model import SessionRecommender
from streamrec.recommend import Recommendation, parse_items
from streamrec.session_view import (
    BEHAVIOUR_NAMES,
    IN_SESSION,
    PROBABILITY,
    RANK,
    TOP_K_COLUMNS,
    TRUE_NEXT,
    SampledSession,
    SessionUpdate,
    catalog_summary,
    click_labels,
    format_session,
    held_out_sessions,
    item_label,
    option_labels,
    rank_of,
    sample_session,
    session_update,
)
from streamrec.simulator import BEHAVIOURS, SessionData, simulate
from studio.navigation import ensure_app_navigation

ensure_app_navigation()

MAX_K = 50
APPEND_CHOICES = 10  # recommendations offered as one-click appends
MAX_DROP_CHOICES = 50  # clicks offered for dropping: the most recent ones of a long paste
TOP_BARS = 20  # bars in the ranked-list chart; the tables hold all K
DEFAULT_RUN = "demo"
EXAMPLE = "302, 310, 365"
RUN_KEY, TEXT_KEY = "rec_run", "rec_text"
SAMPLED_KEY = "rec_sampled"  # (run id, SampledSession) of the last sampled held-out session
URL_KEY = "rec_url"  # the (run, items) query parameters last applied or written
TYPED_KEY = "rec_typed"  # set once the user has edited the text: an empty box is then an error
NOTICE_KEY = "rec_notice"  # a one-off warning from a callback or from the URL


# --- cached resources --------------------------------------------------------------------


def _mtime(path: Path) -> int:
    """Modification time of a run file (ns), so a rewritten checkpoint is reloaded."""
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        raise runs.RunError(
            f"run {path.parent.name!r}: {path.name} is gone (was the run deleted?)"
        ) from None


@st.cache_resource(max_entries=4, show_spinner=False)
def load_model(path: str, mtime_ns: int) -> tuple[SessionRecommender, RunConfig]:
    """The run's best checkpoint in eval mode, once per checkpoint file version."""
    return runs.load_model(Path(path), "best")


@st.cache_resource(max_entries=4, show_spinner=False)
def load_catalog(path: str, mtime_ns: int) -> tuple[np.ndarray, list[str]]:
    """(item -> category, picker label per item) of the catalog the run was trained on."""
    item_category, _ = runs.load_catalog(Path(path))
    return item_category, option_labels(item_category)


@st.cache_resource(max_entries=4, show_spinner="Simulating this run's sessions for the oracle…")
def simulation(config_json: str) -> tuple[SessionData, Split, Oracle]:
    """The run's simulated sessions, its split and the oracle fitted on them."""
    config = RunConfig.from_dict(json.loads(config_json))
    data = simulate(config.sim)
    split = make_split(data, config.train)
    return data, split, Oracle().fit(data, split.train)


def config_json(config: RunConfig) -> str:
    """A stable cache key for a run's data: runs with equal configs share one simulation."""
    return json.dumps(config.to_dict(), sort_keys=True)


# --- callbacks: every way of changing the session rewrites the text ----------------------


def _current_items(n_items: int) -> list[int]:
    try:
        return parse_items(st.session_state.get(TEXT_KEY, ""), n_items)
    except ValueError:
        return []


def on_text_typed() -> None:
    """A typed session is the user's own: forget a sampled session it no longer follows."""
    st.session_state.pop(SAMPLED_KEY, None)
    st.session_state[TYPED_KEY] = True


def use_picked(pick_key: str) -> None:
    """Make the picked catalog items, in picking order, the session."""
    picked = st.session_state.get(pick_key) or []
    if picked:
        st.session_state[TEXT_KEY] = format_session(picked)
        st.session_state.pop(SAMPLED_KEY, None)


def draw_sample(run_id: str, config: RunConfig) -> None:
    """Draw a held-out session (of the chosen behaviour) and use all but its last click."""
    behaviour = st.session_state.get("rec_behaviour")
    data, split, _ = simulation(config_json(config))
    try:
        sample = sample_session(
            data, held_out_sessions(data, split, behaviour), np.random.default_rng()
        )
    except ValueError as error:
        leave_notice(f"Cannot sample: {error}.")
        return
    st.session_state[SAMPLED_KEY] = (run_id, sample)
    st.session_state[TEXT_KEY] = format_session(sample.items[:-1])


def use_prefix(sample: SampledSession, slider_key: str) -> None:
    """Use the first n clicks of the sampled session, n from the slider."""
    st.session_state[TEXT_KEY] = format_session(sample.items[: st.session_state[slider_key]])


def drop_click(n_items: int) -> None:
    """Remove the click chosen in the pills from the session."""
    position = st.session_state.get("rec_drop")
    st.session_state["rec_drop"] = None
    items = _current_items(n_items)
    if position is not None and 0 <= position < len(items):
        del items[position]
        st.session_state[TEXT_KEY] = format_session(items)


def append_item(n_items: int) -> None:
    """Append the recommendation chosen in the pills to the session."""
    item = st.session_state.get("rec_append")
    st.session_state["rec_append"] = None
    if item is not None:
        st.session_state[TEXT_KEY] = format_session([*_current_items(n_items), item])


# --- the URL: ?run=<id>&items=1,2,3 ------------------------------------------------------


def apply_url(run_ids: list[str]) -> None:
    """Preload run and session from query parameters the first time they are seen."""
    wanted = (st.query_params.get("run"), st.query_params.get("items"))
    if wanted == st.session_state.get(URL_KEY):
        return
    st.session_state[URL_KEY] = wanted
    run, items = wanted
    if run is not None:
        if run in run_ids:
            st.session_state[RUN_KEY] = run
        else:
            leave_notice(
                f"The link asks for run **{run}**, which does not exist here or has no "
                "trained checkpoint; showing another run."
            )
    if items is not None:
        st.session_state[TEXT_KEY] = items
        st.session_state.pop(SAMPLED_KEY, None)


def write_url(run_id: str, items: list[int]) -> None:
    """Point the URL at what the page shows, so reloading or sharing it shows the same."""
    wanted = (run_id, ",".join(str(i) for i in items))
    if (st.query_params.get("run"), st.query_params.get("items")) != wanted:
        st.query_params.update({"run": wanted[0], "items": wanted[1]})
    st.session_state[URL_KEY] = wanted


# --- page sections -----------------------------------------------------------------------


def no_runs(broken: list[runs.RunInfo]) -> None:
    """What to do when there is nothing to recommend with."""
    st.info(
        "There is no trained run to recommend with yet. Train one on the **Train** page, or "
        "from a terminal: `python -m streamrec train --preset demo --name demo`.",
        icon=":material/model_training:",
    )
    try:
        st.page_link("pages/train.py", label="Open the Train page", icon=":material/school:")
    except StreamlitAPIException:
        pass  # the Train page is not registered in this build of the app
    broken_runs(broken)


def broken_runs(broken: list[runs.RunInfo]) -> None:
    """Folders that cannot be opened, named with their reason, so nothing is silently hidden."""
    if broken:
        with st.expander(f"{len(broken)} run folder(s) cannot be opened and are not listed"):
            for info in broken:
                st.error(info.error, icon=":material/folder_off:")


def run_caption(info: runs.RunInfo, config: RunConfig) -> str:
    """Which catalog and model a run is, and how well it scored on held-out sessions."""
    m = config.model
    parts = [
        f"Trained on {catalog_summary(config)}.",
        (
            f"{m.cell.upper()} ({m.num_layers} × {m.hidden_size}) with {m.pooling} pooling, "
            f"reads the last {config.train.max_len} clicks."
        ),
    ]
    final = info.status.get("final") or {}
    oracle = (info.status.get("baselines") or {}).get("Oracle") or {}
    if "hit@10" in final:
        ceiling = f" (oracle {oracle['hit@10']:.3f})" if "hit@10" in oracle else ""
        parts.append(f"Hit@10 on held-out sessions: {final['hit@10']:.3f}{ceiling}.")
    if info.state != "completed":
        parts.append(f"Status: {info.state}.")
    return " ".join(parts)


def session_input(run_id: str, config: RunConfig, labels: list[str]) -> None:
    """The three ways to enter a session; each one ends up in the `rec_text` box."""
    # Tabs that track which one is open, so the catalog picker (one option per item, the
    # heaviest widget here) is only built while someone looks at it.
    typed, picked, sampled = st.tabs(
        ["Type item ids", "Pick from the catalog", "Sample a held-out session"],
        key="rec_input",
        on_change="rerun",
    )
    n_items = config.model.n_items
    with typed:
        st.text_input(
            "Session: item ids in click order, oldest first",
            key=TEXT_KEY,
            placeholder=f"e.g. {EXAMPLE}",
            help=f"Whole numbers 0–{n_items - 1}, separated by commas or spaces.",
            on_change=on_text_typed,
            persist_state="session",
        )
    with picked:
        if picked.open:
            catalog_picker(run_id, n_items, labels)
    with sampled:
        left, right = st.columns([3, 1], vertical_alignment="bottom")
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
            args=(run_id, config),
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
                args=(sample, slider_key),
            )
        else:
            unseen = (
                "a session the model never trained on"
                if config.train.protocol == "session"
                else "a session with held-out clicks (this run split clicks, not sessions)"
            )
            st.caption(
                f"Draws {unseen} from the run's simulator, and shows its hidden behaviour and "
                "the click that really came next."
            )


def catalog_picker(run_id: str, n_items: int, labels: list[str]) -> None:
    """A searchable multiselect over the catalog ('302 · category 4') and a button to use it."""
    pick_key = f"rec_pick_{run_id}"
    left, right = st.columns([5, 1], vertical_alignment="bottom")
    left.multiselect(
        "Items, in click order (type an id or a category to search)",
        options=range(n_items),
        format_func=labels.__getitem__,
        key=pick_key,
        placeholder="Search the catalog…",
        persist_state="page",
    )
    right.button(
        "Use as session",
        key="rec_use_pick",
        on_click=use_picked,
        args=(pick_key,),
        disabled=not st.session_state.get(pick_key),
        width="stretch",
    )


def current_sample(run_id: str) -> SampledSession | None:
    """The sampled held-out session, if it belongs to this run."""
    stored = st.session_state.get(SAMPLED_KEY)
    return stored[1] if stored and stored[0] == run_id else None


def leave_notice(text: str) -> None:
    """Keep a warning for this run of the page (callbacks run before anything is drawn)."""
    st.session_state[NOTICE_KEY] = text


def show_notice() -> None:
    """The warning left by a callback or the URL, shown once."""
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.warning(notice, icon=":material/warning:")


def bad_session(
    error: ValueError, run_id: str, config: RunConfig, usable: list[runs.RunInfo]
) -> None:
    """A clear message for a session this run cannot read, with runs that could."""
    message = str(error)
    n_items = config.model.n_items
    if message.startswith("unknown item ids"):
        numbers = [
            int(t)
            for t in st.session_state.get(TEXT_KEY, "").replace(",", " ").split()
            if t.isdigit()
        ]
        top = max(numbers, default=0)
        others = [
            i.run_id
            for i in usable
            if i.config and i.config.model.n_items > top and i.run_id != run_id
        ]
        message += (
            f". Run **{run_id}** was trained on a catalog of {n_items:,} items, so ids from "
            "another catalog mean nothing to it."
        )
        if others:
            message += f" Runs whose catalog has these ids: {', '.join(others)}."
    st.error(f"Cannot read this session: {message}", icon=":material/error:")


def edit_controls(
    items: list[int], top_items: np.ndarray, item_category: np.ndarray, n_items: int
) -> None:
    """One-click what-ifs: drop a click, or append one of the model's recommendations."""
    first = max(0, len(items) - MAX_DROP_CHOICES)
    labels = dict(zip(range(first, len(items)), click_labels(items[first:], item_category)))
    shown = f", the last {MAX_DROP_CHOICES} shown" if first else ""
    left, right = st.columns(2)
    left.pills(
        f"The session, {len(items)} clicks{shown}: click one to drop it",
        options=range(first, len(items)),
        format_func=lambda p: f"✕ {labels[p]}",
        key="rec_drop",
        on_change=drop_click,
        args=(n_items,),
        wrap=True,
    )
    right.pills(
        f"Append a recommendation (the model's top {min(APPEND_CHOICES, len(top_items))})",
        options=[int(i) for i in top_items[:APPEND_CHOICES]],
        format_func=lambda i: f"+ {item_label(i, int(item_category[i]))}",
        key="rec_append",
        on_change=append_item,
        args=(n_items,),
        wrap=True,
    )


def ranked_table(table: pd.DataFrame, key: str, with_truth: bool) -> None:
    """A top-K table with readable columns; with a known next click, its row is highlighted."""
    data: pd.DataFrame | Styler = table
    columns = [c for c in TOP_K_COLUMNS if with_truth or c != TRUE_NEXT]
    if with_truth:
        data = table.assign(**{TRUE_NEXT: np.where(table[TRUE_NEXT], "★ true next", "")})
        data = data.style.apply(
            lambda row: ["background-color: #E3F4E1" if row[TRUE_NEXT] else ""] * len(row), axis=1
        )
    st.dataframe(
        data,
        column_order=columns,
        hide_index=True,
        key=key,
        height=min(35 * len(table) + 38, 400),
        column_config={
            RANK: st.column_config.NumberColumn("rank", width=50),
            ITEM_ID: st.column_config.NumberColumn("item", format="%d", width=70),
            CATEGORY: st.column_config.NumberColumn("category", format="%d", width=75),
            PROBABILITY: st.column_config.ProgressColumn(
                "probability",
                format="%.4f",
                min_value=0.0,
                max_value=max(float(table[PROBABILITY].max()), 1e-12),
                width=160,
            ),
            IN_SESSION: st.column_config.CheckboxColumn(
                "clicked", help="Already in the session", width=65
            ),
            TRUE_NEXT: st.column_config.TextColumn("true next", width=95),
        },
    )


def sample_truth(
    sample: SampledSession,
    items: list[int],
    truth: int | None,
    update: SessionUpdate,
    item_category: np.ndarray,
) -> None:
    """The hidden truth of a sampled held-out session and where the real next click ranks."""
    n_items = item_category.shape[0]
    with st.container(border=True):
        related = (
            "follows" if truth is not None or tuple(items) == sample.items else "was edited from"
        )
        st.markdown(
            f"**Held-out session #{sample.session_id}** ({len(sample.items)} clicks): hidden "
            f"behaviour **{BEHAVIOUR_NAMES[sample.behaviour]}**, preferred categories "
            f"**{', '.join(str(c) for c in sample.preferred)}**. The session shown {related} it."
        )
        if truth is not None:
            label = item_label(truth, int(item_category[truth]))
            model_rank = rank_of(update.rec.probs, truth)
            oracle_rank = rank_of(update.oracle.probs, truth)
            st.markdown(
                f"The click that really came next: **{label}**. The model ranks it "
                f"**#{model_rank:,}**, the oracle **#{oracle_rank:,}** of {n_items:,} items."
            )


def headline(
    rec: Recommendation, n_clicks: int, oracle_table: pd.DataFrame, item_category: np.ndarray
) -> None:
    """Four numbers a stakeholder reads first."""
    heaviest = int(np.argmax(rec.attention))
    clicked = rec.session[heaviest]
    top, oracle_top = int(rec.top_items[0]), int(oracle_table[ITEM_ID].iloc[0])
    quiet = {"delta_color": "off", "delta_arrow": "off", "border": True}
    cols = st.columns(4)
    cols[0].metric(
        "Clicks the model reads",
        f"{len(rec.session)} of {n_clicks}",
        "all of them" if not rec.dropped else f"first {rec.dropped} cut",
        **quiet,
    )
    cols[1].metric(
        "Model's top pick",
        f"item {top}",
        f"cat {item_category[top]} · p {rec.top_probs[0]:.3f}",
        **quiet,
    )
    cols[2].metric(
        "Oracle's top pick",
        f"item {oracle_top}",
        f"cat {item_category[oracle_top]} · p {oracle_table[PROBABILITY].iloc[0]:.3f}",
        **quiet,
    )
    cols[3].metric(
        "Most attended click",
        f"item {clicked}",
        f"click {heaviest + 1 + rec.dropped} · weight {rec.attention[heaviest]:.2f}",
        **quiet,
    )


# --- the page ----------------------------------------------------------------------------

st.title("Recommend")
st.caption(
    "Enter a click session and see the next items the model ranks highest, which clicks its "
    "attention weighed, and what the Bayes-optimal oracle of the simulator would recommend."
)

infos = runs.list_runs()
usable = [i for i in infos if not i.error and i.has_weights]
broken = [i for i in infos if i.error]
if not usable:
    no_runs(broken)
    st.stop()

run_ids = [i.run_id for i in usable]
by_id = {i.run_id: i for i in usable}
apply_url(run_ids)
if st.session_state.get(RUN_KEY) not in run_ids:
    gone = st.session_state.get(RUN_KEY)
    if gone is not None:
        leave_notice(
            f"Run **{gone}** is no longer available (deleted, or its checkpoint is gone); "
            "showing another run."
        )
    st.session_state[RUN_KEY] = DEFAULT_RUN if DEFAULT_RUN in run_ids else run_ids[0]
st.session_state.setdefault(TEXT_KEY, "")

run_col, k_col, seen_col = st.columns([4, 3, 2], vertical_alignment="bottom")
run_id = run_col.selectbox(
    "Run",
    run_ids,
    key=RUN_KEY,
    format_func=lambda r: f"{r} · {by_id[r].config.sim.n_items:,} items · {by_id[r].state}",
    help="Runs with a best checkpoint, newest first.",
    persist_state="session",
)
k = k_col.slider("Recommendations (K)", 1, MAX_K, 10, key="rec_k", persist_state="session")
exclude_seen = seen_col.toggle(
    "Hide clicked items",
    key="rec_exclude",
    help="Leave items already in the session out of both rankings.",
    persist_state="session",
)
info = by_id[run_id]
try:
    model, config = load_model(str(info.path), _mtime(info.path / runs.WEIGHTS["best"]))
    item_category, labels = load_catalog(str(info.path), _mtime(info.path / runs.CATALOG_FILE))
except runs.RunError as error:
    st.error(f"Cannot open run **{run_id}**: {error}", icon=":material/error:")
    st.caption("Pick another run above.")
    broken_runs(broken)
    st.stop()
st.caption(run_caption(info, config))
broken_runs(broken)
show_notice()

session_input(run_id, config, labels)
n_items, max_len = config.model.n_items, config.train.max_len
k = min(k, n_items)  # a catalog smaller than the slider's range
try:
    items = parse_items(st.session_state[TEXT_KEY], n_items)
except ValueError as error:
    if st.session_state[TEXT_KEY].strip() or st.session_state.get(TYPED_KEY):
        bad_session(error, run_id, config, usable)
    else:
        st.info(
            f"Enter a session above: type item ids (e.g. `{EXAMPLE}`), pick items from the "
            "catalog, or sample a held-out session.",
            icon=":material/touch_app:",
        )
    st.stop()

_, _, oracle = simulation(config_json(config))
sample = current_sample(run_id)
truth = sample.true_next(items) if sample else None
update = session_update(model, oracle, items, k, max_len, item_category, exclude_seen, truth)
rec, view = update.rec, update.oracle
if rec.dropped:
    st.info(
        f"The session has {len(items)} clicks; the model reads only the last {max_len} "
        f"(this run's max_len), so the first {rec.dropped} are left out of the recommendation "
        "and the attention charts.",
        icon=":material/content_cut:",
    )

edit_controls(items, rec.top_items, item_category, n_items)
if sample is not None:
    sample_truth(sample, items, truth, update, item_category)
headline(rec, len(items), update.oracle_table, item_category)

left, right = st.columns(2)
with left:
    st.subheader(f"Model's top {k}", anchor=False)
    st.caption(
        f"This run's {config.model.cell.upper()} with {config.model.pooling} pooling, "
        "best checkpoint."
    )
    ranked_table(update.model_table, "rec_table_model", truth is not None)
with right:
    st.subheader(f"Oracle's top {k}", anchor=False)
    st.caption(
        "Bayes-optimal: knows the simulator's true parameters, so no model beats it on average."
    )
    ranked_table(update.oracle_table, "rec_table_oracle", truth is not None)

st.plotly_chart(
    charts.attention_heatmap(rec.session, rec.attention, item_category), key="rec_chart_attention"
)
st.plotly_chart(
    charts.attention_growth_heatmap(
        rec.session, rec.attention_growth, item_category, first_click=rec.dropped + 1
    ),
    key="rec_chart_growth",
)
left, right = st.columns([3, 2])
left.plotly_chart(
    charts.top_k_bars(update.model_table.head(TOP_BARS), config.sim.n_categories, view.probs),
    key="rec_chart_topk",
)
right.plotly_chart(
    charts.behaviour_posterior_chart(
        view.behaviour, config.sim.behaviour_mix, sample.behaviour if sample else None
    ),
    key="rec_chart_behaviour",
)
write_url(run_id, items)
