"""`runstream --version` and the distribution's metadata."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from runstream.entrypoints.cli import main

ROOT = Path(__file__).resolve().parents[3]


def test_version_prints_the_installed_distributions_version(capsys):
    with pytest.raises(SystemExit) as leaving:
        main(["--version"])

    assert leaving.value.code == 0
    assert capsys.readouterr().out == f"runstream {version('runstream')}\n"


def test_the_distribution_declares_its_licence_and_what_it_is():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    assert project["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert project["readme"] == "README.md"
    assert project["requires-python"].startswith(">=3.11")
    assert project["keywords"] and project["classifiers"]
