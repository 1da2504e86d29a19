"""Recommend: a session in; the model's top-K, beside the oracle's, and why: the explanation
measured most faithful for the run first (studio.why), attention one click away.

The session lives in one place, the text of the `rec_text` input: typing, picking items,
sampling a held-out session, dropping a click and appending a recommendation all rewrite that
text (`studio.session_input`). `?run=<id>&items=1,2,3` preloads a run and a session (the
Attention page links here that way) and the URL follows the page, so it can be shared.
"""

from __future__ import annotations

import streamlit as st

from streamrec.charts import explain_charts as charts
from streamrec.config import RunConfig
from streamrec.data.items import ItemNames
from streamrec.model import SessionModel
from streamrec.text import escape_markdown
from streamrec.training import runs
from streamrec.views.session_view import (
    NO_CEILING,
    run_caption,
    session_error,
    session_update,
)
from studio.navigation import ensure_app_navigation
from studio.recommend_parts import headline, no_runs, recorded_causes, run_label, sample_truth
from studio.run_picker import (
    broken_runs_expander,
    cached_model,
    item_names,
    pick_run,
    run_oracle,
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
from studio.verdict_box import verdict_box
from studio.why import why_these_items

ensure_app_navigation()

MAX_K = 50
TOP_BARS = 20  # bars in the ranked-list chart; the tables hold all K


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
        with explain_tab:  # of the true next click on a sampled session, else of the top pick
            item = truth if truth is not None else int(rec.top_items[0])
            known = causes is not None and truth is not None
            why_these_items(model, config, info.path, rec, items, item, truth is not None,
                            causes.cause_of(len(items)) if known else None, names, oracle)
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
    "Enter a click session and see the next items the model ranks highest, which clicks they "
    "rest on (the explanation measured most faithful first), and, on simulated data, what the "
    "Bayes-optimal oracle would recommend and what truly caused the click."
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
