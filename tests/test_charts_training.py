"""Training figures: exact values from tiny hand-made event streams."""

from __future__ import annotations

import math

import pytest

from streamrec.charts import training_charts as charts

EVENTS = [
    {"event": "start", "epochs": 2, "batches_per_epoch": 4},
    {"event": "batch", "epoch": 1, "batch": 2, "loss": 5.0, "progress": 0.25},
    {"event": "batch", "epoch": 1, "batch": 4, "loss": 4.0, "progress": 0.5},
    {
        "event": "epoch",
        "epoch": 1,
        "valid_loss": 4.5,
        "train_loss": 4.4,
        "hit@10": 0.2,
        "hit@20": 0.3,
        "mrr@20": 0.1,
    },
    {"event": "batch", "epoch": 2, "batch": 2, "loss": 3.5, "progress": 0.75},
    {
        "event": "epoch",
        "epoch": 1.6,
        "valid_loss": 4.0,
        "train_loss": 3.6,
        "hit@10": 0.25,
        "hit@20": 0.35,
        "mrr@20": 0.12,
    },
]
BASELINES = {
    "Popularity": {"hit@10": 0.1, "hit@20": 0.2, "mrr@20": 0.05},
    "Oracle": {"hit@10": 0.5, "hit@20": 0.6, "mrr@20": 0.3},
}


def by_name(figure) -> dict:
    out: dict = {}
    for trace in figure.data:
        out.setdefault(trace.name, []).append(trace)
    return out


def test_batches_sit_at_their_fraction_of_an_epoch():
    assert charts.batch_epochs(EVENTS) == [0.5, 1.0, 1.5]
    # Without progress and planned epochs: batch number over batches per epoch.
    bare = [
        {"event": "start", "batches_per_epoch": 4},
        {"event": "batch", "epoch": 1, "batch": 2, "loss": 1.0},
        {"event": "batch", "epoch": 2, "batch": 4, "loss": 1.0},
    ]
    assert charts.batch_epochs(bare) == [0.5, 2.0]


def test_loss_chart_has_both_losses_and_the_uniform_guess():
    figure = charts.loss_chart(EVENTS, epochs=2, n_items=100)
    traces = by_name(figure)
    (train,) = traces["training loss (mean of the logged batches)"]
    assert list(train.x) == [0.5, 1.0, 1.5] and list(train.y) == [5.0, 4.0, 3.5]
    (valid,) = traces["validation loss (end of epoch)"]
    assert list(valid.x) == [1, 1.6] and list(valid.y) == [4.5, 4.0]
    (uniform,) = [t for name, ts in traces.items() if name.startswith("uniform") for t in ts]
    assert list(uniform.y) == [pytest.approx(math.log(100))] * 2
    assert figure.layout.title.text == "Loss per epoch"
    assert "nats" in figure.layout.yaxis.title.text and "epoch" in figure.layout.xaxis.title.text
    assert list(figure.layout.xaxis.range) == [0, 2]


def test_metrics_chart_draws_each_metric_against_dashed_reference_lines():
    figure = charts.metrics_chart(EVENTS, BASELINES, ("hit@10", "mrr@20"), epochs=2)
    traces = by_name(figure)
    model = traces["this model"]
    assert [list(t.y) for t in model] == [[0.2, 0.25], [0.1, 0.12]]
    oracle = traces[charts.ORACLE_LABEL]
    assert [list(t.y) for t in oracle] == [[0.5] * 3, [0.3] * 3]
    assert {t.line.dash for t in oracle} == {"solid"}
    assert {t.line.dash for t in traces["Popularity"]} == {"dash"}
    assert [t.showlegend for t in oracle] == [True, False]  # one legend entry per scorer
    titles = [a.text for a in figure.layout.annotations]
    assert titles == ["Hit@10: % of next clicks in the top 10", "MRR@20: mean 1/rank (0 beyond 20)"]
    assert figure.layout.title.text == charts.METRICS_TITLE


