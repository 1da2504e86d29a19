"""The public Python API: every exported name imports, `import streamrec` stays cheap, and the
README's "Use from Python" example runs as printed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import streamrec

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", streamrec.__all__)
def test_every_exported_name_imports(name):
    value = getattr(streamrec, name)
    assert value is not None
    assert getattr(__import__("streamrec", fromlist=[name]), name) is value  # `from ... import`
    assert name in dir(streamrec)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        streamrec.no_such_thing  # noqa: B018


def test_import_streamrec_does_not_load_torch():
    code = "import sys, streamrec; print('torch' in sys.modules, 'streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def readme_example() -> str:
    """The first Python block under the README's "Use from Python" heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use from Python", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README's Use from Python section has no python block"
    return match.group(1)


def test_the_readme_example_runs(tmp_path):
    script = tmp_path / "example.py"
    script.write_text(readme_example(), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, check=False,
        env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
        timeout=280,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].endswith("clicks") and "sessions," in lines[0]
    assert lines[2].startswith("completed ")
    assert (tmp_path / "my-runs").is_dir() and len(list((tmp_path / "my-runs").iterdir())) == 1
