"""The case study's three attention patterns as explicit rules, and the aggregates of a profile.

All functions are pure and vectorised over the prefixes of an `AttentionProfile`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from streamrec.data.columns import SESSION_ID
from streamrec.insights.profile import AttentionProfile
from streamrec.world.simulator import BEHAVIOURS

# ---- Pattern rules -------------------------------------------------------------------------
# Applied in this order to the attention vector w (w sums to 1) over a prefix of L clicks.
MIN_PATTERN_LENGTH = 4
# Below 4 clicks the rules cannot tell patterns apart: uniform attention already gives the
# last two of 3 clicks 67% of the weight, and an anchor needs a middle to stand out from.
ANCHOR_MIN_FIRST = 0.15
ANCHOR_MIN_LAST = 0.15
# "Significant weight on both the first and the last click": each at least 15%, i.e. 1.5x
# the uniform share of a 10-click prefix and nearly 4x that of a 25-click one.
ANCHOR_MIDDLE_RATIO = 0.5
# ...and each at least twice the average middle click, so that a nearly uniform vector
# (first = last = middle) never counts as an anchor: the middle must be clearly lower.
RECENCY_MIN_LAST_TWO = 0.6
# The last two clicks hold at least 60%: 1.2x their uniform share at 4 clicks, 3x at 10 and
# 7.5x at 25; with most of the weight on two clicks the rest of the prefix hardly matters.
COHERENT_MIN_NORMALISED_ENTROPY = 0.85
# Entropy / log(L) of at least 0.85: the effective number of attended clicks exp(H) is at
# least L^0.85 (3.2 of 4, 7.1 of 10, 15.4 of 25), i.e. weight spread over most clicks.
# Checked after recency, so a vector that is both spread and recent counts as recent.

RECENCY, ANCHOR, COHERENT, MIXED, SHORT = range(5)
PATTERNS = ("recency-dominant", "anchor-item", "category-coherent", "mixed", "too short")
PATTERN_RULES = {
    "anchor-item": (
        f"the first and the last click each hold at least {ANCHOR_MIN_FIRST:.0%} of the "
        f"attention and at least {1 / ANCHOR_MIDDLE_RATIO:g}x the average middle click "
        f"(checked first: the most specific pattern)"
    ),
    "recency-dominant": (
        f"the last two clicks hold at least {RECENCY_MIN_LAST_TWO:.0%} of the attention"
    ),
    "category-coherent": (
        f"the attention is spread out: its entropy is at least "
        f"{COHERENT_MIN_NORMALISED_ENTROPY:.0%} of the uniform maximum log(L), i.e. at least "
        f"L^{COHERENT_MIN_NORMALISED_ENTROPY:g} clicks effectively attended"
    ),
    "mixed": "none of the above",
    "too short": (
        f"prefixes of fewer than {MIN_PATTERN_LENGTH} clicks, where the rules cannot tell "
        "the patterns apart"
    ),
}
# Prefix-length buckets start at these lengths; the last bucket runs to max_len.
LENGTH_BUCKET_STARTS = (1, 6, 11, 16, 26)
BEHAVIOUR_LABELS = tuple(b.replace("_", " ") for b in BEHAVIOURS)  # as shown: "deep dive"


# ---- Per-prefix quantities -----------------------------------------------------------------


def from_end(weights: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(P, M) weights re-indexed from the end of each prefix: column 0 is the last click."""
    m = weights.shape[1]
    index = lengths[:, None] - 1 - np.arange(m)[None, :]  # (P, M)
    out = np.take_along_axis(weights, np.maximum(index, 0), axis=1)
    return np.where(index >= 0, out, 0.0)


def edge_weights(weights: np.ndarray, lengths: np.ndarray) -> dict[str, np.ndarray]:
    """First click, last click, last two clicks and average middle click of each prefix."""
    rows = np.arange(lengths.shape[0])
    first = weights[:, 0].astype(np.float64)
    last = weights[rows, lengths - 1].astype(np.float64)
    second_last = np.where(lengths >= 2, weights[rows, np.maximum(lengths - 2, 0)], 0.0)
    total = weights.sum(axis=1, dtype=np.float64)
    # The middle is every click but the first and the last; a 2-click prefix has none.
    middle = np.where(lengths >= 3, total - first - last, 0.0) / np.maximum(lengths - 2, 1)
    return {"first": first, "last": last, "last_two": last + second_last, "middle": middle}


def entropy(weights: np.ndarray) -> np.ndarray:
    """(P,) Shannon entropy (nats) of each attention vector; zeros contribute nothing."""
    w = weights.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(w > 0, w * np.log(w), 0.0)
    entropy: np.ndarray = -terms.sum(axis=1)
    return entropy


