"""Form widgets built from a config dataclass's fields, so a new field or a new model family
shows on the page without a line of page code: the widget kind follows the field's default
(whole number, decimal, on/off, or one of `streamrec.config.FIELD_CHOICES`), the label and
help come from the field's metadata (`streamrec.config.setting`)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import streamlit as st

from streamrec.config import FieldInfo, field_infos


def _step(default: float) -> float:
    """A step one decade below the default's own (0.006 -> 0.001, 0.3 -> 0.1), or 0.05."""
    if default <= 0:
        return 0.05
    return 10.0 ** math.floor(math.log10(default))


def field_widget(info: FieldInfo, key: str, default: Any = None) -> Any:
    """The widget of one config field, keyed `key` and kept across pages; returns its value
    (`default`: the field's own unless given). A value already in session state (e.g. a running
    job's, put there by the page) wins."""
    common: dict[str, Any] = {"key": key, "help": info.help or None, "persist_state": "session"}
    name, label = info.name, info.label
    default = info.default if default is None else default
    preset = key in st.session_state  # passing a default too would log a duplicate warning
    if info.choices is not None:
        options = info.choices
        index = None if preset else options.index(default)
        return st.radio(label, options, index=index, horizontal=True, **common)
    if isinstance(default, bool):
        return st.checkbox(label, value=None if preset else default, **common)
    if isinstance(default, int):
        return st.number_input(label, value=None if preset else default, step=1, **common)
    if isinstance(default, float):
        step = _step(default)
        decimals = max(2, -math.floor(math.log10(step)) + 1)
        return st.number_input(label, value=None if preset else default, step=step,
                               format=f"%.{decimals}f", **common)
    raise TypeError(f"field {name!r}: no widget for a {type(default).__name__} setting")


def config_fields(
    config: Any, key_prefix: str, names: Iterable[str] | None = None, skip: Iterable[str] = ()
) -> dict[str, Any]:
    """One widget per field of the dataclass instance `config` (its values are the defaults),
    in field order or in the order of `names`; returns {field: value} for the constructor."""
    infos = field_infos(config)
    chosen = list(names) if names is not None else list(infos)
    unknown = [n for n in chosen if n not in infos]
    if unknown:
        raise ValueError(f"{type(config).__name__} has no field(s) {', '.join(unknown)}")
    skipped = set(skip)
    return {
        name: field_widget(infos[name], f"{key_prefix}_{name}", getattr(config, name))
        for name in chosen
        if name not in skipped
    }
