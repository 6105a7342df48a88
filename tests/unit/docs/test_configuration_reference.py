"""docs/configuration.md stays in step with entrypoints/config.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runstream.entrypoints.config import describe

REFERENCE = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def documented() -> dict[str, str]:
    """variable -> default, from the reference's table rows."""
    rows = re.findall(
        r"^\| `(RUNSTREAM_[A-Z_]+)` \| ([^|]+) \|", REFERENCE.read_text(), re.M
    )
    return {name: default.strip() for name, default in rows}


@pytest.mark.parametrize(("name", "default"), describe())
def test_every_variable_is_documented_with_its_default(name, default):
    table = documented()

    assert name in table, f"{name} is missing from docs/configuration.md"
    assert table[name].startswith(f"`{default}`") or (
        default == "" and table[name].startswith("empty")
    )


def test_the_reference_documents_no_service_variable_that_does_not_exist():
    known = {name for name, _ in describe()}
    not_the_service = {"RUNSTREAM_URL", "RUNSTREAM_API_KEY", "RUNSTREAM_SCREENSHOTS"}

    rows = {n for n in documented() if not n.startswith("RUNSTREAM_TEST_")}

    assert rows - not_the_service <= known
