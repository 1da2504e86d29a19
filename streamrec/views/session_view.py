"""What the Recommend page shows about one session, as plain data: labels, top-K tables, the
oracle's view of the same session, held-out sessions to sample from, and the sentences and
headline figures that describe them.

Everything here is pure (no Streamlit), so the page stays a thin layer of widgets and the
figures it shows can be checked value by value in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from streamrec.config import RunConfig
from streamrec.data.columns import CATEGORY, ITEM_ID
from streamrec.data.items import ItemNames, as_names
from streamrec.data.sessions import CAUSES, NO_CAUSE, SessionData
from streamrec.data.splits import Split, tokens_from_items
from streamrec.model import SessionModel
from streamrec.recommendation import Recommendation, recommend
from streamrec.text import escape_markdown
from streamrec.threads import one_thread
from streamrec.training.runs import RunInfo
from streamrec.world import mechanisms
from streamrec.world.oracle import Oracle
from streamrec.world.simulator import BEHAVIOURS

RANK = "rank"
PROBABILITY = "probability"
IN_SESSION = "in_session"
TRUE_NEXT = "true_next"
LABEL = "label"
TOP_K_COLUMNS = (RANK, ITEM_ID, LABEL, CATEGORY, PROBABILITY, IN_SESSION, TRUE_NEXT)
NO_CEILING = (
    "No oracle here: this run's data is a real click log, whose generating process is unknown, "
    "so no ceiling is known for real data and there is no hidden behaviour to show."
)
Items = ItemNames | np.ndarray  # how items are named: ItemNames, or a simulated item -> category
BEHAVIOUR_NAMES = {"explorer": "explorer", "deep_dive": "deep dive", "comparison": "comparison"}


def item_label(item: int, category: int) -> str:
    """Short label of one click or item, e.g. 'item 302 · cat 4'."""
    return f"item {item} · cat {category}"


def click_labels(session: Sequence[int], item_category: Items) -> list[str]:
    """One `item_label` per click of the session, in click order."""
    if isinstance(item_category, ItemNames):
        return item_category.labels_of(session)
    return [item_label(int(i), int(item_category[i])) for i in session]


def option_labels(item_category: Items) -> list[str]:
    """Picker label of every catalog item, e.g. '302 · category 4', indexed by item index."""
    if isinstance(item_category, ItemNames):
        return [item_category.option(i) for i in range(item_category.n_items)]
    return [f"{item} · category {cat}" for item, cat in enumerate(item_category.tolist())]


def catalog_summary(config: RunConfig) -> str:
    """One sentence on the catalog and sessions a run was trained on."""
    if not config.data.is_simulated:
        return f"{config.model.n_items:,} items of the imported data set {config.data.dataset!r}"
    sim = config.sim
    return (
        f"{sim.n_items:,} items in {sim.n_categories} categories, {sim.n_sessions:,} simulated "
        f"sessions (seed {sim.seed}, {sim.engine} engine)"
    )


def run_caption(info: RunInfo, config: RunConfig) -> str:
    """Which catalog and model a run is (its scores are in `streamrec.evaluation.verdict`)."""
    parts = [
        f"Trained on {catalog_summary(config)}.",
        f"{config.model.summary()}, reads the last {config.train.max_len} clicks.",
    ]
    if info.state != "completed":
        parts.append(f"Status: {info.state}.")
    return " ".join(parts)


def session_error(
    error: ValueError,
    text: str,
    run_id: str,
    n_items: int,
    usable: Sequence[RunInfo],
    dataset: str = "",
) -> str:
    """Why a typed session cannot be read; ids beyond this run's catalog name the runs that
    know them (`usable`: the runs the page can switch to). A run on imported data set
    `dataset` refuses ids of another data set."""
    message = escape_markdown(error)  # it quotes the typed text
    if dataset and str(error).startswith("unknown item ids"):
        others = [
            i.run_id for i in usable
            if i.config and i.config.data.dataset not in ("", dataset)
        ]
        message += (
            f". Run **{run_id}** was trained on data set **{dataset}**: type that log's raw "
            "item ids; ids of another data set or of the simulator mean nothing to it."
        )
        if others:
            message += f" Runs trained on other data: {', '.join(others)}."
    elif str(error).startswith("unknown item ids"):
        numbers = [int(t) for t in text.replace(",", " ").split() if t.isdigit()]
        top = max(numbers, default=0)
        others = [
            i.run_id
            for i in usable
            if i.config and i.config.data.is_simulated  # ids are indices only there
            and i.config.model.n_items > top
            and i.run_id != run_id
        ]
        message += (
            f". Run **{run_id}** was trained on a catalog of {n_items:,} items, so ids from "
            "another catalog mean nothing to it."
        )
        if others:
            message += f" Runs whose catalog has these ids: {', '.join(others)}."
    return f"Cannot read this session: {message}"


def sampling_hint(config: RunConfig) -> str:
    """What sampling a held-out session draws, for a run trained under `config`."""
    if not config.data.is_simulated:
        return (
            f"Draws a session of the held-out test split of data set {config.data.dataset!r} "
            "(never trained on), and shows the click that really came next."
        )
    unseen = (
        "a session the model never trained on"
        if config.train.protocol == "session"
        else "a session with held-out clicks (this run split clicks, not sessions)"
    )
    return (
        f"Draws {unseen} from the run's simulator, and shows its hidden behaviour and "
        "the click that really came next."
    )


def drop_choices(session: Sequence[int], item_category: Items, limit: int) -> dict[int, str]:
    """Click position -> label of the last `limit` clicks, the ones offered for dropping."""
    first = max(0, len(session) - limit)
    return dict(zip(range(first, len(session)), click_labels(session[first:], item_category)))


def top_k(probs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(items, probabilities) of the k most probable items; ties go to the lower item id."""
    order = np.argsort(-probs, kind="stable")[:k]
    return order, probs[order]


