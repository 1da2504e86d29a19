"""Splits, prediction targets, prefixes and session-parallel rows.

Conventions: item ids are 0-based; model tokens are item id + 1 and token 0 is padding.
A *target* is click `position` (>= 1) of a session, predicted from the clicks before it,
of which only the last `max_len` are seen.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from streamrec.config import TrainConfig
from streamrec.data.sessions import SessionData, smallest_int

PAD = 0


@dataclass(frozen=True)
class Targets:
    """A set of prediction targets: click `position` of `session`."""

    session: np.ndarray  # (N,) int64
    position: np.ndarray  # (N,) int64, >= 1

    def __len__(self) -> int:
        return int(self.session.shape[0])

    def take(self, index: np.ndarray) -> Targets:
        """A subset, in the order of `index`."""
        return Targets(self.session[index], self.position[index])

    def sample(self, n: int, seed: int) -> Targets:
        """At most n targets, drawn without replacement with a fixed seed, in original order."""
        if len(self) <= n:
            return self
        return self.take(np.sort(np.random.default_rng(seed).choice(len(self), n, replace=False)))


@dataclass(frozen=True)
class Split:
    """Train / validation / test targets under one evaluation protocol."""

    protocol: str
    train: Targets
    valid: Targets
    test: Targets  # empty under the "example" protocol (the case study has no test split)

    @property
    def report(self) -> Targets:
        """Targets of the final table: test where there is one, else validation."""
        return self.test if len(self.test) else self.valid


def all_targets(data: SessionData, sessions: np.ndarray | None = None) -> Targets:
    """Every next click (positions 1..L-1) of the given sessions, in session then position order."""
    sessions = np.arange(data.n_sessions) if sessions is None else np.asarray(sessions, np.int64)
    counts = np.maximum(data.lengths[sessions] - 1, 0)
    session = np.repeat(sessions, counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    position = np.arange(session.shape[0]) - starts + 1
    return Targets(session.astype(np.int64), position.astype(np.int64))


def make_split(data: SessionData, config: TrainConfig) -> Split:
    """Split by the configured protocol, deterministically from `config.seed`."""
    if config.protocol == "example":
        return _example_split(data, config)
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(data.n_sessions)
    n_valid = max(1, round(config.valid_fraction * data.n_sessions))
    n_test = round(config.test_fraction * data.n_sessions)
    if n_valid + n_test >= data.n_sessions:
        raise ValueError(
            f"valid_fraction = {config.valid_fraction} and test_fraction = "
            f"{config.test_fraction} leave no training sessions out of {data.n_sessions}"
        )
    valid, test, train = np.split(order, [n_valid, n_valid + n_test])
    return Split(
        protocol="session",
        train=all_targets(data, np.sort(train)),
        valid=all_targets(data, np.sort(valid)),
        test=all_targets(data, np.sort(test)),
    )


def split_given(
    data: SessionData, test_sessions: np.ndarray, config: TrainConfig,
    valid_sessions: np.ndarray | None = None,
) -> Split:
    """Split of a data set whose test sessions are given (an imported log's held-out part).

    Validation is `valid_sessions` when the import set some aside (its last days), else
    `valid_fraction` of the other sessions: the latest ones by their first click's time where
    the data has times (as GRU4Rec's and session-rec's scripts hold out the last day of
    training), else a seeded random draw. The rest is training.
    """
    test = np.unique(np.asarray(test_sessions, np.int64))
    rest = np.setdiff1d(np.arange(data.n_sessions), test)
    if valid_sessions is not None and len(valid_sessions):
        valid = np.intersect1d(np.asarray(valid_sessions, np.int64), rest)
        if valid.shape[0] >= rest.shape[0]:
            raise ValueError(f"the {valid.shape[0]} validation sessions leave no training sessions")
        train = np.setdiff1d(rest, valid)
        return Split(protocol="given", train=all_targets(data, train),
                     valid=all_targets(data, valid), test=all_targets(data, test))
    n_valid = max(1, round(config.valid_fraction * rest.shape[0]))
    if n_valid >= rest.shape[0]:
        raise ValueError(
            f"valid_fraction = {config.valid_fraction} leaves no training sessions out of "
            f"{rest.shape[0]} non-test sessions"
        )
    if data.times is not None:
        start_time = data.times[data.offsets[rest]]
        valid = rest[np.argsort(start_time, kind="stable")[-n_valid:]]
    else:
        valid = np.random.default_rng(config.seed).choice(rest, n_valid, replace=False)
    valid = np.sort(valid)
    train = np.setdiff1d(rest, valid)
    return Split(
        protocol="given",
        train=all_targets(data, train),
        valid=all_targets(data, valid),
        test=all_targets(data, test),
    )


PARTS = ("train", "valid", "test")
NO_PART = len(PARTS)  # `session_part` of a session in no part (one with no target)


def split_to_arrays(split: Split, data: SessionData | None = None) -> dict[str, np.ndarray]:
    """The split as named arrays for `np.savez`, indices in the smallest integer type.

    Given the split's `data`, a split whose parts are every target of whole sessions (the
    session and given protocols) is stored as each session's part, `session_part`
    (n_sessions,) uint8 with NO_PART for a session in none: a few kB instead of a target list.
    `split_from_arrays` then needs the same data to rebuild the targets.
    """
    arrays = {"protocol": np.asarray(split.protocol)}
    part = _session_parts(split, data) if data is not None else None
    if part is not None:
        arrays["session_part"] = part
        return arrays
    for name in PARTS:
        targets: Targets = getattr(split, name)
        arrays[f"{name}_session"] = smallest_int(targets.session)
        arrays[f"{name}_position"] = smallest_int(targets.position)
    return arrays


def _session_parts(split: Split, data: SessionData) -> np.ndarray | None:
    """(n_sessions,) each session's index in PARTS, if the split is every target of its
    sessions, part by part; else None (the example protocol splits sessions' targets)."""
    part = np.full(data.n_sessions, NO_PART, np.uint8)
    for code, name in enumerate(PARTS):
        targets: Targets = getattr(split, name)
        sessions = np.unique(targets.session)
        if sessions.size and (sessions[0] < 0 or sessions[-1] >= data.n_sessions):
            return None
        if np.any(part[sessions] != NO_PART):
            return None
        part[sessions] = code
        rebuilt = all_targets(data, sessions)
        if not (np.array_equal(rebuilt.session, targets.session)
                and np.array_equal(rebuilt.position, targets.position)):
            return None
    return part


def split_from_arrays(arrays: dict[str, np.ndarray], data: SessionData | None = None) -> Split:
    """Rebuild what `split_to_arrays` wrote; `data` (the split's sessions) is needed for a split
    stored by session part. ValueError if it is missing or does not fit."""
    protocol = str(arrays["protocol"])
    if "session_part" in arrays:
        part = np.asarray(arrays["session_part"])
        if data is None:
            raise ValueError("the split is stored by session: its sessions are needed to read it")
        if part.shape != (data.n_sessions,) or part.dtype.kind not in "iu":
            raise ValueError(f"session_part has {part.shape} {part.dtype} entries, expected "
                             f"{data.n_sessions} integers")
        return Split(protocol=protocol, **{
            name: all_targets(data, np.flatnonzero(part == code))
            for code, name in enumerate(PARTS)
        })
    parts = {
        name: Targets(
            arrays[f"{name}_session"].astype(np.int64), arrays[f"{name}_position"].astype(np.int64)
        )
        for name in PARTS
    }
    return Split(protocol=protocol, **parts)


def _example_split(data: SessionData, config: TrainConfig) -> Split:
    """The case study's split: a random 80/20 split of prefix examples via torch.randperm.

    Reproduces `random_split(dataset, [n_train, n_val], generator=manual_seed(seed))`.
    """
    examples = all_targets(data)
    n = len(examples)
    n_valid = int(config.example_valid_fraction * n)
    if n_valid < 1 or n - n_valid < 1:
        raise ValueError(f"example_valid_fraction = {config.example_valid_fraction} leaves an empty split of {n} examples")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(config.seed)).numpy()
    empty = Targets(np.zeros(0, np.int64), np.zeros(0, np.int64))
    return Split(
        protocol="example",
        train=examples.take(perm[: n - n_valid]),
        valid=examples.take(perm[n - n_valid :]),
        test=empty,
    )


