"""The session-based literature's preprocessing of a click log, on flat click arrays.

The steps follow GRU4Rec's preprocessing script (Hidasi et al., "Session-based Recommendations
with Recurrent Neural Networks", ICLR 2016) and session-rec's (Ludewig and Jannach, "Evaluation
of Session-based Recommendation Algorithms", UMUAI 2018), also used for Diginetica by NARM (Li et
al., CIKM 2017), STAMP (Liu et al., KDD 2018) and SR-GNN (Wu et al., AAAI 2019):

1. order the clicks of a session by time;
2. drop sessions shorter than `min_session_length` and items with fewer than `min_item_support`
   clicks, repeated until neither removes anything (the scripts run one pass; a second pass can
   only remove what the first one left too short or too rare);
3. split: the sessions of the last `test_days` days are the test set (a session is dated by its
   last click, or by its date column), or a given test log, or a seeded random share of sessions;
4. drop test clicks on items that training never shows, then test sessions left shorter than 2.

Every step appends its counts before and after to a report. Raw ids stay text throughout: the
arrays hold codes into key tables, and the item map is built from the training part only.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamrec.data.sessions import Catalog, SessionData

DAY = 86_400.0  # seconds
MIN_TEST_LENGTH = 2  # a test session needs one click to predict from and one to predict
_PER_CLICK = ("session", "item", "order", "time", "session_time", "category", "label")


@dataclass(frozen=True)
class Clicks:
    """Clicks as parallel per-click arrays of codes into key tables (raw ids as text).

    Once ordered (`click_order`) the rows of a session are contiguous and in click order.
    """

    session: np.ndarray  # (n,) int64 code into session_keys
    item: np.ndarray  # (n,) int64 code into item_keys
    session_keys: np.ndarray  # (n_session_codes,) str raw session ids
    item_keys: np.ndarray  # (n_item_codes,) str raw item ids
    order: np.ndarray | None = None  # (n,) float64 orders the clicks within a session
    time: np.ndarray | None = None  # (n,) float64 Unix seconds of each click
    session_time: np.ndarray | None = None  # (n,) float64 date of the click's session, if given
    category: np.ndarray | None = None  # (n,) int64 code into category_keys, -1 = missing
    category_keys: np.ndarray | None = None
    label: np.ndarray | None = None  # (n,) int64 code into label_keys, -1 = missing
    label_keys: np.ndarray | None = None

    @property
    def n_clicks(self) -> int:
        """Number of clicks (rows)."""
        return int(self.session.shape[0])

    def take(self, index: np.ndarray) -> Clicks:
        """The clicks at `index` (int positions or a boolean mask), key tables shared."""
        changes = {
            name: getattr(self, name)[index]
            for name in _PER_CLICK
            if getattr(self, name) is not None
        }
        return dataclasses.replace(self, **changes)

    def counts(self) -> dict[str, int]:
        """Sessions, clicks and distinct items present."""
        return {
            "sessions": _n_distinct(self.session, self.session_keys.shape[0]),
            "clicks": self.n_clicks,
            "items": _n_distinct(self.item, self.item_keys.shape[0]),
        }

    def starts(self) -> np.ndarray:
        """(n_sessions,) first row of each session; the clicks must be ordered."""
        if self.n_clicks == 0:
            return np.zeros(0, np.int64)
        change = np.flatnonzero(self.session[1:] != self.session[:-1]) + 1
        return np.concatenate(([0], change)).astype(np.int64)


def _n_distinct(codes: np.ndarray, n_codes: int) -> int:
    return int(np.count_nonzero(np.bincount(codes, minlength=n_codes))) if codes.size else 0


class Report:
    """The preprocessing steps with their counts before and after; `on_step` sees each one."""

    def __init__(self, on_step: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.steps: list[dict[str, Any]] = []
        self._on_step = on_step

    def add(self, step: str, part: str, before: dict[str, int], after: dict[str, int]) -> None:
        """Record one step on one part of the log ("all", "train", "test")."""
        entry: dict[str, Any] = {"step": step, "part": part}
        for key in ("sessions", "clicks", "items"):
            entry[f"{key}_before"] = before[key]
            entry[key] = after[key]
        self.steps.append(entry)
        if self._on_step is not None:
            self._on_step(entry)


def click_order(clicks: Clicks) -> np.ndarray:
    """Row order that groups the clicks by session and orders each session by time.

    Sessions keep their order of first appearance; ties, and logs without any time, keep the
    file order (a stable sort).
    """
    key = clicks.order if clicks.order is not None else clicks.time
    if key is None:
        return np.argsort(clicks.session, kind="stable")
    return np.lexsort((key, clicks.session))


def filter_clicks(
    clicks: Clicks, min_session_length: int, min_item_support: int, report: Report, part: str
) -> Clicks:
    """Drop short sessions and rare items, repeated until stable; every change is reported.

    The first pass is always reported (so a log that needs no filtering says so); later passes
    only when they remove something.
    """
    n_sessions, n_items = clicks.session_keys.shape[0], clicks.item_keys.shape[0]
    for round_ in range(1, 1_000):
        changed = False
        before = clicks.counts()
        lengths = np.bincount(clicks.session, minlength=n_sessions)
        keep = lengths[clicks.session] >= min_session_length
        if not keep.all():
            clicks, changed = clicks.take(keep), True
        if round_ == 1 or changed:
            report.add(f"drop sessions shorter than {min_session_length} clicks (pass {round_})",
                       part, before, clicks.counts())
        if min_item_support <= 1:  # no item filter (a given split kept as is)
            if not changed:
                break
            continue
        before = clicks.counts()
        support = np.bincount(clicks.item, minlength=n_items)
        keep = support[clicks.item] >= min_item_support
        dropped_items = not keep.all()
        if dropped_items:
            clicks, changed = clicks.take(keep), True
        if round_ == 1 or dropped_items:
            report.add(f"drop items with fewer than {min_item_support} clicks (pass {round_})",
                       part, before, clicks.counts())
        if not changed:
            break
    return clicks


def session_dates(clicks: Clicks) -> np.ndarray:
    """(n_sessions,) the time that dates each session: its date column, else its last click.

    GRU4Rec's script dates a session by its last click; the Diginetica scripts by its date.
    """
    source = clicks.session_time if clicks.session_time is not None else clicks.time
    if source is None:
        raise ValueError("the log has no time column, so it cannot be split by time")
    return np.maximum.reduceat(source, clicks.starts()) if clicks.n_clicks else source[:0]


def sessions_mask(clicks: Clicks, chosen: np.ndarray) -> np.ndarray:
    """Per-click mask of the clicks in the chosen sessions (a per-session bool array)."""
    lengths = np.diff(np.append(clicks.starts(), clicks.n_clicks))
    return np.repeat(chosen, lengths)


def split_by_time(clicks: Clicks, days: float) -> tuple[np.ndarray, float]:
    """(per-session bool: in the last `days` days, the split time): GRU4Rec's time split."""
    dates = session_dates(clicks)
    split_at = float(dates.max()) - days * DAY
    return dates > split_at, split_at


