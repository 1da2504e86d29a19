"""The app shell: navigation, the home page, and every registered page rendering cleanly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def registered_pages() -> list[str]:
    """Page files listed in app.py's st.navigation, relative to the repository root."""
    return re.findall(r"st\.Page\(\s*\"([^\"]+\.py)\"", (ROOT / "app.py").read_text())


def test_home_page_explains_the_three_steps(open_page):
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "StreamRec Studio"
    steps = [h.value for h in at.subheader]
    assert steps == ["1. Simulate", "2. Train", "3. Recommend and inspect attention"]
    links = {link.proto.label: link.proto.page for link in at.get("page_link")}
    assert links["Open the Simulator"] == "simulator"
    assert links["Or import a real click log"] == "data"
    assert links["Open the Recommend page"] == "recommend"
    assert links["Attention patterns"] == "attention"
    assert links["Item embeddings"] == "embeddings"


def test_every_page_file_is_registered_in_app():
    on_disk = {
        f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_")
    }
    assert on_disk == set(registered_pages())


@pytest.mark.parametrize("page", registered_pages())
def test_registered_page_renders_without_exception(open_page, page):
    at = open_page(page)
    assert not at.exception
    assert at.title, f"{page} shows no title"
