"""The probe suite of issue #8, kept as tests: every bad input and fault, as tables.

- CLI_CASES: `streamrec.__main__.main([...])` must return 2 with one line on stderr.
- CORRUPTIONS: run folders broken in each way must be listed with the reason (library, CLI
  and Runs page) and stay deletable.
- HOSTILE_RUNS x PAGES: `?run=` values that try to leave the models folder or inject
  Markdown, on every page through AppTest.

Every case also checks the three targets: no traceback, no half-made run folder, and the
good run's checkpoint unchanged (nothing lost).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from streamrec import folders
from streamrec.__main__ import main
from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
from streamrec.model import LSTMRecommender
from streamrec.training import jobs, runs

ROOT = Path(__file__).resolve().parents[1]
SIM = SimConfig(n_sessions=150, n_items=40, n_categories=4, max_preferred=3)
CONFIG = RunConfig(
    SIM, LSTMConfig(n_items=40, embed_dim=8, hidden_size=8, num_layers=1), TrainConfig(epochs=1)
)
TINY = ["--n-sessions", "80", "--n-items", "40", "--n-categories", "4", "--max-preferred", "3",
        "--embed-dim", "8", "--hidden-size", "8", "--epochs", "1", "--no-baselines", "--quiet"]
PAGES = (
    "home", "simulator", "data", "train", "runs", "leaderboard", "recommend", "attention", "embeddings",
)
EVIL_LINK = "[click](https://evil.example/x)"


# --- fixtures: a models folder with one good run, and a run outside it ------------------------


def make_run(root: Path, name: str, config: RunConfig = CONFIG) -> Path:
    """A complete, finished run folder with untrained weights (no training needed)."""
    from streamrec.data.sources import open_data

    path = runs.create_run(config, root, name)
    torch.manual_seed(0)
    runs.save_weights(path, "best", LSTMRecommender(config.model))
    data, split = open_data(config)  # what the worker stores before training
    runs.save_catalog(path, data.item_category, data.item_popularity)
    runs.save_data(path, data, split)
    runs.append_event(path, {"event": "epoch", "epoch": 1.0, "hit@10": 0.1, "valid_loss": 3.0})
    runs.write_status(path, state="completed", phase="done", best_epoch=1, final={"hit@10": 0.1})
    return path


def digest(path: Path) -> str:
    """SHA-256 of a file: the checkpoint that must never be lost or rewritten."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """models/ with the run `good`; `outside/good` is a run outside it that links point at.

    After the test: no half-made folder, the good checkpoint unchanged, nothing outside touched.
    """
    root = tmp_path / "models"
    good = make_run(root, "good")
    outside = make_run(tmp_path / "outside", "good")
    (root / "link-out").symlink_to(outside, target_is_directory=True)
    (root / "loop").symlink_to(root / "loop")
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(root))
    before = (digest(good / runs.WEIGHTS["best"]), digest(outside / runs.WEIGHTS["best"]))
    yield root
    made = [name for name in half_made(root) if not name.startswith("broken")]  # not planted
    assert made == [], "a run folder was left half-made"
    assert (digest(good / runs.WEIGHTS["best"]), digest(outside / runs.WEIGHTS["best"])) == before
    assert sorted(p.name for p in outside.iterdir()) == sorted(
        [runs.CONFIG_FILE, runs.STATUS_FILE, runs.METRICS_FILE, runs.CATALOG_FILE, "best.safetensors",
         runs.DATA_FILE, runs.SPLIT_FILE,
         folders.MARKER]
    ), "something was written outside the models folder"


def half_made(root: Path) -> list[str]:
    """Real folders under `root` without a readable config and status: what a failed
    creation would leave behind."""
    bad = []
    for path in root.iterdir():
        if path.is_symlink() or not path.is_dir() or path.name.startswith("."):
            continue
        try:
            runs.read_config(path)
            runs.read_status(path)
        except runs.RunError:
            bad.append(path.name)
    return bad


# --- the CLI ----------------------------------------------------------------------------------


def _enospc(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _fault_disk_full_on_create(mp: pytest.MonkeyPatch, root: Path) -> None:
    mp.setattr(runs, "write_json", _enospc)


def _fault_disk_full_on_checkpoint(mp: pytest.MonkeyPatch, root: Path) -> None:
    mp.setattr(runs, "save_weights", _enospc)


def _fault_disk_full_on_csv(mp: pytest.MonkeyPatch, root: Path) -> None:
    import pandas as pd

    def partial_then_full(self: Any, path: Any, **kwargs: Any) -> None:
        Path(path).write_text("session_id,position\n0,")
        _enospc()

    mp.setattr(pd.DataFrame, "to_csv", partial_then_full)


def _fault_unwritable(mp: pytest.MonkeyPatch, root: Path) -> None:
    real = os.mkdir

    def refuse(path: Any, *args: Any, **kwargs: Any) -> None:
        if Path(path).parent == root:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        real(path, *args, **kwargs)

    mp.setattr(os, "mkdir", refuse)


def _fault_folder_deleted(mp: pytest.MonkeyPatch, root: Path) -> None:
    real = runs.append_event

    def delete_then_append(path: Path, event: dict) -> None:
        shutil.rmtree(path, ignore_errors=True)
        real(path, event)

    mp.setattr(runs, "append_event", delete_then_append)


def _broken_copies(root: Path) -> None:
    """Runs whose files the recommend command must refuse."""
    nan = make_run(root, "nan-weights")
    state = {k: v.clone() for k, v in LSTMRecommender(CONFIG.model).state_dict().items()}
    state["output.weight"][0, 0] = float("nan")
    save_file(state, str(nan / runs.WEIGHTS["best"]))
    small = make_run(root, "small-catalog")
    runs.save_catalog(small, np.zeros(10, np.int64), np.full(10, 0.1))
    truncated = make_run(root, "truncated")
    blob = (truncated / runs.WEIGHTS["best"]).read_bytes()
    (truncated / runs.WEIGHTS["best"]).write_bytes(blob[: len(blob) // 2])
    (make_run(root, "no-catalog") / runs.CATALOG_FILE).unlink()
    _float64_weights(make_run(root, "float64"))
    (root / "broken-foreign").mkdir()  # a folder of the user's own: no marker
    (root / "broken-foreign" / "notes.txt").write_text("mine")


FAULTS: dict[str, Callable[[pytest.MonkeyPatch, Path], None]] = {
    "disk full on create": _fault_disk_full_on_create,
    "disk full on checkpoint": _fault_disk_full_on_checkpoint,
    "disk full on csv": _fault_disk_full_on_csv,
    "unwritable models dir": _fault_unwritable,
    "folder deleted mid-training": _fault_folder_deleted,
}

# (case id, argv with {models}/{outside}/{file}, text the one-line error must hold, fault)
CLI_CASES: list[tuple[str, list[str], str, str | None]] = [
    # path traversal through a run argument
    ("recommend ..", ["recommend", "--run", "..", "--items", "1"], "not a run name", None),
    ("recommend .", ["recommend", "--run", ".", "--items", "1"], "not a run name", None),
    ("recommend /etc", ["recommend", "--run", "/etc", "--items", "1"], "not a run folder inside", None),
    ("recommend a/../..", ["recommend", "--run", "a/../..", "--items", "1"], "not a run name", None),
    ("recommend ../models/good", ["recommend", "--run", "{models}/../models/../outside/good",
                                  "--items", "1"], "not a run folder inside", None),
    ("recommend outside path", ["recommend", "--run", "{outside}", "--items", "1"],
     "not a run folder inside", None),
    ("recommend symlink out", ["recommend", "--run", "link-out", "--items", "1"], "points outside", None),
    ("recommend self-symlink", ["recommend", "--run", "loop", "--items", "1"], "points outside", None),
    ("recommend missing run", ["recommend", "--run", "nope", "--items", "1"], "does not exist", None),
    ("faithfulness /etc", ["faithfulness", "--run", "/etc"], "not a run folder inside", None),
    ("faithfulness ..", ["faithfulness", "--run", ".."], "not a run name", None),
    ("faithfulness symlink out", ["faithfulness", "--run", "link-out"], "points outside", None),
    ("worker ..", ["worker", ".."], "not a run name", None),
    ("worker /etc", ["worker", "/etc"], "not a run folder inside", None),
    ("worker symlink out", ["worker", "link-out"], "points outside", None),
    ("worker completed run", ["worker", "good"], "has already ended (completed)", None),
    ("worker completed run by path", ["worker", "{models}/good"], "has already ended", None),
    # recommend: bad session, k, checkpoint or catalog
    ("recommend empty items", ["recommend", "--run", "good", "--items", ""], "empty", None),
    ("recommend letters", ["recommend", "--run", "good", "--items", "3,x"], "not item ids", None),
    ("recommend unknown id", ["recommend", "--run", "good", "--items", "3,999"], "unknown item ids", None),
    ("recommend negative id", ["recommend", "--run", "good", "--items", "-1"], "not item ids", None),
    ("recommend k 0", ["recommend", "--run", "good", "--items", "1", "--k", "0"], "k = 0", None),
    ("recommend k > catalog", ["recommend", "--run", "good", "--items", "1", "--k", "41"],
     "allowed [1, 40]", None),
    ("recommend NaN weights", ["recommend", "--run", "nan-weights", "--items", "1"], "NaN", None),
    ("recommend small catalog", ["recommend", "--run", "small-catalog", "--items", "1"],
     "catalog.npz has 10 items, the model 40", None),
    ("recommend truncated weights", ["recommend", "--run", "truncated", "--items", "1"],
     "not a readable safetensors", None),
    ("recommend no catalog", ["recommend", "--run", "no-catalog", "--items", "1"],
     "catalog.npz is missing", None),
    ("recommend 5,000-digit id", ["recommend", "--run", "good", "--items", "9" * 5000],
     "not item ids", None),
    ("recommend Arabic-Indic digit", ["recommend", "--run", "good", "--items", "\u0663"],
     "not item ids", None),
    ("recommend terminal escape", ["recommend", "--run", "good", "--items", "\x1b[2J"],
     "not item ids", None),
    ("recommend k 10^20", ["recommend", "--run", "good", "--items", "1", "--k", "1" + "0" * 20],
     "allowed [1, 40]", None),
    ("recommend float64 weights", ["recommend", "--run", "float64", "--items", "1"],
     "NaN or infinite", None),
    ("delete ..", ["delete", "--run", ".."], "not a folder name", None),
    ("delete a path out", ["delete", "--run", "../outside/good"], "not a folder name", None),
    ("delete missing run", ["delete", "--run", "nope"], "does not exist", None),
    ("delete a folder the app did not write", ["delete", "--run", "broken-foreign"],
     "not written by StreamRec", None),
    ("delete neither", ["delete"], "one of the arguments --run --dataset is required", None),
    ("delete both", ["delete", "--run", "good", "--dataset", "x"], "not allowed with", None),
    ("delete missing data set", ["delete", "--dataset", "nope", "--data-dir", "{models}"],
     "does not exist", None),
    # flags and config values
    ("train lr inf", ["train", *TINY, "--lr", "inf"], "lr = inf", None),
    ("train n-sessions negative", ["train", *TINY, "--n-sessions", "-5"], "n_sessions = -5", None),
    ("train n-sessions 10^12", ["train", *TINY, "--n-sessions", "1" + "0" * 12], "out of range", None),
    ("train dropout 1", ["train", *TINY, "--dropout", "1"], "dropout = 1", None),
    ("train --models (abbreviation)", ["train", "--models", "x"], "unrecognized arguments", None),
    ("train --model unknown family", ["train", "--model", "x"], "invalid choice: 'x'", None),
    ("train --epoch (abbreviation)", ["train", "--epoch", "3"], "unrecognized arguments", None),
    ("recommend --item (abbreviation)", ["recommend", "--run", "good", "--item", "1"],
     "required: --items", None),
    ("unknown command", ["fly"], "invalid choice", None),
    ("train cutoffs 10,10", ["train", *TINY, "--cutoffs", "10,10"], "cutoffs = 10,10 repeats", None),
    ("train cutoffs > catalog", ["train", *TINY, "--cutoffs", "10,41"], "allowed 1-40", None),
    ("train cutoffs 0", ["train", *TINY, "--cutoffs", "0"], "positive integers", None),
    ("train cutoffs text", ["train", *TINY, "--cutoffs", "ten"], "invalid", None),
    ("baselines cutoffs 10,10", ["baselines", "--cutoffs", "10,10"], "repeats", None),
    ("train epochs 0", ["train", *TINY, "--epochs", "0"], "epochs = 0", None),
    ("train lr nan", ["train", *TINY, "--lr", "nan"], "lr = nan", None),
    ("train items < categories", ["train", "--n-items", "3", "--n-categories", "10"], "n_items = 3", None),
    ("train split leaves no training", ["train", *TINY, "--n-sessions", "4",
                                        "--valid-fraction", "0.5", "--test-fraction", "0.5"],
     "leave no training sessions", None),
    ("train name ..", ["train", *TINY, "--name", ".."], "run name", None),
    ("train name a/b", ["train", *TINY, "--name", "a/b"], "run name", None),
    ("train name exists", ["train", *TINY, "--name", "good"], "already exists", None),
    # files and disks
    ("train models-dir is a file", ["train", *TINY, "--models-dir", "{file}"], "is a file", None),
    ("train models-dir under a file", ["train", *TINY, "--models-dir", "{file}/models"],
     "Not a directory", None),
    ("train models-dir unwritable", ["train", *TINY], "Permission denied", "unwritable models dir"),
    ("train disk full on create", ["train", *TINY], "No space left", "disk full on create"),
    ("train disk full on checkpoint", ["train", *TINY], "No space left", "disk full on checkpoint"),
    ("train folder deleted", ["train", *TINY], "was deleted during training",
     "folder deleted mid-training"),
    ("simulate --out a folder", ["simulate", "--n-sessions", "50", "--out", "{models}"], "is a folder", None),
    ("simulate --out missing parent", ["simulate", "--n-sessions", "50", "--out", "{models}/no/x.csv"],
     "does not exist", None),
    ("simulate disk full", ["simulate", "--n-sessions", "50", "--out", "{models}/../x.csv"],
     "No space left", "disk full on csv"),
]


@pytest.mark.parametrize(
    ("argv", "expected", "fault"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_cli_bad_input_is_one_line_and_exit_2(
    models: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    argv: list[str], expected: str, fault: str | None,
) -> None:
    _broken_copies(models)
    file = models.parent / "a-file"
    file.write_text("not a folder")
    names = {"models": str(models), "outside": str(models.parent / "outside" / "good"), "file": str(file)}
    before = {p.name for p in models.iterdir()}
    if fault:
        FAULTS[fault](monkeypatch, models)
    code = main([arg.format(**names) for arg in argv])
    out, err = capsys.readouterr()
    assert code == 2, err
    lines = [t for t in err.splitlines() if not t.startswith("run folder: ")]  # train's first line
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert expected in err
    assert "Traceback" not in out + err
    for new in {p.name for p in models.iterdir()} - before:  # a new run only if it is whole
        assert runs.read_status(models / new).state == "failed", new
    assert not list(models.parent.glob("*.csv")) and not list(models.parent.glob(".*.tmp"))
    monkeypatch.undo()
    half = [name for name in half_made(models) if not name.startswith("broken")]  # not planted
    assert half == []


def test_ctrl_c_during_train_records_stopped(
    models: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Iterator[dict]:
        yield {"event": "batch", "epoch": 0.1, "progress": 0.1, "eta": 1.0, "loss": 3.0}
        raise KeyboardInterrupt

    monkeypatch.setattr(jobs, "train", interrupted)
    assert main(["train", *TINY, "--name", "interrupted"]) == 130
    assert capsys.readouterr().err.strip().endswith("interrupted")
    status = runs.read_status(models / "interrupted")
    assert (status.state, status.reason) == ("stopped", "interrupted (Ctrl-C)")


# --- run folders broken in every way ---------------------------------------------------------


def _weights(path: Path) -> Path:
    return path / runs.WEIGHTS["best"]


def _truncate(path: Path) -> None:
    blob = _weights(path).read_bytes()
    _weights(path).write_bytes(blob[:100])


def _other_model(path: Path) -> None:
    other = RunConfig(SIM, LSTMConfig(n_items=40, embed_dim=8, hidden_size=16, num_layers=1))
    runs.save_weights(path, "best", LSTMRecommender(other.model))


def _other_family(path: Path) -> None:
    other = RunConfig(SIM, LSTMConfig(n_items=40, embed_dim=8, hidden_size=8, num_layers=1,
                                       cell="gru", pooling="last"))
    runs.save_weights(path, "best", LSTMRecommender(other.model))


def _dir_instead(name: str) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        (path / name).unlink()
        (path / name).mkdir()

    return corrupt


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda path: (path / name).write_bytes(data)


def _remove(name: str) -> Callable[[Path], None]:
    return lambda path: (path / name).unlink()


def _config(**sections: Any) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        config = json.loads((path / runs.CONFIG_FILE).read_text())
        runs.write_json(path / runs.CONFIG_FILE, {**config, **sections})

    return corrupt


def _status(**fields: Any) -> Callable[[Path], None]:
    return lambda path: runs.write_json(path / runs.STATUS_FILE, {**json.loads((path / runs.STATUS_FILE).read_text()), **fields})


def _event(**event: Any) -> Callable[[Path], None]:
    return lambda path: runs.append_event(path, event)


def _link(name: str, target: str) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        (path / name).unlink()
        (path / name).symlink_to(target)

    return corrupt


def _fifo(name: str) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        (path / name).unlink()
        os.mkfifo(path / name)

    return corrupt


def _float64_weights(path: Path) -> None:
    """Weights a float32 model cannot hold: 1e300 becomes inf, so every probability NaN."""
    state = {k: v.double() for k, v in LSTMRecommender(CONFIG.model).state_dict().items()}
    state["output.weight"][0, 0] = 1e300
    save_file(state, str(_weights(path)))


# (case id, how to break a copy of the good run named "broken", reason the listing must give)
CORRUPTIONS: list[tuple[str, Callable[[Path], None], str]] = [
    ("truncated weights", _truncate, "not a readable safetensors file"),
    ("zero-byte weights", _write(runs.WEIGHTS["best"], b""), "not a readable safetensors file"),
    ("garbage weights", _write(runs.WEIGHTS["best"], b"\x00" * 64), "not a readable safetensors"),
    ("weights of a wider model", _other_model, "does not fit its config.json"),
    ("weights of another cell and pooling", _other_family, "does not fit its config.json"),
    ("weights are a folder", _dir_instead(runs.WEIGHTS["best"]), "is not a file"),
    ("catalog missing", _remove(runs.CATALOG_FILE), "catalog.npz is missing"),
    ("catalog garbage", _write(runs.CATALOG_FILE, b"PK\x03\x04 nope"), "catalog.npz is unreadable"),
    ("catalog of another size", lambda p: runs.save_catalog(p, np.zeros(7, np.int64), np.ones(7)),
     "catalog.npz has 7 items, the model 40"),
    ("metrics.jsonl is a folder", _dir_instead(runs.METRICS_FILE), "metrics.jsonl is not a file"),
    ("config.json garbage", _write(runs.CONFIG_FILE, b"{not json"), "config.json is not valid JSON"),
    ("config.json missing", _remove(runs.CONFIG_FILE), "config.json is missing"),
    ("config.json foreign", _write(runs.CONFIG_FILE, b'{"sim": {"n_users": 5}}'),
     "not a valid StreamRec config"),
    ("config.json a list", _write(runs.CONFIG_FILE, b"[1, 2]"), "does not hold a JSON object"),
    ("config.json data set a path", _config(data={"source": "dataset", "dataset": "../../etc"}),
     "data set name = '../../etc'"),
    ("status.json garbage", _write(runs.STATUS_FILE, b"\xff\xfe"), "status.json is not valid JSON"),
    ("status.json nested 100,000 deep", _write(runs.STATUS_FILE, b"[" * 100_000),
     "status.json is not valid JSON"),
    ("status created 'yesterday'", _status(created="yesterday"), "field 'created' = 'yesterday'"),
    ("status created 1e400", _write(runs.STATUS_FILE, b'{"state": "completed", "created": 1e400}'),
     "field 'created' = inf"),
    ("status state unknown", _status(state="hacked"), "field 'state' = 'hacked'"),
    ("status pid text", _status(pid="1"), "field 'pid' = '1' is not a process id"),
    ("status best_epoch negative", _status(best_epoch=-1), "field 'best_epoch' = -1"),
    ("status final score text", _status(final={"hit@10": "0.9"}), "field 'final'"),
    ("status baselines a list", _status(baselines=[1, 2]), "field 'baselines'"),
    ("status paired of texts", _status(paired={"Popularity": {"hit@10": {"mean": "x"}}}),
     "field 'paired'"),
    ("status progress 2", _status(progress=2.0), "field 'progress' = 2.0 is not a number in [0, 1]"),
    ("metrics hit@10 a string", _event(event="epoch", epoch=2.0, **{"hit@10": "lots"}),
     "metrics.jsonl line 2: epoch event field 'hit@10' = 'lots' is not a number"),
    ("metrics epoch a string", _event(event="epoch", epoch="two", valid_loss=1.0),
     "epoch event field 'epoch' = 'two'"),
    ("metrics loss a list", _event(event="batch", epoch=1, loss=[1]), "batch event field 'loss'"),
    ("metrics final of texts", _event(event="end", status="completed", final={"hit@10": "a"}),
     "end event field 'final'"),
    ("metrics.jsonl links to /etc/passwd", _link(runs.METRICS_FILE, "/etc/passwd"),
     "metrics.jsonl is a symlink"),
    ("config.json links outside", _link(runs.CONFIG_FILE, "../../outside/good/config.json"),
     "config.json is a symlink"),
    ("status.json links to itself", _link(runs.STATUS_FILE, runs.STATUS_FILE), "status.json is a symlink"),
    ("weights link to the good run", _link(runs.WEIGHTS["best"], "../good/best.safetensors"),
     "best.safetensors is a symlink"),
    ("float64 weights beyond float32", _float64_weights, "holds F64 tensors"),
    # a FIFO would block a reader forever: refused unopened (O_NONBLOCK + fstat, or lstat)
    ("config.json a FIFO", _fifo(runs.CONFIG_FILE), "config.json is not a regular file"),
    ("status.json a FIFO", _fifo(runs.STATUS_FILE), "status.json is not a regular file"),
    ("metrics.jsonl a FIFO", _fifo(runs.METRICS_FILE), "metrics.jsonl is not a file"),
    ("catalog.npz a FIFO", _fifo(runs.CATALOG_FILE), "catalog.npz is not a regular file"),
    # a run made before runs stored their data: no longer rebuilt from its config
    ("sessions missing (an older version's run)", _remove(runs.DATA_FILE),
     " has no stored sessions (made by an older version); retrain it"),
    ("split missing", _remove(runs.SPLIT_FILE), "has no stored sessions"),
]
LINKS: list[tuple[str, Callable[[Path], None], str]] = [
    ("self-symlinked folder", lambda link: link.symlink_to(link), "points outside"),
    ("symlink to the models folder", lambda link: link.symlink_to(link.parent), "points outside"),
    ("symlink outside", lambda link: link.symlink_to(link.parent.parent / "outside" / "good"),
     "points outside"),
    ("dangling symlink", lambda link: link.symlink_to(link.parent / "nothing"),
     "leads to no folder"),
]


def _break(root: Path, how: Callable[[Path], None], link: bool, name: str = "broken") -> Path:
    """A run `name` under `root`: a link made by `how`, or a copy of the good run it breaks."""
    if not link:
        shutil.copytree(root / "good", root / name)
    how(root / name)
    return root / name


@pytest.mark.parametrize(
    ("how", "reason", "link"),
    [(c[1], c[2], False) for c in CORRUPTIONS] + [(c[1], c[2], True) for c in LINKS],
    ids=[c[0] for c in CORRUPTIONS + LINKS],
)
def test_broken_run_is_listed_with_its_reason_and_can_be_deleted(
    models: Path, capsys: pytest.CaptureFixture[str], how: Callable, reason: str, link: bool
) -> None:
    broken = _break(models, how, link)
    infos = {info.run_id: info for info in runs.list_runs(models)}
    assert infos["good"].error is None and infos["good"].state == "completed"
    assert reason in (infos["broken"].error or ""), infos["broken"].error
    assert infos["broken"].state == "corrupt"
    openable, unreadable = runs.openable_runs(models)
    assert "broken" not in {i.run_id for i in openable}
    assert "broken" in {i.run_id for i in unreadable}

    assert main(["runs"]) == 0
    line = next(t for t in capsys.readouterr().out.splitlines() if t.startswith("broken "))
    assert "corrupt" in line and reason in line

    runs.delete_run(broken)
    assert not broken.exists() and not broken.is_symlink()
    assert (models / "good" / runs.WEIGHTS["best"]).exists()


def test_runs_page_lists_every_broken_folder_with_its_reason_and_deletes_one(
    models: Path, clear_streamlit_caches: None
) -> None:
    from streamlit.testing.v1 import AppTest

    (models / "link-out").unlink()  # replaced by the LINKS cases below, under their own names
    (models / "loop").unlink()
    reasons = {}
    for n, (_, how, reason) in enumerate(CORRUPTIONS + LINKS):
        _break(models, how, link=n >= len(CORRUPTIONS), name=f"broken-{n:02d}")
        reasons[f"broken-{n:02d}"] = reason
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/runs.py").run()
    assert not at.exception, [e.message for e in at.exception]
    table = at.dataframe[0].value.set_index("run")
    for run_id, reason in reasons.items():
        assert reason in table.loc[run_id, "problem"], run_id
        assert "unreadable" in table.loc[run_id, "status"]
    assert table.loc["good", "problem"] == ""
    # a self-symlinked folder, then garbage weights, then metrics.jsonl linking to /etc/passwd
    passwd = next(n for n, c in enumerate(CORRUPTIONS) if "/etc/passwd" in c[0])
    for run_id in (f"broken-{len(CORRUPTIONS):02d}", "broken-02", f"broken-{passwd:02d}"):
        at.selectbox(key="runs_selected").set_value(run_id).run()
        assert reasons[run_id] in " ".join(e.value for e in at.error)
        at.button(key="runs_delete").click().run()
        at.button(key="runs_delete_yes").click().run()
        assert not at.exception, [e.message for e in at.exception]
        assert not (models / run_id).exists() and not (models / run_id).is_symlink()


# --- processes: never signal a stranger, reap workers, refuse to retrain -----------------------


def test_stop_never_signals_a_process_that_is_not_this_runs_worker(models: Path) -> None:
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        path = runs.create_run(CONFIG, models, "hijacked")
        runs.write_status(path, state="running", pid=stranger.pid, heartbeat=time.time(),
                          phase="training", token="abc")
        jobs.stop(path, timeout=0.5)
        assert stranger.poll() is None, "a process that is not the run's worker was signalled"
        assert runs.stop_requested(path)  # the STOP file is still left for a real worker
        runs.write_status(path, state="stopped", phase="done")
    finally:
        stranger.kill()
        stranger.wait()


def test_a_finished_worker_is_reaped_and_cannot_be_rerun(models: Path) -> None:
    config = RunConfig(SIM, CONFIG.model, TrainConfig(epochs=1, batch_size=256))
    path = jobs.launch(config, models, "reaped")
    pid = runs.read_status(path).pid
    assert jobs.is_worker(pid, path, runs.read_status(path).token)
    deadline = time.monotonic() + 120
    while runs.read_status(path).state == "running":
        assert time.monotonic() < deadline, "the worker did not finish"
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists():  # a zombie keeps its /proc entry until reaped
        assert time.monotonic() < deadline, "the finished worker was left a zombie"
        time.sleep(0.1)
    assert runs.read_status(path).state == "completed"
    assert main(["worker", str(path)]) == 2  # a second worker on a completed run refuses


def test_recommend_page_refuses_nan_weights_with_a_message(
    models: Path, clear_streamlit_caches: None
) -> None:
    from streamlit.testing.v1 import AppTest

    _broken_copies(models)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/recommend.py").run()
    at.selectbox(key="rec_run").set_value("nan-weights").run()
    assert not at.exception, [e.message for e in at.exception]
    assert "NaN or infinite weights" in " ".join(e.value for e in at.error)
    assert not at.get("plotly_chart") and not at.dataframe


def _models_dir_is_a_file(mp: pytest.MonkeyPatch, root: Path) -> None:
    file = root.parent / "a-file"
    file.write_text("not a folder")
    mp.setenv("STREAMREC_MODELS_DIR", str(file))


# (case id, fault, what the Train page's error box must say after Start)
START_FAULTS = [
    ("models dir is a file", _models_dir_is_a_file, "is a file, not a folder"),
    ("models dir unwritable", _fault_unwritable, "Permission denied"),
    ("disk full", _fault_disk_full_on_create, "No space left on device"),
]


@pytest.mark.parametrize(("fault", "message"), [c[1:] for c in START_FAULTS],
                         ids=[c[0] for c in START_FAULTS])
def test_train_page_start_with_a_disk_fault_is_an_error_box(
    models: Path, clear_streamlit_caches: None, monkeypatch: pytest.MonkeyPatch,
    fault: Callable, message: str,
) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["sim_config"] = CONFIG.to_dict()["sim"]
    at.run()
    at.switch_page("pages/train.py").run()
    before = {p.name for p in models.iterdir()}
    fault(monkeypatch, models)
    at.button(key="train_start").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert {p.name for p in models.iterdir()} == before  # no run folder, whole or half
    assert not jobs.active_runs(models)


def test_home_page_names_a_broken_run_and_its_reason(
    models: Path, clear_streamlit_caches: None
) -> None:
    from streamlit.testing.v1 import AppTest

    (models / "link-out").unlink()
    (models / "loop").unlink()
    broken = _break(models, _truncate, link=False)
    runs.write_status(broken, created=time.time() + 10)  # newest, so among the five shown
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    text = page_text(at)
    assert "`broken` :red-badge[unreadable]" in text and "not a readable safetensors file" in text


# --- hostile URLs on every page --------------------------------------------------------------

HOSTILE_RUNS = ["..", ".", "/etc", "a/../..", "link-out", "loop", "%2e%2e", EVIL_LINK]


def page_text(at: Any) -> str:
    """Everything the page wrote as Markdown or in a message box."""
    kinds = ("markdown", "caption", "warning", "error", "info", "success", "subheader", "title")
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


@pytest.mark.parametrize("value", HOSTILE_RUNS)
@pytest.mark.parametrize("page", PAGES)
def test_hostile_run_links_are_refused_on_every_page(
    models: Path, clear_streamlit_caches: None, page: str, value: str
) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.query_params["run"] = value
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    text = page_text(at)
    assert "](https://evil" not in text and "[click]" not in text  # escaped: \[click\]
    assert not [s for s in at.get("subheader") if s.value.startswith("Run ") and "good" not in s.value]
    assert not any(b.key == "train_stop" for b in at.button)
    assert not (models.parent / runs.STOP_FILE).exists()
    if page == "train" and value != EVIL_LINK:
        assert "cannot be shown" in text
    if page == "recommend":
        assert at.selectbox(key="rec_run").value == "good"


# --- hostile logs: ids that are HTML, Markdown, spreadsheet formulas, terminal escapes -------

EVIL_HTML = '<a href="https://evil.example/x">click</a>'
HOSTILE_IDS = [EVIL_HTML, EVIL_LINK, '=HYPERLINK("https://evil.example")', "@SUM(1+1)", "+cmd",
               "-2+3", "\tTAB", "**bold**"]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def hostile_log() -> str:
    """40 sessions over 4 days whose 8 item ids are all hostile (each clicked 15 times)."""
    rows = [f"{s};{HOSTILE_IDS[(s + k) % 8]};{1_400_000_000 + (s // 10) * 86_400 + 60 * s + k}"
            for s in range(40) for k in range(3)]
    return "session_id;item_id;timestamp\n" + "\n".join(rows) + "\n"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_hostile_item_ids_show_as_text_on_the_data_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clear_streamlit_caches: None
) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STREAMREC_DATA_DIR", str(tmp_path / "data"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="data_log_upload").upload("hostile.csv", hostile_log().encode(), "text/csv")
    at.run()
    at.button(key="data_import").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    assert figures, "the data set's charts are shown"
    shown = [s for figure in figures for s in _strings(figure)]
    assert any("&lt;a href" in s for s in shown), "the transitions chart names the hostile id"
    assert not [s for s in shown if "<a " in s or "</a>" in s], "a live link in a chart"
    for frame in at.dataframe:
        for column in frame.value.columns:
            cells = [v for v in frame.value[column].tolist() if isinstance(v, str)]
            assert not [c for c in cells if c.startswith(FORMULA)], (column, cells)
    text = page_text(at)
    assert "](https://evil" not in text and "<a href" not in text


def test_a_bad_row_with_terminal_escapes_is_printed_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "ansi.csv"
    log.write_text(hostile_log().replace("\n", "\n7;x;\x1b]0;pwned\x07\x1b[2J;extra\n", 1))
    code = main(["import", str(log), "--name", "ansi", "--data-dir", str(tmp_path / "data"),
                 "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: "), err
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "\\x1b" in err  # shown, escaped


def test_cli_prints_a_hostile_folder_name_inert(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (models / "broken-evil\x1b[2J\x1b]0;pwned\x07").mkdir()
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "broken-evil\\x1b[2J" in out


# --- data set folders broken in every way ----------------------------------------------------


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """data/ holding the imported data set `good` (the hostile log's); $STREAMREC_DATA_DIR."""
    from streamrec.data.log_import import ImportConfig, import_log

    log = tmp_path / "log.csv"
    log.write_text(hostile_log())
    root = tmp_path / "data"
    import_log(ImportConfig(path=str(log), name="good"), root)
    monkeypatch.setenv("STREAMREC_DATA_DIR", str(root))
    return root


def _meta(**fields: Any) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        from streamrec.data.datasets import META_FILE

        meta = json.loads((path / META_FILE).read_text())
        (path / META_FILE).write_text(json.dumps({**meta, **fields}))

    return corrupt


def _arrays(**changes: Any) -> Callable[[Path], None]:
    """Rewrite the data set's arrays with `changes` and a matching content hash: a folder forged
    to pass the hash check, so only the arrays' own checks can catch it."""
    def corrupt(path: Path) -> None:
        from streamrec.data.datasets import META_FILE, SESSIONS_DIR, content_hash
        from streamrec.data.sessions import SessionData

        folder = path / SESSIONS_DIR
        arrays = {f.stem: np.load(f, allow_pickle=False) for f in folder.glob("*.npy")} | changes
        for key, value in changes.items():
            np.save(folder / f"{key}.npy", value, allow_pickle=False)
        meta = json.loads((path / META_FILE).read_text())
        data = SessionData(items=arrays["items"].astype(np.int64), offsets=arrays["offsets"],
                           item_ids=arrays.get("item_ids"), n_catalog_items=int(arrays["n_items"]))
        meta["content_hash"] = content_hash(data, meta["n_test_sessions"])
        (path / META_FILE).write_text(json.dumps(meta))

    return corrupt


def _relink(name: str, target: str) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        (path / name).unlink()
        (path / name).symlink_to(target)

    return corrupt


# (case id, how to break a copy of `good` named "broken", the reason shown)
DATASET_CORRUPTIONS: list[tuple[str, Callable[[Path], None], str]] = [
    ("dataset.json garbage", lambda p: (p / "dataset.json").write_text("{"), "not valid JSON"),
    ("dataset.json nested deep", lambda p: (p / "dataset.json").write_text("[" * 100_000),
     "not valid JSON"),
    ("dataset.json a list", lambda p: (p / "dataset.json").write_text("[1]"),
     "not a StreamRec data set description"),
    ("n_test_sessions text", _meta(n_test_sessions="10"), "field 'n_test_sessions' = '10'"),
    ("n_test_sessions negative", _meta(n_test_sessions=-1), "field 'n_test_sessions' = -1"),
    ("n_test_sessions true", _meta(n_test_sessions=True), "field 'n_test_sessions' = True"),
    ("n_clicks a float", _meta(n_clicks=1.5), "field 'n_clicks' = 1.5"),
    ("content_hash a list", _meta(content_hash=[1]), "field 'content_hash'"),
    ("settings a list", _meta(settings=[1]), "field 'settings' = [1] is not an object"),
    ("report a text", _meta(report="steps"), "field 'report'"),
    ("dataset.json links to /etc/passwd", _relink("dataset.json", "/etc/passwd"),
     "dataset.json is a symlink"),
    ("items.npy links outside", _relink("arrays/items.npy", "../../../log.csv"), "is a symlink"),
    ("items beyond the catalog", _arrays(items=np.array([0, 1, 99] * 40, np.int32)),
     "items holds indices outside"),
    ("offsets backwards", _arrays(offsets=np.array([0, 100, 50, 120])),
     "offsets run backwards"),
    ("items of floats", _arrays(items=np.linspace(0, 7, 120)), "items holds float64 values"),
    ("items.npy a FIFO", _fifo("arrays/items.npy"), "items.npy is not a regular file"),
    ("dataset.json a FIFO", _fifo("dataset.json"), "dataset.json is not a regular file"),
]


@pytest.mark.parametrize(("how", "reason"), [c[1:] for c in DATASET_CORRUPTIONS],
                         ids=[c[0] for c in DATASET_CORRUPTIONS])
def test_broken_data_set_is_flagged_with_its_reason_and_can_be_deleted(
    data_root: Path, how: Callable[[Path], None], reason: str
) -> None:
    from streamrec.data.datasets import DatasetError, delete_dataset, list_datasets, load_dataset

    shutil.copytree(data_root / "good", data_root / "broken")
    how(data_root / "broken")
    infos = {info.name: info for info in list_datasets(data_root)}
    assert infos["good"].error is None
    error = infos["broken"].error
    if error is None:  # the description reads; opening it finds what is wrong
        with pytest.raises(DatasetError) as caught:
            load_dataset("broken", data_root)
        error = str(caught.value)
    assert reason in error, error
    load_dataset("good", data_root)
    delete_dataset("broken", data_root)
    assert not (data_root / "broken").exists()
    assert (data_root.parent / "log.csv").read_text() == hostile_log()  # a link's target kept


def test_data_page_survives_every_broken_data_set(
    data_root: Path, clear_streamlit_caches: None
) -> None:
    from streamlit.testing.v1 import AppTest

    for n, (_, how, _) in enumerate(DATASET_CORRUPTIONS):
        shutil.copytree(data_root / "good", data_root / f"broken-{n:02d}")
        how(data_root / f"broken-{n:02d}")
    (data_root / "link-out").symlink_to(data_root.parent, target_is_directory=True)
    (data_root / "loop").symlink_to(data_root / "loop")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    for page in ("data", "train"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, [e.message for e in at.exception])
    at.switch_page("pages/data.py").run()
    listing = next(df.value for df in at.dataframe if "data set" in df.value.columns)
    status = dict(zip(listing["data set"], listing["status"]))
    assert status.pop("good") == "ok"
    assert status.pop("link-out") == status.pop("loop") == "broken"  # links are flagged
    # Forged arrays (their hash recomputed) list as ok: the listing reads descriptions
    # only, so that it stays fast at millions of clicks. Opening it names what is wrong.
    opened_late = sorted(name for name, state in status.items() if state == "ok")
    assert opened_late == [f"broken-{n:02d}" for n, c in enumerate(DATASET_CORRUPTIONS)
                           if c[1].__qualname__.startswith("_arrays")]
    for name in opened_late:
        at.selectbox(key="data_view").set_value(name).run()
        assert not at.exception, [e.message for e in at.exception]
        reason = DATASET_CORRUPTIONS[int(name[-2:])][2]
        assert any(reason in e.value for e in at.error), [e.value for e in at.error]


# --- temp files of killed writers, reclaimed -------------------------------------------------


def test_a_checkpoint_save_killed_with_minus_9_leaves_nothing_after_the_next_listing(
    models: Path,
) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from streamrec.training import runs\n"
        "def write(p):\n"
        "    p.write_bytes(b'x' * 1_000_000)\n"
        "    print('written', flush=True)\n"
        "    time.sleep(60)\n"
        "runs._atomic_write(Path(sys.argv[1]) / runs.WEIGHTS['best'], write)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(models / "good")],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "written"
        temps = list((models / "good").glob(".*.tmp"))
        assert len(temps) == 1
        runs.list_runs(models)  # the writer is alive: its temp file is kept
        assert temps[0].exists()
    finally:
        child.kill()  # SIGKILL: no finally block of the child runs
        child.wait()
    assert temps[0].exists()
    runs.list_runs(models)
    assert not list((models / "good").glob(".*.tmp"))


def test_a_killed_imports_temp_folder_is_reclaimed_but_a_users_is_not(data_root: Path) -> None:
    from streamrec.data.datasets import list_datasets

    dead = 2**22 + 12345  # above the default pid_max: no such process
    ours = data_root / f".clicks.{dead}.tmp"
    ours.mkdir()
    folders.write_marker(ours, folders.DATASET)
    (ours / "sessions.npz").write_bytes(b"x" * 1000)
    empty = data_root / f".early.{dead}.tmp"  # killed before its marker was written
    empty.mkdir()
    users = data_root / f".notes.{dead}.tmp"  # same pattern, not ours: no marker, not empty
    users.mkdir()
    (users / "mine.txt").write_text("mine")
    live = data_root / f".live.{os.getpid()}.tmp"
    live.mkdir()
    folders.write_marker(live, folders.DATASET)
    list_datasets(data_root)
    assert not ours.exists() and not empty.exists()
    assert (users / "mine.txt").read_text() == "mine" and live.exists()


def test_every_page_survives_every_broken_run_folder(
    models: Path, clear_streamlit_caches: None
) -> None:
    from streamlit.testing.v1 import AppTest

    for n, (_, how, _) in enumerate(CORRUPTIONS + LINKS):
        _break(models, how, link=n >= len(CORRUPTIONS), name=f"broken-{n:02d}")
    _broken_copies(models)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    for page in PAGES:
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, [e.message for e in at.exception])
    at.switch_page("pages/recommend.py").run()
    offered = [label.split(" · ")[0] for label in at.selectbox(key="rec_run").options]
    assert "good" in offered and not [r for r in offered if r.startswith("broken") or r == "float64"]


