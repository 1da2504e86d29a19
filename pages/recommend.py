"""Recommend: a session in; the model's top-K and its attention out, beside the oracle's.

The session lives in one place, the text of the `rec_text` input: typing, picking items,
sampling a held-out session, dropping a click and appending a recommendation all rewrite that
text (`studio.session_input`). `?run=<id>&items=1,2,3` preloads a run and a session (the
Attention page links here that way) and the URL follows the page, so it can be shared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from streamrec import insights
from streamrec.charts import explain_charts as charts
from streamrec.charts.faithfulness_charts import occlusion_bars
from streamrec.config import RunConfig
from streamrec.data.items import ItemNames
from streamrec.model import SessionModel
from streamrec.recommendation import Recommendation
from streamrec.text import escape_markdown
from streamrec.training import runs
from streamrec.views.session_view import (
    NO_CEILING,
    ClickCauses,
    SampledSession,
    SessionUpdate,
    causes_paragraph,
    headlines,
    run_caption,
    sample_summary,
    session_causes,
    session_error,
    session_update,
    truth_ranks,
)
from studio.explain import attention_maps
from studio.navigation import ensure_app_navigation
from studio.run_picker import (
    broken_runs_expander,
    cached_model,
    item_names,
    pick_run,
    run_oracle,
    run_sessions,
)
from studio.session_input import (
    EXAMPLE,
    NOTICE,
    TEXT_KEY,
    TYPED_KEY,
    current_sample,
    edit_controls,
    follow_link,
    follow_run,
    session_input,
    write_link,
)
from studio.tables import ranked_table
from studio.verdict import verdict_box

ensure_app_navigation()

MAX_K = 50
TOP_BARS = 20  # bars in the ranked-list chart; the tables hold all K
NO_CAUSES = (
    "This run's data records no cause per click (made before causes were recorded, or an "
    "imported log): what caused each click is not known here."
)


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
    broken_runs_expander(broken)


def run_label(info: runs.RunInfo) -> str:
    """Run id, catalog size (and imported data set) and state: what tells runs apart here."""
    data = info.config.data
    source = "" if data.is_simulated else f" of {data.dataset}"
    return f"{info.run_id} · {info.config.model.n_items:,} items{source} · {info.state}"


def sample_truth(
    sample: SampledSession,
    items: list[int],
    truth: int | None,
    update: SessionUpdate,
    names: ItemNames,
    causes: ClickCauses | None,
) -> None:
    """The hidden truth of a sampled held-out session, where the real next click ranks, and
    what caused each click (up to the next one) where the data records it."""
    with st.container(border=True):
        st.markdown(sample_summary(sample, items))
        if truth is not None:
            st.markdown(truth_ranks(truth, update, names))
        if causes is None:
            st.caption(NO_CAUSES)
        else:
            shown = len(items) + 1 if truth is not None else len(sample.items)
            st.markdown(causes_paragraph(causes, shown))


def recorded_causes(
    info: runs.RunInfo, config: RunConfig, sample: SampledSession
) -> ClickCauses | None:
    """The sampled session's recorded causes, from the run's own data (None if it has none)."""
    data, _ = run_sessions(info.path, config)
    return session_causes(data, sample.session_id, sample.items)


def occlusion_chart(
    rec: Recommendation,
    item: int,
    falls: np.ndarray,
    is_truth: bool,
    cause: int | None,
    names: ItemNames,
) -> None:
    """Bars: how far P(`item`) falls without each click (`insights.occlusion`); `cause` is
    the session position of the click that truly caused the next one."""
    inside = cause is not None and cause >= rec.dropped
    st.plotly_chart(
        occlusion_bars(
            names.labels_of(rec.session),
            falls,
            f"item {names.raw(item)}",
            cause - rec.dropped if inside else None,
            first_click=rec.dropped + 1,
        ),
        key="rec_chart_occlusion",
    )
    what = "the click that really came next" if is_truth else "the model's top pick"
    note = (
        f" Its true cause, click {cause + 1}, is before the clicks the model reads."
        if cause is not None and not inside
        else ""
    )
    st.caption(
        f"Each bar: how far the model's probability of {what}, {escape_markdown(names.label(item))}, falls "
        f"when that click is left out (below zero: it rises).{note}"
    )


def headline(
    rec: Recommendation, n_clicks: int, oracle_table: pd.DataFrame | None, names: ItemNames
) -> None:
    """The numbers a stakeholder reads first."""
    quiet = {"delta_color": "off", "delta_arrow": "off", "border": True}
    figures = headlines(rec, n_clicks, oracle_table, names)
    for column, (label, value, detail) in zip(st.columns(len(figures)), figures):
        column.metric(label, value, detail, **quiet)


@st.fragment
def session_panel(
    info: runs.RunInfo,
    usable: list[runs.RunInfo],
    k: int,
    exclude_seen: bool,
    model: SessionModel,
    config: RunConfig,
    names: ItemNames,
) -> None:
    """The session editor and everything shown for the session: editing the session (typing,
    dropping, appending) reruns only this fragment, not the run picker and settings above."""
    NOTICE.show()  # here, so a notice left by a callback of this fragment shows at once
    run_id = info.run_id
    session_input(run_id, info.path, config, names)
    n_items, max_len = config.model.n_items, config.train.max_len
    k = min(k, n_items)  # a catalog smaller than the slider's range
    text = st.session_state[TEXT_KEY]
    try:
        items = names.parse(text)
    except ValueError as error:
        if text.strip() or st.session_state.get(TYPED_KEY):
            st.error(
                session_error(error, text, run_id, n_items, usable, names.dataset),
                icon=":material/error:",
            )
        else:
            # A log's ids are shown escaped, not in a code span: a backtick in one would end it.
            example = (f"`{EXAMPLE}`" if names.raw_ids is None
                       else escape_markdown(names.format(range(min(3, n_items)))))
            st.info(
                f"Enter a session above: type item ids (e.g. {example}), pick items from the "
                "catalog, or sample a held-out session.",
                icon=":material/touch_app:",
            )
        return

    oracle = run_oracle(info.path, config)
    sample = current_sample(run_id)
    truth = sample.true_next(items) if sample else None
    update = session_update(model, oracle, items, k, max_len, names, exclude_seen, truth)
    rec, view = update.rec, update.oracle
    if rec.dropped:
        st.info(
            f"The session has {len(items)} clicks; the model reads only the last {max_len} "
            f"(this run's max_len), so the first {rec.dropped} are left out of the recommendation "
            "and the attention charts.",
            icon=":material/content_cut:",
        )

    edit_controls(items, rec.top_items, names)
    causes = recorded_causes(info, config, sample) if sample is not None else None
    if sample is not None:
        sample_truth(sample, items, truth, update, names, causes)
    headline(rec, len(items), update.oracle_table, names)

    left, right = st.columns(2)
    with left:
        st.subheader(f"Model's top {k}", anchor=False)
        st.caption(f"This run's {config.model.summary()}, best checkpoint.")
        ranked_table(update.model_table, "rec_table_model", truth is not None)
    with right:
        if update.oracle_table is None:
            st.subheader("No oracle", anchor=False)
            st.info(NO_CEILING, icon=":material/help:")
        else:
            st.subheader(
                f"Oracle's top {k}",
                anchor=False,
                help="The ranking the simulator itself implies for these clicks: no model beats "
                "it on average, so it is the ceiling to compare the model with.",
            )
            # One line, like the model's caption, so that the two tables start level.
            st.caption("Bayes-optimal: knows the simulator's true parameters.")
            ranked_table(update.oracle_table, "rec_table_oracle", truth is not None)

    # Only the open tab is drawn: every chart on screen is redrawn after each edit.
    tabs = ["Why these items", "Ranked list as a chart"]
    tabs += ["Hidden behaviour"] if view is not None else []
    explain_tab, ranked_tab, *behaviour = st.tabs(tabs, key="rec_charts", on_change="rerun")
    if explain_tab.open:
        with explain_tab:
            if attention_maps(rec, names, key="rec_explain"):
                st.caption(charts.ATTENTION_MEANING)
            if len(rec.session) < 2:
                st.caption("Occlusion drops one click at a time: it needs 2+ clicks.")
            else:  # of the true next click on a sampled session, else of the top pick
                item = truth if truth is not None else int(rec.top_items[0])
                known = causes is not None and truth is not None
                occlusion_chart(
                    rec,
                    item,
                    insights.occlusion(model, rec.session, item),
                    truth is not None,
                    causes.cause_of(len(items)) if known else None,
                    names,
                )
    if ranked_tab.open:
        with ranked_tab:
            st.plotly_chart(
                charts.top_k_bars(
                    update.model_table.head(TOP_BARS),
                    len(names.groups()[1]) if names.has_categories else 0,
                    None if view is None else view.probs,
                ),
                key="rec_chart_topk",
            )
    if view is not None and behaviour[0].open:
        with behaviour[0]:
            st.caption(
                "The simulator gives each session a hidden behaviour before its first click; "
                "the oracle infers it from the clicks. Ticks: the behaviour mix before any click."
            )
            st.plotly_chart(
                charts.behaviour_posterior_chart(
                    view.behaviour, config.sim.behaviour_mix, sample.behaviour if sample else None
                ),
                key="rec_chart_behaviour",
            )
    write_link(run_id, items, names)


st.title("Recommend")
st.caption(
    "Enter a click session and see the next items the model ranks highest, which clicks its "
    "attention weighed, and, on simulated data, what the Bayes-optimal oracle would recommend."
)

usable, broken = runs.openable_runs()
if not usable:
    no_runs(broken)
    st.stop()

linked_run = follow_link()
st.session_state.setdefault(TEXT_KEY, "")
run_col, k_col, seen_col = st.columns([4, 3, 2], vertical_alignment="bottom")
info = pick_run(
    usable,
    "rec_run",
    where=run_col,
    label=run_label,
    hint="Runs with a best checkpoint, newest first.",
    linked=linked_run,
    notice=NOTICE,
    persist=True,
)
run_id = info.run_id
follow_run(info)
k = k_col.slider("Recommendations (K)", 1, MAX_K, 10, key="rec_k", persist_state="session")
exclude_seen = seen_col.toggle(
    "Hide clicked items",
    key="rec_exclude",
    help="Leave items already in the session out of both rankings.",
    persist_state="session",
)
try:
    model, config = cached_model(info.path)
    names = item_names(info.path, config)
except runs.RunError as error:
    st.error(f"Cannot open run **{run_id}**: {escape_markdown(error)}", icon=":material/error:")
    st.caption("Pick another run above.")
    broken_runs_expander(broken)
    st.stop()
st.caption(run_caption(info, config))
verdict_box(info.status)
broken_runs_expander(broken)

session_panel(info, usable, k, exclude_seen, model, config, names)
