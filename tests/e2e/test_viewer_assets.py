"""The viewer's pages and files, served by the app (no browser needed)."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from setuptools import find_namespace_packages

from runstream.entrypoints.http.viewer import STATIC

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e

ASSETS = sorted(path.name for path in STATIC.iterdir() if path.is_file())


def test_the_home_page_redirects_to_the_run_list(client):
    answer = client.get("/")

    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("view/")


def test_the_run_list_and_a_run_page_are_html(client):
    listing = client.get("/view/")
    page = client.get("/view/runs/42")

    assert listing.status_code == page.status_code == 200
    assert listing.mimetype == page.mimetype == "text/html"
    assert b'src="static/list.js"' in listing.data
    assert b'src="../static/run.js"' in page.data


@pytest.mark.parametrize("name", ASSETS)
def test_every_asset_is_served_with_its_type(client, name):
    answer = client.get(f"/view/static/{name}")

    assert answer.status_code == 200
    expected = {"js": "javascript", "css": "text/css", "html": "text/html"}
    assert expected[name.rsplit(".", 1)[1]] in answer.mimetype


@pytest.mark.parametrize("name", ASSETS)
def test_no_asset_loads_anything_from_another_site(name):
    text = (STATIC / name).read_text()

    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.IGNORECASE)


def test_every_module_a_page_imports_is_shipped():
    imports = set()
    for path in STATIC.glob("*.js"):
        imports |= set(re.findall(r'from "\./([\w.]+)"', path.read_text()))

    assert imports <= set(ASSETS)


def test_the_package_ships_every_viewer_file():
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = settings["tool"]["setuptools"]
    include = setuptools["packages"]["find"]["include"]
    patterns = setuptools["package-data"]["*"]

    packages = find_namespace_packages(where=str(ROOT), include=include)

    assert "runstream.entrypoints.http.viewer_static" in packages
    assert all(any(fnmatch(name, p) for p in patterns) for name in ASSETS)
