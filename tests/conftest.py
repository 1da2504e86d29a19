"""Shared fixtures for the tests: AppTest pages with clean Streamlit caches."""

from __future__ import annotations

import os

# One math thread per process: tests, the Streamlit server they start and its training
# workers share 2 cores, and oversubscribed OpenMP threads spin (a tiny training measured
# 40 s with the default 2 threads under load, 4.5 s with 1).
os.environ.setdefault("OMP_NUM_THREADS", "1")

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
APP_TIMEOUT = 120.0  # seconds per AppTest run: generous for a loaded 2-core CI machine


@pytest.fixture(autouse=True)
def private_data_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test starts with its own empty STREAMREC_DATA_DIR (a test may set another): no
    test writes to the repository's data/ or sees a data set another test left behind.

    Its own MonkeyPatch, not the `monkeypatch` fixture: an autouse fixture that requested it
    would make every test's `monkeypatch` outlive the test's other fixtures, whose teardown
    would then still see the test's patches."""
    root = tmp_path_factory.mktemp("data-root")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STREAMREC_DATA_DIR", str(root))
        yield root


@pytest.fixture
def clear_streamlit_caches() -> Iterator[None]:
    """Empty st.cache_data and st.cache_resource before and after a test.

    Both caches are process-wide, so without this one AppTest would see another's results.
    """
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def open_page(clear_streamlit_caches: None) -> Callable[..., Any]:
    """Open app.py in an AppTest, switch to a page (e.g. "pages/simulator.py") and run it.

    Session-state entries given as keyword arguments are set before the page runs.
    """
    from streamlit.testing.v1 import AppTest

    def _open(page: str | None = None, **state: Any) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT)
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        if page is not None:
            at.switch_page(page).run()
        return at

    return _open
