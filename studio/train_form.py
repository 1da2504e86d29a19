"""The Train page's settings form: the model family and its settings, and the training settings.

Each field's widget, label and help come from its config dataclass (studio.config_form).
"""

from __future__ import annotations

import streamlit as st

from streamrec.config import MODEL_CONFIGS, TrainConfig
from studio.config_form import config_fields

TRAIN_DEFAULTS = TrainConfig()

# The form's columns; each field's widget, label and help come from its config dataclass
# (studio.config_form, streamrec.config.setting), so every family's own settings show.
TRAIN_SECTIONS = {
    "Training": ("epochs", "batch_size", "max_len", "protocol", "seed"),
    "Optimiser": ("lr", "step_size", "gamma", "clip_norm"),
    "Objective and device": ("loss", "n_negatives", "sample_alpha", "bpreg", "device"),
}


def settings_form() -> tuple[str, dict, dict, str]:
    """The family, then its settings and the training settings, all built from the config
    dataclasses; returns (family, model fields, train fields, run name)."""
    model_col, *train_cols = st.columns(1 + len(TRAIN_SECTIONS), border=True)
    with model_col:
        st.markdown("**Model**")
        family = st.selectbox(
            "Model family",
            list(MODEL_CONFIGS),
            index=None if "train_family" in st.session_state else 0,  # a running job's wins
            key="train_family",
            persist_state="session",
            help="Each family has its own settings below.",
        )
        st.caption(MODEL_CONFIGS[family].__doc__ or "")
        # Keys carry the family, so each family keeps its own values when switching.
        model = config_fields(MODEL_CONFIGS[family](), f"train_{family}", skip=("n_items",))
    train: dict = {}
    for column, (section, names) in zip(train_cols, TRAIN_SECTIONS.items()):
        with column:
            st.markdown(f"**{section}**")
            train |= config_fields(TRAIN_DEFAULTS, "train", names)
    with model_col:
        name = st.text_input(
            "Run name (optional)",
            key="train_name",
            persist_state="session",
            placeholder="time stamp and model summary",
            help="Letters, digits, '_', '-' and '.'; must be new.",
        )
    return family, model, train, name.strip()
