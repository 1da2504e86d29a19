"""Charts of an imported data set: exact values on a tiny hand-made data set."""
from __future__ import annotations

import numpy as np
import pytest

from streamrec.charts import log_charts as charts
from streamrec.data.sessions import Catalog, SessionData

DAY = 86_400.0
T0 = 1_400_025_600.0  # 2014-05-14 00:00 UTC


@pytest.fixture
def data() -> SessionData:
    # sessions: [0 1 0] [1 2] [0 1] | test: [2 0 1 2]
    items = np.array([0, 1, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    offsets = np.array([0, 3, 5, 7, 11])
    times = np.array([0, 1, 2, DAY, DAY + 1, DAY + 2, DAY + 3, 3 * DAY, 3 * DAY + 1,
                      3 * DAY + 2, 3 * DAY + 3]) + T0
    return SessionData(items=items, offsets=offsets, times=times,
                       item_ids=np.array(["a", "b", "c"]), item_labels=np.array(["", "Bee", ""]),
                       catalog=Catalog.from_categories(np.array([0, 1, 1]), items), name="tiny")


def titled(fig) -> dict:
    layout = fig.to_plotly_json()["layout"]
    assert layout["title"]["text"] and layout["xaxis"]["title"]["text"]
    assert layout["yaxis"]["title"]["text"]
    return layout


def test_session_lengths_split_by_part(data):
    fig = charts.session_lengths_chart(data, n_test=1)
    titled(fig)
    train, test = fig.data
    assert list(train.x) == [2, 3] and list(train.y) == [2, 1]
    assert list(test.x) == [4] and list(test.y) == [1]


def test_long_sessions_go_in_the_last_bar(data):
    fig = charts.session_lengths_chart(data, max_length=3)
    assert list(fig.data[0].x) == [2, 3] and list(fig.data[0].y) == [2, 2]
    assert "longest 4" in fig.layout.title.text


def test_item_popularity_ranks(data):
    fig = charts.item_popularity_chart(data)
    assert list(fig.data[0].y) == [4, 4, 3]
    assert "top 20 % of items get 36 %" in titled(fig)["title"]["text"]  # 4 of 11 clicks


def test_clicks_over_time_per_day_and_part(data):
    fig = charts.clicks_over_time_chart(data, n_test=1)
    titled(fig)
    train, test = fig.data
    assert list(train.x) == ["2014-05-14T00:00:00.000", "2014-05-15T00:00:00.000"]
    assert list(train.y) == [3, 4]
    assert list(test.x) == ["2014-05-17T00:00:00.000"] and list(test.y) == [4]
    with pytest.raises(ValueError, match="no click times"):
        charts.clicks_over_time_chart(SessionData(items=data.items, offsets=data.offsets))


def test_top_transitions_counts_within_sessions_only(data):
    fig = charts.top_transitions_chart(data, k=2)
    titled(fig)
    # pairs: a→b ×3 (s0, s2, s3), b→a ×1, b→c ×2 (s1, s3), c→a ×1; none across sessions
    assert list(fig.data[0].y) == ["b (Bee) → c", "a → b (Bee)"]
    assert list(fig.data[0].x) == [2, 3]
    assert "of 7 consecutive click pairs" in fig.layout.title.text


def test_categories(data):
    fig = charts.categories_chart(data)
    titled(fig)
    assert list(fig.data[0].x) == ["1", "0"] and list(fig.data[0].y) == [7, 4]
    with pytest.raises(ValueError, match="no item categories"):
        charts.categories_chart(SessionData(items=data.items, offsets=data.offsets))
