"""`python -m streamrec tune`: the search, its stored trials and resume, the final table, the
recommendation it leaves in the data set's folder (and `train --dataset` using it), the CLI's
errors, the best-so-far chart, the browser's job launcher, and the pages that show it."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from streamrec.__main__ import main
from streamrec.charts.tune_charts import best_so_far, best_so_far_chart
from streamrec.data.datasets import Dataset, content_hash, save_dataset
from streamrec.data.sessions import SessionData
from streamrec.evaluation.metrics import metrics_from_ranks, per_target, session_bootstrap
from streamrec.training import runs, tune_jobs
from streamrec.training.recommended import (
    IMPORTED_DEFAULT_FAMILY,
    RECOMMENDED_FILE,
    Recommendation,
    default_for_dataset,
    read_recommendation,
    write_recommendation,
)
from streamrec.training.search_spaces import METHODS, parse_methods
from streamrec.training.tune_cli import format_table, parse_budget
from streamrec.training.tune_table import (
    AGAINST_COLUMN,
    against_best,
    result_rows,
    tune_sentence,
)
from streamrec.training.tuning import (
    RESULT_FILE,
    MethodResult,
    TuneConfig,
    converged,
    dataset_target,
    read_result,
    read_trials,
    tune,
    tune_folder_for_dataset,
)

NAME = "walks"
N_ITEMS, N_SESSIONS, N_TEST = 40, 300, 50
METHODS_RUN = "markov,sr,vsknn,gru4rec"


def tiny_log() -> SessionData:
    """Sessions walking the catalog in steps of one item (learnable), a minute apart."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 8, N_SESSIONS)
    starts = rng.integers(0, N_ITEMS, N_SESSIONS)
    items = np.concatenate([(s + np.arange(n)) % N_ITEMS for s, n in zip(starts, lengths)])
    return SessionData(
        items=items.astype(np.int64),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        item_ids=np.array([str(1000 + i) for i in range(N_ITEMS)]),
        times=1.4e9 + 60.0 * np.arange(items.shape[0]),
        name=NAME,
    )


def tune_args(*extra: str, budget: str = "60s", methods: str = METHODS_RUN) -> list[str]:
    """A short CLI tune of the tiny data set: 3-second neural trials."""
    return ["tune", "--dataset", NAME, "--budget", budget, "--methods", methods,
            "--trial-seconds", "3", "--max-len", "6", "--quiet", *extra]


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding the tiny data set, tuned once by the CLI."""
    root = tmp_path_factory.mktemp("tuned") / "data"
    data = tiny_log()
    save_dataset(Dataset(NAME, data, N_TEST, content_hash(data, N_TEST)), root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STREAMREC_DATA_DIR", str(root))
        assert main(tune_args("--json")) == 0
    return root


@pytest.fixture
def data_root(tuned: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the tuned data root, pointed at by the environment."""
    root = tmp_path / "data"
    shutil.copytree(tuned, root)
    monkeypatch.setenv("STREAMREC_DATA_DIR", str(root))
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(tmp_path / "models"))
    return root


