"""Text that pages show: user-supplied strings made safe for Streamlit Markdown."""

from __future__ import annotations

import re

# Characters that start Markdown links, images, HTML, code, emphasis, maths or Streamlit's
# :color[...] directives; parentheses, colons and dots stay, so messages such as
# "lr = 0.5 (allowed ...)" read unchanged.
_CHARS = re.compile(r"([\\`*\[\]<>$~|])")
_LONE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")  # field_names stay
# Streamlit's browser side turns bare URLs, "www." names and e-mail addresses into links
# after the Markdown is parsed, so backslash escapes do not stop it (checked in Chromium,
# tests/e2e/test_safety_browser.py); a zero-width space inside each does.
_ZWSP = "\u200b"
_AUTOLINK = re.compile(r"(?i)(/)(/)|(@)()|\b(www)(\.)")


def escape_markdown(text: object) -> str:
    """`text` on one line with its Markdown escaped and its URLs broken up, so a link typed
    by a user (or carried by a link's query parameters) shows as plain text, never a link."""
    out = _CHARS.sub(r"\\\1", " ".join(str(text).split()))
    out = _LONE_UNDERSCORE.sub(r"\\_", out)
    return _AUTOLINK.sub(lambda m: _ZWSP.join(g for g in m.groups() if g is not None), out)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 run', '2 runs' (`nouns` for an irregular plural)."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"