def test_baselines_that_coincide_stay_visible():
    """The issue's case: a baseline level with the oracle hid under its dashes."""
    tied = {"Oracle": {"hit@10": 0.2856}, "Last-category popularity": {"hit@10": 0.2856},
            "Markov chain": {"hit@10": 0.2451}, "Popularity": {"hit@10": 0.0483}}
    figure = charts.metrics_chart(EVENTS, tied, ("hit@10",), epochs=2)
    lines = [t for t in figure.data if t.name != "this model"]
    assert [t.name for t in lines] == [
        charts.ORACLE_LABEL, "Last-category popularity", "Markov chain", "Popularity"
    ]
    # Every reference line has its own dash pattern and its own marker symbol...
    assert len({t.line.dash for t in lines}) == 4
    assert len({t.marker.symbol for t in lines}) == 4
    # ...and one visible marker, each at a different epoch, inside the drawn range.
    marks = [t.x[list(t.marker.size).index(10)] for t in lines]
    assert marks == [pytest.approx(2 * i / 5) for i in (1, 2, 3, 4)]
    assert all(list(t.marker.size).count(10) == 1 for t in lines)
    assert all(list(t.y) == [t.y[0]] * 3 for t in lines)


def test_baseline_styles_are_stable_whatever_the_order():
    names = ["Session kNN", "Oracle", "Popularity", "Markov chain"]
    styles = charts.baseline_styles(names)
    assert styles == charts.baseline_styles(list(reversed(names)))
    assert styles["Oracle"] == ("solid", "circle-open")
    assert styles["Markov chain"] == ("dash", "square")


def test_metrics_chart_before_any_epoch_shows_only_the_references():
    figure = charts.metrics_chart(EVENTS[:1], BASELINES, ("hit@10",))
    traces = by_name(figure)
    assert list(traces["this model"][0].x) == []
    assert list(traces[charts.ORACLE_LABEL][0].x) == [0, pytest.approx(1 / 3), 1.0]


def test_overlay_draws_one_line_per_run_for_the_chosen_metric():
    other = [{"event": "epoch", "epoch": 1, "valid_loss": 6.0, "hit@10": 0.1}]
    figure = charts.overlay_chart({"a": EVENTS, "b": other, "empty": []}, "valid_loss")
    assert [t.name for t in figure.data] == ["a", "b", "empty"]
    assert list(figure.data[0].y) == [4.5, 4.0] and list(figure.data[1].y) == [6.0]
    assert list(figure.data[2].x) == []
    assert figure.layout.title.text == "Validation loss on the validation sessions, per epoch"
    assert figure.layout.yaxis.title.text == "validation loss (nats per next click)"


def test_overlay_against_training_time_with_reference_lines():
    runs = {
        "fast": [{"event": "epoch", "epoch": 1, "hit@10": 0.2, "train_seconds": 10.0},
                 {"event": "epoch", "epoch": 2, "hit@10": 0.3, "train_seconds": 21.5}],
        "old": [{"event": "epoch", "epoch": 1, "hit@10": 0.25}],  # no timing: nothing drawn
    }
    figure = charts.overlay_chart(runs, "hit@10", x="train_seconds",
                                  references={"oracle": 0.4, "95% of oracle": 0.38})
    assert list(figure.data[0].x) == [10.0, 21.5] and list(figure.data[0].y) == [0.2, 0.3]
    assert list(figure.data[1].x) == []
    assert [shape.y0 for shape in figure.layout.shapes] == [0.4, 0.38]
    assert [a.text for a in figure.layout.annotations][-2:] == ["oracle", "95% of oracle"]
    assert figure.layout.title.text == "Hit@10 on the validation sessions, per training time"
    assert figure.layout.xaxis.title.text == charts.TIME_AXIS


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("hit@10", "Hit@10"),
        ("mrr@5", "MRR@5"),
        ("ndcg@20", "NDCG@20"),
        ("train_loss", "Training loss"),
    ],
)
def test_metric_labels(name, label):
    assert charts.metric_label(name) == label


def test_metric_names_follow_the_cutoffs():
    assert charts.metric_names((5, 10)) == ["hit@5", "hit@10", "mrr@10"]


def test_the_epoch_axis_runs_one_epoch_ahead_of_the_data_up_to_the_plan():
    assert charts.epoch_range(EVENTS, epochs=40) == 3.0  # latest point 1.6
    assert charts.epoch_range(EVENTS, epochs=2) == 2.0
    assert charts.epoch_range(EVENTS[:1], epochs=40) == 1.0  # nothing trained yet
    assert charts.epoch_range(EVENTS, epochs=None) == 1.6