def test_tune_scores_every_method_and_stores_its_trials(data_root: Path) -> None:
    folder = tune_folder_for_dataset(NAME, data_root)
    result = read_result(folder)
    assert result is not None and result["fit_on"] == "train+valid"  # the default: refit
    keys = {entry["key"] for entry in result["methods"]}
    assert keys == set(METHODS_RUN.split(","))
    test_targets = int((tiny_log().lengths[-N_TEST:] - 1).sum())
    assert result["test_targets"] == test_targets
    for entry in result["methods"]:
        assert 0.0 <= entry["test"]["hit@20"] <= 1.0, entry
        assert entry["valid"]["mrr@20"] >= 0.0
    # Ranked by the validation objective, the winner first; the walks are learnable, so the
    # rules beat nothing-but-chance by far.
    values = [entry["valid"]["mrr@20"] for entry in result["methods"]]
    assert values == sorted(values, reverse=True)
    assert result["winner"] == result["methods"][0]["key"]
    assert max(values) > 0.5
    trials = read_trials(folder)
    assert {t["method"] for t in trials} == keys
    assert all({"params", "valid", "seconds", "state"} <= set(t) for t in trials)
    # Markov chain has no setting: exactly one trial, never repeated.
    assert sum(t["method"] == "markov" for t in trials) == 1
    assert (folder / "tune.db").exists()
    assert (folder / "best" / "gru4rec" / "best.safetensors").exists()
    # Every method paired with the best tuned baseline (the best baseline with the neural
    # family), with session-bootstrap intervals from the stored ranks and sessions.
    stored = np.load(folder / "ranks.npz")
    assert set(stored.files) == keys | {"sessions"}
    best_baseline = result["best_baseline"]
    assert METHODS[best_baseline].kind == "baseline"
    assert best_baseline == next(e["key"] for e in result["methods"] if e["kind"] == "baseline")
    assert set(result["against"]) == keys
    labels = {entry["key"]: entry["label"] for entry in result["methods"]}
    for key, row in result["against"].items():
        versus = "gru4rec" if key == best_baseline else best_baseline
        assert row["versus"] == labels[versus]
        assert set(row["paired"]) == {"hit@20", "mrr@20"}
        diff = per_target(stored[key], "mrr", 20) - per_target(stored[versus], "mrr", 20)
        cell = row["paired"]["mrr@20"]
        assert cell["mean"] == pytest.approx(diff.mean())
        assert (cell["lo"], cell["hi"]) == pytest.approx(session_bootstrap(diff, stored["sessions"]))
        assert cell["sessions"] == N_TEST
    assert tune_sentence(result) is not None


def test_resumed_tune_repeats_no_finished_trial(
    data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tune_folder_for_dataset(NAME, data_root)
    before = read_trials(folder)
    assert main(tune_args(budget="40s")) == 0
    # The printed table ends each row with its paired difference and 95% interval; the
    # sentence under it says who wins.
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("method"))
    assert header.endswith(AGAINST_COLUMN)
    rows = [line for line in out.splitlines()
            if line.startswith(tuple(METHODS[k].label for k in METHODS_RUN.split(",")))]
    assert len(rows) == 4
    assert all(re.search(r"(beats|trails|level with) .*95% CI .*; (beats|trails|level with) "
                         r".*MRR@20.*95% CI", line) for line in rows), rows
    assert re.search(r"^The (best neural method \(GRU4Rec\) beats|tuned baselines (win|are not "
                     r"beaten))", out, re.MULTILINE), out
    assert "standard error" not in out
    after = read_trials(folder)
    assert after[: len(before)] == before  # the stored trials are kept
    # Trial numbers go on from the stored ones (the studies were resumed, not restarted).
    numbers = [(t["method"], t["number"]) for t in after]
    assert len(numbers) == len(set(numbers))
    finished = [(t["method"], json.dumps(t["params"], sort_keys=True)) for t in after
                if t["state"] in ("complete", "pruned")]
    repeated = [key for key, n in Counter(finished).items() if n > 1]
    assert repeated == []
    # Sequential rules' space is finite: a second tune never runs more settings than it has.
    assert sum(method == "sr" for method, _ in finished) <= METHODS["sr"].grid_size


def test_tune_refuses_a_store_made_on_other_clicks(data_root: Path) -> None:
    data = tiny_log()
    changed = SessionData(items=(data.items + 1) % N_ITEMS, offsets=data.offsets,
                          item_ids=data.item_ids, times=data.times, name=NAME)
    meta = tune_folder_for_dataset(NAME, data_root) / "tune.json"
    kept = meta.read_text()
    save_dataset(Dataset(NAME, changed, N_TEST, content_hash(changed, N_TEST)), data_root,
                 overwrite=True)  # a re-import replaces the folder, tune included
    assert not meta.exists()
    (meta.parent).mkdir(parents=True)
    meta.write_text(kept)  # a stale store left beside new clicks
    with pytest.raises(ValueError, match="other sessions"):
        tune(dataset_target(NAME, data_root), TuneConfig(budget=10, methods=("markov",),
                                                         max_len=6))


