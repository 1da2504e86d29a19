"""The Data page, driven like a user would: give a log, map columns, import, look, delete."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamrec import folders
from streamrec.data.datasets import list_datasets
from studio import uploads

PAGE = "pages/data.py"
BASE = 1_400_000_000
DAY = 86_400
# 30 sessions over 3 days, 3 clicks each on items 0-8 (every item clicked >= 5 times); the
# sessions of the last day (20-29) are the test set of a 1-day time split.
ROWS = [(s, f"i{(s + k) % 9}", BASE + (s // 10) * DAY + 60 * s + k, f"c{(s + k) % 3}")
        for s in range(30) for k in range(3)]
LOG = "session_id;item_id;timestamp;category\n" + "".join(
    f"{s};{i};{t};{c}\n" for s, i, t, c in ROWS
)


@pytest.fixture
def root(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("STREAMREC_DATA_DIR", str(data))
    return data


def figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def table(at, column: str):
    """The first table on the page with this column (st.dataframe has no test key)."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def upload(at, content: str = LOG, name: str = "clicks.csv"):
    at.file_uploader(key="data_log_upload").upload(name, content.encode(), "text/csv").run()
    return at


def test_empty_page_explains_what_to_do(open_page, root):
    at = open_page(PAGE)
    assert not at.exception
    assert at.title[0].value == "Data"
    infos = " ".join(i.value for i in at.info)
    assert "Upload a click log" in infos and "No data set yet" in infos
    assert not at.get("plotly_chart")


def test_upload_map_import_and_see_the_data_set(open_page, root):
    at = upload(open_page(PAGE))
    assert not at.exception and not at.error
    preview = table(at, "item_id")
    assert list(preview.columns) == ["session_id", "item_id", "timestamp", "category"]
    assert len(preview) == 10
    assert at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith(
        "data_col_session"))).value == "session_id"
    assert at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith(
        "data_col_category"))).value == "category"
    assert at.text_input(key="data_name").value == "clicks"
    at.button(key="data_import").click().run()
    assert not at.exception and not at.error
    assert "Imported **clicks**" in at.success[0].value
    shown = metrics(at)
    assert shown["Training sessions"] == "20" and shown["Test sessions"] == "10"
    assert shown["Test targets"] == "20" and shown["Clicks"] == "90" and shown["Items"] == "9"
    report = table(at, "step")
    assert report["step"].iloc[0] == "read clicks.csv" and report["clicks"].iloc[0] == 90
    assert "split: sessions of the last 1 days are the test set (test part)" in set(
        report["step"])
    figs = figures(at)
    titles = [f["layout"]["title"]["text"] for f in figs]
    assert len(figs) == 5 and titles[-1] == "Clicks per category"
    for fig in figs:
        assert fig["layout"]["xaxis"]["title"]["text"] and fig["layout"]["yaxis"]["title"]["text"]
    listing = table(at, "data set")
    assert listing["data set"].tolist() == ["clicks"] and listing["status"].tolist() == ["ok"]
    assert [d.name for d in list_datasets(root)] == ["clicks"]


def test_given_split_from_server_paths(open_page, root, tmp_path):
    train, test = tmp_path / "train.tsv", tmp_path / "test.tsv"
    header = "SessionId\tItemId\tTime\n"
    train.write_text(header + "".join(f"{s}\t{i}\t{t}\n" for s, i, t, _ in ROWS))
    test.write_text(header + f"t1\ti1\t{BASE + 9 * DAY}\nt1\tnew\t{BASE + 9 * DAY + 1}\n"
                    f"t1\ti2\t{BASE + 9 * DAY + 2}\n")
    at = open_page(PAGE)
    at.segmented_control(key="data_log_how").set_value("Path on the server").run()
    at.text_input(key="data_log_path").input(str(train)).run()
    at.selectbox(key="data_split").set_value("given").run()
    at.segmented_control(key="data_test_how").set_value("Path on the server").run()
    at.text_input(key="data_test_path").input(str(test)).run()
    at.text_input(key="data_name").input("given").run()
    at.button(key="data_import").click().run()
    assert not at.exception and not at.error
    shown = metrics(at)
    assert shown["Training sessions"] == "30" and shown["Test sessions"] == "1"
    assert shown["Test targets"] == "1"  # 'new' is not in training: t1 keeps i1, i2


def test_bad_input_shows_an_error_and_imports_nothing(open_page, root):
    at = upload(open_page(PAGE), LOG.replace(str(BASE + 60), "noon"))
    at.button(key="data_import").click().run()
    assert not at.exception
    assert "cannot parse 'noon'" in at.error[0].value
    assert not root.exists() or not list(root.iterdir())

    at = upload(open_page(PAGE), "user;thing\n1;2\n", "odd.csv")
    assert "Choose the session column and item column" in at.warning[0].value
    assert at.button(key="data_import").disabled


