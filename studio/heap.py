"""Keep Python's full garbage collections short in the long-running app server.

A full (generation 2) collection walks every object the collector tracks. Once torch, pandas
and plotly are imported that is some 280k objects, and a full pass took ~120-140 ms on this
machine, holding the GIL, at moments Python picks (logged with gc.callbacks: one such pause
in 40 session edits on the Recommend page, none in 40 once frozen). Nearly all of those
objects are the libraries' own modules, classes and functions, alive until the process ends.
`freeze_loaded_libraries` moves them, once, out of the collector's view (`gc.freeze`), so
later full collections walk only what the app made since: the rerun-to-rerun garbage they
exist for.
"""

from __future__ import annotations

import gc
import sys

HEAVY_MODULES = ("torch", "pandas", "plotly.graph_objects")
_frozen = False


def freeze_loaded_libraries() -> bool:
    """Collect, then freeze everything alive, the first time the heavy libraries are all
    loaded in this process; True if it froze now. A collection first, so no garbage that is
    already unreachable is frozen with them."""
    global _frozen
    if _frozen or not all(name in sys.modules for name in HEAVY_MODULES):
        return False
    gc.collect()
    gc.freeze()
    _frozen = True
    return True
