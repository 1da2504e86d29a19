"""How many threads torch uses for work too small to share between them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the enclosed tensor work on the calling thread alone, then restore the setting.

    One session is far too little work to split across threads, and on a busy 2-core machine
    waking torch's intra-op pool costs more than the work itself (a page update measured
    ~50 ms with two threads under load, ~3 ms with one). With torch's OpenMP backend the
    setting is per thread, so other script runs and pages keep theirs.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