def split_random(n_sessions: int, fraction: float, seed: int) -> np.ndarray:
    """Per-session bool: a seeded random `fraction` of the sessions (at least one, not all)."""
    n_test = min(max(1, round(fraction * n_sessions)), n_sessions - 1)
    chosen = np.zeros(n_sessions, bool)
    chosen[np.random.default_rng(seed).choice(n_sessions, n_test, replace=False)] = True
    return chosen


def restrict_test(test: Clicks, train_items: np.ndarray, report: Report) -> Clicks:
    """Drop test clicks on items training never shows, then test sessions left too short.

    `train_items` is a per-test-click bool: the click's item occurs in training.
    """
    before = test.counts()
    test = test.take(train_items)
    report.add("drop test clicks on items unseen in training", "test", before, test.counts())
    before = test.counts()
    lengths = np.bincount(test.session, minlength=test.session_keys.shape[0])
    test = test.take(lengths[test.session] >= MIN_TEST_LENGTH)
    report.add(f"drop test sessions shorter than {MIN_TEST_LENGTH} clicks", "test", before,
               test.counts())
    return test


@dataclass(frozen=True)
class Parts:
    """The preprocessed log as train / validation / test clicks, each ordered by session."""

    train: Clicks  # validation sessions excluded
    valid: Clicks  # the last days of the training part, or empty
    test: Clicks


def _session_order(clicks: Clicks) -> np.ndarray:
    """Row order that puts sessions by their first click's time (file order without time)."""
    starts = clicks.starts()
    lengths = np.diff(np.append(starts, clicks.n_clicks))
    if clicks.time is None or not starts.size:
        return np.arange(clicks.n_clicks)
    first = clicks.time[starts]
    by_start = np.argsort(first, kind="stable")
    # rows of session s in new order: starts[s] .. starts[s] + lengths[s]
    new_lengths = lengths[by_start]
    offsets = np.concatenate(([0], np.cumsum(new_lengths)))
    within = np.arange(clicks.n_clicks) - np.repeat(offsets[:-1], new_lengths)
    rows: np.ndarray = np.repeat(starts[by_start], new_lengths) + within
    return rows


