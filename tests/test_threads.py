"""Torch's thread count around work too small to share between threads."""

from __future__ import annotations

import torch

from streamrec.threads import one_thread


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
