"""The Train page's time estimate: a measured time per epoch, shown before Start."""

from __future__ import annotations

import streamlit as st

from streamrec.config import RunConfig
from streamrec.text import escape_markdown
from streamrec.training.estimate import estimate_epoch_seconds, expected_train_targets, speed_config
from studio.limits import timing_limit


def duration(seconds: float) -> str:
    """'45 s', '3 min 20 s', '1 h 05 min'."""
    seconds = max(float(seconds), 0.0)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@st.cache_data(max_entries=32, show_spinner=False)  # a float each
def epoch_seconds(speed: dict, max_bytes: int | None) -> float:
    """Measured seconds per epoch for a `speed_config` given as a dict (the cache key)."""
    config = RunConfig.from_dict(speed)
    if max_bytes is None:
        return estimate_epoch_seconds(config)
    return estimate_epoch_seconds(config, max_bytes=max_bytes)


def estimate(config: RunConfig) -> None:
    """Expected batches and a measured time per epoch."""
    n_batches = max(expected_train_targets(config) / config.train.batch_size, 1.0)
    try:
        with st.spinner("Timing a few training batches of this model…"):
            seconds = epoch_seconds(speed_config(config).to_dict(), timing_limit())
    except (ValueError, RuntimeError) as error:  # RuntimeError: torch itself gave up
        st.warning(f"No time estimate: {escape_markdown(error)}")
        return
    st.markdown(
        f"**Estimated time:** about **{duration(seconds)} per epoch** "
        f"(~{n_batches:,.0f} batches), **{duration(seconds * config.train.epochs)}** for "
        f"{config.train.epochs} epochs, plus "
        + ("simulation" if config.data.is_simulated else "loading the data set")
        + " and baselines."
    )
    st.caption(
        "Measured on this machine now: half a second of training batches of this model on "
        "sessions of the same shape, scaled to the epoch's target clicks, for one process "
        "(2 processes on 2 free cores measured 1.6-1.7x faster: docs/speed.md). Validation is extra."
    )