def build_sessions(parts: Parts, name: str) -> tuple[SessionData, int, int]:
    """(SessionData with train, then validation, then test sessions; n_valid; n_test).

    The item map holds the items of the training part (validation included) in order of first
    click; every extra the log has (times, categories, labels, raw session ids) is carried over.
    """
    ordered = [part.take(_session_order(part)) for part in (parts.train, parts.valid, parts.test)]
    train_items = np.concatenate([ordered[0].item, ordered[1].item])
    used, first_row = np.unique(train_items, return_index=True)
    used = used[np.argsort(first_row, kind="stable")]
    first_row = np.sort(first_row)
    lookup = np.full(parts.train.item_keys.shape[0], -1, np.int64)
    lookup[used] = np.arange(used.shape[0])

    items = lookup[np.concatenate([p.item for p in ordered])]
    if (items < 0).any():
        raise AssertionError("a test click kept an item unseen in training")
    # Session boundaries per part: the same raw key may name a session in two parts.
    starts = [p.starts() + sum(q.n_clicks for q in ordered[:i]) for i, p in enumerate(ordered)]
    offsets = np.append(np.concatenate(starts), items.shape[0]).astype(np.int64)
    session_keys = np.concatenate(
        [p.session_keys[p.session[p.starts()]] if p.n_clicks else p.session_keys[:0]
         for p in ordered]
    ).astype(str)

    extras: dict[str, Any] = {}
    if parts.train.time is not None:
        extras["times"] = np.concatenate([p.time for p in ordered]).astype(np.float64)
    train_rows = _concat([ordered[0], ordered[1]])
    if train_rows.label is not None and parts.train.label_keys is not None:
        codes = train_rows.label[first_row]
        labels = np.where(codes >= 0, parts.train.label_keys[np.maximum(codes, 0)], "")
        extras["item_labels"] = labels.astype(str)
    catalog = None
    if train_rows.category is not None:
        _, item_category = np.unique(train_rows.category[first_row], return_inverse=True)
        catalog = Catalog.from_categories(item_category.astype(np.int64), items)
    data = SessionData(
        items=items,
        offsets=offsets,
        catalog=catalog,
        item_ids=parts.train.item_keys[used].astype(str),
        session_keys=session_keys,
        name=name,
        **extras,
    )
    return data, _n_sessions(ordered[1]), _n_sessions(ordered[2])


def _n_sessions(clicks: Clicks) -> int:
    return int(clicks.starts().shape[0])


def _concat(parts: list[Clicks]) -> Clicks:
    """Rows of several parts one after the other (key tables of the first)."""
    changes = {
        name: np.concatenate([getattr(p, name) for p in parts])
        for name in _PER_CLICK
        if getattr(parts[0], name) is not None
    }
    return dataclasses.replace(parts[0], **changes)


def join_given(train: Clicks, test: Clicks) -> tuple[Clicks, np.ndarray]:
    """(train and test clicks over shared key tables, per-click bool: in the test log).

    Test items are looked up in the training log's item table; a test session is a session of
    its own even when its raw id also occurs in training.
    """
    item_index = pd.Index(train.item_keys)
    test_item = item_index.get_indexer(test.item_keys)
    unseen = test_item < 0
    test_item[unseen] = np.arange(unseen.sum()) + train.item_keys.shape[0]
    item_keys = np.concatenate([train.item_keys, test.item_keys[unseen]])
    n_train_sessions = train.session_keys.shape[0]
    joined = Clicks(
        session=np.concatenate([train.session, test.session + n_train_sessions]),
        item=np.concatenate([train.item, test_item[test.item]]),
        session_keys=np.concatenate([train.session_keys, test.session_keys]),
        item_keys=item_keys,
    )
    extras: dict[str, Any] = {}
    for name in ("order", "time", "session_time"):
        a, b = getattr(train, name), getattr(test, name)
        if (a is None) != (b is None):
            raise ValueError(f"the training and test logs differ in their columns ({name})")
        if a is not None:
            extras[name] = np.concatenate([a, b])
    for role in ("category", "label"):
        a, b = getattr(train, role), getattr(test, role)
        if a is not None and b is not None:
            keys = np.concatenate([getattr(train, f"{role}_keys"), getattr(test, f"{role}_keys")])
            shift = getattr(train, f"{role}_keys").shape[0]
            extras[role] = np.concatenate([a, np.where(b >= 0, b + shift, -1)])
            extras[f"{role}_keys"] = keys
    is_test = np.zeros(joined.n_clicks, bool)
    is_test[train.n_clicks:] = True
    return dataclasses.replace(joined, **extras), is_test
