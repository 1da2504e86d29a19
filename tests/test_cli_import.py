"""`python -m streamrec import` and `datasets`, run as a user would, in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG = "SessionId\tItemId\tTime\n" + "".join(
    f"{s}\t{i}\t{1_400_000_000 + 100 * s + k}\n"
    for s in range(1, 41) for k, i in enumerate((s % 3, 3 + s % 4, 7 + s % 2))
)


def cli(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "STREAMREC_DATA_DIR": str(data)}
    return subprocess.run([sys.executable, "-m", "streamrec", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240, check=False)


def test_import_prints_mapping_steps_and_json_then_lists(tmp_path):
    log = tmp_path / "clicks.tsv"
    log.write_text(LOG)
    data = tmp_path / "data"
    result = cli(data, "import", str(log), "--name", "tiny", "--split", "random",
                 "--test-fraction", "0.25", "--json")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "columns: session = SessionId, item = ItemId, time = Time; separator tab" in out
    assert "drop items with fewer than 5 clicks (pass 1)" in out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["test_sessions"] == 10 and summary["train_sessions"] == 30
    assert summary["clicks"] == 120 and summary["items"] == 9
    assert "100%" in result.stderr  # the progress bar

    (data / "broken").mkdir()
    (data / "broken" / "dataset.json").write_text("{not json")
    listing = cli(data, "datasets")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert any(line.startswith("broken") and "BROKEN" in line for line in lines)
    assert any(line.startswith("tiny") and "40" in line for line in lines)


def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    from streamrec.__main__ import main

    data = tmp_path / "data"
    monkeypatch.setenv("STREAMREC_DATA_DIR", str(data))
    log = tmp_path / "clicks.csv"
    log.write_text("user,thing,when\n1,2,3\n")
    for args, message in (
        ([str(tmp_path / "missing.csv")], "no such file"),
        ([str(log)], "no session column found among user, thing, when"),
        ([str(log), "--session-col", "user", "--item-col", "thing", "--time-col", "when"],
         "no clicks left after filtering"),
        ([str(log), "--test-days", "-1"], "test_days = -1.0 is out of range"),
    ):
        assert main(["import", *args, "--name", "x", "--quiet"]) == 2, args
        err = capsys.readouterr().err
        assert err.strip().count("\n") == 0, err
        assert err.startswith("error: ") and message in err
    assert not data.exists() or not list(data.iterdir())
