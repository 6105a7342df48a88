"""Headless Chromium from the system package, driven by Playwright.

Never a downloaded browser: Playwright only drives `/usr/bin/chromium` (Debian's
`chromium`). Without it (or without the playwright package) the browser tests skip
with a reason on a developer machine and fail in CI (`CI=true`); `.ci/install-browser`
installs both.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.services import in_ci
from tests.support.run_driver import history, texts_by_agent

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(what: str) -> None:
    message = f"{what} (run .ci/install-browser)"
    if in_ci():
        pytest.fail(message + "; CI requires the browser tests")
    pytest.skip(message)


def chromium_path() -> str:
    """The system Chromium, or skip (fail in CI)."""
    override = os.environ.get("RUNSTREAM_TEST_CHROMIUM")
    for path in (override, *CHROMIUM_PATHS):
        if path and os.access(path, os.X_OK):
            return path
    found = shutil.which("chromium")
    if found is None:
        _missing("Chromium is not installed (apt-get install chromium)")
    return str(found)


@contextmanager
def browser_page() -> Iterator[Any]:
    """A page of a fresh headless Chromium with its own throw-away profile."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install playwright)")
    with (
        tempfile.TemporaryDirectory(prefix="runstream-chromium-") as profile,
        sync_playwright() as driver,
    ):
        context = driver.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=FLAGS,
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            yield page
        finally:
            context.close()


def screenshot(page: Any, name: str) -> str:
    """Save a screenshot to a temporary directory (never into the repository)."""
    folder = os.environ.get("RUNSTREAM_SCREENSHOTS") or tempfile.gettempdir()
    path = os.path.join(folder, f"runstream-{name}.png")
    # Agent text off screen is not laid out (content-visibility: auto) until it
    # is scrolled into view; a picture of the whole page shows all of it.
    page.add_style_tag(content=".text .part { content-visibility: visible; }")
    page.screenshot(path=path, full_page=True)
    return path


# The viewer page's state, for the browser tests.
AGENT_TEXTS = """() => Object.fromEntries([...document.querySelectorAll("li.agent")]
  .map((li) => [li.dataset.agentId, li.querySelector(":scope > pre.text").textContent])
  .filter(([, text]) => text))"""
CLOSED = "body[data-stream-state=closed]"


def assert_page_matches_history(page, url: str, run_id: int) -> None:
    events = history(url, run_id)
    assert page.evaluate(AGENT_TEXTS) == texts_by_agent(events)
    assert page.get_attribute("body", "data-events") == str(len(events))
    assert page.get_attribute("body", "data-duplicates") == "0"