HOSTILE_ITEMS = [EVIL_LINK, EVIL_HTML, "1," * 20_000, "9" * 5000, "\x1b[2J", "-1", "1e3", "", ","]


@pytest.mark.parametrize("items", HOSTILE_ITEMS, ids=lambda v: repr(v[:12]))
def test_hostile_items_links_on_the_recommend_page(
    models: Path, clear_streamlit_caches: None, items: str
) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.query_params["run"] = "good"
    at.query_params["items"] = items
    at.switch_page("pages/recommend.py").run()
    assert not at.exception, [e.message for e in at.exception]
    text = page_text(at)
    assert "](https://evil" not in text and "<a href" not in text


def test_hostile_item_ids_show_as_text_on_the_recommend_page(
    models: Path, data_root: Path, clear_streamlit_caches: None
) -> None:
    from streamlit.testing.v1 import AppTest

    from streamrec.config import DataConfig
    from streamrec.data.sources import open_data

    config = RunConfig(SIM, LSTMConfig(n_items=8, embed_dim=8, hidden_size=8, num_layers=1),
                       TrainConfig(epochs=1), DataConfig(source="dataset", dataset="good"))
    path = runs.create_run(config, models, "hostile")
    runs.save_weights(path, "best", LSTMRecommender(config.model))
    runs.save_data(path, *open_data(config))  # what a worker stores for a run on a data set
    runs.write_status(path, state="completed", phase="done", best_epoch=1, final={"hit@10": 0.1})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.query_params["run"] = "hostile"
    at.query_params["items"] = "**bold**"  # a hostile id is a valid session here
    at.switch_page("pages/recommend.py").run()
    assert not at.exception, [e.message for e in at.exception]
    at.button_group(key="rec_append").set_value(at.button_group(key="rec_append").options[0]).run()
    assert not at.exception, [e.message for e in at.exception]
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    shown = [s for figure in figures for s in _strings(figure)]
    assert figures and not [s for s in shown if "<a " in s or "</a>" in s]
    for frame in at.dataframe:
        for column in frame.value.columns:
            cells = [v for v in frame.value[column].tolist() if isinstance(v, str)]
            assert not [c for c in cells if c.startswith(FORMULA)], (column, cells)
    pills = [o for group in at.get("button_group") for o in group.proto.options]
    labels = [getattr(o, "content", "") for o in pills]
    assert any("\\*\\*bold\\*\\*" in label for label in labels), labels  # Markdown escaped
    assert not [label for label in labels if "](https://evil" in label]
    text = page_text(at)
    assert "](https://evil" not in text and "<a href" not in text