def rank_of(probs: np.ndarray, item: int) -> int:
    """1-based rank of `item`, ties counted against it (the convention of `streamrec.evaluation.metrics`)."""
    return int((probs >= probs[item]).sum())


def top_k_table(
    items: np.ndarray,
    probs: np.ndarray,
    item_category: Items,
    session: Sequence[int],
    true_next: int | None = None,
) -> pd.DataFrame:
    """The ranked list as a table: rank, item, category, probability, already clicked, true next.

    Items of an imported log show their raw id (text) and, where the log has them, a label
    and a category column; a simulated catalog's ids are the indices.
    """
    items = np.asarray(items, dtype=np.int64)
    names = as_names(item_category)
    columns = {
        RANK: np.arange(1, items.shape[0] + 1),
        ITEM_ID: items if names.raw_ids is None else names.raw_ids[items].astype(object),
        LABEL: None if names.labels is None else names.labels[items].astype(object),
        CATEGORY: None if names.category is None else names.category[items].astype(np.int64),
        PROBABILITY: np.asarray(probs, dtype=np.float64),
        IN_SESSION: np.isin(items, np.asarray(session, dtype=np.int64)),
        TRUE_NEXT: items == (-1 if true_next is None else true_next),
    }
    return pd.DataFrame(
        {name: values for name, values in columns.items() if values is not None},
        columns=[name for name, values in columns.items() if values is not None],
    )


@dataclass(frozen=True)
class OracleView:
    """The Bayes-optimal model's reading of one session."""

    behaviour: np.ndarray  # (3,) P(hidden behaviour | clicks), in BEHAVIOURS order
    next_category: np.ndarray  # (n_categories,) P(next click's category | clicks)
    probs: np.ndarray  # (n_items,) P(next item | clicks), renormalised if seen items are excluded


def oracle_view(
    oracle: Oracle, session: Sequence[int], max_len: int, exclude_seen: bool = False
) -> OracleView:
    """What the fitted oracle believes after the last `max_len` clicks of `session`.

    With `exclude_seen`, items already clicked get probability 0 and the rest are
    renormalised, which is what the model's masked softmax does.
    """
    tokens = torch.from_numpy(tokens_from_items(list(session), max_len))  # (1, max_len)
    with torch.inference_mode():
        behaviour, next_category, scores = oracle.predict(tokens)
        probs = scores[0].numpy().copy()  # (n_items,)
    if exclude_seen:
        probs[np.asarray(session, dtype=np.int64)] = 0.0
        total = probs.sum()
        if total > 0:
            probs /= total
    return OracleView(behaviour[0].numpy(), next_category[0].numpy(), probs)


@dataclass(frozen=True)
class SessionUpdate:
    """Everything the Recommend page shows for one session and K."""

    rec: Recommendation  # the model's top-K, probabilities and attention
    oracle: OracleView | None  # None where no oracle is known (real data)
    model_table: pd.DataFrame  # top_k_table of the model's ranking
    oracle_table: pd.DataFrame | None  # top_k_table of the oracle's ranking


