"""The viewer with 10,000-event runs: complete, and no long stalls."""

from __future__ import annotations

import pytest

from tests.support.browser import CLOSED, assert_page_matches_history, browser_page
from tests.support.run_driver import ExternalRun, local_service

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Every long task (over 50 ms) the page runs, in milliseconds.
LONG_TASKS = """window.longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.longTasks.push(entry.duration);
}).observe({ type: "longtask", buffered: true });"""
LONGEST = "Math.max(0, ...window.longTasks)"


@pytest.fixture
def memory_service(tmp_path):
    with local_service(tmp_path, "memory") as service:
        yield service


@pytest.fixture
def page():
    with browser_page() as opened:
        opened.add_init_script(LONG_TASKS)
        yield opened


def test_a_finished_10000_event_run_replays_complete_without_long_stalls(
    memory_service, page
):
    service = memory_service
    run = ExternalRun(service.url)
    run.speak(range(1667))
    run.finish()
    page.goto(f"{service.url}/view/runs/{run.id}")
    page.wait_for_selector(CLOSED, timeout=60_000)

    assert_page_matches_history(page, service.url, run.id)
    assert int(page.get_attribute("body", "data-events")) > 10_000
    assert page.evaluate(LONGEST) < 1000


def test_a_burst_of_10000_live_events_is_shown_complete_without_long_stalls(
    memory_service, page
):
    service = memory_service
    run = ExternalRun(service.url)
    page.goto(f"{service.url}/view/runs/{run.id}")
    page.wait_for_selector("body[data-stream-state=live]")

    run.speak(range(1667))
    run.finish()
    page.wait_for_selector(CLOSED, timeout=60_000)

    assert_page_matches_history(page, service.url, run.id)
    assert page.evaluate(LONGEST) < 1000