def test_recommendation_is_written_validated_and_used_by_train(data_root: Path, tmp_path: Path) -> None:
    result = read_result(tune_folder_for_dataset(NAME, data_root))
    stored = read_recommendation(data_root / NAME)
    assert stored is not None and stored.family == "gru4rec"  # the only neural family tuned
    assert stored.winner == METHODS[result["winner"]].label
    assert stored.train["max_len"] == 6
    recommendation, note = default_for_dataset(NAME, data_root)
    assert recommendation == stored and note == ""
    models = tmp_path / "models"
    assert main(["train", "--dataset", NAME, "--models-dir", str(models), "--name", "r",
                 "--epochs", "1", "--no-baselines", "--quiet"]) == 0
    config = runs.read_config(models / "r")
    assert config.model.family == "gru4rec"
    assert config.model.hidden_size == stored.model["hidden_size"]
    assert config.train.max_len == 6 and config.train.lr == stored.train["lr"]
    assert config.train.epochs == 1  # a flag given wins over the recommendation
    # --model says otherwise: the recommendation is not used.
    assert main(["train", "--dataset", NAME, "--models-dir", str(models), "--name", "s",
                 "--model", "narm", "--epochs", "1", "--no-baselines", "--quiet"]) == 0
    assert runs.read_config(models / "s").model.family == "narm"


@pytest.mark.parametrize("content, match", [
    ("{not json", "unreadable"),
    ('{"family": "bert4rec"}', "bert4rec"),
    ('{"family": "lstm", "model": {"hidden_size": -3}}', "hidden_size"),
    ('{"family": "lstm", "train": {"device": "cuda"}}', "not recommendable"),
    ('{"family": "lstm", "bogus": 1}', "bogus"),
])
def test_a_bad_recommendation_file_is_reported_never_used(
    data_root: Path, content: str, match: str
) -> None:
    (data_root / NAME / RECOMMENDED_FILE).write_text(content)
    with pytest.raises(ValueError, match=match):
        read_recommendation(data_root / NAME)
    recommendation, note = default_for_dataset(NAME, data_root)
    assert recommendation.family == IMPORTED_DEFAULT_FAMILY and match in note


def test_a_recommendation_from_other_clicks_is_stale(data_root: Path) -> None:
    write_recommendation(data_root / NAME, Recommendation("narm", content_hash="0" * 16))
    recommendation, note = default_for_dataset(NAME, data_root)
    assert recommendation.family == IMPORTED_DEFAULT_FAMILY and "re-imported" in note


def test_before_any_tune_an_imported_log_trains_the_measured_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "data"
    data = tiny_log()
    save_dataset(Dataset(NAME, data, N_TEST, content_hash(data, N_TEST)), root)
    monkeypatch.setenv("STREAMREC_DATA_DIR", str(root))
    recommendation, _ = default_for_dataset(NAME, root)
    assert recommendation.family == IMPORTED_DEFAULT_FAMILY and not recommendation.tuned_here
    models = tmp_path / "models"
    assert main(["train", "--dataset", NAME, "--models-dir", str(models), "--name", "d",
                 "--epochs", "1", "--max-len", "6", "--no-baselines", "--quiet"]) == 0
    assert runs.read_config(models / "d").model.family == IMPORTED_DEFAULT_FAMILY
    # Simulated worlds keep the case study's LSTM.
    assert main(["train", "--models-dir", str(models), "--name", "sim", "--epochs", "1",
                 "--n-sessions", "200", "--n-items", "50", "--n-categories", "5",
                 "--no-baselines", "--quiet"]) == 0
    assert runs.read_config(models / "sim").model.family == "lstm"


