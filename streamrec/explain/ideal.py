"""The ideal explainer: the exact posterior over what caused a click, from the oracle.

In a simulated world the generative story is known (streamrec.world.mechanisms): before every
click one draw picks anchor return, successor, recall, repeat or the category move, and the
move's own draw stays in the last click's category or switches. Given the clicks so far and
the click that really came next, Bayes' rule gives

    P(cause = mechanism m acting on click j | prefix, next click)
        ∝ P(m picks j and produces the next item | prefix),

where every mechanism's share is fixed by the config and only the move's split depends on
the hidden behaviour and preferred set, whose posterior the oracle already computes
(`Oracle.move_parts`). Summed over mechanisms it is P(click j caused the next click): the
ideal attribution. No explainer that sees only the clicks can name the recorded cause more
often than this posterior's top choice (the Bayes decision rule), so its hit rate is the
ceiling the faithfulness table measures every other explainer against.

Exact where the oracle is (`Oracle.exact_for`): the prefix must be the session so far, from
its first click (the anchor and the recall/repeat candidates read the whole session).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from streamrec.data.sessions import CAUSES, SessionData
from streamrec.data.splits import PAD, Targets
from streamrec.world.oracle import Oracle

STAY, SWITCH, ANCHOR, SUCCESSOR, RECALL, REPEAT = (CAUSES.index(name) for name in (
    "stay", "switch", "anchor", "successor", "recall", "repeat"))
IDEAL = "ideal (oracle posterior)"


@dataclass(frozen=True)
class CausePosterior:
    """P(cause | prefix, next click) for a batch of left-padded prefixes of width M.

    `joint[b, m, j]` is the probability that mechanism m (an index into CAUSES) acting on
    click column j produced the next click; a switch names no click and sits in `switch`.
    Everything sums to 1 per row (`joint.sum((1, 2)) + switch`).
    """

    joint: torch.Tensor  # (B, len(CAUSES), M) float64
    switch: torch.Tensor  # (B,) float64
    likelihood: torch.Tensor  # (B,) P(next click | prefix), the oracle's own

    @property
    def clicks(self) -> torch.Tensor:
        """(B, M) P(click j caused the next click | prefix, next click): the ideal attribution."""
        return self.joint.sum(1)

    @property
    def mechanisms(self) -> torch.Tensor:
        """(B, len(CAUSES)) P(cause = mechanism | prefix, next click), summed over clicks."""
        out = self.joint.sum(2).clone()
        out[:, SWITCH] = self.switch
        return out


def fit_oracle(data: SessionData) -> Oracle:
    """The oracle of a simulated data set (its config and catalog; no training needed)."""
    if data.config is None:
        raise ValueError("the ideal explainer needs a simulated data set (the world's true parameters)")
    none = np.zeros(0, dtype=np.int64)
    return Oracle().fit(data, Targets(none, none))  # the oracle reads no training targets


@torch.no_grad()
def cause_posterior(oracle: Oracle, prefixes: torch.Tensor, next_items: torch.Tensor) -> CausePosterior:
    """The exact posterior over causes for left-padded token prefixes (B, M) (item id + 1, at
    least one click each) and the item ids (B,) that came next (module docstring)."""
    c = oracle.config
    assert c is not None  # fit_oracle refuses data without a world
    prefixes = prefixes.long()
    if bool((prefixes[:, -1] == PAD).any()):
        raise ValueError("every prefix needs at least one click, left-padded (the last column a click)")
    x = next_items.long()
    batch, width = prefixes.shape
    clicks = oracle._clicks(prefixes)
    _, next_cat, stay = oracle.move_parts(prefixes, clicks)
    category, popularity = oracle.item_category, oracle.popularity
    pop_x, cat_x = popularity[x], category[x]  # (B,)
    last_cat = category[clicks.item[:, -1]]
    has_last = clicks.has_next[:, -1]
    earlier = clicks.has_next[:, :-1].sum(1)  # recall candidates: every click but the latest
    move = 1 - c.anchor_return - c.repeat_prob - c.successor_prob * has_last.double()
    move = move - c.recall_prob * (earlier > 0).double()  # (B,) a mechanism with nothing to act on gives its share to the move
    rows = torch.arange(batch)
    same = (cat_x == last_cat).double()
    joint = torch.zeros(batch, len(CAUSES), width, dtype=torch.float64)
    joint[:, STAY, -1] = move * stay * same * pop_x
    switch = move * (next_cat[rows, cat_x] - stay * same) * pop_x
    first = width - clicks.n  # (B,) column of the session's first click
    joint[rows, ANCHOR, first] = c.anchor_return * pop_x * (cat_x == clicks.first_category[:, 0]).double()
    joint[:, SUCCESSOR, -1] = c.successor_prob * (has_last & (clicks.successor[:, -1] == x)).double()
    recall = clicks.has_next & (clicks.successor == x[:, None])
    recall[:, -1] = False
    joint[:, RECALL] = torch.where(recall, c.recall_prob / earlier.clamp(min=1).double()[:, None], 0.0)
    steps_back = (width - 1 - torch.arange(width)).double()
    repeat = c.repeat_prob * c.repeat_decay ** steps_back[None, :] / oracle._repeat_weights(
        clicks.n.clamp(min=1))[:, None]
    joint[:, REPEAT] = torch.where(clicks.valid & (clicks.item == x[:, None]), repeat, 0.0)
    total = joint.sum((1, 2)) + switch
    safe = torch.where(total > 0, total, 1.0)  # an impossible next click: no cause at all
    return CausePosterior(joint / safe[:, None, None], switch / safe, total)


def full_prefixes(data: SessionData, targets: Targets) -> np.ndarray:
    """(N, W) left-padded tokens of every click before each target, from its session's first
    click (W = the longest such prefix): what the ideal explainer reads."""
    width = max(int(targets.position.max(initial=1)), 1)
    return _left_padded(data, targets, width)


def _left_padded(data: SessionData, targets: Targets, width: int) -> np.ndarray:
    end = data.offsets[targets.session] + targets.position
    cols = np.arange(width)[None, :] - width
    valid = cols >= -targets.position[:, None]
    out = np.zeros((len(targets), width), dtype=np.int64)
    out[valid] = data.items[(end[:, None] + cols)[valid]] + 1
    return out


def ideal_attribution(
    data: SessionData, targets: Targets, window: np.ndarray, oracle: Oracle | None = None,
    rows_per_batch: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """For each target: (N, T) P(click j of the model's window caused it), T = window.max(),
    columns in the window's order (right-padded like `faithfulness.windows`), and (N, C)
    P(cause = each mechanism of CAUSES). `window` (N,) holds each target's window length L:
    the window is the last L clicks of the prefix; the posterior reads the whole prefix."""
    oracle = oracle or fit_oracle(data)
    truth = data.items[data.offsets[targets.session] + targets.position]
    n, t = len(targets), int(window.max(initial=1))
    scores = np.zeros((n, t), dtype=np.float64)
    mechanisms = np.zeros((n, len(CAUSES)), dtype=np.float64)
    for start in range(0, n, rows_per_batch):
        part = targets.take(np.arange(start, min(n, start + rows_per_batch)))
        prefixes = full_prefixes(data, part)
        post = cause_posterior(oracle, torch.from_numpy(prefixes), torch.from_numpy(truth[start:start + len(part)]))
        clicks = post.clicks.numpy()  # (b, W), right-aligned
        lengths = window[start:start + len(part)]
        cols = np.arange(t)[None, :]
        source = clicks.shape[1] - lengths[:, None] + cols  # window column -> prefix column
        inside = cols < lengths[:, None]
        block = np.take_along_axis(clicks, np.clip(source, 0, clicks.shape[1] - 1), axis=1)
        scores[start:start + len(part)] = np.where(inside, block, 0.0)
        mechanisms[start:start + len(part)] = post.mechanisms.numpy()
    return scores, mechanisms



def session_posterior(oracle: Oracle, session: list[int] | np.ndarray, next_item: int) -> CausePosterior:
    """The posterior over causes of `next_item` after a whole session (item ids, from its
    first click), one row."""
    items = np.asarray(session, dtype=np.int64)
    tokens = np.zeros((1, items.size + 1), dtype=np.int64)  # one spare column: never a window
    tokens[0, 1:] = items + 1
    return cause_posterior(oracle, torch.from_numpy(tokens), torch.tensor([int(next_item)]))


def cause_lines(post: CausePosterior, first_click: int = 1, top: int = 4) -> list[tuple[str, float]]:
    """The posterior's most likely causes in words with their probabilities, best first:
    ("successor of click 5", 0.62), ..., ("a category switch", 0.1). Clicks are numbered from
    `first_click` (1 for a whole session)."""
    joint = post.joint[0].numpy()  # (C, W), the first column a spare
    names = {STAY: "stayed in the category of", ANCHOR: "returned to the anchor,",
             SUCCESSOR: "successor of", RECALL: "picked up the chain of", REPEAT: "repeat of"}
    lines = [(f"{names[m]} click {j - 1 + first_click}", float(joint[m, j]))
             for m in names for j in range(joint.shape[1]) if joint[m, j] > 0]
    lines.append(("a category switch (no click)", float(post.switch[0])))
    lines.sort(key=lambda pair: -pair[1])
    return [pair for pair in lines[:top] if pair[1] > 0]