def normalised_entropy(weights: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(P,) entropy / log(L): 1 for uniform attention, 0 for all weight on one click (L >= 2);
    1 by convention for a single click."""
    log_l = np.log(np.maximum(lengths, 2))
    return np.where(lengths >= 2, entropy(weights) / log_l, 1.0)


def classify_patterns(weights: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(P,) pattern code (index into PATTERNS) of each prefix, by the rules in PATTERN_RULES."""
    edges = edge_weights(weights, lengths)
    first, last, middle = edges["first"], edges["last"], edges["middle"]
    anchor = (
        (first >= ANCHOR_MIN_FIRST)
        & (last >= ANCHOR_MIN_LAST)
        & (middle <= ANCHOR_MIDDLE_RATIO * np.minimum(first, last))
    )
    recency = edges["last_two"] >= RECENCY_MIN_LAST_TWO
    coherent = normalised_entropy(weights, lengths) >= COHERENT_MIN_NORMALISED_ENTROPY
    codes = np.select([anchor, recency, coherent], [ANCHOR, RECENCY, COHERENT], default=MIXED)
    return np.where(lengths < MIN_PATTERN_LENGTH, SHORT, codes)


def length_buckets(max_len: int) -> list[tuple[int, int]]:
    """(first, last) prefix length of each bucket up to max_len: 1-5, 6-10, 11-15, 16-25, ..."""
    starts = [s for s in LENGTH_BUCKET_STARTS if s <= max_len]
    ends = [s - 1 for s in starts[1:]] + [max_len]
    return list(zip(starts, ends))


def _bucket_labels(max_len: int) -> list[str]:
    return [f"{a}–{b} clicks" if a < b else f"{a} clicks" for a, b in length_buckets(max_len)]


def _bucket_codes(lengths: np.ndarray, max_len: int) -> np.ndarray:
    starts = np.array([a for a, _ in length_buckets(max_len)])
    return np.searchsorted(starts, lengths, side="right") - 1


def _groups(profile: AttentionProfile, by: str | None) -> tuple[np.ndarray, list[str]]:
    """Group code of each prefix and the group labels, for by = None / behaviour / length."""
    if by is None:
        return np.zeros(len(profile), dtype=np.int64), ["all prefixes"]
    if by == "behaviour":
        if profile.behaviour is None:
            raise ValueError("by = 'behaviour' needs hidden behaviours, which this data lacks")
        return profile.behaviour.astype(np.int64), list(BEHAVIOUR_LABELS)
    if by == "length":
        return _bucket_codes(profile.lengths, profile.max_len), _bucket_labels(profile.max_len)
    if by == "one_category":
        if profile.prefix_one_category is None:
            raise ValueError("by = 'one_category' needs item categories, which this data lacks")
        labels = ["multi-category prefix", "one-category prefix"]
        return profile.prefix_one_category.astype(np.int64), labels
    raise ValueError(f"by = {by!r} is not allowed: choose None, behaviour, length or one_category")


# ---- Aggregates ----------------------------------------------------------------------------


def mean_by_position(profile: AttentionProfile, by: str | None = None) -> pd.DataFrame:
    """Mean attention on the k-th click from the end of the prefix (k = 0: the last click).

    The mean at k is over prefixes long enough to have that click; `by` splits the prefixes
    into groups ("behaviour", "length" buckets or "one_category"). Columns: group,
    position_from_end, mean_attention, n_prefixes.
    """
    codes, labels = _groups(profile, by)
    back = from_end(profile.weights, profile.lengths)  # (P, M)
    present = np.arange(profile.max_len)[None, :] < profile.lengths[:, None]  # (P, M)
    frames = []
    for g, label in enumerate(labels):
        rows = codes == g
        counts = present[rows].sum(axis=0)
        sums = back[rows].sum(axis=0, dtype=np.float64)
        k = np.flatnonzero(counts)
        frames.append(
            pd.DataFrame(
                {
                    "group": label,
                    "position_from_end": k,
                    "mean_attention": sums[k] / counts[k],
                    "n_prefixes": counts[k],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def edge_shares(profile: AttentionProfile, min_length: int = 2) -> pd.DataFrame:
    """Share of attention on the first and on the last click of every prefix of at least
    `min_length` clicks (a single click holds all of it, trivially). One row per prefix."""
    keep = profile.lengths >= min_length
    edges = edge_weights(profile.weights[keep], profile.lengths[keep])
    frame = pd.DataFrame(
        {
            "prefix_length": profile.lengths[keep],
            "behaviour": None
            if profile.behaviour is None
            else np.asarray(BEHAVIOUR_LABELS)[profile.behaviour[keep]],
            "first_click": edges["first"],
            "last_click": edges["last"],
            "uniform": 1.0 / profile.lengths[keep],
        }
    )
    return frame if profile.behaviour is not None else frame.drop(columns="behaviour")


def entropy_by_length(profile: AttentionProfile) -> pd.DataFrame:
    """Mean attention entropy per prefix length, beside the uniform maximum log(L).

    Columns: prefix_length, mean_entropy, max_entropy, mean_normalised_entropy, n_prefixes.
    """
    h = entropy(profile.weights)
    lengths = np.unique(profile.lengths)
    counts = np.bincount(profile.lengths)[lengths]
    sums = np.bincount(profile.lengths, weights=h)[lengths]
    mean = sums / counts
    log_l = np.log(lengths)
    return pd.DataFrame(
        {
            "prefix_length": lengths,
            "mean_entropy": mean,
            "max_entropy": log_l,
            "mean_normalised_entropy": np.where(
                lengths >= 2, mean / np.where(lengths >= 2, log_l, 1), 1.0
            ),
            "n_prefixes": counts,
        }
    )


def pattern_counts(profile: AttentionProfile, by: str | None = "behaviour") -> pd.DataFrame:
    """Prefixes per pattern (columns, in PATTERNS order) and group (rows), with a total row."""
    codes, labels = _groups(profile, by)
    patterns = classify_patterns(profile.weights, profile.lengths)
    counts = np.zeros((len(labels), len(PATTERNS)), dtype=np.int64)
    np.add.at(counts, (codes, patterns), 1)
    table = pd.DataFrame(counts, index=labels, columns=list(PATTERNS))
    table.loc["all"] = table.sum(axis=0)
    table.index.name = by or "group"
    return table


def pattern_table(profile: AttentionProfile) -> pd.DataFrame:
    """Prefixes per pattern (rows) by hidden behaviour, by whether the prefix stays in one
    category (each where the data has it), and in all (columns): the counts table of the
    Attention page."""
    total = pattern_counts(profile, None).T["all"]
    parts = [
        pattern_counts(profile, by).T.drop(columns="all")
        for by, known in (
            ("behaviour", profile.behaviour),
            ("one_category", profile.prefix_one_category),
        )
        if known is not None
    ]
    table = pd.concat([*parts, total], axis=1)
    table.index.name = "pattern"
    return table


def pattern_examples(
    profile: AttentionProfile, per_pattern: int = 3, seed: int = 0
) -> pd.DataFrame:
    """A few random prefixes of each pattern (too short ones left out), one per session.

    Columns: pattern, session_id, behaviour, position, prefix_length, items, attention.
    """
    rng = np.random.default_rng(seed)
    patterns = classify_patterns(profile.weights, profile.lengths)
    records = []
    for code, name in enumerate(PATTERNS):
        if code == SHORT:
            continue
        candidates = rng.permutation(np.flatnonzero(patterns == code))
        _, first_of_session = np.unique(profile.session[candidates], return_index=True)
        chosen = candidates[np.sort(first_of_session)][:per_pattern]
        for p in chosen:
            length = int(profile.lengths[p])
            records.append(
                {
                    "pattern": name,
                    SESSION_ID: int(profile.session[p]),
                    "behaviour": ""
                    if profile.behaviour is None
                    else BEHAVIOUR_LABELS[profile.behaviour[p]],
                    "position": int(profile.position[p]),
                    "prefix_length": length,
                    "items": profile.items[p, :length].tolist(),
                    "attention": profile.weights[p, :length].astype(float).tolist(),
                }
            )
    columns = [
        "pattern",
        SESSION_ID,
        "behaviour",
        "position",
        "prefix_length",
        "items",
        "attention",
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def profile_summary(profile: AttentionProfile) -> dict[str, float]:
    """Headline figures of a profile: mean edge shares, spread and each pattern's share."""
    longer = profile.lengths >= 2
    edges = edge_weights(profile.weights[longer], profile.lengths[longer])
    patterns = classify_patterns(profile.weights, profile.lengths)
    shares = np.bincount(patterns, minlength=len(PATTERNS)) / max(len(profile), 1)
    summary = {
        "sessions": float(profile.n_sessions),
        "prefixes": float(len(profile)),
        "mean last-click share": float(edges["last"].mean()) if longer.any() else float("nan"),
        "mean first-click share": float(edges["first"].mean()) if longer.any() else float("nan"),
        "mean normalised entropy": float(
            normalised_entropy(profile.weights[longer], profile.lengths[longer]).mean()
        )
        if longer.any()
        else float("nan"),
    }
    summary.update({f"share {name}": float(s) for name, s in zip(PATTERNS, shares)})
    return summary


def compare_profiles(profiles: Mapping[str, AttentionProfile]) -> pd.DataFrame:
    """`profile_summary` of each labelled profile, side by side (one column per profile)."""
    return pd.DataFrame({label: profile_summary(p) for label, p in profiles.items()})
