"""Recommend's "Why these items": the explanation measured most faithful for the run first,
with one sentence on how far it can be trusted, the oracle's posterior over causes beside it
on simulated data, and the attention maps one click away with their own measured trust."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from streamrec.charts.faithfulness_charts import METHOD_NAMES, attribution_bars
from streamrec.config import RunConfig
from streamrec.data.items import ItemNames
from streamrec.explain import trust
from streamrec.explain.explanations import explain_session
from streamrec.explain.faithfulness import ATTENTION, IDEAL
from streamrec.explain.ideal import cause_lines, session_posterior
from streamrec.model import SessionModel
from streamrec.recommendation import Recommendation
from streamrec.text import escape_markdown
from streamrec.world.oracle import Oracle
from studio.explain_maps import attention_maps
from studio.run_picker import file_stamp, run_sessions

KEY = "rec_why"


@st.cache_resource(max_entries=8, show_spinner=False)
def _records() -> dict[tuple[str, int], dict[str, Any] | None]:
    """Faithfulness records by (run folder, checkpoint stamp), read or measured once."""
    return {}


def run_record(path: Path, model: SessionModel, config: RunConfig) -> dict[str, Any] | None:
    """The run's faithfulness record (streamrec.explain.trust): stored in the run folder, or
    measured now with a progress bar on first need; None when its data record no causes."""
    key = (str(path), file_stamp(path))
    records = _records()
    if key not in records:
        data, split = run_sessions(path, config)
        if not data.has_causes:
            records[key] = None
        else:
            record = trust.stored_record(path)
            if record is None:
                label = (f"Measuring every explanation of this run on {trust.N_SESSIONS:,} held-out "
                         "sessions (once per checkpoint)…")
                bar = st.progress(0.0, text=label)
                record = trust.measure_and_store(
                    path, model, data, split, config.train.max_len,
                    progress=lambda f: bar.progress(min(1.0, f), text=f"{label} {f:.0%}"))
                bar.empty()
            records[key] = record
    return records[key]


def explainer_order(record: dict[str, Any] | None, available: list[str]) -> list[str]:
    """The explainers to offer, the most faithful first, then by measured top-1 rate (the
    attention's summary map among them; its full maps have their own place below)."""
    offered = [name for name in available if name != IDEAL]
    if record is None:
        return offered
    best = trust.most_faithful(record)
    rate = {name: trust.top1(record, name) or 0.0 for name in offered}
    return sorted(offered, key=lambda name: (name != best, -rate[name]))


def why_these_items(
    model: SessionModel, config: RunConfig, path: Path, rec: Recommendation, items: list[int],
    item: int, is_truth: bool, cause: int | None, names: ItemNames, oracle: Oracle | None,
) -> None:
    """The tab's content for the prediction of `item` after the session (`items`: every
    click, `rec.session` the ones the model reads); `cause` the 0-based click that truly
    caused it on a sampled session."""
    record = run_record(path, model, config)
    what = "the click that really came next" if is_truth else "the model's top pick"
    scores = explain_session(model, rec.session, item)
    order = explainer_order(record, list(scores))
    inside = cause is not None and cause >= rec.dropped
    shown_cause = cause - rec.dropped if inside and cause is not None else None
    labels = names.labels_of(rec.session)
    target = f"item {names.raw(item)}"

    def label(name: str) -> str:
        rate = trust.top1(record, name) if record is not None else None
        best = " · most faithful" if record is not None and name == trust.most_faithful(record) else ""
        return METHOD_NAMES.get(name, name) + (f" · right {rate:.0%}" if rate is not None else "") + best

    choice = st.selectbox("Explanation", order, format_func=label, key=f"{KEY}_explainer",
                          help="Ordered by how often each names the true cause of a click on "
                          "held-out sessions of this run's world (its top-1 rate).")
    if record is not None:
        st.markdown(trust.trust_sentence(record, choice, METHOD_NAMES.get(choice, choice)))
    else:
        st.caption("This run's data record no causes, so no explanation can be checked against "
                   "the truth here; the Attention page measures which one the model follows.")
    ideal = None
    if oracle is not None:  # a simulated world: the best possible explanation is known
        post = session_posterior(oracle, items, item)
        ideal = post.clicks.numpy()[0, 1:][rec.dropped:]
    left, right = st.columns([3, 2]) if ideal is not None else (st.container(), None)
    with left:
        st.plotly_chart(attribution_bars(labels, scores[choice], target, choice, shown_cause,
                                         first_click=rec.dropped + 1), key=f"{KEY}_chart")
        note = (f" Its true cause, click {cause + 1}, is before the clicks the model reads."
                if cause is not None and not inside else "")
        st.caption(f"Explained: the model's probability of {what}, {escape_markdown(names.label(item))}.{note}")
    if right is not None and ideal is not None:
        with right:
            st.plotly_chart(attribution_bars(labels, ideal, target, IDEAL, shown_cause,
                                             first_click=rec.dropped + 1), key=f"{KEY}_ideal")
            lines = cause_lines(post)
            st.markdown("The oracle's most likely causes: " + "; ".join(
                f"{text} ({p:.0%})" for text, p in lines) + ".")
    attention_rate = trust.top1(record, ATTENTION) if record is not None else None
    trust_note = f" · names the true cause {attention_rate:.0%} of the time" if attention_rate is not None else ""
    # Keyed, so that picking a map inside it (a rerun) keeps it open.
    with st.expander(f"Attention maps{trust_note}", key=f"{KEY}_attention_open"):
        if record is not None and attention_rate is not None:
            st.caption(trust.trust_sentence(record, "attention"))
        attention_maps(rec, names, key="rec_explain")