def target_items(data: SessionData, targets: Targets) -> np.ndarray:
    """(N,) the item id of each target click."""
    items: np.ndarray = data.items[data.offsets[targets.session] + targets.position]
    return items


def transition_pairs(data: SessionData, targets: Targets) -> tuple[np.ndarray, np.ndarray]:
    """(N,), (N,) the click before each target and the target: the first-order chain's pairs."""
    end = data.offsets[targets.session] + targets.position
    return data.items[end - 1], data.items[end]


def prefix_matrix(data: SessionData, targets: Targets, max_len: int) -> np.ndarray:
    """(N, max_len) tokens of the last max_len clicks before each target, left-padded with 0."""
    n = len(targets)
    end = data.offsets[targets.session] + targets.position  # exclusive
    cols = np.arange(max_len)[None, :] - max_len  # (1, M): -M..-1
    idx = end[:, None] + cols  # (N, M)
    valid = cols >= -targets.position[:, None]
    out = np.zeros((n, max_len), dtype=np.int64)
    out[valid] = data.items[idx[valid]] + 1
    return out


def tokens_from_items(items: list[int] | np.ndarray, max_len: int) -> np.ndarray:
    """(1, max_len) left-padded tokens for one session given as item ids (last max_len kept)."""
    items = np.asarray(items, dtype=np.int64)[-max_len:]
    out = np.zeros((1, max_len), dtype=np.int64)
    if items.size:
        out[0, max_len - items.size :] = items + 1
    return out