def test_name_taken_is_refused(open_page, root):
    at = upload(open_page(PAGE))
    at.button(key="data_import").click().run()
    upload(at)  # the same log again (the first upload's copy was deleted by its import)
    at.button(key="data_import").click().run()
    assert "already exists" in at.error[0].value


def test_broken_folder_is_flagged_and_can_be_deleted(open_page, root):
    at = upload(open_page(PAGE))
    at.button(key="data_import").click().run()
    (root / "broken").mkdir()
    (root / "broken" / "dataset.json").write_text("{")
    folders.write_marker(root / "broken", folders.DATASET)  # an import of ours, then damaged
    at.run()
    listing = table(at, "data set").set_index("data set")
    assert listing.loc["broken", "status"] == "broken"
    assert listing.loc["broken", "problem"].startswith("broken: dataset.json is not valid JSON")
    assert listing.loc["clicks", "status"] == "ok"
    assert "Broken data set folder(s): broken" in at.warning[0].value
    assert at.selectbox(key="data_view").options == ["clicks"]
    at.selectbox(key="data_delete_name").set_value("broken").run()
    assert at.button(key="data_delete").disabled
    at.checkbox(key="data_delete_sure").check().run()
    at.button(key="data_delete").click().run()
    assert not at.exception
    assert [d.name for d in list_datasets(root)] == ["clicks"]
    assert table(at, "data set")["data set"].tolist() == ["clicks"]


def test_an_upload_is_private_while_kept_and_deleted_after_its_import(open_page, root):
    at = upload(open_page(PAGE))
    (copy,) = [p for p in Path(uploads.upload_folder()).rglob("*") if p.is_file()]
    assert copy.stat().st_mode & 0o777 == 0o600
    assert Path(uploads.upload_folder()).stat().st_mode & 0o777 == 0o700
    at.button(key="data_import").click().run()
    assert not at.exception and not at.error
    assert not copy.exists()
    at.run()  # the widget still holds the upload: it is not written again
    assert not copy.exists() and "is imported" in " ".join(c.value for c in at.caption)
    assert [d.name for d in list_datasets(root)] == ["clicks"]


def test_folders_of_any_name_and_links_are_flagged_and_deleted_without_following(
    open_page, root, tmp_path
):
    at = upload(open_page(PAGE))
    at.button(key="data_import").click().run()
    at.file_uploader(key="data_log_upload").upload("more.csv", LOG.encode(), "text/csv").run()
    at.text_input(key="data_name").set_value("more").run()
    at.button(key="data_import").click().run()
    (root / "more").rename(root / "my clicks ü")  # renamed by hand: not a name the app writes
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    (root / "link-out").symlink_to(outside, target_is_directory=True)
    at.run()
    listing = table(at, "data set").set_index("data set")
    assert listing.loc["my clicks ü", "status"] == "broken"
    assert "points outside" in listing.loc["link-out", "problem"]
    for name in ("my clicks ü", "link-out"):
        at.selectbox(key="data_delete_name").set_value(name).run()
        at.checkbox(key="data_delete_sure").check().run()
        at.button(key="data_delete").click().run()
        assert not at.exception, [e.message for e in at.exception]
        assert not (root / name).exists() and not (root / name).is_symlink()
    assert (outside / "keep.txt").read_text() == "mine"
    assert [d.name for d in list_datasets(root)] == ["clicks"]


def test_a_data_root_of_the_users_own_folders_deletes_nothing(open_page, tmp_path, monkeypatch):
    own = tmp_path / "Documents"
    for name in ("taxes", "photos 2025"):
        (own / name).mkdir(parents=True)
        (own / name / "file.txt").write_text(name)
    monkeypatch.setenv("STREAMREC_DATA_DIR", str(own))
    at = open_page(PAGE)
    assert not at.exception
    assert "Not written by StreamRec" in " ".join(c.value for c in at.caption)
    assert not at.get("selectbox") or all(s.key != "data_delete_name" for s in at.selectbox)
    assert sorted(p.name for p in own.iterdir()) == ["photos 2025", "taxes"]
    assert (own / "taxes" / "file.txt").read_text() == "taxes"


def test_uploads_left_by_a_killed_server_are_removed_at_the_next_start(
    open_page, root, tmp_path, monkeypatch
):
    import os
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / f"{uploads.PREFIX}{2**22 + 12345}-abc"  # no such pid
    (dead / "file").mkdir(parents=True)
    (dead / "file" / "clicks.csv").write_text(LOG)
    alive = tmp_path / f"{uploads.PREFIX}{os.getpid()}-xyz"
    alive.mkdir()
    at = open_page(PAGE)
    assert not at.exception
    assert not dead.exists() and alive.exists()
