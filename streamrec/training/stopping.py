"""A stop that reaches into long loops: training batches, evaluations, baseline scoring."""

from __future__ import annotations

from collections.abc import Callable

ShouldStop = Callable[[], bool]


class StopRequested(Exception):
    """Raised between batches of a long evaluation once `should_stop()` turns true."""


def check(should_stop: ShouldStop | None) -> None:
    """Raise StopRequested if a stop was asked for (None never stops)."""
    if should_stop is not None and should_stop():
        raise StopRequested
