"""The app server freezes the libraries' objects once, so full collections skip them."""

from __future__ import annotations

import gc

import pytest

from studio import heap


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch):
    """The module as in a new server process; the freeze undone afterwards."""
    monkeypatch.setattr(heap, "_frozen", False)
    yield heap
    gc.unfreeze()


def test_freezes_once_when_the_heavy_libraries_are_loaded(fresh):
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import torch  # noqa: F401

    gc.unfreeze()
    assert fresh.freeze_loaded_libraries() is True
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # the libraries' modules, classes and functions
    assert fresh.freeze_loaded_libraries() is False  # once per process
    assert gc.get_freeze_count() == frozen


def test_waits_until_every_heavy_library_is_loaded(fresh, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(heap, "HEAVY_MODULES", ("torch", "a_module_nobody_imported"))
    gc.unfreeze()
    assert fresh.freeze_loaded_libraries() is False
    assert gc.get_freeze_count() == 0
