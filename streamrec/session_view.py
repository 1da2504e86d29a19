"""What the Recommend page shows about one session, as plain data: labels, top-K tables, the
oracle's view of the same session and held-out sessions to sample from.

Everything here is pure (no Streamlit), so the page stays a thin layer of widgets and the
figures it shows can be checked value by value in tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from streamrec.baselines import Oracle
from streamrec.columns import CATEGORY, ITEM_ID
from streamrec.config import RunConfig
from streamrec.data import Split, tokens_from_items
from streamrec.model import SessionRecommender
from streamrec.recommend import Recommendation, recommend
from streamrec.simulator import BEHAVIOURS, SessionData

RANK = "rank"
PROBABILITY = "probability"
IN_SESSION = "in_session"
TRUE_NEXT = "true_next"
TOP_K_COLUMNS = (RANK, ITEM_ID, CATEGORY, PROBABILITY, IN_SESSION, TRUE_NEXT)
BEHAVIOUR_NAMES = {"explorer": "explorer", "deep_dive": "deep dive", "comparison": "comparison"}


def item_label(item: int, category: int) -> str:
    """Short label of one click or item, e.g. 'item 302 · cat 4'."""
    return f"item {item} · cat {category}"


def click_labels(session: Sequence[int], item_category: np.ndarray) -> list[str]:
    """One `item_label` per click of the session, in click order."""
    return [item_label(int(i), int(item_category[i])) for i in session]


def option_labels(item_category: np.ndarray) -> list[str]:
    """Picker label of every catalog item, e.g. '302 · category 4', indexed by item id."""
    return [f"{item} · category {cat}" for item, cat in enumerate(item_category.tolist())]


def format_session(items: Sequence[int]) -> str:
    """The text form of a session that `parse_items` reads back, e.g. '302, 310, 365'."""
    return ", ".join(str(int(i)) for i in items)


def catalog_summary(config: RunConfig) -> str:
    """One sentence on the catalog and sessions a run was trained on."""
    sim = config.sim
    return (
        f"{sim.n_items:,} items in {sim.n_categories} categories, {sim.n_sessions:,} simulated "
        f"sessions (seed {sim.seed}, {sim.engine} engine)"
    )


def top_k(probs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(items, probabilities) of the k most probable items; ties go to the lower item id."""
    order = np.argsort(-probs, kind="stable")[:k]
    return order, probs[order]


def rank_of(probs: np.ndarray, item: int) -> int:
    """1-based rank of `item`, ties counted against it (the convention of `streamrec.metrics`)."""
    return int((probs >= probs[item]).sum())


def top_k_table(
    items: np.ndarray,
    probs: np.ndarray,
    item_category: np.ndarray,
    session: Sequence[int],
    true_next: int | None = None,
) -> pd.DataFrame:
    """The ranked list as a table: rank, item, category, probability, already clicked, true next."""
    items = np.asarray(items, dtype=np.int64)
    return pd.DataFrame(
        {
            RANK: np.arange(1, items.shape[0] + 1),
            ITEM_ID: items,
            CATEGORY: np.asarray(item_category)[items].astype(np.int64),
            PROBABILITY: np.asarray(probs, dtype=np.float64),
            IN_SESSION: np.isin(items, np.asarray(session, dtype=np.int64)),
            TRUE_NEXT: items == (-1 if true_next is None else true_next),
        },
        columns=list(TOP_K_COLUMNS),
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
        behaviour, next_category = oracle.posterior(tokens)
        probs = oracle.score(tokens)[0].numpy().copy()  # (n_items,)
    if exclude_seen:
        probs[np.asarray(session, dtype=np.int64)] = 0.0
        total = probs.sum()
        if total > 0:
            probs /= total
    return OracleView(behaviour[0].numpy(), next_category[0].numpy(), probs)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the enclosed tensor work on the calling thread alone, then restore the setting.

    One session is far too little work to split across threads, and on a busy 2-core machine
    waking torch's intra-op pool costs more than the work itself (a page update measured
    ~50 ms with two threads under load, ~3 ms with one). With torch's OpenMP backend the
    setting is per thread, so other script runs and pages keep theirs.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass(frozen=True)
class SessionUpdate:
    """Everything the Recommend page shows for one session and K."""

    rec: Recommendation  # the model's top-K, probabilities and attention
    oracle: OracleView
    model_table: pd.DataFrame  # top_k_table of the model's ranking
    oracle_table: pd.DataFrame  # top_k_table of the oracle's ranking


def session_update(
    model: SessionRecommender,
    oracle: Oracle,
    items: Sequence[int],
    k: int,
    max_len: int,
    item_category: np.ndarray,
    exclude_seen: bool = False,
    true_next: int | None = None,
) -> SessionUpdate:
    """The model's and the oracle's top-K for a session, side by side (valid ids assumed)."""
    with one_thread():
        rec = recommend(model, list(items), k, max_len, exclude_seen)
        view = oracle_view(oracle, items, max_len, exclude_seen)
    oracle_items, oracle_probs = top_k(view.probs, k)
    return SessionUpdate(
        rec=rec,
        oracle=view,
        model_table=top_k_table(rec.top_items, rec.top_probs, item_category, items, true_next),
        oracle_table=top_k_table(oracle_items, oracle_probs, item_category, items, true_next),
    )


def held_out_sessions(data: SessionData, split: Split, behaviour: int | None = None) -> np.ndarray:
    """Sorted ids of the sessions holding the split's report targets, optionally of one behaviour.

    Under the "session" protocol these are sessions the model never trained on.
    """
    sessions = np.unique(split.report.session)
    if behaviour is not None:
        sessions = sessions[data.behaviour[sessions] == behaviour]
    return sessions


@dataclass(frozen=True)
class SampledSession:
    """A held-out session with the hidden truth the simulator drew for it."""

    session_id: int
    items: tuple[int, ...]
    behaviour: str  # a BEHAVIOURS name
    preferred: tuple[int, ...]  # sorted preferred categories

    def true_next(self, session: Sequence[int]) -> int | None:
        """The click that followed `session` if it is a proper prefix of this session, else None."""
        n = len(session)
        if 0 < n < len(self.items) and tuple(int(i) for i in session) == self.items[:n]:
            return self.items[n]
        return None


def sample_session(
    data: SessionData, sessions: np.ndarray, rng: np.random.Generator
) -> SampledSession:
    """One of `sessions`, drawn uniformly, with its behaviour and preferred categories."""
    if sessions.size == 0:
        raise ValueError("no held-out session matches: choose another behaviour")
    s = int(rng.choice(sessions))
    return SampledSession(
        session_id=s,
        items=tuple(int(i) for i in data.session(s)),
        behaviour=BEHAVIOURS[int(data.behaviour[s])],
        preferred=tuple(int(c) for c in data.preferred_categories(s)),
    )
