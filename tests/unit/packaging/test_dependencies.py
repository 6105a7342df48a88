"""Every library the package imports is a declared dependency (or an extra's)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LAYERS = ("domain", "application", "adapters", "entrypoints")


def imported_libraries() -> set[str]:
    """Top-level names of the non-standard modules the package imports."""
    found: set[str] = set()
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    found.add((node.module or "").split(".")[0])
    return found - set(sys.stdlib_module_names) - {"runstream", ""}


def declared() -> set[str]:
    """Distribution names of the dependencies and the non-development extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    specs = project["dependencies"] + [
        spec for name, specs in extras.items() if name not in ("test", "dev")
        for spec in specs
    ]  # fmt: skip
    names = {re.split(r"[\[<>=!~ ;]", spec, maxsplit=1)[0] for spec in specs}
    return {name.lower().replace("_", "-") for name in names} | {"hiredis"}


def test_every_imported_library_is_declared():
    distributions = packages_distributions()
    undeclared = {
        module: distributions.get(module, [module])
        for module in imported_libraries()
        if not {d.lower().replace("_", "-") for d in distributions.get(module, [])}
        & declared()
    }

    assert undeclared == {}