def session_update(
    model: SessionModel,
    oracle: Oracle | None,
    items: Sequence[int],
    k: int,
    max_len: int,
    item_category: Items,
    exclude_seen: bool = False,
    true_next: int | None = None,
) -> SessionUpdate:
    """The model's and the oracle's top-K for a session, side by side (valid ids assumed);
    the model's alone when there is no oracle."""
    with one_thread():
        rec = recommend(model, list(items), k, max_len, exclude_seen)
        view = None if oracle is None else oracle_view(oracle, items, max_len, exclude_seen)
    oracle_table = None
    if view is not None:
        oracle_items, oracle_probs = top_k(view.probs, k)
        oracle_table = top_k_table(oracle_items, oracle_probs, item_category, items, true_next)
    return SessionUpdate(
        rec=rec,
        oracle=view,
        model_table=top_k_table(rec.top_items, rec.top_probs, item_category, items, true_next),
        oracle_table=oracle_table,
    )


class Headline(NamedTuple):
    """One headline figure: a label, its value and a small line under it."""

    label: str
    value: str
    detail: str


def _pick(names: ItemNames, item: int, prob: float) -> tuple[str, str]:
    """Value and detail line of a top pick: 'item 302', 'cat 4 · p 0.123'."""
    known = [] if names.labels is None or not names.labels[item] else [str(names.labels[item])]
    known += [] if names.category is None else [f"cat {names.category[item]}"]
    return f"item {names.raw(item)}", " · ".join([*known, f"p {prob:.3f}"])


def headlines(
    rec: Recommendation,
    n_clicks: int,
    oracle_table: pd.DataFrame | None,
    item_category: Items,
) -> list[Headline]:
    """Figures a stakeholder reads first: clicks read, the model's (and the oracle's, where
    there is one) top pick, the most attended click (numbered in the whole session, cut
    clicks included)."""
    names = as_names(item_category)
    figures = [
        Headline(
            "Clicks the model reads",
            f"{len(rec.session)} of {n_clicks}",
            "all of them" if not rec.dropped else f"first {rec.dropped} cut",
        ),
        Headline("Model's top pick", *_pick(names, int(rec.top_items[0]), rec.top_probs[0])),
    ]
    if oracle_table is not None:
        oracle_top = int(oracle_table[ITEM_ID].iloc[0])
        prob = oracle_table[PROBABILITY].iloc[0]
        figures.append(Headline("Oracle's top pick", *_pick(names, oracle_top, prob)))
    figures.append(_most_attended(rec, names))
    return figures


def _most_attended(rec: Recommendation, names: ItemNames) -> Headline:
    """The click the pooling attention weighs most; for a model that pools without it, the
    click its last named map weighs most (e.g. a transformer's rollout), the map named."""
    weights, source = rec.attention, ""
    if weights is None and rec.explanations:
        name, maps = list(rec.explanations.items())[-1]
        weights, source = maps[-1], f" ({name})"
    if weights is None:
        return Headline("Most attended click", "—", "no attention: see the occlusion")
    heaviest = int(np.argmax(weights))
    return Headline(
        "Most attended click",
        f"item {names.raw(rec.session[heaviest])}",
        f"click {heaviest + 1 + rec.dropped} · weight {weights[heaviest]:.2f}{source}",
    )


def held_out_sessions(data: SessionData, split: Split, behaviour: int | None = None) -> np.ndarray:
    """Sorted ids of the sessions holding the split's report targets, optionally of one behaviour.

    Under the "session" protocol these are sessions the model never trained on.
    """
    sessions = np.unique(split.report.session)
    if behaviour is not None:
        sessions = sessions[data.require_behaviour()[sessions] == behaviour]
    return sessions


@dataclass(frozen=True)
class SampledSession:
    """A held-out session with the hidden truth the simulator drew for it, where there is one."""

    session_id: int
    items: tuple[int, ...]
    behaviour: str | None  # a BEHAVIOURS name; None for data without hidden truth
    preferred: tuple[int, ...] | None  # sorted preferred categories; None without hidden truth

    def true_next(self, session: Sequence[int]) -> int | None:
        """The click that followed `session` if it is a proper prefix of this session, else None."""
        n = len(session)
        if 0 < n < len(self.items) and tuple(int(i) for i in session) == self.items[:n]:
            return self.items[n]
        return None


