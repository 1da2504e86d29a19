"""escape_markdown: user text shows as itself, never as a link, image, HTML or code."""

from __future__ import annotations

import pytest

from streamrec.text import escape_markdown

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