@pytest.mark.parametrize("args, message", [
    (["tune", "--dataset", NAME, "--budget", "5x"], "give a duration"),
    (["tune", "--dataset", NAME, "--budget", "3s"], "out of range"),
    (["tune", "--dataset", NAME, "--methods", "bert4rec"], "not a method"),
    (["tune", "--dataset", NAME, "--metric", "auc"], "metric"),
    (["tune", "--dataset", "missing"], "does not exist"),
    (["tune", "--dataset", NAME, "--scenario", "streaming"], "not allowed with"),
    (["tune"], "one of the arguments"),
])
def test_cli_errors_are_one_line_and_exit_2(
    data_root: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_budget_and_methods_parse() -> None:
    assert parse_budget("20m") == 1200 and parse_budget("90s") == 90
    assert parse_budget("1.5h") == 5400 and parse_budget("600") == 600
    assert [m.key for m in parse_methods("V-SKNN, gru4rec,vsknn")] == ["vsknn", "gru4rec"]
    assert len(parse_methods("")) == len(METHODS)
    # The first trial of every method is its current defaults.
    assert METHODS["vsknn"].defaults() == {"k": 100, "sample_size": 1000, "weighting": "div",
                                           "vote_decay": "div", "idf_weighting": 0.0,
                                           "sampling": "recent"}
    assert METHODS["lstm"].defaults()["hidden_size"] == 128


def test_a_baseline_search_converges_when_its_best_stops_rising() -> None:
    # Not before `after` trials have followed the best; a gain above `gain` restarts the count.
    assert not converged([0.30, 0.31, 0.31, 0.30], after=3)
    assert converged([0.30, 0.31, 0.31, 0.30, 0.30], after=3)
    assert not converged([0.30, 0.31, 0.30, 0.30, 0.32], after=3)
    assert converged([0.30, 0.31, 0.30, 0.31005, 0.30], after=3, gain=1e-4)
    assert not converged([0.30, 0.31, 0.30, 0.3102, 0.30], after=3, gain=1e-4)
    assert not converged([], after=3) and not converged([0.5] * 3, after=3)


def test_best_so_far_never_falls_and_skips_unknown_methods() -> None:
    trials = [
        {"method": "sr", "state": "complete", "value": 0.2, "seconds": 1.0},
        {"method": "sr", "state": "complete", "value": 0.1, "seconds": 2.0},
        {"method": "sr", "state": "pruned", "value": 0.9, "seconds": 1.0},
        {"method": "sr", "state": "complete", "value": 0.3, "seconds": 1.0},
        {"method": "<script>", "state": "complete", "value": 1.0, "seconds": 1.0},
    ]
    curves = best_so_far(trials)
    assert list(curves) == [METHODS["sr"].label]
    assert curves[METHODS["sr"].label] == ([1.0, 3.0, 5.0], [0.2, 0.2, 0.3])
    figure = best_so_far_chart(trials)
    assert len(figure.data) == 1 and "MRR@20" in figure.layout.title.text


def test_launched_tune_runs_in_a_worker_and_stops(data_root: Path) -> None:
    folder = tune_folder_for_dataset(NAME, data_root)
    tune_jobs.launch(NAME, folder, 120.0, ("sr", "gru4rec"), data_root, refit=False)
    with pytest.raises(tune_jobs.JobBusy):
        tune_jobs.launch(NAME, folder, 120.0, ("sr",), data_root)
    deadline = time.time() + 90
    while time.time() < deadline and runs.read_status(folder).message in ("", "starting"):
        time.sleep(0.5)
    tune_jobs.stop(folder)
    while time.time() < deadline and tune_jobs.tune_state(folder).state == "running":
        time.sleep(0.5)
    status = tune_jobs.tune_state(folder)
    assert status.state == "stopped", status
    result = read_result(folder)
    assert result is not None and result["stopped"]
    # A stop ends the search, not the scoring: what was found is scored on test, here by
    # the models the search fitted on training (the page's refit box off).
    assert any(entry["test"] for entry in result["methods"]), result["methods"]
    assert result["fit_on"] == "train"


def test_data_page_offers_the_tune_and_shows_its_table(data_root: Path, open_page) -> None:
    at = open_page("pages/data.py")
    assert not at.exception
    assert at.button(key="tune_start").label == "Start tune"
    assert at.button(key="tune_stop").disabled  # nothing running
    assert at.checkbox(key="tune_refit").value is True  # as the CLI: refitted by default
    table = next(d.value for d in at.dataframe if "method" in d.value.columns)
    assert set(table["method"]) == {METHODS[k].label for k in METHODS_RUN.split(",")}
    assert table[AGAINST_COLUMN].str.match(r"(beats|trails|level with) .*95% CI").all()
    assert any(m.value.startswith("**The ") and "95% interval" in m.value for m in at.markdown)
    assert any("Default model for" in info.value for info in at.info)


def test_leaderboard_shows_the_tuned_table(data_root: Path, open_page) -> None:
    at = open_page("pages/leaderboard.py")
    assert not at.exception
    assert at.selectbox(key="board_tune_data").value == NAME
    table = next(d.value for d in at.dataframe if "test mrr@20" in d.value.columns)
    assert len(table) == len(METHODS_RUN.split(","))
    assert table[AGAINST_COLUMN].str.contains("95% CI").all()
    sentence = tune_sentence(read_result(tune_folder_for_dataset(NAME, data_root)) or {})
    assert sentence and any(sentence.split(":")[0] in m.value for m in at.markdown)


def test_a_result_from_before_the_intervals_shows_without_them(data_root: Path, open_page) -> None:
    path = tune_folder_for_dataset(NAME, data_root) / RESULT_FILE
    result = json.loads(path.read_text())
    del result["against"], result["best_baseline"]
    path.write_text(json.dumps(result))
    old = read_result(path.parent)
    assert old is not None and "against" not in old
    assert all(AGAINST_COLUMN not in row for row in result_rows(old))
    assert tune_sentence(old) is None
    assert AGAINST_COLUMN not in format_table(result_rows(old), "mrr@20")
    # A malformed field is dropped, not half-shown; the rest of the result stays.
    path.write_text(json.dumps({**result, "against": {"sr": {"versus": 3, "paired": {}}}}))
    bad = read_result(path.parent)
    assert bad is not None and "against" not in bad and len(bad["methods"]) == 4
    at = open_page("pages/leaderboard.py")
    assert not at.exception
    table = next(d.value for d in at.dataframe if "test mrr@20" in d.value.columns)
    assert len(table) == 4 and AGAINST_COLUMN not in table.columns


def test_train_page_preselects_the_recommended_family(data_root: Path, open_page) -> None:
    at = open_page("pages/train.py")
    at.selectbox(key="train_data").set_value(NAME).run()
    assert not at.exception
    stored = read_recommendation(data_root / NAME)
    assert at.selectbox(key="train_family").value == stored.family
    assert at.number_input(key=f"train_{stored.family}_hidden_size").value == \
        stored.model["hidden_size"]
    assert any("Preselected for" in c.value for c in at.caption)
    # The user's own choice then stays.
    at.selectbox(key="train_family").set_value("narm").run()
    assert at.selectbox(key="train_family").value == "narm"


def test_refit_scores_on_models_fitted_on_training_and_validation(data_root: Path) -> None:
    from streamrec.data.splits import Targets
    from streamrec.evaluation.baselines import evaluate_scorer

    target = dataset_target(NAME, data_root)
    result = tune(target, TuneConfig(budget=20, methods=("vsknn",), refit=True, max_len=6))
    assert result["fit_on"] == "train+valid"
    split = target.split
    both = Targets(np.concatenate([split.train.session, split.valid.session]),
                   np.concatenate([split.train.position, split.valid.position]))
    entry = result["methods"][0]
    scores = {
        name: evaluate_scorer(METHODS["vsknn"].build(entry["settings"]).fit(target.data, fit),
                              target.data, split.test, 6)[0]
        for name, fit in (("train+valid", both), ("train", split.train))
    }
    assert entry["test"] == pytest.approx(scores["train+valid"])
    assert entry["test"]["mrr@20"] != pytest.approx(scores["train"]["mrr@20"])  # refit changed it


def _methods(*spec: tuple[str, str]) -> list[MethodResult]:
    return [MethodResult(key, key.upper(), kind, {}, {}) for key, kind in spec]


def test_paired_column_from_known_ranks_beats_trails_and_level() -> None:
    """Hand-made ranks: the neural method ranks nearly every target first, the best baseline
    (ranked first on validation) rarely within 20, the second baseline exactly as the best."""
    rng = np.random.default_rng(1)
    sessions = np.repeat(np.arange(30), 4)  # 120 targets in 30 sessions
    weak = rng.integers(1, 200, sessions.size)
    strong = np.where(rng.random(sessions.size) < 0.9, 1, 30)
    ranked = _methods(("b1", "baseline"), ("n1", "neural"), ("b2", "baseline"))
    ranks = {"b1": weak, "n1": strong, "b2": weak.copy()}
    against = against_best(ranked, ranks, sessions)
    assert {k: row["versus"] for k, row in against.items()} == {"b1": "N1", "n1": "B1", "b2": "B1"}
    cell = against["n1"]["paired"]["mrr@20"]
    assert cell["mean"] == pytest.approx(metrics_from_ranks(strong)["mrr@20"]
                                         - metrics_from_ranks(weak)["mrr@20"])
    diff = per_target(strong, "mrr", 20) - per_target(weak, "mrr", 20)
    assert (cell["lo"], cell["hi"]) == session_bootstrap(diff, sessions)  # the same function
    assert cell["sessions"] == 30 and 0 < cell["lo"] < cell["mean"] < cell["hi"]
    result = {"metric": "mrr@20", "best_neural": "n1", "against": against,
              "methods": [{"key": m.key, "label": m.label, "kind": m.kind} for m in ranked]}
    column = {row["method"]: row[AGAINST_COLUMN] for row in result_rows(result)}
    assert column["N1"].startswith("beats B1 by +") and "; beats B1 by +" in column["N1"]
    assert f"MRR@20 (95% CI {cell['lo']:+.3f}..{cell['hi']:+.3f})" in column["N1"]
    assert column["B1"].startswith("trails N1 by -") and "; trails N1 by -" in column["B1"]
    assert column["B2"] == ("level with B1 on Hit@20 (+0.000, 95% CI +0.000..+0.000); "
                            "level with B1 on MRR@20 (+0.000, 95% CI +0.000..+0.000)")
    assert tune_sentence(result) == (
        "The best neural method (N1) beats the best tuned baseline (B1) on both Hit@20 and "
        "MRR@20: both 95% intervals lie above 0.")
    # Swapped: the tuned baseline wins, and the sentence says so plainly.
    swapped = {**result, "against": against_best(ranked, {"b1": strong, "n1": weak, "b2": weak},
                                                 sessions)}
    assert tune_sentence(swapped) == (
        "The tuned baselines win: the best neural method (N1) does not beat the best tuned "
        "baseline (B1) on both Hit@20 and MRR@20 with the 95% interval above 0 (it is behind on "
        "Hit@20 and behind on MRR@20). That is a finding, not a failure of the search.")
    # Identical ranks: level on both, so not a win for the neural method either.
    level = {**result, "against": against_best(ranked, {"b1": weak, "n1": weak, "b2": weak},
                                               sessions)}
    assert tune_sentence(level).startswith(  # type: ignore[union-attr]
        "The tuned baselines are not beaten: the best neural method (N1) does not beat")
    assert "(it is level on Hit@20 and level on MRR@20)" in tune_sentence(level)  # type: ignore[operator]
    assert all(row[AGAINST_COLUMN].startswith("level with ") for row in result_rows(level))
    # Ahead on average by one target of one session: the interval holds 0, so no win.
    ahead = weak.copy()
    ahead[0] = 1
    barely = {**result, "against": against_best(ranked, {"b1": weak, "n1": ahead, "b2": weak},
                                                sessions)}
    cell = barely["against"]["n1"]["paired"]["hit@20"]
    assert cell["mean"] > 0 and cell["lo"] <= 0 < cell["hi"]
    assert "(it is level on Hit@20 and level on MRR@20)" in tune_sentence(barely)  # type: ignore[operator]


def test_one_kind_alone_pairs_the_baselines_with_the_best_and_leaves_it_blank() -> None:
    sessions = np.arange(10)
    baselines = _methods(("b1", "baseline"), ("b2", "baseline"))
    ranks = {"b1": np.ones(10, np.int64), "b2": np.full(10, 30)}
    against = against_best(baselines, ranks, sessions)
    assert set(against) == {"b2"}  # the best baseline has no neural method to face
    assert against["b2"]["paired"]["hit@20"]["hi"] == -1.0  # every target lost, all resamples
    rows = result_rows({"methods": [{"key": "b1", "label": "B1"}, {"key": "b2", "label": "B2"}],
                        "against": against, "best_neural": None})
    assert rows[0][AGAINST_COLUMN] == ""
    assert rows[1][AGAINST_COLUMN].startswith("trails B1 by -1.000 Hit@20 (95% CI -1.000..-1.000)")
    assert tune_sentence({"methods": [], "against": against, "best_neural": None}) is None
    assert against_best(_methods(("n1", "neural")), {"n1": np.ones(10)}, sessions) == {}
