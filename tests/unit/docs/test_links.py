"""README.md and docs/*.md: links that resolve inside the repository, and tables
that Markdown renders as one table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Spelled in two parts so this file does not find itself.
OUTSIDE_NAME = "CONTRACT" + ".md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = page.read_text()
    explicit = set(re.findall(r'<a id="([^"]+)"></a>', text))
    return explicit | {slug(line.lstrip("#")) for line in text.splitlines()
                       if line.startswith("#")}  # fmt: skip


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_local_link_resolves(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists() or (anchor and anchor not in anchors(resolved)):
            broken.append(target)

    assert broken == []


def test_the_contract_is_in_the_repository_and_every_reference_points_there():
    sources = [*PAGES, *ROOT.glob("*/**/*.py")]
    outside = [
        str(path.relative_to(ROOT))
        for path in sources
        if ".venv" not in path.parts and OUTSIDE_NAME in path.read_text()
    ]

    assert (ROOT / "docs" / "contract.md").is_file()
    assert outside == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_no_table_is_cut_in_two_by_a_blank_line(page):
    lines = page.read_text().splitlines()
    headless = [
        number + 1
        for number, line in enumerate(lines)
        if line.startswith("|")
        and (number == 0 or not lines[number - 1].startswith("|"))
        and not (number + 1 < len(lines) and re.match(r"\|\s*:?-", lines[number + 1]))
    ]

    assert headless == [], f"table rows without a header at lines {headless}"