def sample_session(
    data: SessionData, sessions: np.ndarray, rng: np.random.Generator
) -> SampledSession:
    """One of `sessions`, drawn uniformly, with its behaviour and preferred categories where
    the data has hidden truth."""
    if sessions.size == 0:
        raise ValueError("no held-out session matches: choose another behaviour")
    s = int(rng.choice(sessions))
    truth = data.behaviour is not None and data.preferred is not None
    return SampledSession(
        session_id=s,
        items=tuple(int(i) for i in data.session(s)),
        behaviour=BEHAVIOURS[int(data.require_behaviour()[s])] if truth else None,
        preferred=tuple(int(c) for c in data.preferred_categories(s)) if truth else None,
    )


def sample_summary(sample: SampledSession, session: Sequence[int]) -> str:
    """The hidden truth of a sampled held-out session, and whether `session` still follows it
    (is a prefix of it, or all of it)."""
    follows = sample.true_next(session) is not None or tuple(session) == sample.items
    related = "follows" if follows else "was edited from"
    if sample.behaviour is None or sample.preferred is None:
        return (
            f"**Held-out session #{sample.session_id}** ({len(sample.items)} clicks) of the "
            f"test split. The session shown {related} it."
        )
    return (
        f"**Held-out session #{sample.session_id}** ({len(sample.items)} clicks): hidden "
        f"behaviour **{BEHAVIOUR_NAMES[sample.behaviour]}**, preferred categories "
        f"**{', '.join(str(c) for c in sample.preferred)}**. The session shown {related} it."
    )


def truth_ranks(truth: int, update: SessionUpdate, item_category: Items) -> str:
    """Where the model and the oracle (where there is one) rank the click that really came next."""
    names = as_names(item_category)
    label = names.label(truth)
    model_rank = rank_of(update.rec.probs, truth)
    if update.oracle is None:
        return (
            f"The click that really came next: **{label}**. The model ranks it "
            f"**#{model_rank:,}** of {names.n_items:,} items."
        )
    oracle_rank = rank_of(update.oracle.probs, truth)
    return (
        f"The click that really came next: **{label}**. The model ranks it "
        f"**#{model_rank:,}**, the oracle **#{oracle_rank:,}** of {names.n_items:,} items."
    )


# --- the recorded cause of each click (simulated data with causes) -----------------------

@dataclass(frozen=True)
class ClickCauses:
    """What produced each click of one session, as the simulator recorded it."""

    cause: tuple[str, ...]  # a CAUSES name per click
    position: tuple[int, ...]  # the earlier click (0-based) that caused it, NO_CAUSE where none

    def cause_of(self, click: int) -> int | None:
        """The 0-based click that caused click `click`, or None."""
        position = self.position[click]
        return None if position == NO_CAUSE else position


def session_causes(data: SessionData, session_id: int, items: Sequence[int]) -> ClickCauses | None:
    """The recorded causes of session `session_id`, or None when the data records none or the
    session there is not `items` (the run's data is not the one sampled from)."""
    if not data.has_causes or not 0 <= session_id < data.n_sessions:
        return None
    if tuple(int(i) for i in data.session(session_id)) != tuple(int(i) for i in items):
        return None
    assert data.cause is not None and data.cause_position is not None
    clicks = slice(data.offsets[session_id], data.offsets[session_id + 1])
    return ClickCauses(
        cause=tuple(CAUSES[int(c)] for c in data.cause[clicks]),
        position=tuple(int(p) for p in data.cause_position[clicks]),
    )


def cause_sentences(causes: ClickCauses, n_clicks: int | None = None) -> list[str]:
    """What caused each of the first `n_clicks` clicks (all by default), in words
    (`mechanisms.cause_sentence`: 'click 7 came back to the anchor, click 1')."""
    n = len(causes.cause) if n_clicks is None else min(n_clicks, len(causes.cause))
    return [
        mechanisms.cause_sentence(c, CAUSES.index(causes.cause[c]), causes.position[c])
        for c in range(n)
    ]


def causes_paragraph(causes: ClickCauses, n_clicks: int) -> str:
    """What caused each of the first `n_clicks` clicks, as one paragraph for the page."""
    sentences = cause_sentences(causes, n_clicks)
    return "**What caused each click** (recorded by the simulator): " + "; ".join(sentences) + "."
