"""Every page and command on a run trained on an imported click log: raw item ids in and out,
a held-out test session from the stored split, no oracle (a note instead), and no page that
assumes a simulator. One tiny data set and one tiny run (1 epoch, trained by the CLI) shared
by the module."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from streamrec.__main__ import main
from streamrec.data.datasets import Dataset, content_hash, load_dataset, save_dataset
from streamrec.data.sessions import SessionData
from streamrec.evaluation.baselines import evaluate_baselines, left_out_baselines
from streamrec.training import jobs, runs

NAME = "clicks"
N_ITEMS, N_SESSIONS, N_TEST = 60, 320, 60
FIRST_ID = 214536000  # raw ids look like a real log's: large integers, as text
IDS = np.array([str(FIRST_ID + 7 * i) for i in range(N_ITEMS)])
RUN = "logrun"


def raw(i: int) -> str:
    """The raw id of item index i."""
    return str(IDS[i])


def tiny_log() -> SessionData:
    """Sessions walking the catalog in steps of one item, so that the next click is learnable;
    times one minute apart, raw ids, no categories and no labels."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 8, N_SESSIONS)
    starts = rng.integers(0, N_ITEMS, N_SESSIONS)
    items = np.concatenate([(s + np.arange(n)) % N_ITEMS for s, n in zip(starts, lengths)])
    return SessionData(
        items=items.astype(np.int64),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        item_ids=IDS,
        times=1.4e9 + 60.0 * np.arange(items.shape[0]),
        name=NAME,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(data root, models root): the imported data set and a run trained on it by the CLI."""
    base = tmp_path_factory.mktemp("imported")
    data_root, models_root = base / "data", base / "models"
    data = tiny_log()
    save_dataset(Dataset(NAME, data, N_TEST, content_hash(data, N_TEST)), data_root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STREAMREC_DATA_DIR", str(data_root))
        code = main([
            "train", "--dataset", NAME, "--name", RUN, "--models-dir", str(models_root),
            "--epochs", "1", "--embed-dim", "8", "--hidden-size", "16", "--max-len", "6",
            "--no-baselines", "--quiet",
        ])
    assert code == 0
    return data_root, models_root


@pytest.fixture
def roots(
    trained: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """The data set and a private copy of the run, pointed at by the environment."""
    data_root, models_root = trained
    models = tmp_path / "models"
    shutil.copytree(models_root, models)
    monkeypatch.setenv("STREAMREC_DATA_DIR", str(data_root))
    monkeypatch.setenv("STREAMREC_MODELS_DIR", str(models))
    return data_root, models


def assert_clean(at) -> None:
    """The page raised nothing."""
    assert not at.exception, [e.message for e in at.exception]


def page_text(at) -> str:
    """Markdown, captions, info and error boxes of the page, joined."""
    parts = [e.value for kind in ("markdown", "caption", "info", "error", "warning")
             for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


# --- command line -------------------------------------------------------------------------


def test_cli_run_records_the_data_set_and_stores_its_sessions(roots):
    _, models = roots
    config = runs.read_config(models / RUN)
    assert config.data.dataset == NAME and config.model.n_items == N_ITEMS
    assert config.data.content_hash == load_dataset(NAME).content_hash
    assert not (models / RUN / runs.CATALOG_FILE).exists()
    data, split = runs.load_data(models / RUN, config)
    assert data.raw_ids([0, 1]) == [raw(0), raw(1)]
    assert np.unique(split.test.session).min() == N_SESSIONS - N_TEST  # the log's own test part


def test_cli_train_says_simulator_flags_are_ignored(roots, capsys):
    _, models = roots
    code = main([
        "train", "--dataset", NAME, "--name", "again", "--models-dir", str(models),
        "--n-items", "999", "--epochs", "1", "--embed-dim", "8", "--hidden-size", "16",
        "--no-baselines", "--quiet",
    ])
    assert code == 0
    assert "simulator flags ignored: --n-items" in capsys.readouterr().err
    assert runs.read_config(models / "again").model.n_items == N_ITEMS


def test_cli_baselines_on_the_data_set_leave_out_what_it_cannot_support(roots, capsys):
    code = main(["baselines", "--dataset", NAME, "--max-len", "6", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    results = json.loads(out.strip().splitlines()[-1])
    assert list(results) == [
        "Popularity", "Markov chain", "Sequential rules", "Session kNN", "V-SKNN", "STAN", "VSTAN"
    ]
    # The log walks the catalog one item at a time: the rules see it, popularity cannot.
    assert results["Sequential rules"]["hit@10"] > 0.9 > results["Popularity"]["hit@10"]
    assert "Last-category popularity: left out, no categories in this log" in out
    assert "Oracle: left out, no ceiling is known for real data" in out


def test_cli_recommend_reads_and_prints_raw_ids(roots, capsys):
    _, models = roots
    code = main(["recommend", "--run", str(models / RUN), "--items", f"{raw(3)},{raw(4)}",
                 "--k", "5"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"item {raw(3)}" in out and f"item {raw(4)}" in out
    top = [line.split()[2] for line in out.splitlines() if line.strip()[:2] in {"1.", "2."}]
    assert len(top) == 2 and all(t in set(IDS) for t in top)


def test_cli_recommend_refuses_ids_of_another_catalog(roots, capsys):
    _, models = roots
    code = main(["recommend", "--run", str(models / RUN), "--items", "3,4"])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown item ids: '3', '4'" in err and f"data set '{NAME}'" in err


# --- pages --------------------------------------------------------------------------------


def test_recommend_takes_raw_ids_and_shows_no_oracle(roots, open_page):
    at = open_page("pages/recommend.py")
    assert_clean(at)
    at.text_input(key="rec_text").set_value(f"{raw(10)}, {raw(11)}, {raw(12)}").run()
    assert_clean(at)
    tables = at.dataframe
    assert len(tables) == 1  # the model's top K; no oracle table
    items = tables[0].value["item_id"].tolist()
    assert all(i in set(IDS) for i in items)
    text = page_text(at)
    assert "no ceiling is known for real data" in text
    assert "Oracle's top" not in "\n".join(h.value for h in at.subheader)
    assert [m.label for m in at.metric] == [
        "Clicks the model reads", "Model's top pick", "Most attended click",
    ]
    assert at.metric[1].value == f"item {items[0]}"
    assert at.metric[2].value in {f"item {raw(10)}", f"item {raw(11)}", f"item {raw(12)}"}
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    ticks = json.dumps(charts[0]["layout"])
    assert f"item {raw(12)}" in ticks and "cat " not in ticks


def test_recommend_refuses_ids_of_another_data_set(roots, open_page):
    at = open_page("pages/recommend.py")
    at.text_input(key="rec_text").set_value("302, 310").run()
    assert_clean(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1
    assert "unknown item ids: '302', '310'" in errors[0] and f"data set **{NAME}**" in errors[0]


def test_recommend_samples_a_held_out_test_session(roots, open_page):
    at = open_page("pages/recommend.py")
    assert "rec_behaviour" not in [s.key for s in at.selectbox]  # no hidden behaviour to pick
    at.button(key="rec_sample").click().run()
    assert_clean(at)
    text = at.text_input(key="rec_text").value
    typed = [t.strip() for t in text.split(",")]
    assert typed and all(t in set(IDS) for t in typed)
    summary = page_text(at)
    assert "of the test split" in summary
    assert "The click that really came next: **item " in summary
    session = int(summary.split("Held-out session #")[1].split("*")[0])
    assert session >= N_SESSIONS - N_TEST  # drawn from the data set's own test sessions
    assert "hidden behaviour **" not in summary


def test_attention_page_on_a_data_set_run(roots, open_page):
    at = open_page("pages/attention.py")
    assert_clean(at)
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert any("by position" in t for t in titles)
    assert not any("behaviour" in t.lower() for t in titles)
    assert "hidden behaviour" in page_text(at)  # the note on what is left out


def test_embeddings_page_colours_by_popularity_decile(roots, open_page):
    at = open_page("pages/embeddings.py")
    assert_clean(at)
    scatter = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [t["name"] for t in scatter["data"] if t["name"].startswith("popularity")]
    assert names == [f"popularity decile {d}" for d in range(1, 11)]
    assert at.selectbox(key="emb_item").options[:2] == [f"item {raw(0)}", f"item {raw(1)}"]
    assert "no item categories" in page_text(at)
    neighbours = at.dataframe[0].value
    assert set(neighbours["item_id"]) <= set(IDS) and "same category" not in neighbours


def test_runs_page_lists_the_data_set_run(roots, open_page):
    at = open_page("pages/runs.py")
    assert_clean(at)
    table = at.dataframe[0].value
    row = table[table["run"] == RUN].iloc[0]
    assert row["data"] == NAME and row["items"] == N_ITEMS


def test_train_page_offers_the_data_set(roots, open_page):
    at = open_page("pages/train.py")
    assert_clean(at)
    source = at.selectbox(key="train_data")
    assert NAME in source.options
    source.set_value(NAME).run()
    assert_clean(at)
    text = page_text(at)
    assert f"data set **{NAME}**" in text
    assert "Estimated time" in text


def test_train_page_final_table_names_the_baselines_left_out(roots, open_page):
    _, models = roots
    path = models / RUN
    config = runs.read_config(path)
    data, split = runs.load_data(path, config)
    runs.write_status(
        path,
        baselines=evaluate_baselines(data, split, config.train.max_len, config.train.cutoffs),
        baselines_left_out=left_out_baselines(data),
    )
    at = open_page()
    at.query_params["run"] = RUN
    at.switch_page("pages/train.py").run()
    assert_clean(at)
    table = at.dataframe[0].value  # the final table, the page's only one
    assert {"Sequential rules", "V-SKNN", "Markov chain"} <= set(table.index)
    assert not {"Oracle", "Best possible (oracle)", "Last-category popularity"} & set(table.index)
    captions = [c.value for c in at.caption]
    assert "Last-category popularity: left out, no categories in this log." in captions
    assert "Oracle: left out, no ceiling is known for real data." in captions


@pytest.mark.slow  # starts a real worker process: ~5-12 s on a loaded machine
def test_training_started_on_the_page_opens_the_data_set(roots, open_page):
    _, models = roots
    at = open_page("pages/train.py")
    at.selectbox(key="train_data").set_value(NAME)
    for key, value in {"train_lstm_embed_dim": 8, "train_lstm_hidden_size": 16, "train_epochs": 1}.items():
        at.number_input(key=key).set_value(value)
    at.text_input(key="train_name").set_value("from-page")
    at.run()
    at.button(key="train_start").click().run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    path = models / "from-page"
    assert runs.read_config(path).data.dataset == NAME
    deadline = time.monotonic() + 60
    try:  # the worker stores the sessions it opened before it scores or trains anything
        while not (path / runs.DATA_FILE).exists():
            assert time.monotonic() < deadline, runs.read_status(path)
            time.sleep(0.2)
        data, _ = runs.load_data(path, runs.read_config(path))
        assert data.raw_ids(range(N_ITEMS)) == IDS.tolist()
    finally:
        if runs.read_status(path).state == "running":
            jobs.stop(path, timeout=10)


def test_time_estimate_counts_the_data_sets_training_targets(roots):
    from streamrec.config import LSTMConfig, RunConfig, TrainConfig
    from streamrec.data.sources import dataset_config, open_data
    from streamrec.training.estimate import estimate_epoch_seconds, expected_train_targets

    config = dataset_config(
        RunConfig(model=LSTMConfig(embed_dim=8, hidden_size=16), train=TrainConfig()), NAME
    )
    _, split = open_data(config)
    assert expected_train_targets(config) == len(split.train)
    assert estimate_epoch_seconds(config) > 0
