"""Text that pages show: user-supplied strings made safe for Streamlit Markdown."""

from __future__ import annotations

import re

# What could turn plain text into a link, an image, HTML, code, maths or a Streamlit
# directive (`:red[...]` needs a bracket): brackets, angle brackets, backticks, emphasis
# marks, and the "://", "www." and "@" that GFM turns into links on their own. Parentheses,
# colons and dots elsewhere stay as they are, so messages such as "lr = 0.5 (allowed ...)"
# read unchanged.
_CHARS = re.compile(r"([\\`*\[\]<>$~@|])")
_LONE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")  # field_names stay
_SCHEME = re.compile(r":(?=//)")
_WWW = re.compile(r"(?i)\b(www)\.")


def escape_markdown(text: object) -> str:
    """`text` on one line with its Markdown escaped, so a URL or link typed by a user (or
    carried by a link's query parameters) shows as plain text, never as a link."""
    out = _CHARS.sub(r"\\\1", " ".join(str(text).split()))
    out = _LONE_UNDERSCORE.sub(r"\\_", out)
    out = _SCHEME.sub(r"\\:", out)
    return _WWW.sub(r"\1\\.", out)
