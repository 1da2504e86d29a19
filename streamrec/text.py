"""Text that pages show: user-supplied strings made safe for Streamlit Markdown."""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the characters that
# start links, emphasis, code, HTML, headings, lists, tables, maths, emoji shortcodes and
# Streamlit's :color[...] directives, and the dots and colons of bare URLs (autolinks).
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&@=])")


def escape_markdown(text: object) -> str:
    """`text` on one line with every Markdown character escaped, so a URL or link typed by
    a user (or carried by a link's query parameters) shows as plain text, never as a link."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
