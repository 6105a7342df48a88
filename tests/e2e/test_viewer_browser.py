"""The viewer in headless Chromium against `runstream serve` in a subprocess."""

from __future__ import annotations

import pytest
import requests

from tests.support.browser import (
    CLOSED,
    assert_page_matches_history,
    browser_page,
    screenshot,
)
from tests.support.run_driver import ExternalRun, local_service

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


# Ask for a service before the page: the browser then closes first, and the
# service need not wait for its idle keep-alive connections when it stops.
@pytest.fixture
def memory_service(tmp_path):
    with local_service(tmp_path, "memory") as service:
        yield service


@pytest.fixture
def sqlite_service(tmp_path):
    with local_service(tmp_path, "sqlite") as service:
        yield service


@pytest.fixture
def page():
    with browser_page() as opened:
        yield opened


def simulated_run(url: str, **params: object) -> int:
    body = {
        "task": "Compare three suppliers",
        "executor": "simulated",
        "params": params,
    }
    answer = requests.post(f"{url}/runs", json=body, timeout=10)
    answer.raise_for_status()
    return int(answer.json()["id"])


def test_the_run_page_renders_a_live_simulated_run(memory_service, page):
    service = memory_service
    run_id = simulated_run(
        service.url, teams=2, workers_per_team=2, tokens_per_worker=160,
        chunk_delay_ms=25, seed=7,
    )  # fmt: skip
    page.goto(f"{service.url}/view/runs/{run_id}")

    page.wait_for_selector("body[data-stream-state=live][data-run-status=running]")
    page.wait_for_function(
        "document.querySelector('li.worker pre.text')?.textContent.length > 20"
    )
    assert page.get_attribute("body", "data-run-status") == "running"
    page.wait_for_selector(CLOSED, timeout=60_000)

    assert_page_matches_history(page, service.url, run_id)
    nested = "li[data-agent-id=supervisor] li[data-agent-id=research-lead]"
    assert page.locator(f"{nested} li[data-agent-id=research-worker-2]").count()
    assert page.text_content("#run-status") == "completed"
    screenshot(page, "live-run")


def test_a_restart_mid_run_leaves_every_agents_text_complete_and_unrepeated(
    sqlite_service, page
):
    service = sqlite_service
    run = ExternalRun(service.url)
    run.speak(range(15))
    page.goto(f"{service.url}/view/runs/{run.id}")
    page.wait_for_selector("body[data-stream-state=live]")
    run.speak(range(15, 30))
    page.wait_for_function("document.body.textContent.includes('beta-1·0029')")

    service.stop()
    page.wait_for_selector("body[data-stream-state=reconnecting]")
    service.start()
    run.speak(range(30, 60))
    run.finish()
    page.wait_for_selector(CLOSED, timeout=60_000)

    assert_page_matches_history(page, service.url, run.id)
    screenshot(page, "after-restart")


def test_a_failed_run_shows_its_error(memory_service, page):
    service = memory_service
    run_id = simulated_run(
        service.url, teams=1, workers_per_team=2, tokens_per_worker=40,
        chunk_delay_ms=5, fail_at="streaming", fail_message="quota exhausted",
    )  # fmt: skip
    page.goto(f"{service.url}/view/runs/{run_id}")
    page.wait_for_selector(CLOSED, timeout=60_000)

    assert page.is_visible("#run-error")
    assert "quota exhausted" in page.text_content("#run-error")
    assert page.text_content("#run-status") == "failed"
    assert page.locator("li.agent[data-status=failed]").count() >= 1
    assert_page_matches_history(page, service.url, run_id)


def test_the_run_list_shows_each_runs_status_and_links_to_it(memory_service, page):
    service = memory_service
    done = ExternalRun(service.url, task="a finished run")
    done.finish()
    failed = ExternalRun(service.url, task="a failed run")
    failed.finish("failed", error="no luck")
    page.goto(f"{service.url}/")

    page.wait_for_selector(f"tr[data-run-id='{failed.id}']")
    rows = page.locator("#runs tbody tr")
    assert rows.nth(0).get_attribute("data-run-id") == str(failed.id)
    assert "failed" in rows.nth(0).text_content()
    assert "completed" in rows.nth(1).text_content()
    page.click(f"tr[data-run-id='{done.id}'] a")
    page.wait_for_selector(CLOSED)
    assert page.text_content("#run-task") == "a finished run"
