"""Events that are gone are announced, by the viewer and by tail (Redis, no archive)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.services import in_ci
from tests.support.browser import CLOSED, assert_page_matches_history, browser_page
from tests.support.redis_server import RedisServer
from tests.support.run_driver import ExternalRun, local_service, runstream

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def trimming_service(tmp_path):
    """The service on a Redis of its own that keeps about 50 events per run."""
    if shutil.which("redis-server") is None:
        if in_ci():
            pytest.fail("redis-server is not installed (CI requires it)")
        pytest.skip("redis-server is not installed")
    settings = {
        "RUNSTREAM_EVENT_LOG": "redis",
        "RUNSTREAM_EVENT_ARCHIVE": "none",
        "RUNSTREAM_STREAM_MAXLEN": "50",
    }
    with (
        RedisServer() as server,
        local_service(
            tmp_path, "memory", RUNSTREAM_REDIS_URL=server.url, **settings
        ) as service,
    ):
        yield service


@pytest.fixture
def page():
    with browser_page() as opened:
        yield opened


def trimmed_run(url: str) -> ExternalRun:
    run = ExternalRun(url)
    run.speak(range(200))
    run.finish()
    return run


def test_the_viewer_says_when_the_first_events_are_no_longer_kept(
    trimming_service, page
):
    run = trimmed_run(trimming_service.url)

    page.goto(f"{trimming_service.url}/view/runs/{run.id}")
    page.wait_for_selector(CLOSED)

    assert "no longer kept" in page.text_content("#notices .gap")
    assert_page_matches_history(page, trimming_service.url, run.id)


def test_tail_says_when_the_first_events_are_no_longer_kept(trimming_service):
    run = trimmed_run(trimming_service.url)

    command = [*runstream("tail"), str(run.id), "--url", trimming_service.url]
    tailed = subprocess.run(command, capture_output=True, text=True, timeout=60)

    assert tailed.returncode == 0, tailed.stderr
    first_line = tailed.stdout.splitlines()[0]
    assert first_line.startswith("! the run's first events are no longer kept")