@dataclass(frozen=True)
class Rows:
    """Session-parallel rows: each row a run of consecutive clicks, right-padded with 0.

    The model's output after row click j predicts row click j + 1; `loss_mask[r, j]` marks
    the outputs that are targets, and `target_index[r, j]` is that target's index in the
    `Targets` the rows were built from (-1 elsewhere). Every target's output sees exactly
    the clicks a per-prefix example would (its last max_len clicks), so session-parallel and
    per-prefix passes agree target for target.
    """

    tokens: np.ndarray  # (R, T) int64
    loss_mask: np.ndarray  # (R, T) bool
    target_index: np.ndarray  # (R, T) int64

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def lengths(self) -> np.ndarray:
        """(R,) clicks per row."""
        lengths: np.ndarray = (self.tokens != PAD).sum(axis=1)
        return lengths

    @property
    def n_targets(self) -> int:
        """Number of target outputs in all rows."""
        return int(self.loss_mask.sum())


def build_rows(data: SessionData, targets: Targets, max_len: int) -> Rows:
    """Rows covering `targets`: one row per session for targets at position <= max_len, and a
    window row of max_len + 1 clicks for each target further on (its prefix starts mid-session).
    """
    t_pos = targets.position
    early = t_pos <= max_len
    # Main rows: from the session start to its last early target.
    sessions, inverse = np.unique(targets.session[early], return_inverse=True)
    last = np.zeros(sessions.shape[0], dtype=np.int64)
    np.maximum.at(last, inverse, t_pos[early])
    main_start = data.offsets[sessions]
    main_len = last + 1
    # Window rows: max_len clicks before a late target, and the target itself.
    late_idx = np.flatnonzero(~early)
    win_start = data.offsets[targets.session[late_idx]] + t_pos[late_idx] - max_len
    n_main, n_win = sessions.shape[0], late_idx.shape[0]

    starts = np.concatenate([main_start, win_start])
    lengths = np.concatenate([main_len, np.full(n_win, max_len + 1, dtype=np.int64)])
    width = int(lengths.max()) if lengths.size else 1
    cols = np.arange(width)[None, :]
    inside = cols < lengths[:, None]
    tokens = np.zeros((n_main + n_win, width), dtype=np.int64)
    tokens[inside] = data.items[(starts[:, None] + cols)[inside]] + 1

    loss_mask = np.zeros_like(tokens, dtype=bool)
    target_index = np.full(tokens.shape, -1, dtype=np.int64)
    early_idx = np.flatnonzero(early)
    loss_mask[inverse, t_pos[early] - 1] = True
    target_index[inverse, t_pos[early] - 1] = early_idx
    if n_win:  # with none, the rows may be narrower than max_len
        win_rows = n_main + np.arange(n_win)
        loss_mask[win_rows, max_len - 1] = True
        target_index[win_rows, max_len - 1] = late_idx
    return Rows(tokens, loss_mask, target_index)


def batches(rows: Rows, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Row indices per batch, each batch holding about `batch_size` target clicks.

    With an rng: rows shuffled, then sorted by length within pools of ~50 batches so each
    batch carries little padding, and the batches shuffled; without: in length order.
    """
    n = len(rows)
    lengths = rows.lengths
    targets_per_row = rows.loss_mask.sum(axis=1)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    mean_targets = max(float(targets_per_row.mean()), 1.0) if n else 1.0
    pool = n if rng is None else max(1, int(batch_size * 50 / mean_targets))
    out: list[np.ndarray] = []
    for i in range(0, n, pool):
        chunk = order[i : i + pool]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batch_of = (np.cumsum(targets_per_row[chunk]) - 1) // batch_size
        cuts = np.flatnonzero(np.diff(batch_of)) + 1
        out.extend(np.split(chunk, cuts))
    if rng is not None:
        out = [out[i] for i in rng.permutation(len(out))]
    return out
