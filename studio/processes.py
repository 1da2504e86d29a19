"""The Train page's "Processes" setting: how many local training processes torchrun starts."""

from __future__ import annotations

import os

import streamlit as st

HELP = (
    "Training processes on this machine, started through torchrun with PyTorch's "
    "DistributedDataParallel, one CPU thread each. The batch size is per process: each "
    "step trains on one batch per process and the gradients are averaged, as one process "
    "with that many times the batch size would, so an epoch ends sooner when cores are "
    "free. Stop ends them all. More than the machine's cores only slows it down."
)


def processes_input() -> int:
    """A number input from 1 to the machine's core count (default 1)."""
    cores = max(os.cpu_count() or 1, 1)
    value = st.number_input(
        "Processes", min_value=1, max_value=max(cores, 2), value=1, step=1,
        key="train_processes", help=HELP, width=200,
    )
    return int(value)
