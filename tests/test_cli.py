"""The command line, run as a user would: `python -m streamrec ...` in a subprocess."""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--n-sessions", "300", "--n-items", "120", "--n-categories", "6"]


def cli(*args: str, models: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "STREAMREC_MODELS_DIR": str(models or ROOT / "models")}
    return subprocess.run([sys.executable, "-m", "streamrec", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240, check=False)


def test_simulate_writes_csv_and_prints_stats(tmp_path):
    out = tmp_path / "clicks.csv"
    result = cli("simulate", *SMALL, "--engine", "reference", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "sessions" in result.stdout and "reference engine" in result.stdout
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["session_id", "position", "item_id", "category", "cause",
                             "cause_position"]
    assert rows[0]["session_id"] == "0" and rows[0]["position"] == "0"
    assert rows[0]["cause"] == "first" and rows[0]["cause_position"] == "-1"
    assert {r["cause"] for r in rows[1:]} == {"first", "stay", "switch"}
    assert len({r["session_id"] for r in rows}) == 300


def test_simulate_bad_flag_value_is_a_one_line_error():
    result = cli("simulate", "--n-items", "3", "--n-categories", "10")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "n_items" in result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, dict]:
    models = tmp_path_factory.mktemp("models")
    result = cli("train", *SMALL, "--embed-dim", "16", "--hidden-size", "24", "--epochs", "2",
                 "--name", "tiny", "--json", "--quiet", models=models)
    assert result.returncode == 0, result.stderr
    return models / "tiny", json.loads(result.stdout.strip().splitlines()[-1])


def test_train_prints_table_and_json(trained):
    run, summary = trained
    assert summary["status"] == "completed"
    assert set(summary["results"]) >= {"LSTM (this run)", "Oracle", "Popularity", "Markov chain"}
    for name in ("best.safetensors", "last.safetensors", "config.json", "metrics.jsonl", "catalog.npz"):
        assert (run / name).exists(), name


def test_train_stores_the_paired_differences_to_every_method(trained):
    run, summary = trained
    status = json.loads((run / "status.json").read_text())
    lstm = summary["results"]["LSTM (this run)"]
    assert set(status["paired"]) == set(summary["results"]) - {"LSTM (this run)"}
    for name, paired in status["paired"].items():
        # The mean of the per-target differences is the difference of the two means.
        other = summary["results"][name]
        assert paired["hit@10"]["mean"] == pytest.approx(lstm["hit@10"] - other["hit@10"])
        assert paired["mrr@20"]["mean"] == pytest.approx(lstm["mrr@20"] - other["mrr@20"])
        assert paired["hit@10"]["se"] >= 0 and paired["hit@10"]["n"] == status["paired"][
            "Oracle"]["hit@10"]["n"]
        # With the 95% interval of a bootstrap over the report sessions (fewer than targets).
        for cell in paired.values():
            assert cell["lo"] <= cell["hi"] and 0 < cell["sessions"] < cell["n"]
    reached = status["to_oracle"]
    assert reached["key"] == "hit@10" and reached["fraction"] == 0.95
    assert reached["oracle"] == status["baselines_valid"]["Oracle"]["hit@10"]
    assert (reached["epoch"] is None) == (reached["best"] < 0.95 * reached["oracle"])


def test_baselines_compare_pairs_a_run_with_every_method(trained):
    run, _ = trained
    result = cli("baselines", "--compare", run.name, "--models-dir", str(run.parent), "--json",
                 models=run.parent)
    assert result.returncode == 0, result.stderr
    assert "this run (tiny)" in result.stdout and "paired difference" in result.stdout
    # One sentence per method from the session-bootstrap interval: beats / trails / level with.
    sentences = [line for line in result.stdout.splitlines() if line.startswith("this run ")
                 and "95% CI" in line]
    assert len(sentences) == len(json.loads(result.stdout.strip().splitlines()[-1])["paired"])
    assert all(re.match(r"this run (beats|trails|level with) ", line) for line in sentences)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    stored = json.loads((run / "status.json").read_text())
    # The same checkpoint on the same stored targets: the pairs the worker stored, exactly.
    assert out["paired"] == stored["paired"]
    assert out["to_oracle"] == stored["to_oracle"]


def test_recommend_prints_top_k_and_attention(trained):
    run, _ = trained
    result = cli("recommend", "--run", str(run), "--items", "3,10,20", "--k", "5", models=run.parent)
    assert result.returncode == 0, result.stderr
    top = [line for line in result.stdout.splitlines() if re.match(r"\s+\d+\. item", line)]
    assert len(top) == 5 and "p = " in top[0]
    assert result.stdout.count("item      3") == 1


@pytest.mark.parametrize(
    ("items", "message"),
    [("", "empty"), ("3,x", "not item ids"), ("3,999", "unknown item ids"), ("-1", "not item ids")],
)
def test_recommend_bad_input_exits_2(trained, items, message):
    run, _ = trained
    result = cli("recommend", "--run", str(run), "--items", items, models=run.parent)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.strip().count("\n") == 0


def test_recommend_missing_run_exits_2(tmp_path):
    result = cli("recommend", "--run", str(tmp_path / "nope"), "--items", "1", models=tmp_path)
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_baselines_json_lists_every_method():
    result = cli("baselines", *SMALL, "--json")
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(results) == {
        "Popularity", "Last-category popularity", "Markov chain", "Sequential rules", "Session kNN",
        "V-SKNN", "STAN", "VSTAN", "Oracle",
    }
    assert results["Oracle"]["hit@10"] > results["Popularity"]["hit@10"]


def test_train_another_family_with_its_own_flags(tmp_path):
    """`--model sasrec` takes sasrec's settings as flags, trains with the chosen objective,
    stores the family in config.json, and recommends from the run without attention lines."""
    result = cli("train", *SMALL, "--model", "sasrec", "--num-blocks", "1", "--num-heads", "2",
                 "--hidden-size", "16", "--epochs", "1", "--loss", "sampled", "--n-negatives", "32",
                 "--device", "cpu", "--name", "sas", "--no-baselines", "--json", "--quiet", models=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "completed" and "SASREC (this run)" in summary["results"]
    config = json.loads((tmp_path / "sas" / "config.json").read_text())
    assert config["model"] == {"family": "sasrec", "n_items": 120, "hidden_size": 16, "num_blocks": 1,
                               "num_heads": 2, "dropout": 0.2, "max_positions": 50}
    assert config["train"]["loss"] == "sampled"
    rec = cli("recommend", "--run", str(tmp_path / "sas"), "--items", "1,2,3", "--k", "3",
              models=tmp_path)
    assert rec.returncode == 0, rec.stderr
    assert "top 3:" in rec.stdout and "attention over the clicks" not in rec.stdout


def test_a_flag_of_another_family_is_a_one_line_error(tmp_path):
    result = cli("train", *SMALL, "--model", "gru4rec", "--pooling", "last", models=tmp_path)
    assert result.returncode == 2
    assert "--pooling is not a setting of model gru4rec" in result.stderr
    assert "--dropout-hidden" in result.stderr and result.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("run", ["nope", "../demo", "a/b"])
def test_baselines_compare_with_a_bad_run_is_a_one_line_error(tmp_path, run):
    result = cli("baselines", "--compare", run, "--models-dir", str(tmp_path), models=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("error: ")
    assert result.stderr.strip().count("\n") == 0


def test_a_training_over_the_memory_ceiling_is_refused_and_memory_limit_raises_the_ceiling(
    tmp_path: Path,
):
    """4 GiB per training process by default (a typo cannot take the machine down); a user
    with the memory says so with --memory-limit. Sizes are checked before any work."""
    big = ("train", "--model", "sasrec", "--loss", "sampled", "--n-sessions", "1540000",
           "--n-items", "50000", "--epochs", "1", "--no-baselines", "--quiet")
    refused = cli(*big, models=tmp_path)
    assert refused.returncode == 2
    assert "needs about 5.5 GiB" in refused.stderr and "allowed up to 4.0 GiB" in refused.stderr
    assert "--memory-limit" in refused.stderr
    still = cli(*big, "--memory-limit", "5G", models=tmp_path)
    assert still.returncode == 2 and "allowed up to 5.0 GiB" in still.stderr
    for bad in ("8X", "nan", "-1G", "0M"):
        wrong = cli(*big, f"--memory-limit={bad}", models=tmp_path)
        assert wrong.returncode == 2 and "is not a size: give e.g. 8G" in wrong.stderr
    assert not list(tmp_path.iterdir())  # nothing was written
    # Past the estimate the command would train (minutes: benchmarks/bench_ddp.py --big does);
    # here the size parser the flag uses.
    from streamrec import memory

    assert memory.parse_size("6G") == 6 * 2**30 and memory.parse_size("512MiB") == 512 * 2**20
    assert memory.parse_size("6.5g") == int(6.5 * 2**30)
