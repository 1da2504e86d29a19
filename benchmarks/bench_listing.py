"""What checking every field on read costs the run listing (the Runs page re-reads it every
2 s while a run trains): `runs.list_runs` over copies of the shipped demo runs, with the
checks of issue #18 (field types and ranges, metrics lines, marker, links, temp files) and
with the field checks switched off, side by side in one process.

Usage: python benchmarks/bench_listing.py [copies]   (default 20 copies of each demo run)
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from unittest import mock

from _common import best_of, machine, uptime

from streamrec.training import runs

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for demo in ("demo", "demo-streaming"):
            for n in range(copies):
                shutil.copytree(ROOT / "models" / demo, root / f"{demo}-{n:03d}",
                                ignore=shutil.ignore_patterns("sessions.npz", "split.npz"))
        listed = runs.list_runs(root)
        assert all(info.error is None for info in listed), [i.error for i in listed if i.error]
        checked = best_of(lambda: runs.list_runs(root), repeat=5)
        with mock.patch.object(runs, "check_status", lambda status: None), \
                mock.patch.object(runs, "check_event", lambda event: None):
            unchecked = best_of(lambda: runs.list_runs(root), repeat=5)
    print(machine())
    print(uptime())
    print(f"{len(listed)} run folders, best of 5 listings:")
    print(f"  with the field checks    {checked * 1000:8.1f} ms  ({checked / len(listed) * 1000:.2f} ms a run)")
    print(f"  field checks switched off {unchecked * 1000:7.1f} ms  ({unchecked / len(listed) * 1000:.2f} ms a run)")
    print(f"  ratio {checked / unchecked:.2f}x")


if __name__ == "__main__":
    main()
