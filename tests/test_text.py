"""Text made safe for where it goes: Markdown, Plotly, CSV cells and the terminal."""

from __future__ import annotations

import pytest

from streamrec.text import (
    escape_markdown,
    escape_plotly,
    neutralise_formula,
    neutralise_formulas,
    printable,
)

ZWSP = "\u200b"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[click](https://evil.example)", f"\\[click\\](https:/{ZWSP}/evil.example)"),
        ("![img](x.png)", "!\\[img\\](x.png)"),
        ("<script>alert(1)</script>", "\\<script\\>alert(1)\\</script\\>"),
        ("www.evil.example", f"www{ZWSP}.evil.example"),
        ("me@evil.example", f"me@{ZWSP}evil.example"),
        (":red[big] `code` **bold** _it_ $x$", ":red\\[big\\] \\`code\\` \\*\\*bold\\*\\* \\_it\\_ \\$x\\$"),
        ("valid_fraction = 0.5 (allowed [0.01, 0.5])", "valid_fraction = 0.5 (allowed \\[0.01, 0.5\\])"),
        ("two\nlines", "two lines"),
    ],
)
def test_escape_markdown(text: str, expected: str) -> None:
    assert escape_markdown(text) == expected


def test_plotly_text_shows_tags_as_text_but_keeps_line_breaks():
    assert escape_plotly('<a href="x">id</a> & co<br>next') == (
        '&lt;a href="x"&gt;id&lt;/a&gt; &amp; co<br>next'
    )


def test_every_formula_prefix_is_neutralised_and_nothing_else():
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise_formula(cell) == "'" + cell
    assert neutralise_formula("item 3 = good") == "item 3 = good"
    assert neutralise_formulas(["=x", 3, None]) == ["'=x", 3, None]


def test_printable_shows_terminal_escapes_and_keeps_lines():
    assert printable("a\x1b[2Jb\x07\x9bc\nd\te") == "a\\x1b[2Jb\\x07\\x9bc\nd\te"


def test_a_figure_is_escaped_in_its_data_and_layout_but_numbers_are_not_copied():
    import numpy as np
    import plotly.graph_objects as go

    from streamrec.charts.layout import escape_figure

    y = np.arange(3.0)
    fig = go.Figure(go.Bar(x=["<b>a</b>", "b", "c"], y=y, customdata=[["<i>x</i>"]] * 3,
                           name="<a href='e'>n</a>"))
    fig.update_layout(title_text="<a href='e'>t</a>", xaxis={"ticktext": ["<a>"], "tickvals": [0]})
    escape_figure(fig)
    assert fig.data[0].x == ("&lt;b&gt;a&lt;/b&gt;", "b", "c")
    assert fig.data[0].customdata[0][0] == "&lt;i&gt;x&lt;/i&gt;"
    assert fig.data[0].name.startswith("&lt;a") and fig.layout.title.text.startswith("&lt;a")
    assert fig.layout.xaxis.ticktext == ("&lt;a&gt;",)
    assert fig.data[0].y is not None and list(fig.data[0].y) == [0.0, 1.0, 2.0]
