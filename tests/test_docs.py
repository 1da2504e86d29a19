"""docs/casestudy.md: in the repository, pointed at, and every figure taken from somewhere."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE_STUDY = ROOT / "docs" / "casestudy.md"
# Figures the case study prints, quoted as printed (rounded) where the README gives 4 decimals.
PRINTED = {"0.110", "25.6"}
NUMBER = re.compile(r"\d[\d,]*\.\d+|\d{1,3}(?:,\d{3})+")


def test_the_repository_never_points_outside_itself():
    for path in [ROOT / "README.md", *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]:
        assert "shared/seed" not in path.read_text(encoding="utf-8"), path
    assert "docs/casestudy.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/casestudy.md" in (ROOT / "pages" / "attention.py").read_text(encoding="utf-8")


def test_the_case_study_page_states_its_printed_figures():
    text = CASE_STUDY.read_text(encoding="utf-8")
    for figure in ("17.9%", "25.6%", "0.110", "951,192", "186,112", "46,528", "≈ 11%",
                   "Recency-dominant", "Anchor-item", "Category-coherent", "Chapter 10"):
        assert figure in text, figure


def test_every_measured_figure_comes_from_the_readme():
    """No number invented: each one is in the README's tables or is the case study's own."""
    readme = "\n".join(  # the README and the result tables it moved to docs/
        path.read_text(encoding="utf-8")
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("results-*.md"))]
    )
    numbers = set(NUMBER.findall(CASE_STUDY.read_text(encoding="utf-8")))
    assert len(numbers) > 20
    assert sorted(n for n in numbers if n not in readme and n not in PRINTED) == []