def test_cli_delete_takes_any_folder_name_and_never_follows_a_link(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = make_run(models, "odd")
    odd = odd.rename(models / "my run ü")  # renamed by hand
    assert main(["delete", "--run", "my run ü"]) == 0
    assert not odd.exists()
    assert main(["delete", "--run", "link-out"]) == 0  # the link goes, its target stays
    assert not (models / "link-out").is_symlink()
    assert main(["delete", "--run", "loop"]) == 0
    assert "deleted run loop" in capsys.readouterr().out


def test_hostile_run_folder_names_render_as_text_on_home_and_runs(
    models: Path, clear_streamlit_caches: None
) -> None:
    import re

    from streamlit.testing.v1 import AppTest

    names = ["broken-a`**bold**` [click](www.evil.example)", "www.evil.example", "broken-<b>x"]
    for name in names:
        shutil.copytree(models / "good", models / name)
        runs.write_status(models / name, created=time.time() + 10)  # newest: listed on Home
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    for page in ("home", "runs"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, [e.message for e in at.exception]
        rendered = re.sub(r"`[^`\n]*`", "", page_text(at))  # code spans render as written
        assert not re.search(r"(?<!\\)\[click(?<!\\)\]\(", rendered), rendered  # no live link
        assert not re.search(r"(?<!\\)<b>", rendered) and "bold**" not in rendered.replace(
            "bold\\*\\*", "")
        assert "www.evil" not in rendered  # an autolink needs "www." unbroken
    at.selectbox(key="runs_selected").set_value("www.evil.example").run()
    at.button(key="runs_delete").click().run()
    assert "**www\u200b.evil.example**" in " ".join(w.value for w in at.warning)
