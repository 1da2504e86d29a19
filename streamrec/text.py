"""Text that pages and commands show: user-supplied strings made safe for where they go.

Streamlit Markdown (`escape_markdown`), Plotly labels and hover text (`escape_plotly`), CSV
cells a spreadsheet would run as formulas (`neutralise_formula`) and the terminal
(`printable`)."""

from __future__ import annotations

import re
from collections.abc import Iterable

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


def markdown_code(text: object) -> str:
    """`text` as an inline code span, or escaped Markdown when it holds a backtick (which
    would end the span and let the rest render as Markdown)."""
    shown = " ".join(str(text).split())
    return escape_markdown(shown) if "`" in shown else f"`{shown}`"


# Plotly renders a subset of HTML in every label and hover text (links with <a href>, <b>, ...)
# and decodes entities; escaping &, < and > shows any tag as text. "<br>" is kept: the charts
# put line breaks into labels themselves, and a line break cannot link anywhere.
_PLOTLY = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_BREAK = "&lt;br&gt;"


def escape_plotly(text: str) -> str:
    """`text` shown by Plotly as written: tags as text, never a link (line breaks kept)."""
    return text.translate(_PLOTLY).replace(_BREAK, "<br>")


# A cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets
# (OWASP "CSV injection"); a leading apostrophe makes it text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """`text` as a CSV cell no spreadsheet runs: a formula prefix gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def neutralise_formulas(values: Iterable[object]) -> list[object]:
    """`neutralise_formula` on every string of `values`, other values unchanged."""
    return [neutralise_formula(v) if isinstance(v, str) else v for v in values]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # ANSI escapes start with \x1b or \x9b


def printable(text: object) -> str:
    """`text` safe to print to a terminal: control characters (escape sequences that move the
    cursor, recolour or retitle the terminal) shown as \\xNN, newlines and tabs kept."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
